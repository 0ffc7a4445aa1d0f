"""Room fixtures: a planned meeting with a host, a recorder, participants and an agenda; SSE readers; Redis."""
import os
import queue
import threading
import time
from dataclasses import dataclass

import pytest

from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.people.models import User
from tests.conftest import IN_CI


@dataclass
class Cast:
    """The people of one meeting and the meeting itself."""

    meeting: object
    host: User
    recorder: User
    participant: User
    cc: User
    outsider: User
    items: list

    def dept(self, name):
        from minutes.people.service import get_department

        return get_department(name)


@pytest.fixture
def cast(app, make_user, make_meeting, clock):
    """A meeting on 2026-06-15 14:00 (Mon) with host, recorder, a participant, a cc and two agenda items."""
    clock(2026, 6, 15, 13, 55)
    host = make_user("host", "王主持", dept="客服部")
    recorder = make_user("recorder", "李记录", dept="客服部")
    participant = make_user("tech", "张技术", dept="技术部")
    cc = make_user("legal", "赵法务", dept="法务部")
    outsider = make_user("outsider", "钱旁人", dept="产品部")
    meeting = make_meeting(host)
    meetings.invite(host, meeting, [recorder.id], "recorder")
    meetings.invite(host, meeting, [participant.id], "participant")
    meetings.invite(host, meeting, [cc.id], "cc")
    first = meetings.add_agenda_item(host, meeting, "客户投诉升级后的处理时效", 30, participant.department_id)
    second = meetings.add_agenda_item(host, meeting, "投诉提报模板优化", 20, host.department_id)
    db.session.commit()
    return Cast(meeting, host, recorder, participant, cc, outsider, [first, second])


@pytest.fixture
def started(cast):
    """The same meeting, started by the recorder."""
    from minutes.room import service

    service.start_meeting(cast.recorder, cast.meeting)
    db.session.commit()
    return cast


# --- Server-Sent Events ----------------------------------------------------------------------

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_problem(url: str = REDIS_URL) -> str | None:
    """None when a Redis server answers at `url`, else why not."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # any failure means "no server here"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


@pytest.fixture(scope="session")
def redis_url():
    """The test Redis; skipped with the reason when unreachable, except under CI=true where it must run."""
    problem = redis_problem()
    if problem:
        message = f"Redis 未在 {REDIS_URL} 运行：{problem}"
        if IN_CI:
            pytest.fail(message + "（CI=true 时 Redis 测试必须运行）", pytrace=False)
        pytest.skip(message + "，跳过 Redis 测试（CI=true 时必须运行）")
    return REDIS_URL


@pytest.fixture(params=["in-process", "redis"])
def broker(request, app):
    """Each test using it runs once with the in-process broker and once with Redis pub/sub."""
    from minutes.room import live

    saved = app.extensions[live.EXTENSION_KEY]
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        # Our own channels: test runs in parallel (SQLite and PostgreSQL passes, other checkouts) share this
        # Redis and their meetings have the same ids.
        app.config["ROOM_REDIS_PREFIX"] = f"minutes:test-room:{os.getpid()}"
        app.extensions[live.EXTENSION_KEY] = live.make_room_broker(app, url)
    else:
        app.extensions[live.EXTENSION_KEY] = live.make_room_broker(app, None)
    hub = app.extensions[live.EXTENSION_KEY]
    yield hub
    hub.close()
    app.extensions[live.EXTENSION_KEY] = saved


@dataclass
class Event:
    """One SSE block as received: its fields, and the raw lines."""

    id: str | None
    event: str | None
    data: str
    lines: list
    comment: str | None = None


def parse_block(block: str) -> Event:
    fields = {"id": None, "event": None}
    data, comment = [], None
    lines = block.split("\n")
    for line in lines:
        if line.startswith(":"):
            comment = line[1:].strip()
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name in fields:
            fields[name] = value
    return Event(fields["id"], fields["event"], "\n".join(data), lines, comment)


class StreamReader:
    """Read an SSE response in a thread, block by block, like a browser's EventSource would."""

    def __init__(self, response):
        self.response = response
        self.blocks: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        buffer = ""
        iterator = iter(self.response.response)
        try:
            for chunk in iterator:
                buffer += chunk.decode("utf-8") if isinstance(chunk, bytes) else chunk
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    self.blocks.put(parse_block(block))
                if self._stop.is_set():
                    break
        finally:
            close = getattr(iterator, "close", None)
            if close:
                close()
            self.blocks.put(None)

    def next(self, timeout: float = 5.0, comments: bool = False) -> Event:
        """The next event (skipping comments and id-only blocks unless asked), or fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no SSE event within %.1fs" % timeout)
            try:
                block = self.blocks.get(timeout=left)
            except queue.Empty:
                raise AssertionError("no SSE event within %.1fs" % timeout) from None
            if block is None:
                raise AssertionError("the stream ended")
            if comments or (block.comment is None and block.data != "" or block.event):
                return block

    def quiet(self, seconds: float) -> list:
        """Everything but comments that arrives within `seconds` (expected: nothing)."""
        got, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                block = self.blocks.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if block is not None and block.comment is None and (block.data or block.event):
                got.append(block)
        return got

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture
def open_stream(app):
    """open_stream(client, meeting_id, **query, headers={}) → a StreamReader on /meetings/<id>/events."""
    app.config["ROOM_PING_SECONDS"] = 0.2  # so closed streams notice quickly
    readers = []

    def opener(client, meeting_id, headers=None, **query):
        response = client.get(f"/meetings/{meeting_id}/events", query_string=query, headers=headers or {},
                              buffered=False)
        assert response.status_code == 200, response.status_code
        assert response.mimetype == "text/event-stream"
        reader = StreamReader(response)
        readers.append(reader)
        return reader

    yield opener
    for reader in readers:
        reader.close()


@pytest.fixture
def second_client(app):
    """Another browser: its own cookies."""
    return app.test_client()


def login(client, user):
    from tests.conftest import PASSWORD

    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client
