"""Sending the agenda: the deadline (2 working days before the meeting), the e-mails to everyone invited
(a late one with its recorded reason) and what became of them.

Each agenda e-mail carries a calendar invitation (iCalendar METHOD:REQUEST). Once it went out, a change of
time or place sends everyone invited an update (the next SEQUENCE), a cancellation a METHOD:CANCEL, and
a person whose invitation is withdrawn a cancellation of their own."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from flask_babel import gettext

from minutes.calendar.service import work_calendar
from minutes.chat import calendar_events, service as chat
from minutes.core.links import external_url
from minutes.core.errors import PermissionDenied, RuleViolation
from minutes.core import ical
from minutes.core.timefmt import cn_date, cn_datetime, cn_time, to_local, utcnow
from minutes.extensions import db
from minutes.meetings import mail
from minutes.meetings import service
from minutes.meetings.models import Meeting, MeetingStatus, Participant, Role
from minutes.meetings.service import (AGENDA_LEAD_WORKDAYS, MeetingInput, require_edit, require_planning,
                                      agenda_budget, can_edit, earliest_compliant_date, roles_problems)
from minutes.notify import service as notify
from minutes.people.models import User


# --- sending the agenda ----------------------------------------------------------------------

def agenda_send_deadline(meeting: Meeting, calendar=None) -> date:
    """The last day the agenda can go out on time: 2 working days before the meeting date."""
    calendar = calendar or work_calendar()
    return calendar.add_workdays(to_local(meeting.starts_at).date(), -AGENDA_LEAD_WORKDAYS)


def send_agenda(actor: User, meeting: Meeting, reason: str | None = None, now: datetime | None = None) -> Meeting:
    """Email the agenda to everyone invited; inside 2 working days it needs a recorded reason."""
    require_edit(actor, meeting)
    require_planning(meeting)
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
    if meeting.agenda_sent_at is not None:
        meeting.calendar_sequence += 1  # sent again: calendars take this one over the one they hold
    meeting.agenda_sent_at = now
    meeting.agenda_sent_by = actor
    meeting.agenda_late_reason = reason if late else None
    if meeting.status == MeetingStatus.DRAFT:
        meeting.status = MeetingStatus.AGENDA_SENT
    stamp = now.strftime("%Y%m%d%H%M%S")
    link = _link(meeting)
    invited = _invited(meeting)
    calendar = _invitation(meeting, "REQUEST", [(p.user, p.role) for p in invited], now)
    for participant in invited:
        user = participant.user
        subject, text, html = mail.agenda_email(meeting, user, participant.role, link, agenda_budget(meeting), late,
                                                reason)
        notify.enqueue_email(
            user.email,
            subject,
            text,
            html,
            dedupe_key=_agenda_key(meeting, user, stamp),
            confidential=meeting.confidential,
            calendar=calendar,
        )
    _agenda_cards(meeting, stamp)
    calendar_events.sync_meeting(meeting)
    db.session.flush()
    return meeting


def _agenda_cards(meeting: Meeting, stamp: str, heading: str | None = None, cancelled: bool = False) -> None:
    """Beside the e-mails: a 查看议程 card to each invitee with an identity on the company's chat platform, when it
    says something their last agenda card of this meeting did not (a resend without a change sends none); the
    cancellation only to those who had an agenda card."""
    people = [p for p in meeting.participants if p.user.is_enabled]
    subjects = chat.chat_subjects(p.user_id for p in people)
    if not subjects:
        return
    prefix = f"agenda-card:{meeting.id}:"
    last = chat.last_digests(prefix)
    host = meeting.host
    card = chat.agenda_card(meeting.topic, meeting.starts_at, meeting.ends_at, meeting.location, meeting.online_link,
                            host.label if host else "", [(item.title, item.minutes) for item in meeting.agenda_items],
                            _link(meeting), confidential=meeting.confidential, heading=heading, cancelled=cancelled)
    digest = chat.card_digest(card)
    for participant in people:
        user = participant.user
        subject = subjects.get(user.id)
        if subject and last.get(user.id) != digest and (user.id in last or not cancelled):
            chat.enqueue_card(user, subject, card, f"{prefix}{user.id}:{stamp}:{digest}",
                              confidential=meeting.confidential)


def _link(meeting: Meeting) -> str:
    return external_url("meetings.show", meeting_id=meeting.id)


def _invited(meeting: Meeting) -> list[Participant]:
    """Everyone invited who has an e-mail address: those who get the agenda and the calendar invitation."""
    return [p for p in meeting.participants if p.user.email]


def _invitation(meeting: Meeting, method: str, attendees: list[tuple[User, Role]], now: datetime) -> bytes:
    return mail.invitation(meeting, method, attendees, _link(meeting), ical.uid_host(current_app.config["BASE_URL"]),
                           current_app.config["SMTP_SENDER"], now)


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
    return notify.delivery_report({**{_agenda_key(meeting, user, stamp): user for user in people},
                                   **calendar_events.latest_delivery(meeting)})


def agenda_timing(meeting: Meeting, now: datetime | None = None) -> dict:
    """Tell whether sending now is on time, and the deadline, for the send form."""
    calendar = work_calendar()
    today = to_local(now or utcnow()).date()
    deadline = agenda_send_deadline(meeting, calendar)
    return {"deadline": deadline, "late": today > deadline,
            "provisional": calendar.is_provisional(to_local(meeting.starts_at).year)}


# --- after the agenda went out: changes, cancellation, withdrawn invitations ------------------

def _calendar_facts(meeting: Meeting) -> tuple:
    """What a calendar invitation holds that, changed, needs an update: the time and the place."""
    return meeting.starts_at, meeting.ends_at, meeting.location, meeting.online_link


def _changes(before: tuple, meeting: Meeting) -> list[tuple[str, str, str]]:
    """(what, before, after) for the notice e-mail."""
    starts, ends, location, online_link = before
    changes = []
    if (starts, ends) != (meeting.starts_at, meeting.ends_at):
        changes.append((gettext("会议时间"), f"{cn_datetime(starts)} – {cn_time(ends)}",
                        f"{cn_datetime(meeting.starts_at)} – {cn_time(meeting.ends_at)}"))
    if location != meeting.location:
        changes.append((gettext("会议地点"), location or "—", meeting.location or "—"))
    if online_link != meeting.online_link:
        changes.append((gettext("线上会议链接"), online_link or "—", meeting.online_link or "—"))
    return changes


def _send_notice(meeting: Meeting, kind: str, changes: list, attendees: list[tuple[User, Role]],
                 now: datetime) -> None:
    """Queue a notice with the meeting's current SEQUENCE to `attendees` (user, role), once per person and sequence:
    "change" (an updated REQUEST), "cancel" (CANCEL, the meeting is off) or "withdrawn" (CANCEL for one person)."""
    calendar = _invitation(meeting, "REQUEST" if kind == "change" else "CANCEL", attendees, now)
    link = _link(meeting)
    for user, _role in attendees:
        subject, text, html = mail.notice_email(meeting, user, kind, changes, link)
        notify.enqueue_email(user.email, subject, text, html,
                             dedupe_key=f"meeting-{kind}:{meeting.id}:{user.id}:{meeting.calendar_sequence}",
                             confidential=meeting.confidential, calendar=calendar)


def change_meeting(actor: User, meeting: Meeting, data: MeetingInput, version: int | None = None,
                   errors: dict | None = None, now: datetime | None = None) -> Meeting:
    """Change a meeting's basics (`service.update_meeting`); after the agenda went out, a new time or place
    sends everyone invited an update of their calendar invitation."""
    before = _calendar_facts(meeting)
    service.update_meeting(actor, meeting, data, version, errors)
    if meeting.agenda_sent_at is not None and _calendar_facts(meeting) != before:
        meeting.calendar_sequence += 1
        now = now or utcnow()
        _send_notice(meeting, "change", _changes(before, meeting), [(p.user, p.role) for p in _invited(meeting)], now)
        _agenda_cards(meeting, now.strftime("%Y%m%d%H%M%S"), heading=gettext("会议变更"))
        calendar_events.sync_meeting(meeting)
        db.session.flush()
    return meeting


def cancel_meeting(actor: User, meeting: Meeting, now: datetime | None = None) -> Meeting:
    """Cancel a meeting that has not started (`service.cancel_meeting`); after the agenda went out, everyone
    invited gets the cancellation, which takes the meeting out of their calendars."""
    service.cancel_meeting(actor, meeting)
    if meeting.agenda_sent_at is not None:
        meeting.calendar_sequence += 1
        now = now or utcnow()
        _send_notice(meeting, "cancel", [], [(p.user, p.role) for p in _invited(meeting)], now)
        _agenda_cards(meeting, now.strftime("%Y%m%d%H%M%S"), heading=gettext("会议取消"), cancelled=True)
        calendar_events.sync_meeting(meeting)
        db.session.flush()
    return meeting


def withdraw_invitation(actor: User, participant: Participant, now: datetime | None = None) -> Meeting:
    """Withdraw an invitation (`service.remove_participant`); once the agenda went out, the person gets a
    cancellation of their own, so the meeting leaves their calendar (and nothing later reaches them)."""
    meeting, user, role = participant.meeting, participant.user, participant.role
    service.remove_participant(actor, participant)
    if meeting.agenda_sent_at is not None and user.email and meeting.status == MeetingStatus.AGENDA_SENT:
        meeting.calendar_sequence += 1
        _send_notice(meeting, "withdrawn", [], [(user, role)], now or utcnow())
        db.session.flush()
    if meeting.agenda_sent_at is not None and meeting.status == MeetingStatus.AGENDA_SENT:
        calendar_events.sync_meeting(meeting)  # off the platform's event too (also someone without e-mail)
    return meeting
