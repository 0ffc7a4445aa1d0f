"""What the recorder writes under an agenda item in the live meeting room: points (viewpoints, disputes,
consensus), decisions and actions, the last two refused while their wording is vague (`minutes.room.wording`)."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from minutes.actions.models import ActionItem, ActionStatus
from minutes.core.errors import NotFound, ValidationFailed
from minutes.core.timefmt import utcnow
from minutes.dbtypes import get_by_id
from minutes.extensions import db
from minutes.meetings.models import Meeting
from minutes.meetings.service import can_view
from minutes.people.models import Department, User
from minutes.room import events
from minutes.room.models import Decision, Point, PointKind
from minutes.room.review import _advance_cursor
from minutes.room.service import (_agenda_item_and_next_position, _changed, _check_version, _clean_text, _department,
                                  _departments, _flush, _person, _require_write, room_of)
from minutes.room.wording import _resolve_due


# --- points ----------------------------------------------------------------------------------

def _point_fields(kind, department_id, party_ids) -> tuple[PointKind, Department | None, list[Department]]:
    try:
        kind = PointKind(kind)
    except ValueError:
        raise ValidationFailed(gettext("请选择类型：观点、争议或共识"), field="kind") from None
    dept = _department(department_id, "department_id",
                       gettext("请选择提出该观点的部门") if kind == PointKind.VIEWPOINT else None)
    parties = _departments(party_ids, "party_ids") if kind == PointKind.DISPUTE else []
    if kind == PointKind.DISPUTE and len(parties) < 2:
        if dept is not None and dept not in parties:
            parties.insert(0, dept)
        if len(parties) < 2:
            raise ValidationFailed(gettext("请选择存在分歧的双方（至少两个部门）"), field="party_ids")
    return kind, dept, parties


_SUBMISSION = re.compile(r"[0-9a-f]{32}")


def new_submission() -> str:
    """A one-time token for an entry form (see `_insert`)."""
    return uuid.uuid4().hex


def _submission(value) -> str | None:
    """The entry form's token as sent, or None when there is none or it is not one of ours."""
    value = value.strip() if isinstance(value, str) else ""
    return value if _SUBMISSION.fullmatch(value) else None


def _insert(row, what: str):
    """Save a new point, decision or action; returns it, or what the same form saved before.

    A form carries a one-time token (`submission`). When the answer to it is lost (the recorder's
    form gives up after 10 s on a slow network and says 未保存) and the recorder sends it again, the
    unique index on (meeting, token) refuses the second row: the transaction is rolled back and the
    row saved the first time is returned, so the point is there once and the form says it was added.
    The common case costs nothing: no lookup before the insert.
    """
    db.session.add(row)
    try:
        _flush(what)
    except IntegrityError:
        if row.submission is None:
            raise
        model, meeting_id, token = type(row), row.meeting_id, row.submission
        db.session.rollback()
        earlier = db.session.scalar(select(model).where(model.meeting_id == meeting_id, model.submission == token))
        if earlier is None:
            raise
        return earlier
    return row


def add_point(actor: User, meeting: Meeting, agenda_item_id, kind: str, text: str, department_id=None,
              speaker_id=None, party_ids=(), now: datetime | None = None, submission: str | None = None,
              late: bool = False) -> Point:
    """Record a viewpoint (attributed to a department), a dispute (between departments) or a consensus.

    `submission`: the entry form's one-time token; the same form sent twice saves one point (see `_insert`).
    `late`: added after the meeting (see records.drafting.add_late_entry).
    """
    _require_write(actor, meeting, late)
    item, position = _agenda_item_and_next_position(meeting, agenda_item_id, Point)
    kind, dept, parties = _point_fields(kind, department_id, party_ids)
    text = _clean_text(text, kind.label)
    speaker = _person(speaker_id, "speaker_id")
    point = Point(meeting_id=meeting.id, agenda_item=item, kind=kind, department=dept, speaker=speaker, text=text,
                  parties=parties, position=position, created_by=actor,
                  created_at=now or utcnow(), submission=_submission(submission))
    saved = _insert(point, gettext("要点"))
    if saved is point:
        _changed(meeting, events.point_added(point.id))
    return saved


def get_point(user, point_id) -> Point:
    """Load a point of a meeting the user may see (deleted ones are gone)."""
    return _get_entry(Point, user, point_id, gettext("该要点不存在或已删除"))


def update_point(actor: User, point: Point, version, kind: str, text: str, department_id=None, speaker_id=None,
                 party_ids=(), now: datetime | None = None) -> Point:
    """Change a point; an edit based on an older version is refused, never merged."""
    _require_write(actor, point.meeting)
    _check_version(point, version, gettext("该要点"))
    kind, dept, parties = _point_fields(kind, department_id, party_ids)
    text = _clean_text(text, kind.label)
    speaker = _person(speaker_id, "speaker_id")
    with db.session.no_autoflush:
        point.text, point.kind, point.department, point.parties = text, kind, dept, parties
        point.speaker = speaker
        point.updated_at, point.updated_by = now or utcnow(), actor
    _flush(gettext("该要点"))
    _changed(point.meeting, events.item(point.agenda_item_id))
    return point


