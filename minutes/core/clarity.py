"""Vague-wording checker and Chinese deadline parser for decisions (决议) and actions (待办).

The process document asks that a decision contain no vague wording ("尽快协调" must become
"3个工作日内完成协调") and that every action carry a concrete date. This module is the pure
rule behind that: no Flask, no database. Three entry points:

* `find_vague(text)` lists the vague terms in `text` (`Finding`: term, offsets, a concrete
  Chinese fix, a category).
* `parse_deadline(text, today, calendar=None)` turns the deadline phrase in free text
  ("产品部张经理负责3个工作日内完成模板上线") into a date; `describe_deadline(d)` prints it
  as "2026年6月3日（周三）".
* `check_item(text, today, calendar=None)` does both and can split the text into segments
  for a template to highlight without building HTML.

`calendar` is a `minutes.core.workdays.WorkCalendar` (so company overrides stored in the
database apply), a mapping of overrides (date -> is working day), or None for the official
PRC schedule with its 调休 weekends.

Full-width digits, Latin letters and the punctuation ／－．：～ are read as their ASCII forms;
the mapping is one character to one character, so every offset refers to the original text.

The vague terms with the compounds left alone, and the deadline phrases read with the date each
gives, are listed in minutes.core.clarity_phrases beside the tables and patterns themselves.

When a text has several phrases, the deadline is the first that carries a cue: it ends with
内 or 前, is followed (perhaps after a time of day such as 下午5点 or 18:00) by 前 / 之前 /
以前 / 内 / 以内 / 之内 / 截止 / 为止 / 完成 / 交付 / 提交 / 上线 / 办结 / 落地 / 反馈, or is
preceded by 截止 / 截至 / 不晚于 / 最晚 / 最迟 / 期限 / 时限 / deadline / due. Without any
cue the first phrase wins. "6月1日会议决定，6月30日前完成" is therefore June 30.
"""
from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from minutes.core import workdays
from minutes.core.clarity_phrases import (CATEGORY_LABELS, WEEKDAYS, _ABSOLUTE_CN, _ABSOLUTE_ISO, _ANCHOR_GAP,
    _BEFORE_CUE, _CN_VALUES, _CUE_AFTER, _CUE_BEFORE, _DAY_OF_MONTH, _DOW, _DURATION, _HALF_YEAR, _MONTH_DAY_NUMERIC,
    _MONTH_END_BARE, _MONTH_PERIOD, _NAMED_QUARTER, _NORMALISE, _RANGE_RE, _RELATIVE_DAY, _RELATIVE_MONTH,
    _RELATIVE_QUARTER, _TERMS, _WEEK, _YEAR_END)

__all__ = [
    "CATEGORY_LABELS",
    "Clarity",
    "DeadlineMatch",
    "Finding",
    "check_item",
    "describe_deadline",
    "example_deadline",
    "find_deadline",
    "find_deadlines",
    "find_vague",
    "parse_deadline",
]


def _normalise(text: str) -> str:
    return text.translate(_NORMALISE)


# --------------------------------------------------------------------------------------
# Vague wording
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One vague term: the text as written, its span [start, end), the fix, a category."""

    term: str
    start: int
    end: int
    suggestion: str
    category: str

    @property
    def label(self) -> str:
        """Return the category's Chinese label (时间不明确 …)."""
        return CATEGORY_LABELS.get(self.category, self.category)


_TERM_RES = [(re.compile(p), cat, sug) for p, cat, sug in _TERMS]


def _range_fix(m: re.Match[str]) -> str | None:
    lo, hi, ge, unit = int(m.group(1)), int(m.group(2)), m.group(3) or "", m.group(4)
    if unit == "月" and not ge:
        return None  # "6-7月" names months, not a range of time
    if lo >= hi:
        return None
    return f'写明一个确定的时限，如"{hi}{ge}{unit}内"'


def example_deadline(today: date) -> date:
    """Return the date the hints offer as an example: the end of this month, or of the next one when
    this month ends within 10 days (never a date already past)."""
    end = _month_end(today.year, today.month)
    if (end - today).days < 10:
        first = _add_months(today.replace(day=1), 1)
        end = _month_end(first.year, first.month)
    return end


