"""Every Chinese text in templates/ (.html, .txt, .md) goes through gettext (`{{ _('…') }}` or `{% trans %}`).

The check walks each template's Jinja syntax tree: Chinese in raw template text, or in a string
constant that is not the message argument of a gettext call, fails — unless it is allow-listed
below with the reason it must not be translated.
"""
import re
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
GETTEXT = {"_", "gettext", "ngettext", "pgettext", "npgettext", "lazy_gettext"}

# (template, exact text) -> why it stays untranslated
ALLOWED = {
    ("records/_due.html", "前"): "cuts the suffix off relative_cn's output, which is built in Python (minutes.core.timefmt)",
}


def untranslated(tree):
    """Yield (line, text) for Chinese text outside gettext calls."""

    def walk(node, in_gettext=False):
        if isinstance(node, nodes.TemplateData) and CJK.search(node.data):
            yield node.lineno, node.data.strip()
        elif isinstance(node, nodes.Const) and isinstance(node.value, str) and CJK.search(node.value):
            if not in_gettext:
                yield node.lineno, node.value
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in GETTEXT:
            for arg in node.args:  # the message(s); keyword arguments are ordinary expressions
                yield from walk(arg, True)
            for child in node.kwargs:
                yield from walk(child, False)
            for extra in (node.dyn_args, node.dyn_kwargs):
                if extra is not None:
                    yield from walk(extra, False)
            return
        for child in node.iter_child_nodes():
            yield from walk(child, False)

    yield from walk(tree)


def _templates():
    return sorted(p for p in TEMPLATES.rglob("*") if p.is_file() and p.suffix in (".html", ".txt", ".md"))


def test_the_check_finds_untranslated_text():
    env = Environment(extensions=["jinja2.ext.i18n"])
    found = list(untranslated(env.parse(
        "<p title=\"提示\">{{ _('已翻译') }}未翻译{{ x or '默认' }}"
        "{% trans %}块内{% endtrans %}{{ _('共 %(n)s 项', n=y or '无') }}</p>")))
    assert [text for _, text in found] == ["<p title=\"提示\">", "未翻译", "默认", "无"]


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_text_goes_through_gettext(path):
    env = Environment(extensions=["jinja2.ext.i18n"])
    name = str(path.relative_to(TEMPLATES))
    tree = env.parse(path.read_text(encoding="utf-8"), name=name)
    bad = [f"{name}:{line}: {text!r}" for line, text in untranslated(tree) if (name, text) not in ALLOWED]
    assert not bad, "Chinese text outside gettext (wrap it in {{ _('…') }}):\n" + "\n".join(bad)


def test_allow_list_entries_still_exist():
    env = Environment(extensions=["jinja2.ext.i18n"])
    for name, text in ALLOWED:
        tree = env.parse((TEMPLATES / name).read_text(encoding="utf-8"))
        assert text in [t for _, t in untranslated(tree)], f"stale allow-list entry {name}: {text!r}"
