"""Sending the agenda: the deadline (2 working days before the meeting), the e-mails to everyone invited
(a late one with its recorded reason) and what became of them."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from flask_babel import gettext

from minutes.admin.service import work_calendar
from minutes.core.errors import PermissionDenied, RuleViolation
from minutes.core.timefmt import cn_date, to_local, utcnow
from minutes.extensions import db
from minutes.meetings import mail
from minutes.meetings.models import Meeting, MeetingStatus
from minutes.meetings.service import (AGENDA_LEAD_WORKDAYS, _require_edit, _require_planning, agenda_budget, can_edit,
                                      earliest_compliant_date, roles_problems)
from minutes.notify import service as notify
from minutes.people.models import User


# --- sending the agenda ----------------------------------------------------------------------

def agenda_send_deadline(meeting: Meeting, calendar=None) -> date:
    """The last day the agenda can go out on time: 2 working days before the meeting date."""
    calendar = calendar or work_calendar()
    return calendar.add_workdays(to_local(meeting.starts_at).date(), -AGENDA_LEAD_WORKDAYS)


def send_agenda(actor: User, meeting: Meeting, reason: str | None = None, now: datetime | None = None) -> Meeting:
    """Email the agenda to everyone invited; inside 2 working days it needs a recorded reason."""
    _require_edit(actor, meeting)
    _require_planning(meeting)
    now = now or utcnow()
    if meeting.starts_at <= now:
        raise RuleViolation(gettext("会议已开始或已结束，不能再发送议程"))
    problems = roles_problems(meeting)
    if not meeting.agenda_items:
        problems.append(gettext("议程中还没有议题"))
    if problems:
        raise RuleViolation(gettext("发送前请完善：%(problems)s", problems="；".join(problems)))
    calendar = work_calendar()
    today = to_local(now).date()
    deadline = agenda_send_deadline(meeting, calendar)
    reason = (reason or "").strip()
    late = today > deadline
    if late and not reason:
        earliest = earliest_compliant_date(today, calendar)
        message = (gettext("议程须至少提前%(lead_days)s个工作日发出（本次会议最晚应于%(deadline)s发出）。今天发出，会议最早可安排在%(earliest)s；如确需今天发出，请填写原因，原因将记录在会议上。",
                           lead_days=AGENDA_LEAD_WORKDAYS, deadline=cn_date(deadline), earliest=cn_date(earliest)))
        raise RuleViolation(message, fields={"reason": message, "earliest_meeting_date": earliest.isoformat(),
                                             "send_deadline": deadline.isoformat()})
    meeting.agenda_sent_at = now
    meeting.agenda_sent_by = actor
    meeting.agenda_late_reason = reason if late else None
    if meeting.status == MeetingStatus.DRAFT:
        meeting.status = MeetingStatus.AGENDA_SENT
    stamp = now.strftime("%Y%m%d%H%M%S")
    base_url = current_app.config["BASE_URL"].rstrip("/")
    for participant in meeting.participants:
        user = participant.user
        if not user.email:
            continue
        subject, text, html = mail.agenda_email(meeting, user, participant.role, f"{base_url}/meetings/{meeting.id}",
                                                agenda_budget(meeting), late, reason)
        notify.enqueue_email(
            user.email,
            subject,
            text,
            html,
            dedupe_key=_agenda_key(meeting, user, stamp),
            confidential=meeting.confidential,
        )
    db.session.flush()
    return meeting


def _agenda_key(meeting: Meeting, user: User, stamp: str) -> str:
    return f"agenda:{meeting.id}:{user.id}:{stamp}"


def agenda_delivery(actor: User, meeting: Meeting) -> notify.DeliveryReport | None:
    """What became of the last agenda sent, per invited person (for those who may send it); None before any.

    Also after the meeting (when its planning can no longer change): reading what was sent changes nothing."""
    if not can_edit(actor, meeting):
        raise PermissionDenied(gettext("只有发起人、主持人或记录人可以查看议程的发送情况"))
    if meeting.agenda_sent_at is None:
        return None
    stamp = meeting.agenda_sent_at.strftime("%Y%m%d%H%M%S")
    people = sorted((p.user for p in meeting.participants), key=lambda u: u.id)
    return notify.delivery_report({_agenda_key(meeting, user, stamp): user for user in people})


def agenda_timing(meeting: Meeting, now: datetime | None = None) -> dict:
    """Tell whether sending now is on time, and the deadline, for the send form."""
    calendar = work_calendar()
    today = to_local(now or utcnow()).date()
    deadline = agenda_send_deadline(meeting, calendar)
    return {"deadline": deadline, "late": today > deadline,
            "provisional": calendar.is_provisional(to_local(meeting.starts_at).year)}
