"""Outbox upkeep for the administrator (the company calendar's rules live in minutes.calendar)."""
from sqlalchemy import func, select

from minutes.extensions import db
from minutes.notify.models import OutboxMessage, OutboxStatus
from minutes.notify.service import recent_messages


def outbox_overview(status: str = "", limit: int = 200) -> dict:
    """Recent outbox messages (optionally one status) and how many there are in each status."""
    counts = {s: 0 for s in OutboxStatus}
    for value, n in db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)):
        counts[OutboxStatus(value)] = n
    try:
        wanted = OutboxStatus(status) if status else None
    except ValueError:
        wanted = None
    if wanted is None:
        messages = recent_messages(limit)
    else:
        messages = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == wanted)
                                           .order_by(OutboxMessage.id.desc()).limit(limit)))
    return {"messages": messages, "counts": counts, "shown_status": wanted.value if wanted else ""}
