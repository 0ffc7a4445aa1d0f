"""The meetings a user sees: the dashboard (going on, upcoming, recent) and the list of meetings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from minutes.core.timefmt import utcnow
from minutes.extensions import db
from minutes.meetings.models import RECORDING_STATUSES, Meeting, MeetingStatus, Participant
from minutes.meetings.service import visible_filter
from minutes.people.models import User


# --- dashboard -------------------------------------------------------------------------------

#: A meeting in these states has started and not ended: it is going on (进行中), whatever its planned time.
ONGOING_STATUSES = RECORDING_STATUSES


def dashboard(user: User, now: datetime | None = None) -> dict:
    """Meetings the user hosts, records or attends: going on now, upcoming (soonest first), then recent.

    A started meeting is going on until it ends, never upcoming (even started days before its planned date);
    an ended one is recent from its actual end."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Meeting, Participant.role)
        .join(Participant, Participant.meeting_id == Meeting.id)
        .where(Participant.user_id == user.id, Meeting.status != MeetingStatus.CANCELLED)
        .options(selectinload(Meeting.participants).joinedload(Participant.user),
                 selectinload(Meeting.agenda_items))
    ).all()
    ongoing = sorted(((m, r) for m, r in rows if m.status in ONGOING_STATUSES), key=lambda mr: mr[0].starts_at)
    rest = [(m, r) for m, r in rows if m.status not in ONGOING_STATUSES]
    upcoming = sorted(((m, r) for m, r in rest if m.ends_at >= now and m.status in (MeetingStatus.DRAFT,
                                                                                   MeetingStatus.AGENDA_SENT)),
                      key=lambda mr: mr[0].starts_at)
    shown = {m.id for m, _r in upcoming}
    past = sorted(((m, r) for m, r in rest if m.id not in shown), key=lambda mr: mr[0].starts_at, reverse=True)
    return {"ongoing": ongoing, "upcoming": upcoming, "past": past[:20]}


def list_meetings(user: User, scope: str = "upcoming", now: datetime | None = None, limit: int = 200) -> list[Meeting]:
    """Meetings visible to the user: upcoming soonest first, or past newest first."""
    now = now or utcnow()
    query = select(Meeting).where(visible_filter(user)).options(selectinload(Meeting.organizer_department))
    ongoing = Meeting.status.in_(ONGOING_STATUSES)
    if scope == "past":
        query = query.where(Meeting.ends_at < now, ~ongoing).order_by(Meeting.starts_at.desc())
    else:  # what is going on now first, then what is coming
        query = query.where((Meeting.ends_at >= now) | ongoing).order_by(ongoing.desc(), Meeting.starts_at)
    return list(db.session.scalars(query.limit(limit)))
