"""Company calendar overrides and the working-day calendar every rule uses."""
from datetime import date

from sqlalchemy import select

from minutes.admin.models import CalendarOverride
from minutes.core import workdays
from minutes.core.errors import NotFound, ValidationFailed
from minutes.extensions import db
from minutes.people.service import require_admin


def work_calendar() -> "workdays.WorkCalendar":
    """The statutory calendar overlaid with the company's overrides from the database."""
    overrides = {day: flag for day, flag in db.session.execute(select(CalendarOverride.day, CalendarOverride.is_workday))}
    return workdays.WorkCalendar(overrides)


def list_overrides() -> list[CalendarOverride]:
    """All overrides, newest day first."""
    return list(db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day.desc())))


def set_override(actor, day: date | None, is_workday: bool, note: str) -> CalendarOverride:
    """Declare a day a working day or a day off for the company (replaces an earlier entry)."""
    require_admin(actor)
    if day is None:
        raise ValidationFailed("请选择日期", field="day")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("请说明原因，例如“公司年会放假”", field="note")
    override = db.session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
    if override is None:
        override = CalendarOverride(day=day, created_by=actor)
        db.session.add(override)
    override.is_workday, override.note = is_workday, note[:200]
    db.session.flush()
    return override


def delete_override(actor, override_id: int) -> None:
    """Remove a company override; the statutory calendar applies again."""
    require_admin(actor)
    override = db.session.get(CalendarOverride, override_id)
    if override is None:
        raise NotFound("该日历例外不存在")
    db.session.delete(override)
    db.session.flush()
