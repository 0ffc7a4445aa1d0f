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

Vague wording: choices
----------------------
Flagged (category in brackets; see `CATEGORY_LABELS`):

* [time] 尽快 尽早 尽速 从速 及早 抓紧 近期 近日 适时 择机 择日 早日 及时 随后 稍后 马上
  不久 一段时间 有空 找时间 改天 回头(再…) (留)待日后 下一步 逐步 后续 适当时候/时机
  合适的时候/时机, a few days (几天 这几天 过几天 数日 几个工作日 几周 数月), and in Latin
  script ASAP, a.s.a.p., "as soon as possible", soon.
* [pending] 待定 再议 另议 待研究 待商议 再研究 再商议 另行通知 另行安排 TBD TBC TBA.
* [commitment] 原则上 原则同意 争取 力争 尽量 尽可能 视情况 看情况 酌情 适当.
* [approx] 大概 大约 大致 左右, the ten-day periods 上旬 中旬 下旬 and 月初 月中 年初, and
  ranges of time ("3-5个工作日", "两三天", "十几天").
* [owner] 相关/有关 + 部门/人员/同事/责任人/单位/方面: the process wants a named department
  and person.

Latin terms are case-insensitive and must stand as a word: "TBD" and "请ASAP处理" are
flagged, "TBDX" and "asap2" are not.

Not flagged, because the term is part of a word that is not vague:

* 及时率 / 及时性 / 及时交付率 / 及时响应率 (a metric), 不及时 (describes a failure),
  及时雨.
* 大概率 (a probability), 大概念.
* 左右 unless it follows a quantity or a time ("月底左右", "10天左右", "50万左右", "3点左右"
  are flagged); 左右两侧, 前后左右, 上下左右, 左右为难 and the verb (能左右结果) are not.
* 后续 when it names a concrete version ("后续版本号V2.1", "后续版本 V3"): the version is the
  commitment. "在后续版本中修复" without a number is flagged.
* 下一步骤 (a step of a procedure) — 下一步 alone ("下一步再研究") is flagged.
* 有空格 / 有空白 / 有空缺 / 有空位 / 有空间 / 有空调 / 有空运 and 没有空 (states a fact).
* 适当性 (as in 投资者适当性管理, a compliance term) and 不适当 (inappropriate).
* 不久前 (a past event, narrative rather than a commitment).
* 早日 inside 提早日期; 近日 inside 最近日程; 日后 only as "(留)待日后…" or "日后再/补/另…",
  never in "3个工作日后" or "节日后".
* 几天 / 数日 right after 前 (前几天: a past event).

When two terms overlap the longest wins (适当的时候 over 适当, 十几天 over 几天); findings are
sorted by start and never overlap.

Deadline parsing: choices
-------------------------
All relative phrases count from `today` (the day the item is written, usually the meeting
day). A weekday week runs Monday to Sunday.

* Absolute dates: 2026年6月30日 / 2026年6月30号 / 2026年6月30 / 二〇二六年六月三十日 /
  2026-06-30 / 2026/6/30 / 2026.06.30 return that date, even if it is past. Without a year
  (6月30日, 6月30号, 六月三十日, 6/30, 06-30) the next occurrence on or after today:
  with today 2026-12-20, "1月5日" is 2027-01-05. A weekday written after a date
  ("6月3日（周三）") belongs to the date. "1-2周" or "3/4个工作日" are not dates: a
  month/day with a hyphen or slash followed by a unit is left alone. A bare fraction such
  as "1/2" reads as January 2: the price of accepting "6/30".
* A day of the month alone (30号前, 十五日之前, 30号完成) only when a cue follows (前 之前
  以前 截止 完成), so "3号会议室" and "1号文件" are not dates: the next such day on or after
  today. 本月N号 / 这个月N日 are this month's; 下月N日 / 下个月N号 next month's.
