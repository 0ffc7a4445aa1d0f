"""Turn posted form fields into the typed values the meetings service takes."""

from flask_babel import gettext

from minutes.core import dates
from minutes.core.clarity import example_deadline
from minutes.core.timefmt import local_today
from minutes.dbtypes import parse_id
from minutes.meetings.service import MeetingInput


def meeting_input(form) -> tuple[MeetingInput, dict]:
    """Read the meeting form; return the input and any parse errors by field."""
    errors = {}
    times = {}
    for name, label in (("starts_at", gettext("开始时间")), ("ends_at", gettext("结束时间"))):
        try:
            times[name] = dates.parse_local_datetime(form.get(name))
        except ValueError:
            times[name] = None
            errors[name] = gettext("%(label)s格式不正确，例如 %(example)s 14:00", label=label,
                                   example=example_deadline(local_today()).isoformat())
    dept = form.get("organizer_department_id", "")
    data = MeetingInput(
        topic=form.get("topic", ""),
        goal=form.get("goal", ""),
        expected_outcome=form.get("expected_outcome", ""),
        scenario=form.get("scenario", ""),
        starts_at=times["starts_at"],
        ends_at=times["ends_at"],
        location=form.get("location", ""),
        online_link=form.get("online_link", ""),
        organizer_department_id=parse_id(dept),
        confidential=form.get("confidential") in ("1", "on", "true"),
    )
    return data, errors