def delete_point(actor: User, point: Point, version=None, now: datetime | None = None) -> Point:
    """Remove a point (kept for the audit trail, shown nowhere)."""
    _delete_entry(actor, point, version, now, gettext("该要点"))
    _changed(point.meeting, events.item(point.agenda_item_id), events.AGENDA)
    return point


# --- any entry: loading, removing -------------------------------------------------------------

def _get_entry(model, user, entry_id, missing: str):
    """A point, decision or action of a meeting the user may see; `missing` when there is none (or it was removed)."""
    entry = get_by_id(model, entry_id)
    if entry is None or entry.is_deleted or not can_view(user, entry.meeting):
        raise NotFound(missing)
    return entry


def _delete_entry(actor: User, entry, version, now: datetime | None, this: str) -> None:
    """Soft-delete a point, decision or action (kept for the audit trail, shown nowhere); stale versions refused."""
    _require_write(actor, entry.meeting)
    _check_version(entry, version, this)
    entry.deleted_at, entry.deleted_by_id = now or utcnow(), actor.id
    entry.updated_at, entry.updated_by = entry.deleted_at, actor
    _flush(this)


# --- decisions and actions: one path, two kinds ---------------------------------------------------
# A decision (决议) may have an owner and a date; an action (待办) must have both, and for a confidential meeting its
# owner must be someone who may see the meeting. Everything else - the checks, the fields, what the room is told -
# is the same, so both kinds go through the functions below; the public names stay as the views and the API call them.

def _names(model) -> tuple[str, str]:
    """The kind's name in messages: 决议 / 该决议, or 待办 / 该待办."""
    if model is ActionItem:
        return gettext("待办"), gettext("该待办")
    return gettext("决议"), gettext("该决议")


def _action_owner(meeting: Meeting, owner_department_id, owner_id) -> tuple[Department, User]:
    """The owner of an action: required, and for a confidential meeting someone who may see it, since the
    action (with the meeting's topic) reaches its owner's lists, reminders and calendar."""
    owner = _person(owner_id, "owner_id", gettext("待办须指定负责人（部门及具体人员）"))
    if meeting.confidential and not can_view(owner, meeting):
        raise ValidationFailed(gettext("本会议仅参会人可见，%(name)s未受邀参会，不能负责其中的待办。请记录人先邀请%(name)s参会，再指派",
                                       name=owner.name), field="owner_id")
    dept = _department(owner_department_id, "owner_department_id") or owner.department
    return dept, owner


def _decision_owner(owner_department_id, owner_id) -> tuple[Department | None, User | None]:
    """The owner of a decision: optional; a person without a department means the person's department."""
    owner_dept = _department(owner_department_id, "owner_department_id")
    owner = _person(owner_id, "owner_id")
    if owner is not None and owner_dept is None:
        owner_dept = owner.department
    return owner_dept, owner


def _entry_fields(model, meeting: Meeting, text: str, owner_department_id, owner_id, cooperating_department_ids,
                  due, due_confirmed) -> dict:
    """Check what the recorder typed for a decision or an action; the fields to store (ValidationFailed if not)."""
    what, _this = _names(model)
    text = _clean_text(text, what)
    is_action = model is ActionItem
    if is_action:
        dept, owner = _action_owner(meeting, owner_department_id, owner_id)
    else:
        dept, owner = _decision_owner(owner_department_id, owner_id)
    cooperating = _departments(cooperating_department_ids, "cooperating_department_ids")
    due_date, due_text = _resolve_due(text, due, required=is_action, what=what, due_confirmed=due_confirmed)
    return {"text": text, "owner_department": dept, "owner": owner, "cooperating_departments": cooperating,
            "due_date": due_date, "due_text": due_text}


def _add_entry(model, actor: User, meeting: Meeting, agenda_item_id, text, owner_department_id, owner_id,
               cooperating_department_ids, due, now, submission, due_confirmed, late=False, **extra):
    """Record a decision or an action under an agenda item; returns it, or what the same form saved before.
    `late`: see add_point."""
    _require_write(actor, meeting, late)
    item, position = _agenda_item_and_next_position(meeting, agenda_item_id, model)
    fields = _entry_fields(model, meeting, text, owner_department_id, owner_id, cooperating_department_ids, due,
                           due_confirmed)
    entry = model(meeting_id=meeting.id, agenda_item=item, position=position, created_by=actor,
                  created_at=now or utcnow(), submission=_submission(submission), **fields, **extra)
    saved = _insert(entry, _names(model)[0])
    if saved is entry:
        _changed(meeting, events.item(item.id), events.AGENDA, events.REVIEW, events.HEAD)
    return saved


def _update_entry(actor: User, entry, version, text, owner_department_id, owner_id, cooperating_department_ids, due,
                  now, due_confirmed):
    """Change a decision or an action; a confirmed one needs confirming again. Stale edits are refused."""
    _what, this = _names(type(entry))
    _require_write(actor, entry.meeting)
    _check_version(entry, version, this)
    fields = _entry_fields(type(entry), entry.meeting, text, owner_department_id, owner_id,
                           cooperating_department_ids, due, due_confirmed)
    with db.session.no_autoflush:
        for name, value in fields.items():
            setattr(entry, name, value)
        entry.confirmed_at = entry.confirmed_by = None
        entry.updated_at, entry.updated_by = now or utcnow(), actor
    _flush(this)
    _changed(entry.meeting, events.item(entry.agenda_item_id), events.REVIEW, events.HEAD)
    return entry


