"""Turning minutes into safe HTML and readable text: Markdown, the one sanitizer, tables, the diff.

`safe_html()` is the only place where HTML that contains user text becomes `Markup`; every output
path (the page, the live preview, the diff, emails, the print view, the Word export) goes through
it. What comes out can never run script in another user's browser and carries no htmx attributes;
templates wrap it in an element with `hx-disable` as a second fence.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import re

import markdown as markdown_lib
import nh3
from flask_babel import gettext, lazy_gettext
from markupsafe import Markup, escape

from minutes.core import dates

#: Tags a rendered minutes document may contain (an allow-list: anything else is removed, its text kept).
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "b", "i", "u", "s",
    "del", "ins", "code", "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "a", "sup", "sub",
    "span", "div",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "ol": {"start"},
    "span": {"class"},
    "div": {"class"},
    "ins": {"class"},
    "del": {"class"},
}
#: Classes our own renderers use; a class typed by a user outside this set is dropped.
ALLOWED_CLASSES = {"diff-ins", "diff-del", "diff-line", "diff-changed", "diff-skip", "md", "minutes-table"}
URL_SCHEMES = {"http", "https", "mailto"}
MARKDOWN_EXTENSIONS = ["tables", "sane_lists", "nl2br", "fenced_code"]
MARKDOWN_CONFIG = {"tables": {"use_align_attribute": True}}


#: Elements removed together with everything inside them.
DROPPED_WITH_CONTENT = {"script", "style", "math", "svg", "template"}
#: Elements whose content the HTML parser reads up to their end tag as one piece (raw text), or drops with them:
#: opened and never closed, they would take the rest of the document with them.
_SWALLOWING = DROPPED_WITH_CONTENT | {
    "mi", "mo", "mn", "ms", "mtext", "mglyph", "malignmark", "annotation-xml", "desc",  # nh3 drops these with content
    "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext",  # raw text
}
_SWALLOWING_TAG = re.compile(r"<(/?)(" + "|".join(sorted(_SWALLOWING)) + r")(?=[\s/>]|$)", re.IGNORECASE)


def _unclosed_as_text(html: str) -> str:
    """Escape the `<` of every swallowing element that is never closed, so it is shown as typed.

    "讨论 <style> 标签" typed in the minutes is text; read as a tag, the sanitizer would drop it and
    every word after it. A closed element is left for the sanitizer (and dropped with its content).
    """
    tags = list(_SWALLOWING_TAG.finditer(html))
    unclosed = []
    for i, tag in enumerate(tags):
        if tag.group(1):
            continue
        name = tag.group(2).lower()
        closed = any(t.group(1) and t.group(2).lower() == name for t in tags[i + 1:])
        if not closed or name == "plaintext":  # nothing ends <plaintext>
            unclosed.append(tag.start())
    for start in reversed(unclosed):
        html = html[:start] + "&lt;" + html[start + 1:]
    return html


def safe_html(html: str) -> Markup:
    """Sanitize HTML with the allow-list and return it as Markup (the one sanitizer of the app)."""
    cleaned = nh3.clean(
        _unclosed_as_text(html or ""),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attribute_filter=_keep_attribute,
    )
    # bandit B704: nh3's allow-list output; the one place where user HTML becomes Markup
    return Markup(cleaned)  # nosec B704


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Refuse htmx attributes outright and keep only our own class names."""
    if attribute.startswith(("hx-", "data-hx")):
        return None
    if attribute == "class":
        kept = " ".join(c for c in value.split() if c in ALLOWED_CLASSES)
        return kept or None
    return value


def markdown_html(text: str) -> Markup:
    """Render Markdown typed by a user to sanitized HTML."""
    html = markdown_lib.markdown(text or "", extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIG,
                                 output_format="html")
    return safe_html(html)


# --- canonical content and hash --------------------------------------------------------------

def normalize_body(text: str) -> str:
    """Normalize typed Markdown so the same text always hashes the same: LF newlines, no trailing blanks."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip("\n") + "\n" if text.strip() else ""


def canonical_json(value) -> str:
    """JSON with sorted keys and no spaces: one spelling per value, for storage and hashing."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_content(body: str, decisions: list[dict], actions: list[dict]) -> str:
    """The content a version's hash covers: the recorder's text and both tables."""
    return canonical_json({"format": 1, "body": body, "decisions": decisions, "actions": actions})


