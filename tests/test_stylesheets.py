"""The style sheets take every colour from static/palette.css, and every page that styles itself loads it first."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "static"
HEX = re.compile(r"#[0-9a-fA-F]{3,8}\b")
BLOCK = re.compile(r"\{([^{}]*)\}")  # innermost blocks: declarations, never selectors (#agenda, #tokens)
COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _sheets():
    return {p.name: COMMENT.sub("", p.read_text(encoding="utf-8")) for p in STATIC.glob("*.css")}


def test_raw_colours_live_only_in_the_palette():
    found = {name: HEX.findall(" ".join(BLOCK.findall(css))) for name, css in _sheets().items() if name != "palette.css"}
    assert not {name: hexes for name, hexes in found.items() if hexes}, "use a variable from static/palette.css"
    assert len(HEX.findall(_sheets()["palette.css"])) >= 50


def test_every_variable_used_is_defined_once():
    sheets = _sheets()
    defined = [m for css in sheets.values() for m in re.findall(r"(--[\w-]+)\s*:", css)]
    used = {m for css in sheets.values() for m in re.findall(r"var\((--[\w-]+)", css)}
    assert sorted(used - set(defined)) == []
    assert sorted({d for d in defined if defined.count(d) > 1}) == []


def test_pages_load_the_palette_before_their_style_sheets():
    for template in ("base.html", "records/print.html"):
        html = (ROOT / "templates" / template).read_text(encoding="utf-8")
        sheets = re.findall(r"filename='([\w.]+\.css)'", html)
        assert sheets and sheets[0] == "palette.css", (template, sheets)


def test_templates_have_no_fixed_inline_styles():
    """Inline styles only carry data (a bar's width); e-mails keep theirs (mail readers ignore style sheets)."""
    bad = []
    for path in (ROOT / "templates").rglob("*.html"):
        if path.name.startswith("email_"):
            continue
        for style in re.findall(r'style="([^"]*)"', path.read_text(encoding="utf-8")):
            if not re.fullmatch(r"width: \{\{.*\}\}%", style):
                bad.append(f"{path.relative_to(ROOT)}: {style}")
    assert not bad, bad
