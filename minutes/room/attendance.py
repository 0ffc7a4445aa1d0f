"""Attendance in the live meeting room (签到): who was invited, who came, late or absent and why."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from minutes.core.errors import NotFound, RuleViolation, ValidationFailed
from minutes.core.timefmt import utcnow
from minutes.dbtypes import parse_id
from minutes.extensions import db
from minutes.meetings.models import Meeting
from minutes.people.models import User
from minutes.room import events
from minutes.room.models import Attendance, AttendanceStatus
from minutes.room.service import _changed, _flush, _person, _require_write


def attendance(meeting: Meeting, users_loaded: bool = False) -> list[Attendance]:
    """Attendance rows: invited people by department, then those who came uninvited.

    `users_loaded`: the caller holds the user of every row already (the entry forms do): not read again."""
    query = select(Attendance).where(Attendance.meeting_id == meeting.id)
    if not users_loaded:
        query = query.options(joinedload(Attendance.user))
    rows = list(db.session.scalars(query))
    return sorted(rows, key=lambda a: (not a.invited, a.user.department_id, a.user.name))


def attendance_row(meeting: Meeting, user_id) -> Attendance:
    """One person's attendance row in this meeting."""
    row = db.session.scalar(select(Attendance).where(Attendance.meeting_id == meeting.id,
                                                     Attendance.user_id == (parse_id(user_id) or -1)))
    if row is None:
        raise NotFound(gettext("该人员不在本次会议的签到名单中"), field="user_id")
    return row


def mark_attendance(actor: User, meeting: Meeting, user_id, status: str, arrived_at: datetime | None = None,
                    reason: str = "", now: datetime | None = None) -> Attendance:
    """Mark someone present, late (with the arrival time) or absent (with a reason)."""
    _require_write(actor, meeting)
    row = attendance_row(meeting, user_id)
    try:
        status = AttendanceStatus(status)
    except ValueError:
        raise ValidationFailed(gettext("签到状态无效"), field="status") from None
    now = now or utcnow()
    reason = (reason or "").strip()
    if status == AttendanceStatus.ABSENT:
        if not reason:
            raise ValidationFailed(gettext("请注明%(user)s缺席的原因", user=row.user.name), field="reason")
        if len(reason) > 200:
            raise ValidationFailed(gettext("缺席原因不超过200个字"), field="reason")
    row.status = status
    row.arrived_at = (arrived_at or now) if status == AttendanceStatus.LATE else None
    row.absence_reason = reason if status == AttendanceStatus.ABSENT else ""
    row.updated_at, row.updated_by_id = now, actor.id
    _flush(gettext("签到"))
    _changed(meeting, events.ATTENDANCE, events.HEAD)
    return row


def add_attendee(actor: User, meeting: Meeting, user_id, now: datetime | None = None) -> Attendance:
    """Add someone who came without being invited; they are marked present."""
    _require_write(actor, meeting)
    user = _person(user_id, "user_id", gettext("请选择到会人员"))
    existing = db.session.scalar(select(Attendance).where(Attendance.meeting_id == meeting.id,
                                                          Attendance.user_id == user.id))
    if existing is not None:
        raise RuleViolation(gettext("%(user)s已在签到名单中", user=user.name), field="user_id")
    now = now or utcnow()
    row = Attendance(meeting_id=meeting.id, user=user, status=AttendanceStatus.PRESENT, invited=False,
                     updated_at=now, updated_by_id=actor.id)
    db.session.add(row)
    _flush(gettext("签到"))
    _changed(meeting, events.ATTENDANCE, events.HEAD)
    return row


def attendance_summary(rows: list[Attendance]) -> dict[str, int]:
    """Counts per status, for the header (应到 / 实到 / 迟到 / 缺席 / 待核对)."""
    counts = {s.value: 0 for s in AttendanceStatus}
    for row in rows:
        counts[row.status.value] += 1
    counts["expected"] = sum(1 for r in rows if r.invited)
    counts["here"] = counts["present"] + counts["late"]
    return counts