* N个工作日(内) — with or without 内 — is `add_workdays(today, N)`. N天内 / N日内 /
  N个自然日内 add calendar days; N周内 / N个星期内 / N个礼拜内 add 7N days; N个月内 adds
  months (clamped to the month's end); 半个月内 is 15 days; N年内 / 半年内 add years or six
  months; N小时内 adds whole days (24小时内 = tomorrow, 2小时内 = today). These need 内 / 以内
  / 之内 or 后 / 之后 / 以后 (N天后) except 工作日, because "会期3天" or "第3周" is no deadline.
  A span counted backwards is no deadline from today either: "提前2个工作日发送",
  "会议召开2个工作日前". A range of digits ("3-5个工作日内", "1至2周内") reads its upper
  bound, and is flagged as vague.
  Chinese numerals work (三个工作日内, 两周内, 十天内, 十五天内, 二十个工作日); approximate
  ones (两三天, 十几天) are not parsed, they are flagged. After an explicit starting date,
  "自6月1日起30天内" counts from that date.
* 今天 / 今日 / 今晚 / 当天 / 当日 = today; 明天 / 明日 / 明早 / 明晚 = +1; 后天 = +2;
  大后天 = +3.
* 周X / 星期X / 礼拜X (X in 一二三四五六日天) alone: this week's X if it is today or later,
  else next week's. 本周X / 这周X / 这个星期X: this week's X even if already past (the text
  said so; the caller can warn). 下周X / 下个星期X / 下礼拜X: next week's; 下下周X: the week
  after. 上周X is never a deadline.
* 本周内 / 本周 / 这周内 (and 下周内, 下下周内): the last working day of that week by the
  calendar — normally Friday, Saturday when it is a 调休 working day, Thursday when Friday is
  a holiday. If no working day of the week remains on or after today (all days off), the
  week's Sunday.
* 本周末 / 这周末 / 周末 / 下周末: read as a manager means it. "本周末前(完成)" is "before
  the weekend": the last working day of the week, as 本周内. "本周末(完成)" with no 前 is
  "over the weekend": that week's Sunday.
* 月底 / 月末 / 本月底 / 本月内 / 本月 / 这个月底 = the last calendar day of today's month
  (not moved to a working day: the date is what was said). 下月底 / 下个月底 / 下个月 /
  下月内 = the last day of next month. N月底 / N月末 / N月份内 / N月内 = the last day of
  month N (next occurrence). 月初 / 下月初 are not parsed (flagged as vague).
* Ten-day periods mean "by the end of the period": N月上旬 = the 10th, N月中旬 = the 20th
  (中旬 is the 11th to the 20th, so the 15th would cut it short), N月下旬 = the month's last
  day; N月中 (mid-month) = the 15th. All four are also flagged as vague, since the process
  wants a specific date, and the parsed date is offered as the fix.
* 季度末 / 本季度末 / 本季度内 / 本季度 / 季末 = the last day of the current quarter; 下季度末
  / 下个季度 = of the next one. Q1..Q4 (with or without 末 / 底 / 内 / 结束前), 一季度末,
  第三季度末, 3季度: the end of that quarter, this year, or next year if it has passed
  (2026年Q3 / 明年一季度 name the year). "Q3前" is read as "by Q3's end", like the rest.
* 年底 / 年末 / 年内 / 本年底 / 今年年底 / 本年度内 = Dec 31 of this year; 明年底 = of next
  year; 2027年底 = of 2027. 上半年 = Jun 30 and 下半年 = Dec 31, this year or next year if
  passed (今年上半年 / 明年上半年 / 2027年上半年 name the year).
* Holidays by name (春节前, 国庆前, 节前) are not parsed.

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

WEEKDAYS = "一二三四五六日"

CATEGORY_LABELS: dict[str, str] = {
    "time": "时间不明确",
    "pending": "结论未定",
    "commitment": "承诺不明确",
    "approx": "数量或时间含糊",
    "owner": "责任人不明确",
}

# Full-width forms people type with a Chinese IME, mapped one character to one character so
# that offsets found in the normalised text are offsets in the original.
_NORMALISE = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "／": "/",
        "－": "-",
        "．": ".",
        "：": ":",
        "～": "~",
        "\u3000": " ",
    }
)


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


# Example dates in the fixes ({ymd}, {md}) are filled from `today` (see `example_deadline`), so a hint
# never offers a date already past; without `today` the fix names no date.
_S_DEADLINE = '改为具体时限，如"3个工作日内"或"{ymd}前"'
_S_PENDING = "写明由谁在何日前确定"
_S_PRINCIPLE = '删去"原则上"，写明例外条件'
_S_STRIVE = "写明承诺完成的日期"
_S_EFFORT = '写明必须达到的结果和完成日期，如"{md}前完成全部模板上线"'
_S_CONDITION = '写明触发条件和对应做法，如"投诉量超过每周50件时，由客服部启动加班"'
_S_DEGREE = '写明具体标准或数值，如"预算上调10%"'
_S_NOTIFY = '写明由谁在何日前通知，如"行政部于{md}前通知各部门"'
_S_FOLLOWUP = "写明具体事项、负责人和完成日期"
_S_STEPS = "拆分为具体步骤，每步写明负责人和完成日期"
_S_APPROX = '写明确切数值或上限，如"不超过5个工作日"'
_S_PERIOD = '写明具体日期，如"{md}前"'
_S_OWNER = '写明具体部门和负责人，如"法务部李经理"'
_S_RANGE = '写明一个确定的时限，如"3个工作日内"'

