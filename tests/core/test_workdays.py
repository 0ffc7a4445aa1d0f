"""Working-day rules checked against the State Council holiday notices for 2025 and 2026."""
from datetime import date, datetime, timedelta

import pytest

from minutes.core import workdays
from minutes.core.workdays import (
    WorkCalendar,
    add_workdays,
    holiday_name,
    is_provisional,
    is_workday,
    next_workday_on_or_after,
    workdays_between,
)


def _days(first: date, last: date) -> list[date]:
    """Return every date from `first` through `last`."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _count_day_by_day(start: date, end: date, overrides=None) -> int:
    """Count working days in (start, end] the slow way, as the reference."""
    return sum(is_workday(d, overrides) for d in _days(start + timedelta(days=1), end))


# 国办发明电〔2024〕12号 (2025) and 国办发明电〔2025〕7号 (2026): days off (放假调休).
OFFICIAL_DAYS_OFF = {
    "2025 元旦": _days(date(2025, 1, 1), date(2025, 1, 1)),
    "2025 春节": _days(date(2025, 1, 28), date(2025, 2, 4)),
    "2025 清明节": _days(date(2025, 4, 4), date(2025, 4, 6)),
    "2025 劳动节": _days(date(2025, 5, 1), date(2025, 5, 5)),
    "2025 端午节": _days(date(2025, 5, 31), date(2025, 6, 2)),
    "2025 国庆节中秋节": _days(date(2025, 10, 1), date(2025, 10, 8)),
    "2026 元旦": _days(date(2026, 1, 1), date(2026, 1, 3)),
    "2026 春节": _days(date(2026, 2, 15), date(2026, 2, 23)),
    "2026 清明节": _days(date(2026, 4, 4), date(2026, 4, 6)),
    "2026 劳动节": _days(date(2026, 5, 1), date(2026, 5, 5)),
    "2026 端午节": _days(date(2026, 6, 19), date(2026, 6, 21)),
    "2026 中秋节": _days(date(2026, 9, 25), date(2026, 9, 27)),
    "2026 国庆节": _days(date(2026, 10, 1), date(2026, 10, 7)),
}

# The same notices: weekend days that are working days (上班).
OFFICIAL_WORKING_WEEKENDS = [
    date(2025, 1, 26),  # Sun, 春节
    date(2025, 2, 8),  # Sat, 春节
    date(2025, 4, 27),  # Sun, 劳动节
    date(2025, 9, 28),  # Sun, 国庆节
    date(2025, 10, 11),  # Sat, 国庆节
    date(2026, 1, 4),  # Sun, 元旦
    date(2026, 2, 14),  # Sat, 春节
    date(2026, 2, 28),  # Sat, 春节
    date(2026, 5, 9),  # Sat, 劳动节
    date(2026, 9, 20),  # Sun, 国庆节
    date(2026, 10, 10),  # Sat, 国庆节
]


@pytest.mark.parametrize("period", OFFICIAL_DAYS_OFF, ids=str)
def test_every_day_of_an_official_holiday_period_is_off(period: str) -> None:
    """Check each day the State Council gave off, weekdays included, is not a working day."""
    working = [d for d in OFFICIAL_DAYS_OFF[period] if is_workday(d)]
    assert working == []


@pytest.mark.parametrize("d", OFFICIAL_WORKING_WEEKENDS, ids=str)
def test_adjusted_weekend_is_a_working_day(d: date) -> None:
    """Check a 调休 Saturday or Sunday counts as a working day."""
    assert d.weekday() >= 5
    assert is_workday(d)


def test_2025_and_2026_have_no_other_exceptions_to_the_weekday_rule() -> None:
    """Check that outside the notices, Mon-Fri work and Sat-Sun rest, for two whole years."""
    off = {d for days in OFFICIAL_DAYS_OFF.values() for d in days}
    working_weekends = set(OFFICIAL_WORKING_WEEKENDS)
    for d in _days(date(2025, 1, 1), date(2026, 12, 31)):
        expected = d not in off and (d.weekday() < 5 or d in working_weekends)
        assert is_workday(d) is expected, d


def test_ordinary_weekend_is_off_and_ordinary_weekday_is_on() -> None:
    """Check the fallback rule on a week with no holiday."""
    assert not is_workday(date(2025, 3, 8))  # Sat
    assert not is_workday(date(2025, 3, 9))  # Sun
    assert all(is_workday(d) for d in _days(date(2025, 3, 10), date(2025, 3, 14)))


def test_one_workday_after_new_years_eve_2025_is_the_adjusted_sunday() -> None:
    """Check the year boundary: Jan 1-3 2026 are off and Sun Jan 4 2026 is a working day."""
    assert add_workdays(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert add_workdays(date(2025, 12, 31), 2) == date(2026, 1, 5)
    assert workdays_between(date(2025, 12, 31), date(2026, 1, 4)) == 1


def test_adding_workdays_skips_the_whole_golden_week() -> None:
    """Check that counting forward jumps over National Day and lands on the 调休 Saturday."""
    assert add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_workdays(date(2025, 9, 30), 3) == date(2025, 10, 11)


def test_adding_workdays_counts_the_adjusted_sunday_before_the_holiday() -> None:
    """Check that Fri Sep 26 2025 + 1 working day is Sun Sep 28, not Mon Sep 29."""
    assert add_workdays(date(2025, 9, 26), 1) == date(2025, 9, 28)


def test_negative_workdays_go_back_across_a_holiday() -> None:
    """Check that counting backward passes the adjusted Saturday and the whole golden week."""
    # Oct 13 (Mon) <- Oct 11 (Sat, 调休) <- Oct 10 <- Oct 9 <- [Oct 1-8 off] <- Sep 30.
    assert add_workdays(date(2025, 10, 13), -1) == date(2025, 10, 11)
    assert add_workdays(date(2025, 10, 13), -4) == date(2025, 9, 30)
    assert add_workdays(date(2025, 2, 5), -1) == date(2025, 1, 27)


@pytest.mark.parametrize("d", [date(2025, 10, 1), date(2025, 3, 8), date(2025, 3, 10)], ids=str)
def test_adding_zero_workdays_returns_the_date_unchanged(d: date) -> None:
    """Check n == 0 is the identity, even on a day off."""
    assert add_workdays(d, 0) == d


def test_next_workday_on_or_after_keeps_a_workday_and_skips_days_off() -> None:
    """Check the first working day on or after a date, including a 调休 Saturday."""
    assert next_workday_on_or_after(date(2025, 9, 30)) == date(2025, 9, 30)
    assert next_workday_on_or_after(date(2025, 10, 1)) == date(2025, 10, 9)
    assert next_workday_on_or_after(date(2025, 10, 11)) == date(2025, 10, 11)
    assert next_workday_on_or_after(date(2026, 2, 15)) == date(2026, 2, 24)


def test_override_can_make_a_holiday_a_workday_and_a_workday_a_holiday() -> None:
    """Check overrides win over both the statutory schedule and the weekday rule."""
    overrides = {date(2025, 10, 3): True, date(2025, 9, 30): False, date(2025, 3, 8): True}
    assert is_workday(date(2025, 10, 3), overrides)
    assert not is_workday(date(2025, 9, 30), overrides)
    assert is_workday(date(2025, 3, 8), overrides)
    assert not is_workday(date(2025, 10, 3))  # the official schedule is left alone


def test_overrides_shift_add_workdays_and_workdays_between() -> None:
    """Check arithmetic honours overrides in both directions."""
    company_day_off = {date(2025, 9, 30): False}
    assert add_workdays(date(2025, 9, 29), 1, company_day_off) == date(2025, 10, 9)
    assert workdays_between(date(2025, 9, 29), date(2025, 10, 9), company_day_off) == 1
    company_workday = {date(2025, 10, 3): True}
    assert add_workdays(date(2025, 9, 30), 1, company_workday) == date(2025, 10, 3)
    assert workdays_between(date(2025, 9, 30), date(2025, 10, 9), company_workday) == 2
    assert next_workday_on_or_after(date(2025, 10, 1), company_workday) == date(2025, 10, 3)


def test_work_calendar_binds_its_overrides_and_leaves_the_default_alone() -> None:
    """Check WorkCalendar applies its own overrides, as a snapshot, and nowhere else."""
    overrides = {date(2025, 10, 3): True}
    calendar = WorkCalendar(overrides)
    overrides[date(2025, 10, 3)] = False  # a later change must not leak in
    assert calendar.is_workday(date(2025, 10, 3))
    assert calendar.add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 3)
    assert calendar.workdays_between(date(2025, 9, 30), date(2025, 10, 9)) == 2
    assert WorkCalendar().add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 9)


def test_workdays_between_matches_a_day_by_day_count_across_years() -> None:
    """Check the cached prefix counts against brute force, with and without overrides."""
    overrides = {date(2025, 10, 3): True, date(2026, 3, 2): False, date(2024, 12, 28): True}
    calendar = WorkCalendar(overrides)
    starts = [date(2024, 12, 1), date(2025, 1, 1), date(2025, 9, 28), date(2025, 12, 31)]
    ends = [date(2024, 12, 31), date(2025, 10, 8), date(2026, 1, 4), date(2026, 12, 31)]
    for start in starts:
        for end in ends:
            if end < start:
                continue
            assert workdays_between(start, end) == _count_day_by_day(start, end), (start, end)
            assert calendar.workdays_between(start, end) == _count_day_by_day(
                start, end, overrides
            ), (start, end)


def test_workdays_between_is_zero_for_the_same_day_and_negative_backwards() -> None:
    """Check the sign convention: nothing between a day and itself, negative going back."""
    assert workdays_between(date(2025, 10, 1), date(2025, 10, 1)) == 0
    assert workdays_between(date(2025, 10, 9), date(2025, 9, 30)) == -1
    # Going back from a Saturday to the Friday is one working day back, like add_workdays.
    assert workdays_between(date(2025, 3, 8), date(2025, 3, 7)) == -1
    assert workdays_between(date(2025, 3, 7), date(2025, 3, 8)) == 0


@pytest.mark.parametrize("overrides", [None, {date(2025, 10, 3): True, date(2025, 6, 3): False}])
def test_add_workdays_and_workdays_between_are_inverse_over_a_year(overrides) -> None:
    """Check add_workdays(d, k) == e implies workdays_between(d, e) == k for every day of 2025."""
    calendar = WorkCalendar(overrides)
    for d in _days(date(2025, 1, 1), date(2025, 12, 31)):
        for k in (-12, -5, -1, 0, 1, 2, 5, 12):
            e = calendar.add_workdays(d, k)
            assert calendar.workdays_between(d, e) == k, (d, k, e)
            assert workdays_between(d, e, overrides) == k, (d, k, e)


def test_year_with_a_published_schedule_is_not_provisional() -> None:
    """Check years the package has State Council notices for are final."""
    assert not is_provisional(2025)
    assert not is_provisional(2026)


def test_far_future_year_is_provisional() -> None:
    """Check a year with no published notice is flagged as a guess."""
    assert is_provisional(2031)
    assert WorkCalendar().is_provisional(2031)


def test_provisional_year_still_keeps_statutory_holidays() -> None:
    """Check that without a notice the calendar still rests on the statutory days."""
    assert is_provisional(2031)
    assert not is_workday(date(2031, 10, 1))  # Wed, National Day
    assert not is_workday(date(2031, 5, 1))  # Thu, Labour Day
    assert is_workday(date(2031, 3, 3))  # an ordinary Monday


def test_holiday_name_is_chinese_and_none_on_working_days() -> None:
    """Check the names come from the package in Simplified Chinese."""
    assert holiday_name(date(2025, 10, 1)) == "国庆节"
    assert holiday_name(date(2025, 1, 29)) == "春节"
    assert holiday_name(date(2025, 10, 6)) == "中秋节"
    assert holiday_name(date(2025, 3, 10)) is None
    assert holiday_name(date(2025, 9, 28)) is None  # 调休 working Sunday


def test_datetime_is_refused_rather_than_silently_missed() -> None:
    """Check a datetime raises instead of matching no table entry and no override."""
    with pytest.raises(TypeError):
        is_workday(datetime(2025, 10, 1, 9, 0))
    with pytest.raises(TypeError):
        workdays.workdays_between(date(2025, 1, 1), datetime(2025, 10, 1, 9, 0))