def content_hash(body: str, decisions: list[dict], actions: list[dict]) -> str:
    """sha256 (hex) of the canonical content."""
    return hashlib.sha256(canonical_content(body, decisions, actions).encode("utf-8")).hexdigest()


# --- tables ----------------------------------------------------------------------------------

DECISION_COLUMNS = (lazy_gettext("序号"), lazy_gettext("决议内容"), lazy_gettext("负责人"), lazy_gettext("配合部门"),
                    lazy_gettext("完成时限"))
ACTION_COLUMNS = (lazy_gettext("序号"), lazy_gettext("任务描述"), lazy_gettext("负责人"), lazy_gettext("配合部门"),
                  lazy_gettext("截止时间"), lazy_gettext("当前状态"))
DECISIONS_HEADING = lazy_gettext("四、决议事项汇总")
ACTIONS_HEADING = lazy_gettext("五、待办事项跟踪表")
#: What sections 四 and 五 say when the meeting recorded nothing for them.
NO_DECISIONS = lazy_gettext("本次会议未形成决议。")
NO_ACTIONS = lazy_gettext("本次会议未形成待办事项。")


def cn_day(iso: str | None) -> str:
    """2026-06-30 → 2026年6月30日 (empty stays empty)."""
    if not iso:
        return ""
    d = dates.parse_day(iso)
    return gettext("%(year)s年%(month)s月%(day)s日", year=d.year, month=d.month, day=d.day)


def owner_text(row: dict) -> str:
    """产品部 张伟, or the department alone, or —."""
    text = " ".join(part for part in (row.get("owner_department") or "", row.get("owner") or "") if part)
    return text or "—"


def decision_cells(row: dict) -> list[str]:
    due = cn_day(row.get("due")) or row.get("due_text") or "—"
    return [str(row["no"]), row["text"], owner_text(row), "、".join(row.get("cooperating") or []) or "—", due]


def action_cells(row: dict) -> list[str]:
    return [str(row["no"]), row["text"], owner_text(row), "、".join(row.get("cooperating") or []) or "—",
            cn_day(row.get("due")) or "—", row.get("status") or ""]


