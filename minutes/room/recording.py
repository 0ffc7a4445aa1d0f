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
    point = get_by_id(Point, point_id)
    if point is None or point.deleted_at is not None or not can_view(user, point.meeting):
        raise NotFound(gettext("该要点不存在或已删除"))
    return point


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
    _require_write(actor, point.meeting)
    _check_version(point, version, gettext("该要点"))
    point.deleted_at, point.deleted_by_id = now or utcnow(), actor.id
    point.updated_at, point.updated_by = point.deleted_at, actor
    _flush(gettext("该要点"))
    _changed(point.meeting, events.item(point.agenda_item_id), events.AGENDA)
    return point


# --- decisions -------------------------------------------------------------------------------

def add_decision(actor: User, meeting: Meeting, agenda_item_id, text: str, owner_department_id=None, owner_id=None,
                 cooperating_department_ids=(), due: str | date | None = "", now: datetime | None = None,
                 submission: str | None = None, due_confirmed: str | None = "", late: bool = False) -> Decision:
    """Record a decision (决议); refused while it contains vague wording. `submission`, `late`: see add_point."""
    _require_write(actor, meeting, late)
    item, position = _agenda_item_and_next_position(meeting, agenda_item_id, Decision)
    text = _clean_text(text, gettext("决议"))
    owner_dept = _department(owner_department_id, "owner_department_id")
    owner = _person(owner_id, "owner_id")
    if owner is not None and owner_dept is None:
        owner_dept = owner.department
    cooperating = _departments(cooperating_department_ids, "cooperating_department_ids")
    due_date, due_text = _resolve_due(text, due, required=False, what=gettext("决议"), due_confirmed=due_confirmed)
    decision = Decision(meeting_id=meeting.id, agenda_item=item, text=text, owner_department=owner_dept, owner=owner,
                        cooperating_departments=cooperating, due_date=due_date, due_text=due_text,
                        position=position, created_by=actor, created_at=now or utcnow(),
                        submission=_submission(submission))
    saved = _insert(decision, gettext("决议"))
    if saved is decision:
        _changed(meeting, events.item(item.id), events.AGENDA, events.REVIEW, events.HEAD)
    return saved


def get_decision(user, decision_id) -> Decision:
    """Load a decision of a meeting the user may see."""
    decision = get_by_id(Decision, decision_id)
    if decision is None or decision.deleted_at is not None or not can_view(user, decision.meeting):
        raise NotFound(gettext("该决议不存在或已删除"))
    return decision


def update_decision(actor: User, decision: Decision, version, text: str, owner_department_id=None, owner_id=None,
                    cooperating_department_ids=(), due: str | date | None = "",
                    now: datetime | None = None, due_confirmed: str | None = "") -> Decision:
    """Change a decision; a confirmed one needs confirming again. Stale edits are refused."""
    _require_write(actor, decision.meeting)
    _check_version(decision, version, gettext("该决议"))
    text = _clean_text(text, gettext("决议"))
    owner_dept = _department(owner_department_id, "owner_department_id")
    owner = _person(owner_id, "owner_id")
    if owner is not None and owner_dept is None:
        owner_dept = owner.department
    cooperating = _departments(cooperating_department_ids, "cooperating_department_ids")
    due_date, due_text = _resolve_due(text, due, required=False, what=gettext("决议"), due_confirmed=due_confirmed)
    with db.session.no_autoflush:
        decision.text, decision.owner_department, decision.owner = text, owner_dept, owner
        decision.cooperating_departments, decision.due_date, decision.due_text = cooperating, due_date, due_text
        decision.confirmed_at = decision.confirmed_by = None
        decision.updated_at, decision.updated_by = now or utcnow(), actor
    _flush(gettext("该决议"))
    _changed(decision.meeting, events.item(decision.agenda_item_id), events.REVIEW, events.HEAD)
    return decision


def delete_decision(actor: User, decision: Decision, version=None, now: datetime | None = None) -> Decision:
    """Remove a decision (kept for the audit trail, shown nowhere)."""
    _require_write(actor, decision.meeting)
    _check_version(decision, version, gettext("该决议"))
    decision.deleted_at, decision.deleted_by_id = now or utcnow(), actor.id
    decision.updated_at, decision.updated_by = decision.deleted_at, actor
    _flush(gettext("该决议"))
    room = room_of(decision.meeting)
    if room is not None and room.review_key == decision.review_key:
        _advance_cursor(room, decision.meeting, decision.review_key)
    _changed(decision.meeting, events.item(decision.agenda_item_id), events.AGENDA, events.REVIEW, events.HEAD)
    return decision


