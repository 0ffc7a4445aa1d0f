"""Texts shown by static/*.js and static/*.css come from the server's catalogue, never from the files.

The scripts read theirs from base.html's data-messages (`msg("key")` in app.js, `text("key")` in room.js);
the style sheets show words only through attr() of server-rendered attributes.
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
LINE_COMMENT = re.compile(r"(?<![:\"'\\])//[^\n]*")
MESSAGE_CALL = re.compile(r"\b(?:msg|text)\(\s*\"(\w+)\"")


def without_comments(source: str, suffix: str) -> str:
    source = BLOCK_COMMENT.sub("", source)
    return LINE_COMMENT.sub("", source) if suffix == ".js" else source


def _static_files():
    return sorted(p for p in STATIC.glob("*") if p.suffix in (".js", ".css"))


def test_the_check_finds_chinese_outside_comments():
    js = 'var a = "保存中"; // 注释\n/* 块注释 */ var b = "http://x"; // 又一条'
    assert "".join(CJK.findall(without_comments(js, ".js"))) == "保存中"
    assert "http://x" in without_comments(js, ".js")
    assert not CJK.search(without_comments('/* 注释 */ .a::after { content: attr(data-x); }', ".css"))
    assert CJK.search(without_comments('.a::after { content: "连接中"; }', ".css"))


@pytest.mark.parametrize("path", _static_files(), ids=lambda p: p.name)
def test_no_chinese_text_in_static_files(path):
    code = without_comments(path.read_text(encoding="utf-8"), path.suffix)
    bad = [line.strip() for line in code.splitlines() if CJK.search(line)]
    assert not bad, f"{path.name}: Chinese text outside the catalogue (put it in base.html's data-messages):\n" + \
        "\n".join(bad)


def test_every_message_a_script_asks_for_is_rendered_by_base_html():
    base = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    rendered = set(re.findall(r"^\s*'(\w+)': _\(", base, re.M))
    asked = {key for path in STATIC.glob("*.js") for key in MESSAGE_CALL.findall(path.read_text(encoding="utf-8"))}
    assert {"saving", "unsaved", "valueMissingFile"} <= asked
    assert asked <= rendered, f"keys missing from base.html's data-messages: {sorted(asked - rendered)}"
