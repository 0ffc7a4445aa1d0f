"""Read a meeting transcript as the Chinese meeting tools export it: pure functions, no Flask, no database.

Formats (`read_transcript(name, data)` picks one from the file name and the content):

* Feishu 妙记 / DingTalk 闪记 text: a header line "张伟 00:01:23" (or "张伟(产品部) 00:01:23",
  "说话人 1  01:23"), the words on the lines below it up to the next header.
* Tencent Meeting text: one line per turn, "[00:01:23] 张伟：内容" or "张伟(00:01:23)：内容" or
  "00:01:23 张伟：内容".
* Plain text: "张伟：内容" per line; a line without a speaker continues the previous turn.
* SubRip (.srt) and WebVTT (.vtt) subtitles: the speaker as a "张伟：" prefix of the cue (or VTT's <v 张伟>).
* Word (.docx): its paragraphs, read as one of the text formats above.

Each turn becomes a `Line` (seconds from the start or None, the speaker as written, the text).
Unreadable input raises `TranscriptUnreadable` with the reason in Chinese (the caller translates nothing:
the service turns the `reason` code into its message).
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

#: Larger files are refused: a two-hour meeting's transcript is about 100 KB of text; a .docx 1 MB or so.
MAX_BYTES = 5 * 1024 * 1024
#: More turns than a full working day of talk is not a meeting's transcript.
MAX_LINES = 20000
MAX_SPEAKER = 40
#: A .docx is a zip: what it unpacks to is bounded too (a small file must not expand into gigabytes).
MAX_UNPACKED = 50 * 1024 * 1024


class TranscriptUnreadable(ValueError):
    """The file is not a transcript we can read; `reason` is one of the codes below."""

    EMPTY, TOO_LARGE, BINARY, NO_TURNS, BAD_DOCX, TOO_MANY = (
        "empty", "too_large", "binary", "no_turns", "bad_docx", "too_many")

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Line:
    """One turn of speech as the transcript has it."""

    seconds: int | None
    speaker: str
    text: str


def _t(tag: str = "") -> str:
    return rf"(?:(?P<h{tag}>\d{{1,2}}):)?(?P<m{tag}>\d{{1,2}}):(?P<s{tag}>\d{{2}})(?:[.,]\d{{1,3}})?"


_TIME = _t()
_COLON = r"[:：]"
_NAME = r"[^\s:：\[\]()（）\d][^\n:：\[\]]{0,38}?"
# "张伟 00:01:23", "张伟(产品部) 00:01:23", "说话人 1  01:23" (Feishu, DingTalk): a header, the words below
_HEADER = re.compile(rf"^\s*(?P<who>{_NAME})\s*(?:[(（][^)）]{{1,20}}[)）])?\s+{_TIME}\s*$")
# "[00:01:23] 张伟：内容", "00:01:23 张伟：内容" (Tencent Meeting)
_TIME_FIRST = re.compile(rf"^\s*\[?{_TIME}\]?\s+(?P<who>{_NAME}(?:\s*[(（][^)）]{{1,20}}[)）])?)\s*{_COLON}\s*(?P<text>.*)$")
# "张伟(00:01:23)：内容", "张伟 00:01:23：内容"
_TIME_AFTER = re.compile(rf"^\s*(?P<who>{_NAME})\s*[(（\[]?{_TIME}[)）\]]?\s*{_COLON}\s*(?P<text>.*)$")
# "张伟：内容", "张伟(产品部)：内容"
_PLAIN = re.compile(rf"^\s*(?P<who>{_NAME}(?:\s*[(（][^)）]{{1,20}}[)）])?)\s*{_COLON}\s*(?P<text>.+)$")
_CUE_TIME = re.compile(rf"^\s*{_TIME}\s*-->\s*{_t('2')}")
_VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]{1,40})>(.*)$")
_TAGS = re.compile(r"</?[a-z][^>]*>", re.I)


def _seconds(m: re.Match) -> int:
    return int(m.group("h") or 0) * 3600 + int(m.group("m")) * 60 + int(m.group("s"))


def _plausible_speaker(who: str) -> bool:
    who = who.strip()
    # a "speaker" longer than a name with a department, or a sentence with a comma, is a line of speech
    return 0 < len(who) <= MAX_SPEAKER and not re.search(r"[，。,！？!?；;、]", who) and not who.startswith("http")


def decode(data: bytes) -> str:
    """Decode exported text: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (Chinese Windows)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise TranscriptUnreadable(TranscriptUnreadable.BINARY)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise TranscriptUnreadable(TranscriptUnreadable.BINARY) from None


