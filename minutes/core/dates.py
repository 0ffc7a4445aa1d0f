"""Reading the dates and times people and programs give us: one parser for the whole app.

Forms, query strings, the API and stored JSON all say a day as 2026-06-30 (month and day may have one digit,
as people type them: 2026-6-30); a time of day as 14:00; a moment as ISO 8601. Each reader raises
ValueError when it cannot read the value; the caller words the message beside its own field. Chinese
deadlines in words (下周五, 3个工作日内) are `minutes.core.clarity`'s job.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from minutes.core.timefmt import LOCAL_TZ, local_to_utc

_DAY = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
#: Years a date field takes: anything else is a typing slip (20266-01-01, 0026-…), never a real plan.
YEARS = range(2000, 2101)


def parse_day(value) -> date:
    """2026-06-30 or 2026-6-30 (spaces around are ignored) → date; a date passes through."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = _DAY.fullmatch(str(value or "").strip())
    if not m:
        raise ValueError(f"not a day: {value!r}")
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def is_day(value) -> bool:
    """Whether `value` is written as a day (2026-06-30), whatever the day."""
    return bool(_DAY.fullmatch(str(value or "").strip()))


def parse_day_in_years(value) -> date:
    """parse_day, refusing a year outside YEARS (ValueError)."""
    day = parse_day(value)
    if day.year not in YEARS:
        raise ValueError(f"year out of range: {day.year}")
    return day


def parse_local_datetime(value) -> datetime | None:
    """<input type=datetime-local> (2026-06-15T14:00, seconds optional, or a space for the T), company-local →
    an aware UTC datetime; empty → None."""
    text = str(value or "").strip()
    if not text:
        return None
    day, sep, time_of_day = text.replace(" ", "T", 1).partition("T")
    if not sep:
        raise ValueError(f"not a date and time: {value!r}")
    hour, minute, second = _time(time_of_day)
    parsed = parse_day(day)
    return local_to_utc(datetime(parsed.year, parsed.month, parsed.day, hour, minute, second))


def local_datetime(day, time_of_day) -> datetime:
    """A date field and a time field (14:00) → an aware company-local datetime."""
    parsed = parse_day(day)
    hour, minute, second = _time(time_of_day)
    return datetime(parsed.year, parsed.month, parsed.day, hour, minute, second, tzinfo=LOCAL_TZ)


def parse_iso_datetime(value) -> datetime:
    """ISO 8601 (2026-06-15T14:00:00+08:00, Z for UTC) → an aware datetime; without an offset it is company-local."""
    moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TZ)


def _time(text) -> tuple[int, int, int]:
    m = _TIME.fullmatch(str(text or "").strip())
    if not m:
        raise ValueError(f"not a time of day: {text!r}")
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"not a time of day: {text!r}")
    return hour, minute, second
