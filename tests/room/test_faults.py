"""Integrity under faults: a live room under the production server loses nothing and repeats nothing.

Two gevent workers (gunicorn.conf.py) share the room through Redis. Ten tabs follow it the way
the browser does (EventSource + the htmx SSE extension + static/room.js): they start from the
room page, reconnect with Last-Event-ID and ?rev=, append the `update` fragments out of band and
replace their whole view on `resync`. The recorder posts 200 points through the form endpoint;
meanwhile 100 tab connections are cut at random moments and, half-way, one worker is killed
with SIGKILL while a point is being posted (gunicorn starts a new one). Every tab must end with
the 200 points, in order, each once.
"""
import http.client
import os
import random
import signal
import socket
import struct
import threading
import time
import urllib.parse

import lxml.html
import pytest

from minutes.extensions import db
from minutes.room.models import Point
from tests.conftest import PASSWORD
from tests.server import Gunicorn, HttpClient

pytestmark = [pytest.mark.redis, pytest.mark.serial]

POINTS = 200
CUTS = 100
TABS = 10
KILL_AT = POINTS // 2


class Tab:
    """One browser tab on the room: its view of the points, kept by the SSE protocol alone."""

    def __init__(self, browser: HttpClient, meeting_id: int, item_id: int):
        self.browser = browser
        self.meeting_id = meeting_id
        self.item_id = item_id
        status, html = browser.request("GET", f"/meetings/{meeting_id}/room")
        assert status == 200, status
        page = lxml.html.fromstring(html)
        self.rev = int(page.get_element_by_id("room-stream-slot").get("data-rev"))  # room.js keeps ?rev= here
        self.last_event_id = None  # EventSource's, sent as Last-Event-ID when it reconnects
        self.lists = _point_lists(page)
        self.conn: http.client.HTTPConnection | None = None
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.connects = self.resyncs = self.updates = self.repeated = self.refused = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.stop = threading.Event()

    def points(self) -> list[tuple[int, str]]:
        with self.lock:
            return list(self.lists.get(self.item_id, []))

    def start(self):
        self.thread.start()

    def cut(self) -> bool:
        """Cut the connection now (as a flaky network would): half the time a reset, else a clean close."""
        conn = self.conn
        if not self.open.is_set() or conn is None or conn.sock is None:
            return False
        try:
            if random.random() < 0.5:
                conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return False
        self.open.clear()
        return True

    def _run(self):
        while not self.stop.is_set():
            try:
                self._follow()
            except (OSError, http.client.HTTPException, ValueError):
                pass
            self.open.clear()
            # The browser waits `retry` (2 s) before reconnecting; shorter here to keep the test quick.
            self.stop.wait(random.uniform(0.05, 0.3))

    def _follow(self):
        headers = {"Accept": "text/event-stream", "Cookie": _cookie(self.browser)}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        self.conn = conn = http.client.HTTPConnection("127.0.0.1", self.browser.port, timeout=10)
        try:
            conn.request("GET", f"/meetings/{self.meeting_id}/events?rev={self.rev}", headers=headers)
            response = conn.getresponse()
            if response.status != 200:
                self.refused += 1
                return
            self.connects += 1
            self.open.set()
            fields, data = {}, []
            while not self.stop.is_set():
                line = response.readline()
                if not line.endswith(b"\n"):
                    return  # the connection ended; an unfinished event is dropped, as EventSource does
                line = line.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if "id" in fields:
                        self.last_event_id = fields["id"]
                    if data:
                        self._dispatch(fields.get("event", "message"), "\n".join(data))
                    fields, data = {}, []
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "data":
                        data.append(value)
                    else:
                        fields[name] = value
        finally:
            conn.close()

    def _dispatch(self, event: str, data: str):
        """What htmx and room.js do with an event (and the revision room.js notes for ?rev=)."""
        fragment = lxml.html.fragment_fromstring(data, create_parent="div")
        with self.lock:
            if event == "resync":  # hx-swap="innerHTML" on #room-live: the view is replaced whole
                self.lists = _point_lists(fragment)
                self.resyncs += 1
            elif event == "update":  # out-of-band swaps
                self.updates += 1
                for el in fragment.xpath("//*[@hx-swap-oob]"):
                    swap = el.get("hx-swap-oob")
                    if swap.startswith("beforeend:#points-"):
                        points = self.lists.setdefault(int(swap.rsplit("-", 1)[1]), [])
                        for li in el.xpath("./li[contains(@class, 'point')]"):
                            entry = _point(li)
                            if any(pid == entry[0] for pid, _ in points):
                                self.repeated += 1  # room.js would skip it; the protocol should not send it
                            else:
                                points.append(entry)
                    elif swap == "true":
                        self.lists.update(_point_lists(el))
            if self.last_event_id is not None:
                self.rev = int(self.last_event_id)


