"""The company calendar: the working-day calendar every rule uses, and the overrides an administrator sets."""
from calendar import Calendar
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext
from sqlalchemy import select

from minutes.calendar.models import CalendarOverride
from minutes.core import workdays
from minutes.core.errors import NotFound, ValidationFailed
from minutes.core.timefmt import cn_date
from minutes.extensions import db
from minutes.people.service import require_admin

#: Overrides are accepted for this range of years: the statutory tables cover it, and a typo like 20226 is caught.
OVERRIDE_YEARS = range(2000, 2100)


def work_calendar() -> "workdays.WorkCalendar":
    """The statutory calendar overlaid with the company's overrides from the database."""
    overrides = {day: flag for day, flag in db.session.execute(select(CalendarOverride.day, CalendarOverride.is_workday))}
    return workdays.WorkCalendar(overrides)


def list_overrides() -> list[CalendarOverride]:
    """All overrides, newest day first."""
    return list(db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day.desc())))


def _statutory_label(day: date) -> str:
    """Say what the statutory schedule makes of `day`: 工作日 / 休息日 / 国庆节 / 调休上班."""
    if workdays.is_workday(day):
        return gettext("调休上班日") if day.weekday() >= 5 else gettext("工作日")
    return workdays.holiday_name(day) or gettext("休息日")


def set_override(actor, day: date | None, is_workday: bool, note: str, errors: dict | None = None) -> CalendarOverride:
    """Declare a day a working day or a day off for the company (replaces an earlier entry).

    `errors` carries problems the caller found while parsing (a malformed date); all are reported together.
    """
    require_admin(actor)
    errors = dict(errors or {})
    note = (note or "").strip()
    if day is None:
        errors.setdefault("day", gettext("请选择日期"))
    elif day.year not in OVERRIDE_YEARS:
        errors["day"] = gettext("日期超出范围（%(start)s–%(stop)s年）", start=OVERRIDE_YEARS.start, stop=OVERRIDE_YEARS.stop - 1)
    elif workdays.is_workday(day) == is_workday:
        kind = gettext("工作日") if is_workday else gettext("休息日")
        errors["day"] = (gettext("%(day)s按法定安排已是%(kind)s（%(statutory_label)s），无需设置；如要恢复法定安排，请删除该日的例外",
                                 day=cn_date(day), kind=kind, statutory_label=_statutory_label(day)))
    if not note:
        errors["note"] = gettext("请说明原因，例如“公司年会放假”")
    elif len(note) > 200:
        errors["note"] = gettext("说明不超过200个字")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    override = db.session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
    if override is None:
        override = CalendarOverride(day=day, created_by=actor)
        db.session.add(override)
    override.is_workday, override.note = is_workday, note
    db.session.flush()
    return override


def delete_override(actor, override_id: int) -> None:
    """Remove a company override; the statutory calendar applies again."""
    require_admin(actor)
    override = db.session.get(CalendarOverride, override_id)
    if override is None:
        raise NotFound(gettext("该日历例外不存在"))
    db.session.delete(override)
    db.session.flush()


# --- what the calendar says, for the admin's calendar page --------------------------------------

@dataclass(frozen=True)
class CalendarDay:
    """One day as the admin's calendar shows it."""

    day: date
    is_workday: bool
    #: workday, weekend, holiday (statutory day off), adjusted (调休 working weekend),
    #: company_off or company_work (a company override)
    kind: str
    label: str = ""  #: holiday name or override note


def describe_day(day: date, calendar: "workdays.WorkCalendar") -> CalendarDay:
    """Classify a day under the company calendar."""
    forced = calendar.overrides.get(day)
    if forced is not None:
        return CalendarDay(day, bool(forced), "company_work" if forced else "company_off", "")
    works = calendar.is_workday(day)
    if not works:
        name = calendar.holiday_name(day)
        return CalendarDay(day, False, "holiday" if name else "weekend", name or "")
    if day.weekday() >= 5:
        return CalendarDay(day, True, "adjusted", gettext("调休上班"))
    return CalendarDay(day, True, "workday")


def year_status(years) -> list[dict]:
    """For each year: is the State Council schedule (with 调休) known, or are working days provisional?"""
    return [{"year": y, "provisional": workdays.is_provisional(y)} for y in years]


def month_grids(first: date, months: int = 3) -> list[dict]:
    """Month views from `first`'s month on: weeks of CalendarDay (None outside the month), Monday first."""
    calendar = work_calendar()
    notes = {o.day: o.note for o in db.session.scalars(select(CalendarOverride))}
    grids = []
    year, month = first.year, first.month
    for _ in range(months):
        weeks = []
        for week in Calendar(firstweekday=0).monthdatescalendar(year, month):
            row = []
            for d in week:
                if d.month != month:
                    row.append(None)
                    continue
                info = describe_day(d, calendar)
                if d in notes:
                    info = CalendarDay(info.day, info.is_workday, info.kind, notes[d])
                row.append(info)
            weeks.append(row)
        grids.append({"year": year, "month": month, "weeks": weeks, "provisional": workdays.is_provisional(year)})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return grids


def upcoming_special_days(today: date, days: int = 60) -> list[dict]:
    """Breaks (holidays and company days off, with the weekends they join) and extra working days ahead.

    Each entry: start, end, kind ("off" or "work"), label, length in days. Ordinary weekends are left out.
    """
    calendar = work_calendar()
    notes = {o.day: o.note for o in db.session.scalars(
        select(CalendarOverride).where(CalendarOverride.day >= today - timedelta(days=10),
                                       CalendarOverride.day <= today + timedelta(days=days + 10)))}
    end = today + timedelta(days=days)
    # Start a little earlier so a break that began before today is shown whole.
    day = today - timedelta(days=10)
    entries, run = [], []

    def close_run():
        special = [info for info in run if info.kind in ("holiday", "company_off")]
        if special and run[-1].day >= today:
            labels = []
            for info in special:
                if info.kind == "company_off":
                    text = notes.get(info.day) or gettext("公司休息")
                else:
                    text = _holiday_label(info.label)
                if text and text not in labels:
                    labels.append(text)
            entries.append({"start": run[0].day, "end": run[-1].day, "kind": "off",
                            "label": "、".join(labels) or gettext("调休休息"),
                            "length": len(run), "company": any(i.kind == "company_off" for i in run),
                            "provisional": workdays.is_provisional(run[-1].day.year)})
        run.clear()

    while day <= end:
        info = describe_day(day, calendar)
        if not info.is_workday:
            run.append(info)
        else:
            if run:
                close_run()
            if info.kind in ("adjusted", "company_work") and day >= today:
                entries.append({"start": day, "end": day, "kind": "work", "length": 1,
                                "label": notes.get(day) or gettext("调休上班"), "company": info.kind == "company_work",
                                "provisional": workdays.is_provisional(day.year)})
        day += timedelta(days=1)
    if run:
        close_run()
    return entries


def _holiday_label(name: str) -> str:
    """Shorten the package's names: 国庆节（补假） → 国庆节; a bare 调休 rest day adds nothing to the break's name."""
    if not name or name.startswith("休息日"):
        return ""
    return name.split("（", 1)[0]