def _fill(suggestion: str, today: date | None) -> str:
    if "{" not in suggestion:
        return suggestion
    if today is None:
        return re.sub(r'或?"[^"]*\{(?:ymd|md)\}[^"]*"', "", suggestion).rstrip("，如") or suggestion
    d = example_deadline(today)
    return suggestion.format(ymd=f"{d.year}年{d.month}月{d.day}日", md=f"{d.month}月{d.day}日")


def _candidates(norm: str, today: date | None = None) -> Iterator[Finding]:
    for rx, category, suggestion in _TERM_RES:
        for m in rx.finditer(norm):
            yield Finding(m.group(0), m.start(), m.end(), _fill(suggestion, today), category)
    for m in _RANGE_RE.finditer(norm):
        fix = _range_fix(m)
        if fix:
            yield Finding(m.group(0), m.start(), m.end(), fix, "approx")


def find_vague(text: str, today: date | None = None) -> list[Finding]:
    """Return the vague terms in `text`, sorted by start, non-overlapping (longest wins); the fixes'
    example dates count from `today`."""
    if not text:
        return []
    norm = _normalise(text)
    found = sorted(_candidates(norm, today), key=lambda f: (f.start - f.end, f.start))
    taken: list[Finding] = []
    for f in found:
        if all(f.end <= t.start or f.start >= t.end for t in taken):
            taken.append(f)
    # Report the term as the user wrote it (full-width letters stay full-width).
    return sorted(
        (Finding(text[f.start:f.end], f.start, f.end, f.suggestion, f.category) for f in taken),
        key=lambda f: f.start,
    )


# --------------------------------------------------------------------------------------
# Deadlines
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineMatch:
    """A deadline phrase in a text: the words, their span, the date, and whether a cue
    (前/内/完成/截止 …) marks it as the deadline."""

    phrase: str
    start: int
    end: int
    due: date
    cued: bool
    #: The phrase names a week, a month, a quarter or a year but no day (下周, 本月, 月底, 下个月, 年底):
    #: the date is an interpretation the writer should confirm or replace with a day.
    period: bool = False


def describe_deadline(d: date) -> str:
    """Format a due date the way the minutes print it: 2026年6月3日（周三）."""
    return f"{d.year}年{d.month}月{d.day}日（周{WEEKDAYS[d.weekday()]}）"


class _Calendar(Protocol):
    """The two methods the parser needs, whatever the caller passed."""

    def is_workday(self, d: date) -> bool: ...

    def add_workdays(self, d: date, n: int) -> date: ...


def _calendar(calendar: object) -> _Calendar:
    if calendar is None:
        return workdays.WorkCalendar()
    if hasattr(calendar, "add_workdays") and hasattr(calendar, "is_workday"):
        return calendar  # type: ignore[return-value]
    if isinstance(calendar, Mapping):
        return workdays.WorkCalendar(calendar)
    raise TypeError(f"calendar must be a WorkCalendar, a mapping or None, not {type(calendar).__name__}")


def _int(s: str) -> int:
    """Read ASCII digits or a Chinese number (十五, 二十三, 一百零五, 二〇二六)."""
    if s.isascii():
        return int(s)
    if len(s) > 1 and all(c in _CN_VALUES and c != "两" for c in s):
        return int("".join(str(_CN_VALUES[c]) for c in s))  # a year spelt digit by digit
    total = num = 0
    for c in s:
        if c in _CN_VALUES:
            num = _CN_VALUES[c]
        elif c == "十":
            total += (num or 1) * 10
            num = 0
        elif c == "百":
            total += (num or 1) * 100
            num = 0
    return total + num


def _valid(y: int, m: int, d: int) -> date | None:
    if 1 <= m <= 12 and 1 <= d <= monthrange(y, m)[1] and 1 <= y <= 9999:
        return date(y, m, d)
    return None


def _month_end(y: int, m: int) -> date:
    return date(y, m, monthrange(y, m)[1])


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, min(d.day, monthrange(y, m + 1)[1]))


