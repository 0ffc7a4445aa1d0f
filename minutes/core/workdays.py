"""PRC working-day calendar: statutory holidays, adjusted working weekends (调休), overrides.

The schedule comes from the `holidays` package (country "CN"), which encodes each State
Council notice as "substituted" special holidays: a weekday made a day off in exchange for
a weekend day made a working day (the package's `weekend_workdays`). Years the package has
no notice for fall back to the statutory days plus its in-lieu rule, without any 调休
weekends; `is_provisional()` tells callers when that is the case.

Everything per year is computed once and cached, so `is_workday` is a dict lookup or two.
The functions are pure: no Flask, no database.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

import holidays

__all__ = [
    "WorkCalendar",
    "add_workdays",
    "holiday_name",
    "is_provisional",
    "is_workday",
    "next_workday_on_or_after",
    "workdays_between",
]

_COUNTRY = "CN"
_LANGUAGE = "zh_CN"
_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=None)
def _package_year(year: int) -> tuple[dict[date, str], frozenset[date]]:
    """Return the package's days off (with Chinese names) and 调休 working weekends for `year`."""
    language = _LANGUAGE if _LANGUAGE in holidays.CN.supported_languages else None
    # Neighbouring years too: an in-lieu day can spill over New Year, and a notice for one
    # year can move a working day into the previous December.
    cn = holidays.country_holidays(
        _COUNTRY, years=range(year - 1, year + 2), language=language
    )
    off = {d: name for d, name in cn.items() if d.year == year}
    work = frozenset(d for d in cn.weekend_workdays if d.year == year)
    return off, work


@lru_cache(maxsize=None)
def _flags(year: int) -> dict[date, bool]:
    """Return every date of `year` mapped to whether it is a working day, before overrides."""
    off, work = _package_year(year)
    flags: dict[date, bool] = {}
    d = date(year, 1, 1)
    while d.year == year:
        if d in off:
            flags[d] = False
        elif d in work:
            flags[d] = True
        else:
            flags[d] = d.weekday() < 5
        d += _ONE_DAY
    return flags


@lru_cache(maxsize=None)
def _ranks(year: int) -> tuple[dict[date, int], int]:
    """Return, for each date of `year`, the working days from Jan 1 through it, and the total."""
    flags = _flags(year)
    ranks = dict(zip(flags, accumulate(flags.values())))
    return ranks, ranks[date(year, 12, 31)]


def _not_a_date(d: object) -> TypeError:
    """Build the error for a key missing from a year table (only a datetime gets here)."""
    # datetime is a date subclass but never equal to one, so it would silently miss every
    # override and table key; refuse it instead of guessing which local day was meant.
    return TypeError(f"expected a datetime.date, got {type(d).__name__}: {d!r}")


def _base_is_workday(d: date) -> bool:
    """Tell whether `d` is a working day by the official schedule alone."""
    try:
        return _flags(d.year)[d]
    except KeyError:
        raise _not_a_date(d) from None


def _base_rank(d: date) -> int:
    """Return the working days from Jan 1 of `d`'s year through `d`, by the official schedule."""
    try:
        return _ranks(d.year)[0][d]
    except KeyError:
        raise _not_a_date(d) from None


def _base_count(start: date, end: date) -> int:
    """Count official working days in (start, end]; `start` <= `end`."""
    if start.year == end.year:
        return _base_rank(end) - _base_rank(start)
    count = _ranks(start.year)[1] - _base_rank(start)
    for year in range(start.year + 1, end.year):
        count += _ranks(year)[1]
    return count + _base_rank(end)


@lru_cache(maxsize=1)
def _known_span() -> tuple[int, int] | None:
    """Return the first and last years for which the package carries a State Council notice."""
    # Each notice is stored as substituted special holidays (month, day, from_month,
    # from_day[, from_year]), keyed by year; plain special holidays have only 3 fields.
    # Statutory days alone are always generated, so they cannot tell a known year apart.
    special = getattr(holidays.country_holidays(_COUNTRY), "special_public_holidays", None) or {}
    years = [
        year
        for year, entries in special.items()
        if any(
            isinstance(entry, tuple) and len(entry) >= 4
            for entry in (entries if entries and isinstance(entries[0], tuple) else (entries,))
        )
    ]
    return (min(years), max(years)) if years else None