_CJK = "\u4e00-\u9fff"
_CN_DIGIT_CHARS = "零〇一二两三四五六七八九十百千万亿"

# (regex, category, suggestion); the regex may carry lookarounds that rule out compounds.
_TERMS: list[tuple[str, str, str]] = [
    # ---- time
    (r"尽快|尽早|尽速|从速|及早|抓紧", "time", _S_DEADLINE),
    (r"近期|(?<!最)近日(?!程)", "time", _S_DEADLINE),
    (r"适时|择机|择日", "time", _S_DEADLINE),
    (r"(?<![提趁较更最])早日(?![期程报])", "time", _S_DEADLINE),
    (rf"(?<!不)及时(?![率性雨])(?![{_CJK}]{{1,2}}率)", "time", _S_DEADLINE),
    (r"随后|稍后|马上", "time", _S_DEADLINE),
    (r"不久(?!前|之前)", "time", _S_DEADLINE),
    (r"一段时间", "time", _S_DEADLINE),
    (r"(?<!没)有空(?![格白缺位间调闲置中运])|找时间|改天", "time", _S_DEADLINE),
    (r"回头(?=再|补|另|商|讨论|研究|处理|确定|定)", "time", _S_DEADLINE),
    (r"(?:留待|等待|待|等)日后|日后(?=再|补|另|处理|讨论|研究|跟进|完善|决定|确定|视)", "time", _S_DEADLINE),
    (r"(?:适当|合适)的?(?:时候|时机)", "time", _S_DEADLINE),
    (r"(?<!前)(?:这|过|近)?几个?(?:工作日|天|日|周|星期|个月)", "time", _S_DEADLINE),
    (r"(?<![前天人次总页字条户件])(?:过)?数(?:日|周|月|个月)", "time", _S_DEADLINE),
    (r"下一步(?!骤)", "time", _S_STEPS),
    (r"逐步", "time", _S_STEPS),
    (r"后续(?!\s*版本号?\s*[:：]?\s*[Vv]?\s*\d)", "time", _S_FOLLOWUP),
    (r"(?i)(?<![A-Za-z0-9_])(?:as\s+soon\s+as\s+possible|a\.s\.a\.p\.?|asap|soon)(?![A-Za-z0-9_])", "time", _S_DEADLINE),
    # ---- pending
    (r"待定|再议|另议|待研究|待商议|再研究|再商议", "pending", _S_PENDING),
    (r"另行通知|另行安排", "pending", _S_NOTIFY),
    (r"(?i)(?<![A-Za-z0-9_])(?:tbd|tbc|tba)(?![A-Za-z0-9_])", "pending", _S_PENDING),
    # ---- commitment
    (r"原则上|原则同意", "commitment", _S_PRINCIPLE),
    (r"争取|力争", "commitment", _S_STRIVE),
    (r"尽量|尽可能", "commitment", _S_EFFORT),
    (r"视情况|看情况|酌情", "commitment", _S_CONDITION),
    (r"(?<!不)适当(?!性)", "commitment", _S_DEGREE),
    # ---- approx
    (r"大概(?![率念])|大约|大致", "approx", _S_APPROX),
    (rf"(?<=[\d{_CN_DIGIT_CHARS}半%％底末初旬号日天周月年点时分秒钟期个人元块倍度次份页名])左右", "approx", _S_APPROX),
    (r"上旬|中旬|下旬|月中(?![旬心])|月初|年初", "approx", _S_PERIOD),
    (r"(?:一两|两三|三四|三五|四五|五六|六七|七八|八九|十来|十几|二十来|几十)个?(?:工作日|自然日|天|日|周|星期|礼拜|月|小时)", "approx", _S_RANGE),
    # ---- owner
    (r"(?:相关|有关)(?:部门|人员|同事|责任人|单位|方面)", "owner", _S_OWNER),
]

_TERM_RES = [(re.compile(p), cat, sug) for p, cat, sug in _TERMS]