def _next_month_day(today: date, day: int, months_ahead: int = 0) -> date | None:
    """The `day` of the month `months_ahead` after today's; with 0, the next such day on or
    after today (moving on to a month that has it: 31号 said in June is July 31)."""
    if months_ahead:
        first = _add_months(today.replace(day=1), months_ahead)
        return _valid(first.year, first.month, day)
    for k in range(12):
        first = _add_months(today.replace(day=1), k)
        d = _valid(first.year, first.month, day)
        if d is not None and d >= today:
            return d
    return None


def _next_yearly(today: date, make: Callable[[int], date | None]) -> date | None:
    """The first date `make(year)` on or after today, trying this year and the next few."""
    for y in range(today.year, today.year + 9):
        d = make(y)
        if d is not None and d >= today:
            return d
    return None


def _year_of(m: re.Match[str], today: date, rel: str = "rel", y4: str = "y") -> int | None:
    """The year a match names (今年 / 明年 / 2027年), or None when it names none."""
    if m.groupdict().get(y4):
        return _int(m.group(y4))
    r = m.groupdict().get(rel)
    if r:
        return today.year + (1 if r == "明" else 0)
    return None


def _quarter_end(y: int, q: int) -> date:
    return _month_end(y, 3 * q)


def _week_last_workday(monday: date, today: date, cal: _Calendar) -> date:
    """The last working day of the week starting `monday` that is not before today."""
    for i in range(6, -1, -1):
        d = monday + timedelta(days=i)
        if d < today:
            break
        if cal.is_workday(d):
            return d
    return monday + timedelta(days=6)


@dataclass
class _Cand:
    start: int
    end: int
    due: date
    # For durations: compute the due date from another starting day ("自6月1日起30天内").
    from_base: Callable[[date], date] | None = None
    period: bool = False


Resolver = Callable[[re.Match[str], str, date, _Calendar], "date | tuple[date, Callable[[date], date]] | None"]
#: Tells from a rule's match whether it names a period without a day (see DeadlineMatch.period).
PeriodTest = Callable[[re.Match[str]], bool]
_RULES: list[tuple[re.Pattern[str], Resolver, PeriodTest]] = []


def _rule(pattern: str, flags: int = 0, period: PeriodTest = lambda m: False) -> Callable[[Resolver], Resolver]:
    def register(fn: Resolver) -> Resolver:
        _RULES.append((re.compile(pattern, flags), fn, period))
        return fn

    return register


@_rule(_ABSOLUTE_CN)
def _absolute_cn(m, text, today, cal):
    month, day = _int(m.group("m")), _int(m.group("d"))
    if m.group("y"):
        return _valid(_int(m.group("y")), month, day)
    if not m.group("s"):
        return None  # "6月3" alone is too weak without a year
    return _next_yearly(today, lambda y: _valid(y, month, day))


@_rule(_ABSOLUTE_ISO)
def _absolute_iso(m, text, today, cal):
    return _valid(int(m.group("y")), int(m.group("m")), int(m.group("d")))


@_rule(_MONTH_DAY_NUMERIC)
def _month_day_numeric(m, text, today, cal):
    month, day = int(m.group("m")), int(m.group("d"))
    return _next_yearly(today, lambda y: _valid(y, month, day))


@_rule(_DAY_OF_MONTH)
def _day_of_month(m, text, today, cal):
    return _next_month_day(today, _int(m.group("d")))


