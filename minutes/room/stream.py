"""One tab's live stream of a room: the Server-Sent Events behind /meetings/<id>/events.

`RoomStream` is an iterable of SSE frames for one client; it ends when the client goes away or loses
access. It subscribes to the room's broker before it reads the room, so nothing committed after that
read is missed, then sends what arrives in revision order:

- a revision that is missing waits `GAP_WAIT_SECONDS` for its message to arrive late, then the stream
  re-reads the whole room (`resync`); so does a `check` from the watchdog, and a mailbox that overflowed;
- a client that connects behind the current revision (Last-Event-ID or ?rev=) starts with a resync;
- idle streams get a `: ping`; access is checked again at pings (every ping for a confidential room,
  every fourth otherwise), so someone removed from a confidential meeting stops receiving it.

It holds no database session while it waits. Under gunicorn's gevent worker (a `writer`), the hub writes
the updates that arrive in order straight to the client while the stream sleeps; the stream wakes only
for pings, gaps, checks and a client too slow for that (see `broker.DirectWriter`).
"""
from __future__ import annotations

import time

from minutes.extensions import db
from minutes.meetings.models import Meeting
from minutes.meetings.service import can_view
from minutes.people.models import User
from minutes.room.broker import DirectWriter, Message, sse_frame
from minutes.room import live
from minutes.room.service import current_revision

#: Wait this long for a missing revision to arrive out of order before resyncing.
GAP_WAIT_SECONDS = 0.5


def _one_snapshot() -> None:
    """Make the session's coming reads see one snapshot, so a resync's content is exactly its revision.

    Otherwise (PostgreSQL's READ COMMITTED) the revision is read before the room and a point committed
    in between arrives twice: in the resync and again as the next update. SQLite's BEGIN already
    gives one snapshot from the first read on (WAL).
    """
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


class Gone(Exception):
    """The client lost access to the room, or went away: the stream ends."""


