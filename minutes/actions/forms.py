"""Read the tracker's query string and the action forms into plain values for the services."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext

from minutes.actions.service import SORTS, STATUS_FILTERS, ActionFilters
from minutes.core import dates
from minutes.dbtypes import parse_id


def tracker_filters(args) -> tuple[ActionFilters, dict]:
    """Filters from the query string; what cannot be read is ignored and reported beside its field."""
    errors: dict[str, str] = {}
    filters = ActionFilters(
        department_id=parse_id(args.get("department")), owner_id=parse_id(args.get("owner")),
        meeting_id=parse_id(args.get("meeting")), q=(args.get("q") or "").strip()[:100],
        sort=args.get("sort") if args.get("sort") in SORTS else "due", descending=args.get("desc") == "1",
        page=parse_id(args.get("page")) or 1)
    status = (args.get("status") or "").strip()
    if status and status not in STATUS_FILTERS:
        errors["status"] = gettext("未知的状态")
    else:
        filters.status = status
    for name in ("due_from", "due_to"):
        raw = (args.get(name) or "").strip()
        try:
            setattr(filters, name, dates.parse_day_in_years(raw) if raw else None)
        except ValueError:
            errors[name] = gettext("日期格式不正确")
    if filters.due_from and filters.due_to and filters.due_from > filters.due_to:
        errors["due_to"] = gettext("结束日期早于开始日期")
    return filters, errors


def status_input(form) -> dict:
    """The status form's fields as update_status keyword arguments."""
    return {"status": form.get("status", ""), "note": form.get("note", ""), "new_due": form.get("new_due") or None,
            "support_department_id": form.get("support_department_id") or None,
            "version": form.get("version") or None}


def local_datetime(day: str, time_of_day: str) -> tuple[datetime | None, str | None]:
    """Combine a date and a time field into an aware local datetime, or say what is wrong."""
    if not dates.is_day(day):
        return None, gettext("请选择日期")
    try:
        return dates.local_datetime(day, time_of_day), None
    except ValueError:
        return None, gettext("请填写开始时间，例如 10:00")
