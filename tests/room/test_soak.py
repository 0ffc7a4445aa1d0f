"""SQLite under load: 20 writers and 50 live viewers for 60 s through the production server.

gunicorn runs as `make serve` runs it (gunicorn.conf.py: gevent, two workers, Redis between them)
on a SQLite file. Twenty writers add points without pause — ten through the room's htmx form with a
session cookie and CSRF token, ten through the API — while fifty SSE viewers watch the room. Nothing
may answer 5xx, no "database is locked" may appear anywhere, every acknowledged point must be in the
database, and every viewer must have received every point, in revision order, none twice.

The duration is the issue's 60 s (MINUTES_SOAK_SECONDS changes it for a quick look).
"""
import os
import random
import re
import socket
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import text

from minutes.api import service as tokens
from minutes.extensions import db
from tests.conftest import BACKEND, PASSWORD
from tests.server import Gunicorn, HttpClient

SECONDS = float(os.environ.get("MINUTES_SOAK_SECONDS", "60"))
WRITERS = 20
VIEWERS = 50

pytestmark = [pytest.mark.redis, pytest.mark.serial,
              pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's single writer is what is under test")]


class Viewer(threading.Thread):
    """One live tab: a raw SSE connection; records every event's revision and the points it carries."""

    def __init__(self, port: int, cookie: str, path: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.cookie, self.path, self.stop = port, cookie, path, stop
        self.revisions: list[int] = []
        self.added: list[int] = []  # point ids pushed one by one, in arrival order
        self.seen: set[int] = set()  # every point id shown to this tab (pushes and resyncs)
        self.kinds: Counter = Counter()
        self.log: list = []
        self.problems: list[str] = []
        self.connected = threading.Event()

    def run(self):
        try:
            self._read()
        except Exception as exc:  # reported by the test
            self.problems.append(repr(exc))
        finally:
            self.connected.set()

    def _read(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            # HTTP/1.0: the body comes unchunked, so SSE blocks can be split on blank lines as they arrive
            sock.sendall(f"GET {self.path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                         f"Cookie: {self.cookie}\r\n\r\n".encode())
            sock.settimeout(0.3)
            buffer, head = b"", None
            while not self.stop.is_set():
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    self.problems.append("the stream ended")
                    return
                buffer += chunk
                if head is None:
                    if b"\r\n\r\n" not in buffer:
                        continue
                    head, buffer = buffer.split(b"\r\n\r\n", 1)
                    if b" 200 " not in head.split(b"\r\n", 1)[0]:
                        self.problems.append(head.decode(errors="replace"))
                        return
                    self.connected.set()
                *blocks, buffer = buffer.split(b"\n\n")
                for block in blocks:
                    self._event(block.decode())

    def _event(self, block: str):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line and not line.startswith(":"))
        if "event" not in fields or fields["event"] == "check":
            return
        revision = int(fields["id"])
        self.log.append((revision, fields["event"]))
        if self.revisions and revision <= self.revisions[-1]:
            self.problems.append(f"{fields['event']} {revision} after {self.log[-6:-1]}")
        self.revisions.append(revision)
        self.kinds[fields["event"]] += 1
        ids = [int(i) for i in re.findall(r'id="point-(\d+)"', block)]
        if fields["event"] == "update":
            self.added.extend(ids)
        self.seen.update(ids)


def _writer(name, post, stop, acknowledged, failures):
    """Post points one after another: `post(text)` answers (acknowledged?, what came back)."""
    i = 0
    while not stop.is_set():
        i += 1
        body = f"压测 {name}-{i}：技术部承诺 48 小时内给出根因"
        sent = time.monotonic()
        try:
            ok, answer = post(body)
        except Exception as exc:
            failures.append(f"{name}: {exc!r}")
            continue
        if ok:
            acknowledged.append((body, time.monotonic() - sent))
        else:
            failures.append(f"{name}: {str(answer)[:300]}")


def api_poster(server, token, item_ids):
    def post(body):
        status, data = server.api("POST", f"/agenda/{random.choice(item_ids)}/points", token,
                                  {"kind": "viewpoint", "text": body, "department": "技术部"}, timeout=45)
        return status == 201, (status, data)
    return post


def form_poster(browser, meeting_id, csrf, item_ids, department_id):
    """The room's htmx form, as the recorder's browser sends it."""
    def post(body):
        status, html = browser.request("POST", f"/meetings/{meeting_id}/points",
                                       {"agenda_item_id": random.choice(item_ids), "kind": "viewpoint",
                                        "department_id": department_id, "text": body},
                                       {"X-CSRFToken": csrf, "HX-Request": "true"}, timeout=45)
        return status == 200 and "✓ 已添加" in html, (status, html)
    return post


def test_twenty_writers_and_fifty_viewers_on_sqlite(started, redis_url, tmp_path):
    assert db.engine.dialect.name == "sqlite"
    meeting_id = started.meeting.id
    item_ids = [item.id for item in started.items]
    department_id = started.host.department_id
    watching = [started.participant.username, started.cc.username, started.host.username]
    writing = [started.recorder.username, started.host.username]
    _token, api_token = tokens.create_token(started.recorder, "压测")
    db.session.commit()  # and hold no snapshot open while the server writes
    server = Gunicorn(db.engine.url.render_as_string(hide_password=False), tmp_path / "gunicorn.log", workers=2,
                      redis_url=redis_url, LOG_LEVEL="info").start()
    stop_writers, stop_viewers = threading.Event(), threading.Event()
    acknowledged: list[tuple[str, float]] = []
    failures: list[str] = []
    viewers: list[Viewer] = []
    writers: list[threading.Thread] = []
    try:
        watchers = [HttpClient(server.port).login(username, PASSWORD) for username in watching]
        for n in range(VIEWERS):
            cookie = "; ".join(f"{k}={v}" for k, v in watchers[n % len(watchers)].cookies.items())
            viewers.append(Viewer(server.port, cookie, f"/meetings/{meeting_id}/events", stop_viewers))
        for viewer in viewers:
            viewer.start()
        for viewer in viewers:
            assert viewer.connected.wait(20) and not viewer.problems, viewer.problems
        recorders = [HttpClient(server.port).login(username, PASSWORD) for username in writing]
        csrf = [b.csrf(f"/meetings/{meeting_id}/room") for b in recorders]
        posters = [(f"接口{n}", api_poster(server, api_token, item_ids)) for n in range(WRITERS // 2)]
        posters += [(f"表单{n}", form_poster(recorders[n % 2], meeting_id, csrf[n % 2], item_ids, department_id))
                    for n in range(WRITERS // 2)]
        writers = [threading.Thread(target=_writer, args=(name, post, stop_writers, acknowledged, failures),
                                    daemon=True) for name, post in posters]
        started_at = time.monotonic()
        for thread in writers:
            thread.start()
        time.sleep(SECONDS)
        stop_writers.set()
        for thread in writers:
            thread.join(timeout=50)
        elapsed = time.monotonic() - started_at

        # Every tab catches up with the last committed revision.
        db.session.rollback()
        final = db.session.execute(text("SELECT revision FROM room_state WHERE meeting_id = :m"),
                                   {"m": meeting_id}).scalar()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(
                not v.revisions or v.revisions[-1] < final for v in viewers if not v.problems):
            time.sleep(0.1)
    finally:
        stop_writers.set()
        stop_viewers.set()
        for viewer in viewers:
            viewer.join(timeout=5)
        log = server.log_tail(10**7)  # before the shutdown, whose noise is not under test
        server.stop()
    stored = dict(db.session.execute(text("SELECT text, id FROM point WHERE meeting_id = :m"),
                                     {"m": meeting_id}).all())
    waits = sorted(seconds for _body, seconds in acknowledged)
    print(f"\n{len(waits)} points in {elapsed:.0f}s ({len(waits) / elapsed:.1f}/s) by {WRITERS} writers, "
          f"{VIEWERS} viewers; write latency p50 {waits[len(waits) // 2]:.2f}s p95 {waits[int(len(waits) * .95)]:.2f}s "
          f"max {waits[-1]:.2f}s; events: {sum((v.kinds for v in viewers), Counter())}")

    assert failures == [], failures[:10]
    assert "database is locked" not in log
    assert "Traceback" not in log and "[ERROR]" not in log, log[-3000:]
    assert len(acknowledged) >= WRITERS, "too few writes to mean anything"
    missing = [body for body, _seconds in acknowledged if body not in stored]
    assert missing == [], f"{len(missing)} acknowledged points missing"
    expected = set(stored.values())
    assert [(n, v.problems) for n, v in enumerate(viewers) if v.problems] == []
    for n, viewer in enumerate(viewers):
        assert viewer.revisions[-1] == final, (n, viewer.revisions[-1], final)
        assert expected <= viewer.seen, (n, len(expected - viewer.seen))
        assert len(viewer.added) == len(set(viewer.added)), f"viewer {n} got a point twice"
        assert viewer.added == sorted(viewer.added), f"viewer {n} got points out of order"