def _serving_worker(server, client_port: int, timeout: float = 5.0) -> int:
    """The worker holding the server side of our connection from `client_port` (from /proc: socket inodes)."""
    remote = f"0100007F:{client_port:04X}"
    local = f"0100007F:{server.port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inodes = {row.split()[9] for row in open("/proc/net/tcp").read().splitlines()[1:]
                  if row.split()[1] == local and row.split()[2] == remote}
        for pid in server.worker_pids():
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
                links = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in fds}
            except OSError:
                continue
            if any(f"socket:[{inode}]" in links for inode in inodes if inode != "0"):
                return pid
        time.sleep(0.002)
    raise AssertionError("no worker accepted the request")


def _cookie(client: HttpClient) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def _point(li) -> tuple[int, str]:
    return int(li.get("id").split("-", 1)[1]), li.xpath("string(.//div[contains(@class, 'text')])").strip()


def _point_lists(root) -> dict[int, list[tuple[int, str]]]:
    """Every agenda item's list of points (`<ol id="points-N">`) under `root`, in document order."""
    return {int(ol.get("id").split("-", 1)[1]): [_point(li) for li in ol.xpath("./li[contains(@class, 'point')]")]
            for ol in root.xpath("descendant-or-self::ol[starts-with(@id, 'points-')]")}


def test_every_tab_gets_every_point_once_in_order_through_cuts_and_a_killed_worker(started, redis_url, tmp_path):
    # Watchdog rounds of 1 s instead of 5 so that a lost publish shows up within the test's patience.
    with Gunicorn(db.engine.url.render_as_string(hide_password=False), tmp_path / "gunicorn.log", workers=2,
                  redis_url=redis_url, ROOM_WATCH_SECONDS="1", ROOM_PING_SECONDS="2") as server:
        server.wait_workers()
        try:
            _run_meeting(started, server)
        except Exception as exc:
            raise AssertionError(f"{exc}\n--- gunicorn log ---\n{server.log_tail()}") from exc