def is_provisional(year: int) -> bool:
    """Tell whether working days in `year` are a guess because no official schedule is known."""
    span = _known_span()
    return span is None or not span[0] <= year <= span[1]


def holiday_name(d: date) -> str | None:
    """Return the package's Chinese name of the day off on `d`, or None."""
    return _package_year(d.year)[0].get(d)


class WorkCalendar:
    """Working-day arithmetic under a fixed set of company overrides (date -> is working day)."""

    __slots__ = ("_overrides", "_corrections")

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        """Bind a snapshot of `overrides`; later changes to the mapping are not seen."""
        # A snapshot keeps the lazily built correction index consistent with the lookups.
        self._overrides: dict[date, bool] = dict(overrides) if overrides else {}
        self._corrections: tuple[list[date], list[int]] | None = None

    @property
    def overrides(self) -> Mapping[date, bool]:
        """Return the overrides this calendar applies."""
        return dict(self._overrides)

    def is_workday(self, d: date) -> bool:
        """Tell whether `d` is a working day: override, else holiday, else 调休, else weekday."""
        if self._overrides:
            forced = self._overrides.get(d)
            if forced is not None:
                return bool(forced)
        return _base_is_workday(d)

    def add_workdays(self, d: date, n: int) -> date:
        """Return the date `n` working days after `d` (before it if `n` < 0), not counting `d`."""
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_workday(d):
                remaining -= 1
        return d

    def next_workday_on_or_after(self, d: date) -> date:
        """Return `d` if it is a working day, else the first working day after it."""
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def workdays_between(self, start: date, end: date) -> int:
        """Count working days from `start` to `end`, excluding `start` and including `end`.

        Negative when `end` < `start` (then the days counted are [end, start)), so that
        `add_workdays(d, k) == e` implies `workdays_between(d, e) == k` for every k.
        """
        if end >= start:
            return self._count(start, end)
        # [end, start) is (end, start] with the two endpoints swapped in and out.
        return -(
            self._count(end, start) + self.is_workday(end) - self.is_workday(start)
        )

    def holiday_name(self, d: date) -> str | None:
        """Return the package's Chinese name of the day off on `d`, or None."""
        return holiday_name(d)

    def is_provisional(self, year: int) -> bool:
        """Tell whether working days in `year` are a guess because no official schedule is known."""
        return is_provisional(year)

    def _count(self, start: date, end: date) -> int:
        """Count working days in (start, end] with overrides applied; `start` <= `end`."""
        count = _base_count(start, end)
        if not self._overrides:
            return count
        dates, prefix = self._correction_index()
        return count + prefix[bisect_right(dates, end)] - prefix[bisect_right(dates, start)]

    def _correction_index(self) -> tuple[list[date], list[int]]:
        """Return override dates that change the official answer, sorted, with prefix deltas."""
        if self._corrections is None:
            deltas = sorted(
                (d, int(bool(v)) - int(_base_is_workday(d)))
                for d, v in self._overrides.items()
                if v is not None and bool(v) != _base_is_workday(d)
            )
            dates = [d for d, _ in deltas]
            prefix = [0, *accumulate(delta for _, delta in deltas)]
            self._corrections = (dates, prefix)
        return self._corrections


_DEFAULT = WorkCalendar()


def _calendar(overrides: Mapping[date, bool] | None) -> WorkCalendar:
    """Return the shared calendar when there are no overrides, else one bound to them."""
    return WorkCalendar(overrides) if overrides else _DEFAULT


def is_workday(d: date, overrides: Mapping[date, bool] | None = None) -> bool:
    """Tell whether `d` is a working day: override, else holiday, else 调休, else weekday."""
    if overrides:
        forced = overrides.get(d)
        if forced is not None:
            return bool(forced)
    return _base_is_workday(d)


def add_workdays(d: date, n: int, overrides: Mapping[date, bool] | None = None) -> date:
    """Return the date `n` working days after `d` (before it if `n` < 0), not counting `d`."""
    return _calendar(overrides).add_workdays(d, n)


def workdays_between(
    start: date, end: date, overrides: Mapping[date, bool] | None = None
) -> int:
    """Count working days from `start` to `end`, excluding `start`, including `end`; signed."""
    return _calendar(overrides).workdays_between(start, end)


def next_workday_on_or_after(d: date, overrides: Mapping[date, bool] | None = None) -> date:
    """Return `d` if it is a working day, else the first working day after it."""
    return _calendar(overrides).next_workday_on_or_after(d)
