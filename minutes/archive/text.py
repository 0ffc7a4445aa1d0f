"""Text rules of the archive, free of Flask and SQL: normalizing, query terms, highlights, topic keys.

The index and the query see the same text: every character is NFKC-normalized on its own (so
full-width ＱＳＬＡ７２ matches Q, SLA, 72) and compared case-insensitively. Normalizing one
character at a time keeps a map from the normalized text back to the original, so highlights
land on the characters the user actually wrote.
"""
import functools
import re
import unicodedata
from dataclasses import dataclass

#: Terms shorter than this cannot use a trigram index; they go to the 1–2 character (gram) index.
TRIGRAM_MIN = 3
MAX_QUERY_CHARS = 100
MAX_TERMS = 8
#: Characters of context shown around the first match in a snippet.
SNIPPET_CHARS = 96
SNIPPET_BEFORE = 28


def normalize(text: str) -> str:
    """Apply NFKC to every character on its own."""
    return "".join(unicodedata.normalize("NFKC", ch) for ch in text or "")


def folded_with_map(text: str) -> tuple[str, list[int]]:
    """Normalize and lower-case `text`; also return, for each resulting character, its index in `text`."""
    text = text or ""
    if unicodedata.is_normalized("NFKC", text) and "Σ" not in text:  # nearly always: one character each
        lowered = text.lower()  # (a final Σ lowers by its context; one character at a time it would not)
        if len(lowered) == len(text):
            return lowered, list(range(len(text)))
    out: list[str] = []
    where: list[int] = []
    for index, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch).lower()
        out.append(folded)
        where.extend([index] * len(folded))
    return "".join(out), where


def fold(text: str) -> str:
    """Normalize and lower-case, as the index stores text and the query is compared."""
    return unicodedata.normalize("NFKC", text or "").lower()


def is_word_char(ch: str) -> bool:
    """Letters and digits of any script (汉字, Latin, digits); everything else separates terms."""
    return ch.isalnum()


_WORD_RUN = re.compile(r"[^\W_]+")


def grams_of_folded(text: str) -> list[str]:
    """Distinct 1- and 2-character grams of the letters and digits of an already folded text."""
    seen: set[str] = set()
    for run in _WORD_RUN.findall(text):
        seen |= _run_grams(run)
    return sorted(seen)


@functools.lru_cache(maxsize=4096)
def _run_grams(run: str) -> frozenset[str]:
    """The grams of one run of letters and digits. Cached: a block is re-indexed whole at every change
    (the old text, then the new one), and nearly all of its runs were there the time before."""
    return frozenset((*run, *map(str.__add__, run, run[1:])))


def grams(text: str) -> list[str]:
    """Distinct 1- and 2-character grams of the word characters of `text`, for the short-term index."""
    return grams_of_folded(fold(text))


@dataclass(frozen=True)
class ParsedQuery:
    """The terms a query asks for; every term must occur (as a substring, in its order)."""

    terms: tuple[str, ...]

    @property
    def long_terms(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if len(t) >= TRIGRAM_MIN)

    @property
    def short_terms(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if len(t) < TRIGRAM_MIN)

    def __bool__(self) -> bool:
        return bool(self.terms)


_QUOTED_OR_WORD = re.compile(r'"([^"]*)"|“([^”]*)”|(\S+)')


def parse_query(query: str) -> ParsedQuery:
    """Split a query into terms.

    Words are separated by spaces and punctuation ("Q3 上线，预算" → q3, 上线, 预算); a phrase in
    quotes keeps its spaces. A term contained in another one adds nothing and is dropped.
    """
    folded = fold((query or "")[:MAX_QUERY_CHARS])
    found: list[str] = []
    for match in _QUOTED_OR_WORD.finditer(folded):
        phrase = match.group(1) if match.group(1) is not None else match.group(2)
        if phrase is not None:
            phrase = " ".join(phrase.split())
            if len(phrase) >= TRIGRAM_MIN:
                found.append(phrase)
                continue
            chunk = phrase
        else:
            chunk = match.group(3)
        found += [run for run in re.split(r"[^\w]|_", chunk) if run]
    unique: list[str] = []
    for term in found:
        if term not in unique:
            unique.append(term)
    kept = [t for t in unique if not any(t != other and t in other for other in unique)]
    return ParsedQuery(tuple(kept[:MAX_TERMS]))