def docx_text(data: bytes) -> str:
    """The paragraphs of a Word file, one per line (table cells too, row by row)."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises several kinds for a file that is not a Word document
        raise TranscriptUnreadable(TranscriptUnreadable.BAD_DOCX) from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("：".join(cell.text.strip() for cell in row.cells[-2:]))
    return "\n".join(lines)


def _subtitles(text: str) -> list[Line]:
    lines: list[Line] = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    for block in blocks:
        rows = [r for r in block.strip().split("\n") if r.strip()]
        timing = next((i for i, r in enumerate(rows) if _CUE_TIME.match(r)), None)
        if timing is None:
            continue
        m = _CUE_TIME.match(rows[timing])
        seconds = _seconds(m)
        body = " ".join(r.strip() for r in rows[timing + 1:])
        speaker = ""
        voice = _VOICE.match(body)
        if voice:
            speaker, body = voice.group(1).strip(), voice.group(2)
        body = _TAGS.sub("", body).strip()
        if not speaker:
            plain = _PLAIN.match(body)
            if plain and _plausible_speaker(plain.group("who")):
                speaker, body = plain.group("who").strip(), plain.group("text").strip()
        if not body:
            continue
        lines.append(Line(seconds, speaker, body))
    return lines


def _text_turns(text: str) -> list[Line]:
    lines: list[Line] = []
    current: Line | None = None
    rows = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # In a file of "张伟 00:01:23" headers, "结论：同意" under a header is speech, not a speaker
    headed = any(_HEADER.match(r.strip()) for r in rows[:200])
    for raw in rows:
        row = raw.strip()
        if not row:
            continue
        m = _HEADER.match(row)
        if m and _plausible_speaker(m.group("who")):
            current = Line(_seconds(m), _speaker(row, m), "")
            lines.append(current)
            continue
        for pattern in (_TIME_FIRST, _TIME_AFTER):
            m = pattern.match(row)
            if m and _plausible_speaker(m.group("who")):
                current = Line(_seconds(m), m.group("who").strip(),
                               m.group("text").strip())
                lines.append(current)
                break
        else:
            m = _PLAIN.match(row)
            if m and not headed and _plausible_speaker(m.group("who")) and (current is None or current.text):
                current = Line(None, m.group("who").strip(), m.group("text").strip())
                lines.append(current)
            elif current is not None:
                current.text = f"{current.text}{row}" if current.text else row
            else:
                current = Line(None, "", row)
                lines.append(current)
    return [line for line in lines if line.text]


def _speaker(row: str, m: re.Match) -> str:
    """The header's speaker with the department in brackets kept: 张伟(产品部)."""
    dept = re.search(r"[(（]([^)）]{1,20})[)）]", row[:m.start("h") if m.group("h") else m.start("m")])
    who = m.group("who").strip()
    return f"{who}({dept.group(1)})" if dept else who


def sniff_format(name: str, data: bytes) -> str:
    """Which reader fits: "docx", "srt", "vtt" or "text"."""
    lower = (name or "").lower()
    if data[:2] == b"PK" or lower.endswith(".docx"):
        return "docx"
    if lower.endswith(".vtt") or data.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"WEBVTT"):
        return "vtt"
    if lower.endswith(".srt"):
        return "srt"
    return "text"


def read_transcript(name: str, data: bytes) -> tuple[str, list[Line]]:
    """Read an uploaded transcript: its format and its turns; raise TranscriptUnreadable when it is none."""
    if not data or not data.strip():
        raise TranscriptUnreadable(TranscriptUnreadable.EMPTY)
    if len(data) > MAX_BYTES:
        raise TranscriptUnreadable(TranscriptUnreadable.TOO_LARGE)
    fmt = sniff_format(name, data)
    if fmt == "docx":
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise TranscriptUnreadable(TranscriptUnreadable.BAD_DOCX)
        try:
            unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
        except (zipfile.BadZipFile, ValueError):
            raise TranscriptUnreadable(TranscriptUnreadable.BAD_DOCX) from None
        if unpacked > MAX_UNPACKED:
            raise TranscriptUnreadable(TranscriptUnreadable.TOO_LARGE)
        text = docx_text(data)
    else:
        text = decode(data)
    if not text.strip():
        raise TranscriptUnreadable(TranscriptUnreadable.EMPTY)
    if fmt != "docx" and _CUE_TIME.search(text) and fmt == "text":
        fmt = "srt"
    lines = _subtitles(text) if fmt in ("srt", "vtt") else _text_turns(text)
    if len(lines) > MAX_LINES:
        raise TranscriptUnreadable(TranscriptUnreadable.TOO_MANY)
    if not lines or not any(line.speaker for line in lines):
        raise TranscriptUnreadable(TranscriptUnreadable.NO_TURNS)
    return fmt, lines