class RoomStream:
    """The SSE frames of one room for one client (see the module's docstring)."""

    def __init__(self, app, meeting_id: int, user_id: int, audience: str, last_seen: int | None,
                 base_url: str = "http://localhost/", writer: DirectWriter | None = None):
        self.app, self.meeting_id, self.user_id, self.audience = app, meeting_id, user_id, audience
        self.last_seen, self.base_url, self.writer = last_seen, base_url, writer
        self.ping_every = float(app.config.get("ROOM_PING_SECONDS", 15.0))
        self.last = 0  #: the newest revision this client has
        self.waiting: dict[int, Message] = {}  #: messages that arrived ahead of a missing revision
        self.gap_deadline: float | None = None  #: when to stop waiting for the missing revision and resync
        self.confidential = False
        self.sub = None

    def __iter__(self):
        self.sub = live.broker(self.app).subscribe(self.meeting_id)  # first: nothing committed after the read below is missed
        try:
            yield from self._frames()
        except Gone:
            return
        finally:
            self.sub.close()

    # -- the stream
    def _frames(self):
        current = self._check_access(revision=True)
        yield b"retry: 2000\n: connected\n\n"
        if self.last_seen is None or self.last_seen != current:
            yield self._resync()
        else:
            self.last = current
            yield f"id: {current}\n\n".encode()
        pings = 0
        next_ping = time.monotonic() + self.ping_every
        while True:
            message = self._wait(next_ping)
            now = time.monotonic()
            if self.sub.drain_overflow():
                self.waiting, self.gap_deadline = {}, None
                yield self._resync()
                continue
            if message is None:
                if self.gap_deadline is not None and now >= self.gap_deadline:
                    yield from self._close_gap(now)
                if now >= next_ping:
                    pings += 1
                    if self.confidential or pings % 4 == 0:
                        self._check_access()
                    yield b": ping\n\n"
                    next_ping = now + self.ping_every
                continue
            if message.kind == "check":
                if message.revision > self.last:
                    yield self._resync()
                    self.waiting = {r: m for r, m in self.waiting.items() if r > self.last}
                    # The gap waited for may be closed now: without this the expired wait resynced the same revision again.
                    self.gap_deadline = now + GAP_WAIT_SECONDS if self.waiting else None
                continue
            if message.revision <= self.last:
                continue
            self.waiting[message.revision] = message
            for frame in self._in_order():
                yield frame
                next_ping = time.monotonic() + self.ping_every
            if not self.waiting:
                self.gap_deadline = None
            elif self.gap_deadline is None:
                self.gap_deadline = now + GAP_WAIT_SECONDS

    def _wait(self, next_ping: float) -> Message | None:
        """The next message, or None at the next ping or the end of a gap's wait; the socket is the stream's after."""
        sub = self.sub
        sub.revision = self.last  # what the watchdog compares with the database
        if self.writer is not None and not self.waiting and self.gap_deadline is None:
            sub.arm(self.writer, self.audience)
        timeout = next_ping - time.monotonic()
        if self.gap_deadline is not None:
            timeout = min(timeout, self.gap_deadline - time.monotonic())
        message = sub.get(timeout=max(0.0, timeout))
        if self.writer is not None:
            sub.disarm()  # from here on this stream writes, the hub only fills the mailbox
            self.last = max(self.last, sub.revision or 0)  # what the hub wrote meanwhile
            if sub.broken:
                raise Gone
            if sub.pending:
                pending, sub.pending = sub.pending, b""
                try:
                    self.writer.send_all(pending)
                except OSError:
                    raise Gone from None
        return message

    def _in_order(self):
        """Send the buffered messages that follow the last revision without a gap."""
        while self.last + 1 in self.waiting:
            message = self.waiting.pop(self.last + 1)
            yield message.frame(self.audience)
            self.last = message.revision

    def _close_gap(self, now: float):
        """The missing revision did not come: re-read the room, then send what was buffered beyond it."""
        before = self.last
        yield self._resync()
        # A buffered revision the database does not have yet cannot be waited for forever.
        self.waiting = {r: m for r, m in self.waiting.items() if r > self.last} if self.last > before else {}
        self.gap_deadline = None
        yield from self._in_order()
        if self.waiting:
            self.gap_deadline = now + GAP_WAIT_SECONDS

    # -- reading the room
    def _resync(self) -> bytes:
        """The whole room as one `resync` event, at the revision it shows (which becomes `last`).

        Read in one snapshot, so its content is exactly its revision; rendered once per revision and audience
        in this process (the hub keeps the newest frame of each room with open tabs)."""
        hub = live.broker(self.app)
        with self.app.test_request_context("/", base_url=self.base_url):
            try:
                _one_snapshot()
                user, meeting = self._user_and_meeting()
                if not self._may_view(user, meeting):
                    raise Gone
                revision = current_revision(self.meeting_id)
                # What a room shows depends on its revision and the audience, never on who looks (access is
                # checked above): tabs resyncing to the same revision share one rendering.
                frame = hub.resync_frame(self.meeting_id, self.audience, self.base_url, revision,
                                         lambda: sse_frame("resync", live.render_live(meeting, self.audience), revision))
            finally:
                db.session.remove()
        self.last = revision
        return frame

    def _check_access(self, revision: bool = False) -> int | None:
        """Checked again now and then: someone removed from a confidential meeting stops receiving it.

        With `revision`, also the room's committed revision, read in the same short session (where a new stream
        starts from)."""
        with self.app.app_context():
            try:
                user, meeting = self._user_and_meeting()
                if not self._may_view(user, meeting):
                    raise Gone
                self.confidential = bool(meeting.confidential)
                return current_revision(self.meeting_id) if revision else None
            finally:
                db.session.remove()

    def _user_and_meeting(self) -> tuple[User | None, Meeting | None]:
        return db.session.get(User, self.user_id), db.session.get(Meeting, self.meeting_id)

    @staticmethod
    def _may_view(user: User | None, meeting: Meeting | None) -> bool:
        return bool(user and meeting and user.is_enabled and can_view(user, meeting))