# "3-5个工作日", "2~3周", "1至2天": a range of time, flagged with its upper bound as the fix.
_RANGE_RE = re.compile(
    r"(?<![\d.月])(\d{1,3})\s*[-~～—–至到]\s*(\d{1,3})\s*(个)?\s*(工作日|自然日|天|日|周|星期|礼拜|月|小时)"
)


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


# Chinese numbers, written strictly so that "两三天" is not read as "三天".
_CN_VALUES = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = (
    r"(?:[一二两三四五六七八九]百(?:零[一二三四五六七八九]|[一二三四五六七八九]十[一二三四五六七八九]?)?"
    r"|[二三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九])"
)
_CN_MONTH = r"(?:十[一二]?|[一二三四五六七八九])"
_CN_DAY = r"(?:三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
_CN_YEAR = r"[〇零一二三四五六七八九]{4}"
_NUM_LB = r"(?<![\d零〇一二两三四五六七八九十百千第几数.])"
_NUM = rf"(?:\d{{1,3}}|{_CN_NUM})"
_MONTH = rf"(?:\d{{1,2}}|{_CN_MONTH})"
_DAY = rf"(?:\d{{1,2}}|{_CN_DAY})"
_YEAR = rf"(?:\d{{4}}|{_CN_YEAR})"
_DOW = "一二三四五六日天"


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


# A time of day or closing bracket between a date and its cue: "6月30日下午5点前", "周五18:00前".
_TIME_SKIP = (
    rf"(?:\s|[)）\]】」』]|上午|下午|中午|晚上|早上|傍晚|凌晨|下班|"
    rf"(?:\d{{1,2}}|{_CN_NUM})\s*(?::\s*\d{{2}}|点(?:半|钟|\d{{1,2}}分?|{_CN_NUM}分?)?|时(?:\d{{1,2}}分)?))*"
)
_CUE_AFTER = re.compile(
    _TIME_SKIP + r"(?:前|之前|以前|内|以内|之内|截止|为止|完成|交付|提交|上线|办结|落地|反馈)"
)
_CUE_BEFORE = re.compile(
    r"(?:截止|截至|不晚于|最晚|最迟|期限|时限|deadline|due)(?:日期|时间)?\s*(?:为|是|到|至|于|在|on|by)?\s*[:：]?\s*$",
    re.I,
)
_BEFORE_CUE = re.compile(_TIME_SKIP + r"(?:前|之前|以前)")


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


_WD_NOTE = r"(?:\s*[（(]?\s*(?:周|星期|礼拜)[一二三四五六日天]\s*[)）]?)?"


@_rule(
    rf"(?<![\d零〇一二三四五六七八九十])(?:(?P<y>{_YEAR})\s*年\s*)?(?P<m>{_MONTH})\s*月\s*(?P<d>{_DAY})"
    rf"\s*(?:(?P<s>日|号)|(?![\d个天周日号]))" + _WD_NOTE
)
def _absolute_cn(m, text, today, cal):
    month, day = _int(m.group("m")), _int(m.group("d"))
    if m.group("y"):
        return _valid(_int(m.group("y")), month, day)
    if not m.group("s"):
        return None  # "6月3" alone is too weak without a year
    return _next_yearly(today, lambda y: _valid(y, month, day))


@_rule(r"(?<![\d.\-/])(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})(?![\d])" + _WD_NOTE)
def _absolute_iso(m, text, today, cal):
    return _valid(int(m.group("y")), int(m.group("m")), int(m.group("d")))


@_rule(
    r"(?<![\d.\-/:])(?P<m>\d{1,2})[/-](?P<d>\d{1,2})(?![\d/\-:.])"
    r"(?!\s*(?:个|天|日|周|星期|小时|分钟|工作|自然|月|年|人|万|千|元|%|倍|次|分|点|号|名|页|期|件|项|条|台|套))"
    + _WD_NOTE
)
def _month_day_numeric(m, text, today, cal):
    month, day = int(m.group("m")), int(m.group("d"))
    return _next_yearly(today, lambda y: _valid(y, month, day))


@_rule(
    rf"(?<![\d月.\-/第个号{_CN_DIGIT_CHARS}])(?P<d>{_DAY})\s*(?:日|号)"
    rf"(?={_TIME_SKIP}(?:前|之前|以前|截止|完成))"
)
def _day_of_month(m, text, today, cal):
    return _next_month_day(today, _int(m.group("d")))


@_rule(
    rf"(?<!提前)(?<!提早){_NUM_LB}(?P<n>{_NUM}|半)\s*"
    r"(?P<unit>个?工作日|个?自然日|天|日|周|个?星期|个?礼拜|个月|个?小时|年)"
    r"(?P<suf>以内|之内|内|之后|以后|后)?(?!前|之前|以前)"
)
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


