"""The one date parser: what forms, query strings, the API and stored JSON give, read the same everywhere."""
from datetime import UTC, date, datetime

import pytest

from minutes.core import dates
from minutes.core.timefmt import LOCAL_TZ


@pytest.mark.parametrize("text, day", [("2026-06-30", date(2026, 6, 30)), (" 2026-6-3 ", date(2026, 6, 3)),
                                       (date(2026, 1, 2), date(2026, 1, 2)),
                                       (datetime(2026, 1, 2, 9, 0), date(2026, 1, 2))])
def test_a_day_is_read_as_people_type_it(text, day):
    assert dates.parse_day(text) == day


@pytest.mark.parametrize("text", ["", None, "2026/06/30", "20260630", "2026-W26-1", "2026-02-30", "2026-13-01",
                                  "6月30日", "2026-06-30T10:00", "２０２６-06-30"])
def test_what_is_not_a_day_is_refused(text):
    with pytest.raises(ValueError):
        dates.parse_day(text)


def test_years_outside_the_range_are_a_typing_slip():
    assert dates.parse_day_in_years("2100-12-31") == date(2100, 12, 31)
    for text in ("1999-12-31", "2101-01-01"):
        with pytest.raises(ValueError):
            dates.parse_day_in_years(text)


def test_a_datetime_local_field_is_company_time_stored_as_utc():
    assert dates.parse_local_datetime("2026-06-15T14:00") == datetime(2026, 6, 15, 6, 0, tzinfo=UTC)
    assert dates.parse_local_datetime("2026-06-15 14:00:30") == datetime(2026, 6, 15, 6, 0, 30, tzinfo=UTC)
    assert dates.parse_local_datetime("  ") is None
    for text in ("2026-06-15", "2026-06-15T25:00", "2026-06-15T14", "明天下午"):
        with pytest.raises(ValueError):
            dates.parse_local_datetime(text)


def test_a_date_and_a_time_field_make_a_local_moment():
    assert dates.local_datetime("2026-06-15", "9:30") == datetime(2026, 6, 15, 9, 30, tzinfo=LOCAL_TZ)
    with pytest.raises(ValueError):
        dates.local_datetime("2026-06-15", "")


def test_iso_moments_without_an_offset_are_company_time():
    assert dates.parse_iso_datetime("2026-06-15T14:00:00Z") == datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
    assert dates.parse_iso_datetime("2026-06-15T14:00") == datetime(2026, 6, 15, 14, 0, tzinfo=LOCAL_TZ)
    with pytest.raises(ValueError):
        dates.parse_iso_datetime("下午两点")


def test_no_module_parses_dates_by_hand():
    """Everything goes through minutes.core.dates (Chinese deadlines in words through core.clarity)."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "minutes"
    by_hand = re.compile(r"\b(strptime|fromisoformat)\(")
    found = [f"{path.relative_to(root)}:{n}" for path in root.rglob("*.py") if "migrations" not in path.parts
             and path.name != "dates.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if by_hand.search(line)]
    assert found == []
