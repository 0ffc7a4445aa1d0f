"""The meeting in the chat platform's own calendar (飞书日历 / 钉钉日程 / 企业微信日程), beside the e-mail invitation.

Where the administrator turns it on (CHAT_CALENDAR_EVENTS, with CHAT_PLATFORM configured), the moments that send
calendar invitations by e-mail (minutes.meetings.sending: the agenda sent, a change of time or place, a withdrawn
invitation, the cancellation) also queue one outbox message on channel "calendar" (日历日程): "bring the meeting's
event in step with this". It holds what the event should say then — title, time, place, online link, and the invited
people who have an identity on the platform (the others keep the e-mail invitation, which everyone gets anyway).

The delivery worker carries it out with the platform's API (minutes.chat.calendar_apis): the first creates the
event and stores its id (ChatCalendarEvent, one per meeting), later ones update that same event and invite or
uninvite people, the cancellation deletes it. Retries with back-off like every outbox message; a message older than
the one the event was last brought in step with (a retry that comes late) is skipped, so the newest state wins.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from minutes.chat import service as chat
from minutes.chat.calendar_apis import PLATFORMS, CalendarRefused, EventGone
from minutes.chat.models import ChatCalendarEvent
from minutes.core.links import external_url
from minutes.core.timefmt import utcnow
from minutes.extensions import db, write_intent
from minutes.meetings.models import Meeting, MeetingStatus
from minutes.notify import service as notify
from minutes.notify.models import CHANNEL_LABELS, OutboxMessage

CHANNEL = "calendar"


def platform(config=None) -> str | None:
    """The chat platform whose calendar gets the meetings; None when CHAT_CALENDAR_EVENTS is off."""
    config = config if config is not None else current_app.config
    name = chat.platform(config)
    return name if name and config.get("CHAT_CALENDAR_EVENTS") else None


def _prefix(meeting: Meeting) -> str:
    return f"calendar:{meeting.id}:"


def _latest(meeting: Meeting) -> OutboxMessage | None:
    return db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == CHANNEL, OutboxMessage.dedupe_key.startswith(_prefix(meeting), autoescape=True))
        .order_by(OutboxMessage.id.desc()).limit(1)).first()


def _description(meeting: Meeting) -> str:
    lines = []
    if meeting.confidential:  # as on the agenda card: place and online link stay behind the sign-in
        lines.append(gettext("保密会议：地点、主持人和议程请登录后查看"))
    elif meeting.online_link:
        lines.append(gettext("线上会议：%(link)s", link=meeting.online_link))
    lines.append(gettext("议程与资料：%(link)s", link=external_url("meetings.show", meeting_id=meeting.id)))
    return "\n".join(lines)


def sync_meeting(meeting: Meeting) -> OutboxMessage | None:
    """Queue "bring the meeting's event in step" in the current transaction (nothing when the calendar is off,
    when no one invited has an identity on the platform and no event was made, or when nothing changed)."""
    name = platform()
    if name is None:
        return None
    people = [p.user for p in meeting.participants if p.user.is_enabled]
    subjects = chat.chat_subjects(u.id for u in people)
    attendees = sorted({subjects[u.id] for u in people if u.id in subjects})
    cancelled = meeting.status == MeetingStatus.CANCELLED
    earlier = _latest(meeting)
    if earlier is None and (cancelled or not attendees):
        return None
    host = meeting.host
    facts = {"platform": name, "meeting_id": meeting.id, "sequence": meeting.calendar_sequence, "cancelled": cancelled,
             "summary": meeting.topic, "description": _description(meeting),
             "starts": int(meeting.starts_at.timestamp()), "ends": int(meeting.ends_at.timestamp()),
             "location": "" if meeting.confidential else meeting.location or "",
             "online_link": "" if meeting.confidential else meeting.online_link or "",
             "confidential": meeting.confidential,
             "link": external_url("meetings.show", meeting_id=meeting.id),
             "organizer": (subjects.get(host.id) if host else None) or (attendees[0] if attendees else ""),
             "attendees": attendees}
    text = json.dumps(facts, ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    subject = (gettext("取消日程：%(topic)s", topic=meeting.topic) if cancelled
               else gettext("日程：%(topic)s", topic=meeting.topic))
    return notify.enqueue_other(OutboxMessage(
        channel=CHANNEL, recipient=gettext("%(platform)s日历（%(count)s人）", platform=CHANNEL_LABELS.get(name, name),
                                           count=len(attendees)),
        subject=notify.one_line(subject)[:300], body_text=text, link=facts["link"],
        dedupe_key=f"{_prefix(meeting)}{meeting.calendar_sequence}:{digest}", next_attempt_at=utcnow(),
        confidential=meeting.confidential))


@dataclass
class CalendarRow:
    """How the sender's delivery list names the platform's calendar (in place of a person)."""

    name: str
    username: str = "calendar"


def latest_delivery(meeting: Meeting) -> dict:
    """{dedupe key: CalendarRow} of the newest calendar message of the meeting, for the agenda's delivery report."""
    latest = _latest(meeting)
    if latest is None:
        return {}
    return {latest.dedupe_key: CalendarRow(gettext("日历日程"))}


# --- delivery (the outbox worker calls this for channel "calendar") ---------------------------

