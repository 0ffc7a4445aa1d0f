"""The end-of-meeting review of the live meeting room (会末确认): walk every decision and action one by one,
confirm or reword each on the spot, then finish the meeting."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select

from minutes.actions.models import ActionItem
from minutes.core.errors import NotFound, RuleViolation
from minutes.core.timefmt import utcnow
from minutes.dbtypes import get_by_id
from minutes.extensions import db
from minutes.meetings.models import Meeting, MeetingStatus
from minutes.people.models import User
from minutes.room import events
from minutes.room.models import Decision, RoomState, ScreenMode
from minutes.room.service import _changed, _check_version, _clean_text, _flush, _require_write, _stop_clock
from minutes.room.wording import _resolve_due

#: The formal minutes are due this long after the meeting ends (会议结束后24小时内).
MINUTES_DUE_AFTER = timedelta(hours=24)


def enter_review(actor: User, meeting: Meeting, now: datetime | None = None) -> RoomState:
    """Switch the screen to the end-of-meeting review: walk every decision and action one by one."""
    room = _require_write(actor, meeting)
    if meeting.status == MeetingStatus.REVIEW:
        return room
    _stop_clock(room, now or utcnow())
    meeting.status = MeetingStatus.REVIEW
    room.screen_mode = ScreenMode.REVIEW
    entries = review_entries(meeting)
    pending = [e for e in entries if not e.is_confirmed]
    room.review_key = (pending or entries)[0].review_key if entries else None
    _flush(gettext("会议状态"))
    _changed(meeting, events.ALL)
    return room


def leave_review(actor: User, meeting: Meeting, now: datetime | None = None) -> RoomState:
    """Go back from the review to live recording (something needs adding); the clock runs again."""
    room = _require_write(actor, meeting)
    if meeting.status != MeetingStatus.REVIEW:
        return room
    meeting.status = MeetingStatus.IN_PROGRESS
    room.screen_mode = ScreenMode.LIVE
    if room.current_item_id is not None:
        room.item_started_at = now or utcnow()
    _flush(gettext("会议状态"))
    _changed(meeting, events.ALL)
    return room


def review_entries(meeting: Meeting) -> list[Decision | ActionItem]:
    """Decisions and actions in the order the review walks them: by agenda item, decisions first."""
    order = {item.id: item.position for item in meeting.agenda_items}
    decisions = list(db.session.scalars(
        select(Decision).where(Decision.meeting_id == meeting.id, Decision.deleted_at.is_(None))))
    actions = list(db.session.scalars(
        select(ActionItem).where(ActionItem.meeting_id == meeting.id, ActionItem.deleted_at.is_(None))))
    key = lambda e: (order.get(e.agenda_item_id, 10**6), e.position, e.id)  # noqa: E731
    entries: list[Decision | ActionItem] = []
    for item_id in sorted({e.agenda_item_id for e in decisions + actions}, key=lambda i: order.get(i, 10**6)):
        entries += sorted((d for d in decisions if d.agenda_item_id == item_id), key=key)
        entries += sorted((a for a in actions if a.agenda_item_id == item_id), key=key)
    return entries


def review_entry(meeting: Meeting, key: str) -> Decision | ActionItem:
    """Load the decision ("decision:<id>") or action ("action:<id>") of this meeting named by a review key."""
    kind, _, raw = (key or "").partition(":")
    model = {"decision": Decision, "action": ActionItem}.get(kind)
    entry = get_by_id(model, raw) if model else None
    if entry is None or entry.meeting_id != meeting.id or entry.deleted_at is not None:
        raise NotFound(gettext("该决议或待办不存在或已删除"))
    return entry


def review_goto(actor: User, meeting: Meeting, key: str) -> RoomState:
    """Put one decision or action on the screen during the review."""
    room = _require_write(actor, meeting)
    if meeting.status != MeetingStatus.REVIEW:
        raise RuleViolation(gettext("请先进入会末确认"))
    entry = review_entry(meeting, key)
    if room.review_key != entry.review_key:
        room.review_key = entry.review_key
        _flush(gettext("会议状态"))
        _changed(meeting, events.REVIEW)
    return room


def review_step(actor: User, meeting: Meeting, delta: int) -> RoomState:
    """Move the review cursor to the next (+1) or previous (-1) entry."""
    room = _require_write(actor, meeting)
    entries = review_entries(meeting)
    if not entries:
        return room
    keys = [e.review_key for e in entries]
    index = keys.index(room.review_key) if room.review_key in keys else -1
    target = max(0, min(len(keys) - 1, index + (1 if delta > 0 else -1)))
    return review_goto(actor, meeting, keys[target])


def _advance_cursor(room: RoomState, meeting: Meeting, after: str) -> None:
    entries = review_entries(meeting)
    keys = [e.review_key for e in entries]
    start = keys.index(after) + 1 if after in keys else 0
    for entry in entries[start:] + entries[:start]:
        if not entry.is_confirmed:
            room.review_key = entry.review_key
            return
    room.review_key = after


def confirm_entry(actor: User, meeting: Meeting, key: str, version=None, now: datetime | None = None):
    """Mark a decision or action 已确认 as read out in the review; the cursor moves to the next one."""
    room = _require_write(actor, meeting)
    if meeting.status != MeetingStatus.REVIEW:
        raise RuleViolation(gettext("逐项确认须在会末确认中进行"))
    entry = review_entry(meeting, key)
    what = gettext("该决议") if isinstance(entry, Decision) else gettext("该待办")
    _check_version(entry, version, what)
    if not entry.is_confirmed:
        entry.confirmed_at = now or utcnow()
        entry.confirmed_by = actor
    _advance_cursor(room, meeting, entry.review_key)
    _flush(what)
    _changed(meeting, events.HEAD, events.REVIEW, events.item(entry.agenda_item_id))
    return entry


def reword_entry(actor: User, meeting: Meeting, key: str, text: str, due: str | date | None = None, version=None,
                 now: datetime | None = None, due_confirmed: str | None = ""):
    """Change a decision's or action's wording on the spot and confirm it; the vague check runs again."""
    room = _require_write(actor, meeting)
    if meeting.status != MeetingStatus.REVIEW:
        raise RuleViolation(gettext("当场改写须在会末确认中进行"))
    entry = review_entry(meeting, key)
    is_action = isinstance(entry, ActionItem)
    what = gettext("该待办") if is_action else gettext("该决议")
    _check_version(entry, version, what)
    text = _clean_text(text, gettext("待办") if is_action else gettext("决议"))
    if due is None:
        due = entry.due_text or entry.due_date
    due_date, due_text = _resolve_due(text, due, required=is_action, what=gettext("待办") if is_action else gettext("决议"),
                                      due_confirmed=due_confirmed)
    now = now or utcnow()
    if text != entry.text or due_date != entry.due_date:
        entry.reworded = True
    entry.text, entry.due_date, entry.due_text = text, due_date, due_text
    entry.updated_at, entry.updated_by = now, actor
    entry.confirmed_at, entry.confirmed_by = now, actor
    _advance_cursor(room, meeting, entry.review_key)
    _flush(what)
    _changed(meeting, events.HEAD, events.REVIEW, events.item(entry.agenda_item_id))
    return entry


def unconfirmed_count(meeting: Meeting) -> int:
    """Decisions and actions not yet confirmed in the review."""
    return sum(1 for e in review_entries(meeting) if not e.is_confirmed)


def finish_meeting(actor: User, meeting: Meeting, now: datetime | None = None) -> RoomState:
    """End the meeting once every decision and action is confirmed; the minutes are due in 24 hours."""
    room = _require_write(actor, meeting)
    open_count = unconfirmed_count(meeting)
    if open_count:
        raise RuleViolation(gettext("还有%(open_count)s项决议或待办未逐项确认。请在会末确认中逐项确认（或当场改写）后再结束会议", open_count=open_count))
    now = now or utcnow()
    _stop_clock(room, now)
    room.ended_at, room.ended_by = now, actor
    meeting.ends_at = max(now, meeting.starts_at)
    room.minutes_due_at = now + MINUTES_DUE_AFTER
    room.screen_mode = ScreenMode.LIVE
    meeting.status = MeetingStatus.MINUTES_DUE
    _flush(gettext("会议状态"))
    _changed(meeting, events.ALL)
    return room
