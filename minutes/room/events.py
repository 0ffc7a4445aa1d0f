"""What changed in a room in this transaction, kept on the session until the commit.

The room's service records (meeting, revision, parts) here after bumping the revision; the
live layer (`minutes.room.live`) renders the parts just before the commit and publishes them
right after it (hooks registered with `minutes.aftercommit` by `live.init_app`). A rollback drops
them: nothing is announced that did not happen.
"""
from dataclasses import dataclass

from minutes import aftercommit

#: Parts of a room a change can touch; `item(id)` names one agenda item's block.
ALL = "all"
HEAD = "head"
AGENDA = "agenda"
CURRENT = "current"
ATTENDANCE = "attendance"
REVIEW = "review"

#: Where the changes wait on the session (see minutes.aftercommit).
KEY = "room_events"


def item(agenda_item_id: int) -> str:
    """Name the block of one agenda item."""
    return f"item:{agenda_item_id}"


def item_added(agenda_item_id: int) -> str:
    """Name an agenda item added during the meeting (临时议题): its block is appended to the room."""
    return f"item+:{agenda_item_id}"


def point_added(point_id: int) -> str:
    """Name a point just added: appended to its item's list rather than re-rendering the whole item."""
    return f"point+:{point_id}"


@dataclass
class PendingEvent:
    """A change to announce after the commit: the room's new revision and the parts to re-render."""

    meeting_id: int
    revision: int
    parts: tuple[str, ...]
    #: Filled just before the commit: the rendered fragments per audience (see live.py).
    payload: dict | None = None


def record(session, meeting_id: int, revision: int, parts) -> PendingEvent:
    """Note a change on the session; it is published only if the transaction commits."""
    event = PendingEvent(meeting_id, revision, tuple(parts))
    aftercommit.note(session, KEY, event)
    return event


def pending(session) -> list[PendingEvent]:
    """The changes recorded in the current transaction, oldest first."""
    return aftercommit.noted(session, KEY)


def take(session) -> list[PendingEvent]:
    """Remove and return the recorded changes."""
    return aftercommit.forget(session, KEY)