def match_spans(text: str, terms) -> list[tuple[int, int]]:
    """Where the terms occur in `text`, as merged (start, end) character ranges of the original text."""
    folded, where = folded_with_map(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        if not term:
            continue
        start = folded.find(term)
        while start != -1:
            end = start + len(term)
            spans.append((where[start], where[end - 1] + 1))
            start = folded.find(term, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, terms, limit: int | None = SNIPPET_CHARS) -> list[tuple[str, bool]]:
    """Cut a passage around the first match and split it into (text, is_match) segments.

    The segments are plain text: the template escapes each one and wraps the matches in <mark>,
    so user text is never trusted as markup. With `limit=None` the whole text is returned.
    """
    text = " ".join((text or "").split())
    spans = match_spans(text, terms)
    start, end = 0, len(text)
    if limit is not None and len(text) > limit:
        first = spans[0][0] if spans else 0
        start = max(0, min(first - SNIPPET_BEFORE, len(text) - limit))
        end = min(len(text), start + limit)
    segments: list[tuple[str, bool]] = []
    if start > 0:
        segments.append(("…", False))
    cursor = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start > cursor:
            segments.append((text[cursor:span_start], False))
        segments.append((text[span_start:span_end], True))
        cursor = span_end
    if cursor < end:
        segments.append((text[cursor:end], False))
    if end < len(text):
        segments.append(("…", False))
    return segments


def plain(segments) -> str:
    """The text of highlight segments without markup (for the API and e-mails)."""
    return "".join(text for text, _ in segments)


# --- topics ------------------------------------------------------------------------------------

#: A meeting's name: a few letters ending in 会 or 会议 ("协调会", "经营分析会", "例会", "会议"), not "社会责任".
_MEETING_NAME = r"[^\W\d_]{0,4}会议?(?![^\W\d_])"
#: Parts of a topic that name one occurrence of a recurring meeting, not the topic itself. A quarter or a
#: half-year is one only where it dates a meeting ("三季度协调会", "Q2季度经营分析会", "上半年总结会"); elsewhere it
#: is what the meeting is about ("三季度市场活动进度同步", "确定Q3产品上线计划") and stays.
_OCCURRENCE_PATTERNS = [
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?",  # 2026-06-12, 2026年6月12日
    r"\d{4}\s*[-/.]\s*\d{1,2}",  # 2026-06
    r"\d{4}\s*年度?",  # 2026年
    r"\d{1,2}\s*月份?(\d{1,2}\s*[日号])?",  # 6月, 6月12日
    rf"(?:第\s*[一二三四1-4]|(?<![0-9])[一二三四1-4]|(?<![a-z])q[1-4])\s*(?=季度{_MEETING_NAME})",  # 第三季度协调会
    rf"[上下]半年\s*(?={_MEETING_NAME})",  # 上半年总结会 → 总结会
    r"第\s*[0-9一二三四五六七八九十百零〇两]+\s*[次期轮届周]",  # 第3次, 第十二期
    r"[（(]\s*[0-9一二三四五六七八九十]+\s*[）)]",  # （二）
]
_OCCURRENCE_RE = re.compile("|".join(f"(?:{p})" for p in _OCCURRENCE_PATTERNS), re.IGNORECASE)


def topic_label(topic: str) -> str:
    """The topic without dates and ordinals that mark one occurrence ("2026年Q2季度协调会" → "季度协调会").

    Words of the topic itself are kept: "三季度市场活动进度同步" stays whole.
    """
    text = normalize(topic or "").strip()
    stripped = re.sub(r"[(\[【]\s*[)\]】]", "", _OCCURRENCE_RE.sub("", text))  # brackets emptied: "周例会（第12期）"
    stripped = re.sub(r"\s+", " ", stripped).strip(" -_·、，,。:：")
    return stripped or text


def topic_key(topic: str) -> str:
    """The key that groups meetings on the same topic: the label, lower-cased, word characters only."""
    label = topic_label(topic).lower()
    key = "".join(ch for ch in label if is_word_char(ch))
    return (key or fold(topic).strip() or "untitled")[:200]