def _save(facts: dict, **values) -> None:
    """Write what the platform now holds for the meeting, in a short transaction of its own."""
    token = write_intent.set(True)
    try:
        row = db.session.scalar(select(ChatCalendarEvent).where(ChatCalendarEvent.meeting_id == facts["meeting_id"]))
        if row is None:
            row = ChatCalendarEvent(meeting_id=facts["meeting_id"], platform=facts["platform"])
            db.session.add(row)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.commit()
    finally:
        write_intent.reset(token)


#: How long one deliverer may take over a meeting's event without word from it (at least 6 SSO_HTTP_TIMEOUTs).
CLAIM_SECONDS = 120


class Claim:
    """The meeting's event, taken by one deliverer (another process waits) and kept while it talks to the platform.

    A first DingTalk create looks up every invitee's unionId, a call each of up to SSO_HTTP_TIMEOUT: the whole can
    outlast any fixed claim, and a second deliverer taking the event over would create a second one. So the
    platform's calls renew the claim as they go (`keep`, before each call, once a quarter of it has passed): it
    runs out only when its deliverer stops (died, or a single call hung past every timeout), and a deliverer whose
    claim was taken over meanwhile stops before its next call. The claim is known by its own end time (one taker at
    a time, each later taker's end later): renewing and releasing touch only the claim this deliverer holds."""

    def __init__(self, facts: dict, config):
        self.meeting_id = facts["meeting_id"]
        self.facts = facts
        self.seconds = max(CLAIM_SECONDS, 6 * float(config.get("SSO_HTTP_TIMEOUT") or 10))
        self.until = None
        self.renewed_at = None

    def _set(self, where, until) -> bool:
        token = write_intent.set(True)
        try:
            taken = db.session.execute(
                update(ChatCalendarEvent).where(ChatCalendarEvent.meeting_id == self.meeting_id, where)
                .values(claimed_until=until), execution_options={"synchronize_session": False}).rowcount
            db.session.commit()
        finally:
            write_intent.reset(token)
        return bool(taken)

    def take(self) -> bool:
        """Take the meeting's event for this delivery; False while another deliverer (another process) has it."""
        try:
            _save(self.facts)  # the row exists from here on, so the claim below has one row to take
        except IntegrityError:  # another deliverer wrote it just now
            db.session.rollback()
        now = utcnow()
        until = now + timedelta(seconds=self.seconds)
        if not self._set(or_(ChatCalendarEvent.claimed_until.is_(None), ChatCalendarEvent.claimed_until < now), until):
            return False
        self.until, self.renewed_at = until, now
        return True

    def keep(self) -> None:
        """Before a call to the platform: renew the claim (once a quarter of it has passed), or stop when another
        deliverer has taken the event over meanwhile."""
        now = utcnow()
        if now - self.renewed_at < timedelta(seconds=self.seconds / 4):
            return
        until = now + timedelta(seconds=self.seconds)
        if not self._set(ChatCalendarEvent.claimed_until == self.until, until):
            raise CalendarRefused(gettext("该会议的日程已由另一个投递进程接手，本次同步中止，稍后重试"))
        self.until, self.renewed_at = until, now

    def release(self) -> None:
        db.session.rollback()
        self._set(ChatCalendarEvent.claimed_until == self.until, None)


def deliver(message) -> None:
    """Bring the platform's event in step with the facts the message holds (create, update, invite, delete), with
    the meeting's event claimed for this deliverer meanwhile."""
    facts = json.loads(message.body_text)
    claim = Claim(facts, current_app.config)
    if not claim.take():
        raise CalendarRefused(gettext("该会议的日程正由另一个投递进程同步，稍后重试"))
    try:
        _sync(message, facts, claim)
    finally:
        claim.release()


def _sync(message, facts: dict, claim: Claim) -> None:
    row = db.session.execute(select(ChatCalendarEvent.vendor_event_id, ChatCalendarEvent.owner,
                                    ChatCalendarEvent.attendees, ChatCalendarEvent.synced_message_id,
                                    ChatCalendarEvent.cancelled_at)
                             .where(ChatCalendarEvent.meeting_id == facts["meeting_id"])).one_or_none()
    db.session.commit()  # no transaction stays open while the platform answers
    if row is not None and (row.synced_message_id or 0) > message.id:
        return  # a newer message already brought the event in step
    api, config = PLATFORMS[facts["platform"]](keep=claim.keep), current_app.config
    event_id = row.vendor_event_id if row is not None and row.cancelled_at is None else None
    if facts["cancelled"]:
        if event_id:
            try:
                api.delete(config, row.owner, event_id)
            except EventGone:
                pass  # deleted in the client already
        _save(facts, cancelled_at=utcnow(), synced_message_id=message.id, attendees="[]")
        return
    if row is not None and row.cancelled_at is not None:
        return  # the meeting was cancelled after this message was queued
    if event_id is not None:
        owner, on_event = row.owner, json.loads(row.attendees or "[]")
        try:
            api.update(config, owner, event_id, facts)
        except EventGone:  # deleted in someone's client: the meeting still stands, so it is made anew
            event_id = None
    if event_id is None:
        event_id, owner, on_event = api.create(config, facts)
        _save(facts, vendor_event_id=event_id, owner=owner, attendees=json.dumps(on_event))
    wanted = facts["attendees"]
    add, remove = [s for s in wanted if s not in on_event], [s for s in on_event if s not in wanted]
    if add or remove:
        api.set_attendees(config, owner, event_id, add, remove)
    _save(facts, attendees=json.dumps(wanted), synced_message_id=message.id)