@_rule(_DURATION)
def _duration(m, text, today, cal):
    raw, unit, suffix = m.group("n"), m.group("unit").lstrip("个"), m.group("suf")
    if raw == "半":
        if unit not in ("月", "年") or not suffix:
            return None
        fn = (lambda b: b + timedelta(days=15)) if unit == "月" else (lambda b: _add_months(b, 6))
        return fn(today), fn
    n = _int(raw)
    if unit == "工作日":
        def fn(b: date) -> date:
            return cal.add_workdays(b, n)
    elif not suffix:
        return None  # "会期3天": a length, not a deadline
    elif unit in ("天", "日", "自然日"):
        def fn(b: date) -> date:
            return b + timedelta(days=n)
    elif unit in ("周", "星期", "礼拜"):
        def fn(b: date) -> date:
            return b + timedelta(weeks=n)
    elif unit == "月":
        def fn(b: date) -> date:
            return _add_months(b, n)
    elif unit == "年":
        if n > 50:
            return None  # "2026年" is caught by the lookbehind; a big N here is no duration
        def fn(b: date) -> date:
            return _add_months(b, 12 * n)
    else:  # 小时
        def fn(b: date) -> date:
            return b + timedelta(days=n // 24)
    return fn(today), fn


@_rule(_RELATIVE_DAY)
def _relative_day(m, text, today, cal):
    word = m.group(0)
    offset = {"大": 3, "后": 2, "明": 1}.get(word[0], 0)
    return today + timedelta(days=offset)


@_rule(_WEEK, period=lambda m: not m.group("dow"))
def _week(m, text, today, cal):
    pre, dow = m.group("pre"), m.group("dow")
    weeks = {None: 0, "本": 0, "这": 0, "这个": 0}.get(pre, 2 if pre and pre.startswith("下下") else 1)
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)
    if dow:
        d = monday + timedelta(days=_DOW.index(dow) if dow != "天" else 6)
        if pre is None and d < today:
            d += timedelta(weeks=1)  # 周三 said on a Thursday: next week's
        return d
    if m.group("end"):
        if _BEFORE_CUE.match(text, m.end()):
            return _week_last_workday(monday, today, cal)  # 本周末前: before the weekend
        return monday + timedelta(days=6)  # 本周末: over the weekend, by Sunday
    if pre is None:
        return None  # 周 / 星期 alone: 周报, 周期, 星期 …
    return _week_last_workday(monday, today, cal)


@_rule(_MONTH_PERIOD, period=lambda m: True)
def _month_period(m, text, today, cal):
    month = _int(m.group("m"))
    if not 1 <= month <= 12:
        return None
    period = m.group("p")

    def make(y: int) -> date:
        end = _month_end(y, month)
        return {"上旬": date(y, month, 10), "中旬": date(y, month, 20), "中": date(y, month, 15)}.get(period, end)

    year = _year_of(m, today)
    return make(year) if year is not None else _next_yearly(today, make)


@_rule(_RELATIVE_MONTH, period=lambda m: not m.group("d"))
def _relative_month(m, text, today, cal):
    which = m.group("which")
    ahead = 2 if which.startswith("下下") else 1 if which.startswith("下") else 0
    if m.group("d"):
        return _next_month_day(today, _int(m.group("d")), ahead) if ahead else _valid(
            today.year, today.month, _int(m.group("d"))
        )
    first = _add_months(today.replace(day=1), ahead)
    p = m.group("p")
    if p == "上旬":
        return first.replace(day=10)
    if p == "中旬":
        return first.replace(day=20)
    if p == "中":
        return first.replace(day=15)
    return _month_end(first.year, first.month)


@_rule(_MONTH_END_BARE, period=lambda m: True)
def _month_end_bare(m, text, today, cal):
    return _month_end(today.year, today.month)


@_rule(_NAMED_QUARTER, period=lambda m: True)
def _named_quarter(m, text, today, cal):
    q = int(m.group("q1")) if m.group("q1") else _int(m.group("q2"))
    year = _year_of(m, today)
    if year is not None:
        return _quarter_end(year, q)
    return _next_yearly(today, lambda y: _quarter_end(y, q))