_REL_DAY_LB = r"(?<![说证表声透查阐注标申写指讲言载列简光文发聪英分鲜高澄开失照阳黎昌神精])"


@_rule(
    rf"大后天|(?<![然最之先落以往随背向])后天|{_REL_DAY_LB}明(?:天|日|早|晚)"
    r"|今(?:天|日|晚)|(?<![相担充])当(?:天|日)"
)
def _relative_day(m, text, today, cal):
    word = m.group(0)
    offset = {"大": 3, "后": 2, "明": 1}.get(word[0], 0)
    return today + timedelta(days=offset)


@_rule(
    rf"(?<![上个\d零〇一二两三四五六七八九十百几第])"
    r"(?P<pre>下下个?|下个?|本|这个?)?(?:周|星期|礼拜)"
    rf"(?:(?P<dow>[{_DOW}])|(?P<end>末)|(?P<within>以内|之内|内))?",
    period=lambda m: not m.group("dow"),
)
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


@_rule(
    rf"(?<![\d零〇一二三四五六七八九十])(?:(?:(?P<rel>今|本|明|这)年|(?P<y>{_YEAR})\s*年)\s*)?"
    rf"(?P<m>{_MONTH})\s*月份?(?P<p>底|末|以内|之内|内|上旬|中旬|下旬|中(?![旬心]))",
    period=lambda m: True,
)
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


@_rule(
    rf"(?<![基根资成版账样剧脚文课日])(?P<which>下下个?|下个?|本|这个?|当)月份?"
    rf"(?:(?P<p>底|末|以内|之内|内|上旬|中旬|下旬|中(?![旬心]))|(?P<d>{_DAY})\s*(?:日|号))?(?![初\d])",
    period=lambda m: not m.group("d"),
)
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


@_rule(r"(?<![\d个一二三四五六七八九十上下本这当])月(?:底|末)", period=lambda m: True)
def _month_end_bare(m, text, today, cal):
    return _month_end(today.year, today.month)


@_rule(
    rf"(?:(?:(?P<rel>今|本|明|这)年|(?P<y>{_YEAR})\s*年)\s*)?"
    r"(?:(?<![A-Za-z0-9])[Qq](?P<q1>[1-4])(?![\d])|第?(?P<q2>[一二三四1-4])季度)"
    r"(?:末|底|以内|之内|内|结束前)?",
    period=lambda m: True,
)
def _named_quarter(m, text, today, cal):
    q = int(m.group("q1")) if m.group("q1") else _int(m.group("q2"))
    year = _year_of(m, today)
    if year is not None:
        return _quarter_end(year, q)
    return _next_yearly(today, lambda y: _quarter_end(y, q))


@_rule(r"(?P<pre>下下个?|下个?|本|这个?|当前|当)季度(?:末|底|以内|之内|内)?|(?<![一二三四\d第])季度(?:末|底)|季末",
       period=lambda m: True)
def _relative_quarter(m, text, today, cal):
    pre = m.group("pre") or ""
    ahead = 2 if pre.startswith("下下") else 1 if pre.startswith("下") else 0
    q0 = (today.month - 1) // 3 + ahead
    return _quarter_end(today.year + q0 // 4, q0 % 4 + 1)


@_rule(
    rf"(?:(?P<rel>今|本|明|这|当)年度?|(?P<y>{_YEAR})\s*年度?)(?:年底|年末|年内|底|末|以内|之内|内)"
    r"|(?<![去前年])年(?:底|末)|(?<![\d一二三四五六七八九十半个])年内",
    period=lambda m: True,
)
def _year_end(m, text, today, cal):
    year = _year_of(m, today)
    return date(year if year is not None else today.year, 12, 31)


@_rule(
    rf"(?:(?P<rel>今|本|明|这)年|(?P<y>{_YEAR})\s*年)?(?P<h>上|下)半年(?:末|底|以内|之内|内)?",
    period=lambda m: True,
)
def _half_year(m, text, today, cal):
    month = 6 if m.group("h") == "上" else 12
    year = _year_of(m, today)
    if year is not None:
        return _month_end(year, month)
    return _next_yearly(today, lambda y: _month_end(y, month))


# "自6月1日起30天内": a duration counted from the date just before it.
_ANCHOR_GAP = re.compile(r"\s*(?:起|开始|起算|算起|之后|以后|后)\s*[,，]?\s*$")


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
