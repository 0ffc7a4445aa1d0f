"""Fan-out of room events to the open SSE streams: in-process, or across processes via Redis.

A `Message` is one committed change of one room: its revision (the SSE id), its kind
(`update`: fragments swapped out of band; `resync`: the whole room) and the fragment
rendered for each audience (`write`, `read`, `screen`). It is encoded as an SSE frame once per
audience, however many streams send it.

`InProcessBroker` delivers to the streams of this process (the default: one process, threads
or greenlets). `RedisBroker` publishes to Redis (pub/sub, when REDIS_URL is set) and one
listener per process delivers to the local streams, so several gunicorn workers or hosts share
rooms. Both keep a watchdog: every few seconds it compares, for the rooms with open streams
here, the revision in the database with the oldest one any of those streams has sent; a
revision that is still missing one round later (a worker killed between its commit and its
publish, a lost Redis message, a publish that failed, another worker without Redis) gets a
`check` message and the streams behind it resync. No update is lost: at worst it arrives late.
What counts is each stream's own revision, not the newest this process has seen: a tab that
connects after a lost publish starts at the new revision, while the older tabs still lack it.

Under gunicorn's gevent worker a stream that is up to date hands its socket to the hub (`DirectWriter`):
`deliver()` then writes the next frame straight to that socket without waking the stream's greenlet, in
one loop over the room's streams, the way an asyncio server fans out. Waking a greenlet per tab to have
it write the same bytes cost about three times the send itself (bench/live_fanout.py). Only a write
that completes at once is done there; anything else (a gap, a check, a slow client whose socket buffer
is full, a closed connection) goes back to the stream's greenlet through its mailbox, which first takes
its socket back.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

try:
    from gevent import monkey as gevent_monkey
    from gevent.socket import socket as gevent_socket
except ImportError:  # gevent is what `make serve` runs on; without it streams write their own frames
    gevent_monkey = gevent_socket = None

log = logging.getLogger(__name__)

AUDIENCES = ("write", "read", "screen")


class Message:
    """One room event: meeting, revision, kind and the rendered fragment per audience."""

    __slots__ = ("meeting_id", "revision", "kind", "fragments", "published_at", "_frames", "_chunks")

    def __init__(self, meeting_id: int, revision: int, kind: str, fragments: dict[str, str] | None = None,
                 published_at: float | None = None):
        self.meeting_id = int(meeting_id)
        self.revision = int(revision)
        self.kind = kind
        self.fragments = fragments or {}
        self.published_at = published_at if published_at is not None else time.time()
        self._frames: dict[str, bytes] = {}
        self._chunks: dict[str, bytes] = {}

    def frame(self, audience: str) -> bytes:
        """The SSE frame for one audience, encoded once and shared by every stream."""
        cached = self._frames.get(audience)
        if cached is None:
            cached = self._frames[audience] = sse_frame(self.kind, self.fragments.get(audience, ""), self.revision)
        return cached

    def chunk(self, audience: str) -> bytes:
        """The frame as one HTTP/1.1 chunk (what the server writes for a yielded frame), also encoded once."""
        cached = self._chunks.get(audience)
        if cached is None:
            frame = self.frame(audience)
            cached = self._chunks[audience] = b"%X\r\n%s\r\n" % (len(frame), frame)
        return cached

    def to_json(self) -> str:
        return json.dumps({"m": self.meeting_id, "r": self.revision, "k": self.kind, "f": self.fragments,
                           "t": self.published_at}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Message:
        data = json.loads(raw)
        return cls(data["m"], data["r"], data["k"], data.get("f") or {}, data.get("t"))

    def __repr__(self) -> str:
        return f"<Message room={self.meeting_id} rev={self.revision} {self.kind}>"


def sse_frame(event: str, data: str, event_id: int | None = None) -> bytes:
    """Encode one SSE event; every line of a multi-line payload is its own `data:` field."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event:
        lines.append(f"event: {event}")
    for line in (data or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        lines.append(f"data: {line}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


class Subscription:
    """One stream's mailbox for one room. Bounded: a stream that falls far behind resyncs.

    A deque and an event rather than a `queue.Queue`: one message reaches hundreds of mailboxes at once,
    and this is the cheapest hand-over under gevent and threads alike (one consumer per mailbox).
    """

    def __init__(self, hub: Hub, meeting_id: int, maxsize: int = 500):
        self.hub = hub
        self.meeting_id = meeting_id
        self.maxsize = maxsize
        self.overflowed = False
        #: The newest revision its stream has sent to the client (kept up to date by the stream, or by the hub
        #: while it writes for the stream; the watchdog reads it). None while the stream reads the room for its start.
        self.revision: int | None = None
        #: Set while the hub may write the stream's next frames itself (see `arm`); None while the stream writes.
        self.direct: DirectWriter | None = None
        self.audience = ""
        #: Bytes of a frame the hub could only partly write: the stream sends them before anything else.
        self.pending = b""
        #: The hub's write found the connection closed: the stream ends.
        self.broken = False
        self._items: deque = deque()
        self._ready = threading.Event()

    def arm(self, writer: DirectWriter, audience: str) -> None:
        """Let the hub write this stream's next frames; only while nothing waits in the mailbox."""
        if not self._items and not self.pending and not self.broken:
            self.audience = audience
            self.direct = writer

    def disarm(self) -> None:
        """The stream takes its socket back (called by the stream before it writes anything)."""
        self.direct = None

    def write_direct(self, message: Message) -> bool:
        """Write the next update straight to the socket when that completes at once; False: use the mailbox.

        Runs in whichever greenlet delivers, never waits: a socket that cannot take the whole frame now
        keeps the rest in `pending` and the stream's greenlet is woken to send it and carry on itself.
        """
        writer = self.direct
        if (writer is None or message.kind != "update" or self.revision is None or self._items
                or message.revision != self.revision + 1):
            if writer is not None and message.kind == "update" and self.revision is not None \
                    and message.revision <= self.revision:
                return True  # already sent (a repeat through another path): nothing to do
            self.direct = None
            return False
        data = message.chunk(self.audience) if writer.chunked else message.frame(self.audience)
        try:
            sent = writer.send_now(data)
        except OSError:
            self.direct, self.broken = None, True
            self._ready.set()
            return True
        self.revision = message.revision
        if sent < len(data):
            self.direct, self.pending = None, data[sent:]
            self._ready.set()
        return True

    def put(self, message: Message) -> None:
        if len(self._items) >= self.maxsize:
            self.overflowed = True
            return
        self._items.append(message)
        self._ready.set()

    def get(self, timeout: float | None) -> Message | None:
        """The next message, or None after `timeout` seconds without one."""
        if not self._items:
            if timeout is not None and timeout <= 0:
                return None
            self._ready.wait(timeout)
        try:
            message = self._items.popleft()
        except IndexError:
            return None
        if not self._items:
            # A put() racing with this leaves its message in the deque, which the next get() looks at first.
            self._ready.clear()
        return message

    def drain_overflow(self) -> bool:
        """Tell (once) that messages were dropped, emptying the mailbox: the stream must resync."""
        if not self.overflowed:
            return False
        self.overflowed = False
        self._items.clear()
        self._ready.clear()
        return True

    def close(self) -> None:
        self.hub.unsubscribe(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DirectWriter:
    """A stream's socket, for the hub to write frames to without waking the stream (gevent workers only).

    `chunked`: the server frames the response body in HTTP/1.1 chunks (gunicorn does for every HTTP/1.1
    response without a length), so what is written here must be framed the same way.
    """

    __slots__ = ("sock", "chunked")

    def __init__(self, sock, chunked: bool):
        self.sock = sock
        self.chunked = chunked

    def send_now(self, data: bytes) -> int:
        """Send what the socket takes at once (gevent: timeout 0 never waits); the count of bytes sent."""
        try:
            return self.sock.send(data, 0, 0.0)
        except BlockingIOError:
            return 0

    def send_all(self, data: bytes) -> None:
        """Send everything, waiting cooperatively for a slow client (from the stream's own greenlet)."""
        self.sock.sendall(data)

    @classmethod
    def for_request(cls, environ) -> DirectWriter | None:
        """The writer for a streaming response under gunicorn's gevent worker; None under any other server."""
        sock = environ.get("gunicorn.socket")
        if sock is None or not str(environ.get("SERVER_SOFTWARE", "")).startswith("gunicorn"):
            return None
        if gevent_monkey is None:  # no gevent: a threaded worker, where two threads must not share a socket
            return None
        # Only a plain gevent socket (TLS sockets frame their own records) in a gevent-patched process, where the
        # hub and the stream run in one thread and a write that never waits cannot be interleaved with another.
        if not gevent_monkey.is_module_patched("socket") or type(sock) is not gevent_socket:
            return None
        if environ.get("REQUEST_METHOD") == "HEAD":
            return None
        return cls(sock, chunked=environ.get("SERVER_PROTOCOL") not in ("HTTP/1.0", "HTTP/0.9"))


class Hub(ABC):
    """Local fan-out to the streams of this process, plus the revision watchdog."""

    name = "hub"

    def __init__(self, revision_reader: Callable[[list[int]], dict[int, int]] | None = None,
                 watch_seconds: float = 5.0):
        self._lock = threading.Lock()
        self._rooms: dict[int, set[Subscription]] = {}
        #: Per room, a committed revision some stream here lacked at the watchdog's last look.
        self._behind: dict[int, int] = {}
        self._revision_reader = revision_reader
        #: The newest `resync` frame per (room, audience, site address): every tab that resyncs to the same
        #: revision gets the same bytes (a restart or a reconnect storm renders each room once, not once a tab).
        self._resyncs: dict[tuple[int, str, str], tuple[int, bytes]] = {}
        #: One lock per (room, audience, site) while a tab renders its resync: the others wait for that rendering.
        self._rendering: dict[tuple[int, str, str], threading.Lock] = {}
        self._watch_seconds = watch_seconds
        self._watch_started = False
        self._closed = False

    # -- streams
    def subscribe(self, meeting_id: int) -> Subscription:
        sub = Subscription(self, int(meeting_id))
        with self._lock:
            self._rooms.setdefault(sub.meeting_id, set()).add(sub)
        self._on_subscribe()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._rooms.get(sub.meeting_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._rooms[sub.meeting_id]
                    self._behind.pop(sub.meeting_id, None)
                    for key in [k for k in self._resyncs if k[0] == sub.meeting_id]:
                        del self._resyncs[key]
                    for key in [k for k in self._rendering if k[0] == sub.meeting_id]:
                        del self._rendering[key]

    def subscriber_count(self, meeting_id: int | None = None) -> int:
        with self._lock:
            if meeting_id is None:
                return sum(len(s) for s in self._rooms.values())
            return len(self._rooms.get(int(meeting_id), ()))

    def resync_frame(self, meeting_id: int, audience: str, site: str, revision: int,
                     render: Callable[[], bytes]) -> bytes:
        """The `resync` frame of this revision for this audience: rendered by the first tab that asks, while the
        tabs asking at the same moment wait for it (a reconnect storm renders each room once, not once a tab)."""
        frame = self.cached_resync(meeting_id, audience, site, revision)
        if frame is not None:
            return frame
        with self._lock:
            rendering = self._rendering.setdefault((meeting_id, audience, site), threading.Lock())
        with rendering:
            frame = self.cached_resync(meeting_id, audience, site, revision)
            if frame is None:
                frame = render()
                self.keep_resync(meeting_id, audience, site, revision, frame)
        return frame

    def cached_resync(self, meeting_id: int, audience: str, site: str, revision: int) -> bytes | None:
        """The resync frame of this revision when a tab of this process rendered it already, else None."""
        kept = self._resyncs.get((meeting_id, audience, site))
        return kept[1] if kept is not None and kept[0] == revision else None

    def keep_resync(self, meeting_id: int, audience: str, site: str, revision: int, frame: bytes) -> None:
        """Keep a rendered resync frame for the next tab (only the newest revision of a room with open tabs)."""
        with self._lock:
            if meeting_id not in self._rooms:
                return
            kept = self._resyncs.get((meeting_id, audience, site))
            if kept is None or kept[0] <= revision:
                self._resyncs[(meeting_id, audience, site)] = (revision, frame)

    def deliver(self, message: Message) -> None:
        """Hand a message to every local stream of its room."""
        with self._lock:
            subs = list(self._rooms.get(message.meeting_id, ()))
        for sub in subs:
            if sub.direct is None or not sub.write_direct(message):
                sub.put(message)

    # -- publishing
    @abstractmethod
    def publish(self, message: Message) -> None:
        """Send a committed change to every stream of its room, in every worker that holds one."""

    def problem(self) -> str | None:
        """Why this broker cannot carry room events now (for /healthz), or None when it can."""
        return None

    # -- the watchdog
    def _on_subscribe(self) -> None:
        if self._watch_started or self._revision_reader is None or not self._watch_seconds:
            return
        with self._lock:
            if self._watch_started:
                return
            self._watch_started = True
        threading.Thread(target=self._watch, name="room-watchdog", daemon=True).start()

    def _watch(self) -> None:
        while not self._closed:
            time.sleep(self._watch_seconds)
            try:
                self.check_revisions()
            except Exception:  # the database may be briefly away; try again next round
                log.exception("room watchdog: reading revisions failed")

    def _oldest_sent(self, meeting_id: int) -> int | None:
        sent = [s.revision for s in self._rooms.get(meeting_id, ()) if s.revision is not None]
        return min(sent) if sent else None

    def check_revisions(self) -> list[int]:
        """Compare committed revisions with what each stream has sent; one still missing a round later gets a check."""
        with self._lock:
            rooms = list(self._rooms)
        if not rooms or self._revision_reader is None:
            return []
        committed = self._revision_reader(rooms)
        flagged = []
        for meeting_id, revision in committed.items():
            with self._lock:
                oldest = self._oldest_sent(meeting_id)
                missing_before = self._behind.pop(meeting_id, None)
                if oldest is None or revision <= oldest:
                    continue
                if missing_before is None or oldest >= missing_before:
                    # Maybe the message is in flight (a busy room always has one): if this revision
                    # has not reached every stream by the next round, resync.
                    self._behind[meeting_id] = revision
                    continue
            log.warning("room %s: revision %s committed but not delivered to every stream here; they resync",
                        meeting_id, missing_before)
            flagged.append(meeting_id)
            self.deliver(Message(meeting_id, revision, "check"))
        return flagged

    def close(self) -> None:
        self._closed = True


class InProcessBroker(Hub):
    """Delivers to the streams of this process only (one process: the default); always reachable."""

    name = "in-process"

    def publish(self, message: Message) -> None:
        self.deliver(message)


class RedisBroker(Hub):
    """Publishes through Redis pub/sub; one listener per process delivers to its local streams."""

    name = "redis"

    def __init__(self, url: str, prefix: str = "minutes:room", **kwargs):
        super().__init__(**kwargs)
        import redis

        self.url = url
        self.prefix = prefix
        # Named, so `CLIENT LIST` shows which processes listen for which deployment.
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=3, health_check_interval=30,
                                           client_name=f"minutes-room:{prefix}:{os.getpid()}")
        self._health = None
        self._listener_started = False
        self._ready = threading.Event()
        #: Prefixed to what this process publishes, so its listener skips what it already delivered.
        self._origin = f"{os.getpid()}-{id(self):x}|"

    def channel(self, meeting_id: int) -> str:
        return f"{self.prefix}:{meeting_id}"

    def publish(self, message: Message) -> None:
        # This process's own streams get it at once; the other processes through Redis.
        self.deliver(message)
        try:
            self._redis.publish(self.channel(message.meeting_id), self._origin + message.to_json())
        except Exception:
            # The watchdog notices the missing revision and the streams resync.
            log.exception("room %s: publishing revision %s to Redis failed", message.meeting_id, message.revision)

    #: A health check answers within this many seconds, whatever Redis does.
    HEALTH_TIMEOUT = 1.0

    def problem(self) -> str | None:
        """PING Redis on a connection of its own: short timeouts and no retries, so a dead Redis answers fast."""
        if self._health is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            self._health = redis.Redis.from_url(self.url, socket_connect_timeout=self.HEALTH_TIMEOUT,
                                                socket_timeout=self.HEALTH_TIMEOUT, retry=Retry(NoBackoff(), 0))
        try:
            self._health.ping()
        except Exception as exc:
            log.warning("room broker: Redis does not answer PING: %s", exc)
            return f"Redis 无法连接（{type(exc).__name__}）"
        return None

    def _on_subscribe(self) -> None:
        super()._on_subscribe()
        if self._listener_started:
            return
        with self._lock:
            if self._listener_started:
                return
            self._listener_started = True
        threading.Thread(target=self._listen, name="room-redis-listener", daemon=True).start()
        self._ready.wait(timeout=3)

    def _listen(self) -> None:
        backoff = 0.5
        while not self._closed:
            pubsub = self._redis.pubsub()
            try:
                pubsub.psubscribe(self.prefix + ":*")
                # Wait for the subscription to be confirmed so nothing published after this is missed.
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:
                    reply = pubsub.get_message(timeout=0.5)
                    if reply and reply.get("type") == "psubscribe":
                        break
                reconnected = self._ready.is_set()
                self._ready.set()
                backoff = 0.5
                if reconnected:
                    self._recheck_all()
                for item in pubsub.listen():
                    if self._closed:
                        break
                    if item.get("type") not in ("pmessage", "message"):
                        continue
                    data = item["data"].decode() if isinstance(item["data"], bytes) else item["data"]
                    origin, _, payload = data.partition("|")
                    if origin + "|" == self._origin:
                        continue
                    try:
                        self.deliver(Message.from_json(payload))
                    except (ValueError, KeyError):
                        log.warning("room broker: ignoring a malformed message on %s", item.get("channel"))
            except Exception:
                if self._closed:
                    break
                log.warning("room broker: Redis connection lost; reconnecting in %.1fs", backoff, exc_info=True)
                self._ready.set()
                time.sleep(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                try:
                    pubsub.close()
                except Exception:  # already broken: the loop reconnects  # nosec B110
                    pass

    def _recheck_all(self) -> None:
        """After a reconnect, messages may have been lost: compare every local room with the database now."""
        if self._revision_reader is None:
            return
        with self._lock:
            rooms = list(self._rooms)
        if not rooms:
            return
        try:
            committed = self._revision_reader(rooms)
        except Exception:
            log.exception("room broker: reading revisions after reconnect failed")
            return
        for meeting_id, revision in committed.items():
            self.deliver(Message(meeting_id, revision, "check"))

    def close(self) -> None:
        super().close()
        for client in (self._redis, self._health):
            try:
                if client is not None:
                    client.close()
            except Exception:  # shutting down: a connection that fails to close is gone anyway  # nosec B110
                pass


def make_broker(url: str | None, revision_reader=None, watch_seconds: float = 5.0,
                prefix: str = "minutes:room") -> Hub:
    """Redis when a URL is configured, otherwise in-process."""
    if url:
        return RedisBroker(url, prefix=prefix, revision_reader=revision_reader, watch_seconds=watch_seconds)
    return InProcessBroker(revision_reader=revision_reader, watch_seconds=watch_seconds)