@_rule(_RELATIVE_QUARTER, period=lambda m: True)
def _relative_quarter(m, text, today, cal):
    pre = m.group("pre") or ""
    ahead = 2 if pre.startswith("下下") else 1 if pre.startswith("下") else 0
    q0 = (today.month - 1) // 3 + ahead
    return _quarter_end(today.year + q0 // 4, q0 % 4 + 1)


@_rule(_YEAR_END, period=lambda m: True)
def _year_end(m, text, today, cal):
    year = _year_of(m, today)
    return date(year if year is not None else today.year, 12, 31)


@_rule(_HALF_YEAR, period=lambda m: True)
def _half_year(m, text, today, cal):
    month = 6 if m.group("h") == "上" else 12
    year = _year_of(m, today)
    if year is not None:
        return _month_end(year, month)
    return _next_yearly(today, lambda y: _month_end(y, month))


def _all_candidates(norm: str, today: date, cal: _Calendar) -> list[_Cand]:
    found: list[_Cand] = []
    for rx, resolve, period in _RULES:
        for m in rx.finditer(norm):
            result = resolve(m, norm, today, cal)
            if result is None:
                continue
            if isinstance(result, tuple):
                found.append(_Cand(m.start(), m.end(), result[0], result[1]))
            else:
                found.append(_Cand(m.start(), m.end(), result, period=period(m)))
    # Earliest start first; at one start the longest phrase.
    found.sort(key=lambda c: (c.start, c.start - c.end))
    chosen: list[_Cand] = []
    for c in found:
        if not chosen or c.start >= chosen[-1].end:
            chosen.append(c)
    # Merge "6月1日起 + 30天内" into one phrase counted from June 1.
    merged: list[_Cand] = []
    for c in chosen:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and c.from_base is not None
            and prev.from_base is None
            and _ANCHOR_GAP.match(norm[prev.end:c.start])
        ):
            merged[-1] = _Cand(prev.start, c.end, c.from_base(prev.due))
        else:
            merged.append(c)
    return merged


def _is_cued(norm: str, c: _Cand) -> bool:
    phrase = norm[c.start:c.end].rstrip()
    if phrase.endswith(("内", "前")):
        return True
    if _CUE_AFTER.match(norm, c.end):
        return True
    return bool(_CUE_BEFORE.search(norm[max(0, c.start - 16):c.start]))


def find_deadlines(text: str, today: date, calendar: object = None) -> list[DeadlineMatch]:
    """Return every deadline phrase in `text` with its date, in reading order."""
    if not text:
        return []
    norm = _normalise(text)
    cal = _calendar(calendar)
    return [
        DeadlineMatch(text[c.start:c.end], c.start, c.end, c.due, _is_cued(norm, c), c.period)
        for c in _all_candidates(norm, today, cal)
    ]


def find_deadline(text: str, today: date, calendar: object = None) -> DeadlineMatch | None:
    """Return the phrase that reads as the deadline: the first cued one, else the first."""
    matches = find_deadlines(text, today, calendar)
    for match in matches:
        if match.cued:
            return match
    return matches[0] if matches else None


def parse_deadline(text: str, today: date, calendar: object = None) -> date | None:
    """Return the date the deadline phrase in `text` means, counted from `today`, or None."""
    match = find_deadline(text, today, calendar)
    return match.due if match else None


# --------------------------------------------------------------------------------------
# Both at once
# --------------------------------------------------------------------------------------


@dataclass
class Clarity:
    """The verdict on one decision or action text."""

    text: str
    findings: list[Finding] = field(default_factory=list)
    parsed_due: date | None = None
    deadline: DeadlineMatch | None = None

    @property
    def is_vague(self) -> bool:
        """Tell whether any vague term was found."""
        return bool(self.findings)

    @property
    def due_label(self) -> str:
        """Return the parsed date as 2026年6月3日（周三）, or "" when there is none."""
        return describe_deadline(self.parsed_due) if self.parsed_due else ""

    def highlighted_segments(self) -> list[tuple[str, Finding | None]]:
        """Split the text into (segment, finding-or-None) pieces covering it in order.

        A template escapes each segment and wraps the ones with a finding in a <mark>, so
        no HTML is ever built from user text here.
        """
        segments: list[tuple[str, Finding | None]] = []
        pos = 0
        for f in self.findings:
            if f.start > pos:
                segments.append((self.text[pos:f.start], None))
            segments.append((self.text[f.start:f.end], f))
            pos = f.end
        if pos < len(self.text):
            segments.append((self.text[pos:], None))
        return segments


def check_item(text: str, today: date, calendar: object = None) -> Clarity:
    """Find the vague terms in `text` and parse its deadline."""
    text = text or ""
    deadline = find_deadline(text, today, calendar)
    return Clarity(
        text=text,
        findings=find_vague(text, today),
        parsed_due=deadline.due if deadline else None,
        deadline=deadline,
    )
