"""The personal calendar feed: a secret URL per user (only its hash is stored) and what the feed carries."""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from minutes.actions.models import ActionItem, ActionStatus, CalendarFeed
from minutes.core.timefmt import local_today, utcnow
from minutes.dbtypes import record_use
from minutes.extensions import db
from minutes.meetings.models import Meeting, MeetingStatus, Participant


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed(user) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def issue_calendar_token(user) -> str:
    """Create (or replace) the user's feed URL token; return it once (only its hash is stored)."""
    existing = calendar_feed(user)
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(user_id=user.id, token_hash=_hash(token), created_at=utcnow()))
    db.session.flush()
    return token


def revoke_calendar_token(user) -> bool:
    """Stop the user's feed URL from working; True if there was one."""
    existing = calendar_feed(user)
    if existing is None:
        return False
    db.session.delete(existing)
    db.session.flush()
    return True


def feed_for_token(token: str) -> CalendarFeed | None:
    """The feed behind a URL token if its user is enabled, else None (wrong, revoked or disabled). Only reads."""
    if not token or len(token) > 100:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token)))
    if feed is None or not feed.user.is_enabled:
        return None
    return feed


def record_feed_use(feed_id: int) -> None:
    """Note the feed's last use (at most once a minute); a write of its own, apart from the read it served."""
    record_use(CalendarFeed, feed_id)


def calendar_entries(user, today: date | None = None) -> tuple[list[ActionItem], list[Meeting]]:
    """What the feed carries: the user's open actions, and their meetings from 90 days ago on."""
    today = today or local_today()
    actions = list(db.session.scalars(
        select(ActionItem).where(ActionItem.owner_id == user.id, ActionItem.deleted_at.is_(None),
                                 ActionItem.status != ActionStatus.DONE)
        .order_by(ActionItem.due_date).options(selectinload(ActionItem.meeting))))
    since = utcnow() - timedelta(days=90)
    invited = select(Participant.meeting_id).where(Participant.user_id == user.id)
    meeting_rows = list(db.session.scalars(
        select(Meeting).where(Meeting.id.in_(invited), Meeting.status != MeetingStatus.CANCELLED,
                              Meeting.ends_at >= since).order_by(Meeting.starts_at)))
    return actions, meeting_rows
