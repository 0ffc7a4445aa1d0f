"""Every user-facing Chinese text in the Python package goes through gettext, like the templates' text.

The check walks each module's syntax tree: a string literal with Chinese in it (an f-string's literal parts
included) fails unless it is a message argument of a gettext call (gettext, lazy_gettext, pgettext, ngettext…)
or a docstring. Modules whose Chinese is data, not interface, are listed in DATA with the reason. Modules not
cleaned up yet carry a ceiling in CEILINGS: the count there may only go down (lower the number when it does;
remove the entry at zero). A new module, or a module not listed, has none.
"""
import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "minutes"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
GETTEXT = {"_", "gettext", "lazy_gettext", "pgettext", "lazy_pgettext", "ngettext", "lazy_ngettext", "npgettext"}

#: module -> why its Chinese literals are data (matched against what people type or say, or content), not interface
DATA = {
    "demo.py": "the demo company's people, meetings and records: content in Chinese, not words of the interface",
    "core/clarity_phrases.py": "the vague phrases a typed decision or deadline is checked against: matched, not shown",
    "transcripts/suggest.py": "patterns that find decisions, actions and owners in a Chinese transcript: matched, "
                              "not shown",
    "archive/text.py": "patterns that find the date or number of one occurrence in a recurring meeting's topic: "
                       "matched, not shown",
}

#: (module, exact text) -> why this one literal is not a word of the interface
ALLOWED = {
    ("records/exports.py", "宋体"): "the name of a font installed on Chinese Windows, as Word looks it up",
    ("records/exports.py", "黑体"): "the name of a font installed on Chinese Windows, as Word looks it up",
    ("records/service.py", "零一二三四五六七八九"): "the digits cn_number writes agenda items' numbers with (议题十二)",
    ("records/service.py", "十"): "the digits cn_number writes agenda items' numbers with (议题十二)",
}

#: module -> Chinese literals still outside gettext; only goes down
CEILINGS = {
    "actions/ics.py": 7,
    "api/schemas.py": 5,
    "archive/backends.py": 1,
    "calendar/service.py": 1,
    "cli.py": 15,
    "config.py": 5,
    "core/clarity.py": 52,
    "core/ical.py": 4,
    "core/timefmt.py": 15,
    "identity/ldap.py": 1,
    "identity/service.py": 1,
    "identity/sync.py": 1,
    "notify/delivery.py": 1,
    "notify/service.py": 1,
    "people/service.py": 17,
    "room/broker.py": 1,
    "room/wording.py": 2,
    "transcripts/model.py": 6,
}


def untranslated(source: str):
    """Yield (line, text) for Chinese string literals outside gettext calls and docstrings."""
    tree = ast.parse(source)
    exempt = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                exempt.add(id(first.value))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in GETTEXT:  # the message(s) and context; keyword arguments are ordinary values
                exempt.update(id(arg) for arg in node.args if isinstance(arg, ast.Constant))
    found = [node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and CJK.search(node.value) and id(node) not in exempt]
    for node in sorted(found, key=lambda n: (n.lineno, n.col_offset)):
        yield node.lineno, node.value


def _counts() -> dict[str, list]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        texts = [(line, text) for line, text in untranslated(path.read_text(encoding="utf-8"))
                 if (name, text) not in ALLOWED]
        if texts:
            found[name] = texts
    return found


def test_the_check_finds_untranslated_text():
    source = '''
"""模块说明"""
from flask_babel import gettext, lazy_gettext
LABEL = lazy_gettext("已翻译")
RAW = "未翻译"
def f(name):
    """函数说明"""
    flash(gettext("保存了%(name)s", name=name or "无名"))
    return f"共{name}项" + gettext("好") + pgettext("上下文", "词") + "。"
'''
    assert [text for _, text in untranslated(source)] == ["未翻译", "无名", "共", "项"]


def test_python_text_goes_through_gettext():
    found = _counts()
    bad = [f"{name}:{line}: {text!r}" for name, texts in found.items()
           if name not in DATA and name not in CEILINGS for line, text in texts]
    assert not bad, "Chinese text outside gettext (wrap it in gettext/lazy_gettext):\n" + "\n".join(bad)


def test_ceilings_only_go_down():
    found = _counts()
    counts = {name: len(found.get(name, [])) for name in CEILINGS}
    over = {name: (n, CEILINGS[name]) for name, n in counts.items() if n > CEILINGS[name]}
    assert not over, "more Chinese text outside gettext than allowed (found, ceiling): " + repr(over) + "\n" + "\n".join(
        f"{name}:{line}: {text!r}" for name in over for line, text in found[name])
    under = {name: n for name, n in counts.items() if n < CEILINGS[name]}
    assert not under, f"fewer than the ceiling now: lower CEILINGS to {under} (0: remove the entry)"


def test_data_modules_and_allowed_texts_still_exist():
    found = _counts()
    assert [name for name in DATA if name not in found] == [], "stale DATA entry"
    stale = [(name, text) for name, text in ALLOWED
             if text not in [t for _, t in untranslated((PACKAGE / name).read_text(encoding="utf-8"))]]
    assert stale == [], "stale ALLOWED entry"