def _delete_reviewed(actor: User, entry, version, now):
    """Remove a decision or an action; the review walk moves on if it was showing it."""
    _delete_entry(actor, entry, version, now, _names(type(entry))[1])
    room = room_of(entry.meeting)
    if room is not None and room.review_key == entry.review_key:
        _advance_cursor(room, entry.meeting, entry.review_key)
    _changed(entry.meeting, events.item(entry.agenda_item_id), events.AGENDA, events.REVIEW, events.HEAD)
    return entry


def add_decision(actor: User, meeting: Meeting, agenda_item_id, text: str, owner_department_id=None, owner_id=None,
                 cooperating_department_ids=(), due: str | date | None = "", now: datetime | None = None,
                 submission: str | None = None, due_confirmed: str | None = "", late: bool = False) -> Decision:
    """Record a decision (决议); refused while it contains vague wording. `submission`, `late`: see add_point."""
    return _add_entry(Decision, actor, meeting, agenda_item_id, text, owner_department_id, owner_id,
                      cooperating_department_ids, due, now, submission, due_confirmed, late)


def get_decision(user, decision_id) -> Decision:
    """Load a decision of a meeting the user may see."""
    return _get_entry(Decision, user, decision_id, gettext("该决议不存在或已删除"))


def update_decision(actor: User, decision: Decision, version, text: str, owner_department_id=None, owner_id=None,
                    cooperating_department_ids=(), due: str | date | None = "",
                    now: datetime | None = None, due_confirmed: str | None = "") -> Decision:
    """Change a decision; a confirmed one needs confirming again. Stale edits are refused."""
    return _update_entry(actor, decision, version, text, owner_department_id, owner_id, cooperating_department_ids,
                         due, now, due_confirmed)


def delete_decision(actor: User, decision: Decision, version=None, now: datetime | None = None) -> Decision:
    """Remove a decision (kept for the audit trail, shown nowhere)."""
    return _delete_reviewed(actor, decision, version, now)


def add_action(actor: User, meeting: Meeting, agenda_item_id, text: str, owner_department_id=None, owner_id=None,
               cooperating_department_ids=(), due: str | date | None = "", now: datetime | None = None,
               submission: str | None = None, due_confirmed: str | None = "", late: bool = False) -> ActionItem:
    """Record an action item (待办); refused without an owner and a date, or with vague wording.
    `submission`, `late`: see add_point."""
    return _add_entry(ActionItem, actor, meeting, agenda_item_id, text, owner_department_id, owner_id,
                      cooperating_department_ids, due, now, submission, due_confirmed, late,
                      status=ActionStatus.NOT_STARTED)


def get_action(user, action_id) -> ActionItem:
    """Load an action item of a meeting the user may see."""
    return _get_entry(ActionItem, user, action_id, gettext("该待办不存在或已删除"))


def update_action(actor: User, action: ActionItem, version, text: str, owner_department_id=None, owner_id=None,
                  cooperating_department_ids=(), due: str | date | None = "",
                  now: datetime | None = None, due_confirmed: str | None = "") -> ActionItem:
    """Change an action item in the room; a confirmed one needs confirming again. Stale edits are refused."""
    return _update_entry(actor, action, version, text, owner_department_id, owner_id, cooperating_department_ids,
                         due, now, due_confirmed)


def delete_action(actor: User, action: ActionItem, version=None, now: datetime | None = None) -> ActionItem:
    """Remove an action item (kept for the audit trail, shown nowhere)."""
    return _delete_reviewed(actor, action, version, now)


# --- one entry of any kind -------------------------------------------------------------------

def add_entry(actor: User, meeting: Meeting, kind: str, agenda_item_id, text: str, department_id=None, owner_id=None,
              party_ids=(), due: str = "", due_confirmed: str = "", now: datetime | None = None,
              late: bool = False) -> tuple[str, Point | Decision | ActionItem]:
    """Record an entry of `kind` (decision, action, or a point's kind) as its own function would; returns its
    review-style key ("decision:12", "action:7", "point:31") and the entry. Used where the kind is data: a
    transcript's suggestion accepted."""
    if kind == "action":
        entry = add_action(actor, meeting, agenda_item_id, text, department_id or None, owner_id or None, due=due,
                           now=now, due_confirmed=due_confirmed, late=late)
    elif kind == "decision":
        entry = add_decision(actor, meeting, agenda_item_id, text, department_id or None, owner_id or None, due=due,
                             now=now, due_confirmed=due_confirmed, late=late)
    else:
        entry = add_point(actor, meeting, agenda_item_id, kind, text, department_id or None, None, list(party_ids),
                          now=now, late=late)
        return f"point:{entry.id}", entry
    return f"{kind}:{entry.id}", entry