def _run_meeting(started, server):
    meeting_id, item_id = started.meeting.id, started.items[0].id
    people = [started.participant, started.cc, started.host, started.recorder]
    browsers = {u.id: HttpClient(server.port).login(u.username, PASSWORD) for u in people}
    tabs = [Tab(browsers[people[i % len(people)].id], meeting_id, item_id) for i in range(TABS)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        assert tab.open.wait(10), "a tab could not connect"

    recorder = browsers[started.recorder.id]
    token = recorder.csrf(f"/meetings/{meeting_id}/room")
    posted, texts = [0], [f"第{k:03d}条：客服部在收到投诉后1小时内补充问题描述" for k in range(1, POINTS + 1)]
    killed, cuts, retries = [], [0], [0]
    done = threading.Event()

    def post(k: int, check_first: bool = False) -> None:
        """Post point k until it is saved; after an unanswered POST look first whether it was saved anyway."""
        text = texts[k]
        for attempt in range(20):
            if check_first:
                saved = _saved(text)
                if saved is None:
                    time.sleep(0.2)
                    continue
                if saved:
                    return
            check_first = True
            try:
                status, _ = recorder.request("POST", f"/meetings/{meeting_id}/points",
                                             {"agenda_item_id": item_id, "kind": "consensus", "text": text},
                                             {"X-CSRFToken": token, "HX-Request": "true"}, timeout=10)
                if status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            retries[0] += 1
        raise AssertionError(f"point {k + 1} could not be posted")

    def _saved(text: str) -> bool | None:
        """Whether the room shows the point (the recorder looks before typing it again); None: no answer."""
        try:
            status, live = recorder.request("GET", f"/meetings/{meeting_id}/room", headers={"HX-Request": "true"})
        except (OSError, http.client.HTTPException):
            return None
        return text in live if status == 200 else None

    def kill_a_worker_during(k: int) -> None:
        """Send point k, SIGKILL the worker that accepted the request while it works on it, then make sure of k."""
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        body = urllib.parse.urlencode({"agenda_item_id": item_id, "kind": "consensus", "text": texts[k]})
        conn.request("POST", f"/meetings/{meeting_id}/points", body=body,
                     headers={"X-CSRFToken": token, "HX-Request": "true", "Cookie": _cookie(recorder),
                              "Content-Type": "application/x-www-form-urlencoded"})
        victim = _serving_worker(server, conn.sock.getsockname()[1])
        time.sleep(random.uniform(0, 0.1))  # somewhere in the write: before, during or after the commit
        os.kill(victim, signal.SIGKILL)
        try:
            answered = conn.getresponse().status
        except (OSError, http.client.HTTPException):
            answered = None
        conn.close()
        saved = _saved(texts[k])
        killed.append((victim, "answered" if answered else "saved, unanswered" if saved else "not saved"))
        post(k, check_first=True)

    def chaos() -> None:
        """Cut 100 tab connections at random moments, spread over the 200 points (about one per two)."""
        while cuts[0] < CUTS and not done.is_set():
            if posted[0] < 2 * cuts[0]:
                time.sleep(0.01)
                continue
            time.sleep(random.uniform(0, 0.1))
            if random.choice(tabs).cut():
                cuts[0] += 1

    cutter = threading.Thread(target=chaos, daemon=True)
    cutter.start()
    started_at = time.monotonic()
    try:
        for k in range(POINTS):
            (kill_a_worker_during if k == KILL_AT else post)(k)
            posted[0] = k + 1
            time.sleep(0.02)
        cutter.join(timeout=10)
        stream_seconds = time.monotonic() - started_at

        db.session.rollback()  # a fresh read of what the server committed
        expected = [(p.id, p.text) for p in db.session.scalars(
            db.select(Point).where(Point.agenda_item_id == item_id, Point.deleted_at.is_(None))
            .order_by(Point.position, Point.id))]
        assert [text for _, text in expected] == texts, "the database holds each point once, in order"

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(tab.points() != expected for tab in tabs):
            time.sleep(0.1)
    finally:
        done.set()
        for tab in tabs:
            tab.stop.set()
            tab.cut()
        for tab in tabs:
            tab.thread.join(timeout=10)

    report = [f"tab {i}: {len(t.points())} points, {t.connects} connections, {t.resyncs} resyncs, "
              f"{t.updates} updates, {t.repeated} repeated appends, {t.refused} refused" for i, t in enumerate(tabs)]
    print(f"\n{POINTS} points in {stream_seconds:.1f}s, {cuts[0]} cuts, worker killed while posting: {killed}, "
          f"{retries[0]} POST retries\n" + "\n".join(report))
    assert cuts[0] == CUTS
    assert killed and killed[0][0] not in server.worker_pids() and len(server.wait_workers()) == 2, "a new worker"
    for i, tab in enumerate(tabs):
        got = tab.points()
        assert len({pid for pid, _ in got}) == len(got), f"tab {i} shows a point twice"
        common = set(got) & set(expected)
        assert got == expected, (f"tab {i}: {len(got)} points, {len(set(expected) - common)} missing, "
                                 f"{len(set(got) - common)} unknown, in order: "
                                 f"{[p for p in got if p in common] == [p for p in expected if p in common]}")
        assert tab.repeated == 0, f"tab {i} was sent a point it already had ({tab.repeated} times)"
    assert sum(t.connects for t in tabs) >= TABS + CUTS, "every cut tab came back"