def _md_cell(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def markdown_table(columns, rows: list[list[str]]) -> str:
    """A GitHub-style Markdown table (what the .md export and the hash-independent views show)."""
    lines = ["| " + " | ".join(str(c) for c in columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
    for cells in rows:
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def tables_markdown(decisions: list[dict], actions: list[dict]) -> str:
    """Sections 四 and 五 as Markdown."""
    parts = [f"## {DECISIONS_HEADING}", ""]
    parts.append(markdown_table(DECISION_COLUMNS, [decision_cells(d) for d in decisions]) if decisions
                 else str(NO_DECISIONS))
    parts += ["", f"## {ACTIONS_HEADING}", ""]
    parts.append(markdown_table(ACTION_COLUMNS, [action_cells(a) for a in actions]) if actions
                 else str(NO_ACTIONS))
    return "\n".join(parts) + "\n"


def document_markdown(title: str, body: str, decisions: list[dict], actions: list[dict],
                      preface: list[str] = ()) -> str:
    """The whole minutes as one Markdown document: title, preface lines, the text, then the two tables."""
    head = [f"# {title}", ""]
    if preface:
        head += [*preface, ""]
    return "\n".join(head) + (body.rstrip("\n") + "\n\n" if body.strip() else "") + tables_markdown(decisions, actions)


# --- the diff --------------------------------------------------------------------------------

#: A Latin word or number stays whole; every CJK character (and any other character) is its own token.
_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:[.'’\-][A-Za-z0-9_]+)*|[ \t]+|\n|.", re.S)


def tokenize(text: str) -> list[str]:
    """Split for a word-level diff of Chinese: CJK per character, Latin words as words."""
    return _TOKEN.findall(text or "")


def diff_text(body: str, decisions: list[dict], actions: list[dict]) -> str:
    """A version as plain text for comparing: the text, then one line per table row."""
    lines = [body.rstrip("\n"), "", f"## {DECISIONS_HEADING}"]
    for d in decisions:
        c = decision_cells(d)
        lines.append(gettext("%(no)s. %(text)s（负责人：%(owner)s；配合部门：%(cooperating)s；完成时限：%(due)s）",
                             no=c[0], text=c[1], owner=c[2], cooperating=c[3], due=c[4]))
    lines += ["", f"## {ACTIONS_HEADING}"]
    for a in actions:
        c = action_cells(a)
        lines.append(gettext("%(no)s. %(text)s（负责人：%(owner)s；配合部门：%(cooperating)s；截止时间：%(due)s；状态：%(status)s）",
                             no=c[0], text=c[1], owner=c[2], cooperating=c[3], due=c[4], status=c[5]))
    return "\n".join(lines) + "\n"


#: Past this many token pairs a changed passage is shown as removed and re-added, not compared word by word.
DIFF_MAX_PAIRS = 4_000_000


def _pieces(old: str, new: str):
    """(op, old tokens, new tokens) of a diff: the lines are compared first, then the tokens of the lines
    that changed. Token by token over a whole text is quadratic: two versions of 35,000 characters took
    7.5 s; line by line first, a few changes in long minutes cost what the changed lines cost."""
    a_lines, b_lines = (old or "").split("\n"), (new or "").split("\n")

    def tokens(lines: list[str], i: int, j: int) -> list[str]:
        out: list[str] = []
        for k in range(i, j):
            out += tokenize(lines[k])
            if k < len(lines) - 1:
                out.append("\n")
        return out

    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False).get_opcodes():
        a, b = tokens(a_lines, i1, i2), tokens(b_lines, j1, j2)
        if a == b:
            yield "equal", a, b
        elif not a or not b or len(a) * len(b) > DIFF_MAX_PAIRS:
            yield ("insert" if not a else "delete" if not b else "replace"), a, b
        else:
            for inner, x1, x2, y1, y2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
                yield inner, a[x1:x2], b[y1:y2]


def word_diff(old: str, new: str, context: int | None = 2) -> tuple[Markup, dict]:
    """Compare two texts token by token; return HTML lines with <del>/<ins>, and counts of changed characters.

    With `context`, unchanged lines further than that from a change fold into a "… N 行未修改 …" marker;
    `context=None` shows the whole text.
    """
    stats = {"inserted": 0, "deleted": 0, "changes": 0}
    lines: list[list[tuple[str, str]]] = [[]]

    def put(kind: str, tokens: list[str]) -> None:
        for token in tokens:
            if token == "\n":
                if kind != "eq":
                    lines[-1].append((kind, "↵"))
                lines.append([])
            else:
                lines[-1].append((kind, token))

    for op, a, b in _pieces(old, new):
        if op == "equal":
            put("eq", a)
            continue
        stats["changes"] += 1
        if op in ("delete", "replace"):
            stats["deleted"] += len("".join(a).strip())
            put("del", a)
        if op in ("insert", "replace"):
            stats["inserted"] += len("".join(b).strip())
            put("ins", b)
    if lines and not lines[-1]:
        lines.pop()
    changed = [any(kind != "eq" for kind, _ in line) for line in lines]
    if context is None:
        keep = [True] * len(lines)
    else:
        keep = [any(changed[max(0, i - context):i + context + 1]) for i in range(len(lines))]
    out: list[str] = []
    skipped = 0
    for line, shown, is_changed in zip(lines, keep, changed):
        if not shown:
            skipped += 1
            continue
        if skipped:
            out.append(_skipped(skipped))
            skipped = 0
        out.append(f'<div class="diff-line{" diff-changed" if is_changed else ""}">{_diff_line(line) or "&nbsp;"}</div>')
    if skipped:
        out.append(_skipped(skipped))
    return safe_html("".join(out)), stats


def _skipped(count: int) -> str:
    return f'<div class="diff-skip">⋯ {escape(gettext("%(count)s 行未修改", count=count))} ⋯</div>'


def _diff_line(pieces: list[tuple[str, str]]) -> str:
    merged: list[list[str]] = []
    for kind, text in pieces:
        if merged and merged[-1][0] == kind:
            merged[-1][1] += text
        else:
            merged.append([kind, text])
    html = []
    for kind, text in merged:
        if kind == "eq":
            html.append(str(escape(text)))
        else:
            html.append(f'<{kind} class="diff-{kind}">{escape(text)}</{kind}>')
    return "".join(html)