# --- actions ---------------------------------------------------------------------------------

def _action_owner(meeting: Meeting, owner_department_id, owner_id) -> tuple[Department, User]:
    """The owner of an action: required, and for a confidential meeting someone who may see it, since the
    action (with the meeting's topic) reaches its owner's lists, reminders and calendar."""
    owner = _person(owner_id, "owner_id", gettext("待办须指定负责人（部门及具体人员）"))
    if meeting.confidential and not can_view(owner, meeting):
        raise ValidationFailed(gettext("本会议仅参会人可见，%(name)s未受邀参会，不能负责其中的待办。请记录人先邀请%(name)s参会，再指派",
                                       name=owner.name), field="owner_id")
    dept = _department(owner_department_id, "owner_department_id") or owner.department
    return dept, owner


def add_action(actor: User, meeting: Meeting, agenda_item_id, text: str, owner_department_id=None, owner_id=None,
               cooperating_department_ids=(), due: str | date | None = "", now: datetime | None = None,
               submission: str | None = None, due_confirmed: str | None = "", late: bool = False) -> ActionItem:
    """Record an action item (待办); refused without an owner and a date, or with vague wording.
    `submission`, `late`: see add_point."""
    _require_write(actor, meeting, late)
    item, position = _agenda_item_and_next_position(meeting, agenda_item_id, ActionItem)
    text = _clean_text(text, gettext("待办"))
    dept, owner = _action_owner(meeting, owner_department_id, owner_id)
    cooperating = _departments(cooperating_department_ids, "cooperating_department_ids")
    due_date, due_text = _resolve_due(text, due, required=True, what=gettext("待办"), due_confirmed=due_confirmed)
    action = ActionItem(meeting_id=meeting.id, agenda_item=item, text=text, owner_department=dept, owner=owner,
                        cooperating_departments=cooperating, due_date=due_date, due_text=due_text,
                        status=ActionStatus.NOT_STARTED, position=position,
                        created_by=actor, created_at=now or utcnow(), submission=_submission(submission))
    saved = _insert(action, gettext("待办"))
    if saved is action:
        _changed(meeting, events.item(item.id), events.AGENDA, events.REVIEW, events.HEAD)
    return saved


def get_action(user, action_id) -> ActionItem:
    """Load an action item of a meeting the user may see."""
    action = get_by_id(ActionItem, action_id)
    if action is None or action.deleted_at is not None or not can_view(user, action.meeting):
        raise NotFound(gettext("该待办不存在或已删除"))
    return action


def update_action(actor: User, action: ActionItem, version, text: str, owner_department_id=None, owner_id=None,
                  cooperating_department_ids=(), due: str | date | None = "",
                  now: datetime | None = None, due_confirmed: str | None = "") -> ActionItem:
    """Change an action item in the room; a confirmed one needs confirming again. Stale edits are refused."""
    _require_write(actor, action.meeting)
    _check_version(action, version, gettext("该待办"))
    text = _clean_text(text, gettext("待办"))
    dept, owner = _action_owner(action.meeting, owner_department_id, owner_id)
    cooperating = _departments(cooperating_department_ids, "cooperating_department_ids")
    due_date, due_text = _resolve_due(text, due, required=True, what=gettext("待办"), due_confirmed=due_confirmed)
    with db.session.no_autoflush:
        action.text, action.owner_department, action.owner = text, dept, owner
        action.cooperating_departments, action.due_date, action.due_text = cooperating, due_date, due_text
        action.confirmed_at = action.confirmed_by = None
        action.updated_at, action.updated_by = now or utcnow(), actor
    _flush(gettext("该待办"))
    _changed(action.meeting, events.item(action.agenda_item_id), events.REVIEW, events.HEAD)
    return action


def delete_action(actor: User, action: ActionItem, version=None, now: datetime | None = None) -> ActionItem:
    """Remove an action item (kept for the audit trail, shown nowhere)."""
    _require_write(actor, action.meeting)
    _check_version(action, version, gettext("该待办"))
    action.deleted_at, action.deleted_by_id = now or utcnow(), actor.id
    action.updated_at, action.updated_by = action.deleted_at, actor
    _flush(gettext("该待办"))
    room = room_of(action.meeting)
    if room is not None and room.review_key == action.review_key:
        _advance_cursor(room, action.meeting, action.review_key)
    _changed(action.meeting, events.item(action.agenda_item_id), events.AGENDA, events.REVIEW, events.HEAD)
    return action


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
