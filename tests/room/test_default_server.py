"""`make serve` as it comes (gunicorn.conf.py, no REDIS_URL): every tab gets a point at once, and the server
never runs several workers that a broker cannot join.

Without REDIS_URL each worker's broker reaches only its own streams: with two workers, the tabs held by the
worker that did not take the POST waited for the watchdog (seconds). So the default is one worker, and more
workers without REDIS_URL refuse to start (or, asked for later by SIGTTIN, are not started).
"""
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from minutes.extensions import db
from minutes.room.service import current_revision
from tests.conftest import PASSWORD
from tests.server import GUNICORN, GUNICORN_CONF, ROOT, Gunicorn, HttpClient, free_port

TABS = 40
POINTS = 3
#: Far below the watchdog's rounds (5 s), far above a loaded box's fan-out to 40 tabs (tens of ms).
WITHIN_SECONDS = 1.0


class TimedTab(threading.Thread):
    """One raw SSE connection noting when each revision arrives (time.monotonic): its update, or a resync at or after it."""

    def __init__(self, port: int, cookies: dict, path: str):
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.updates: dict[int, float] = {}
        self.resyncs: list[tuple[int, float]] = []
        self.connected = threading.Event()
        self.stop = threading.Event()

    def run(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                         f"Cookie: {self.cookie}\r\n\r\n".encode())
            sock.settimeout(0.2)
            buffer = b""
            while not self.stop.is_set():
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    return
                now = time.monotonic()
                buffer += chunk
                self.connected.set()  # the response head: the stream is subscribed
                for match in re.finditer(rb"id: (\d+)\nevent: (update|resync)\n", buffer):
                    if match.group(2) == b"update":
                        self.updates.setdefault(int(match.group(1)), now)
                    else:
                        self.resyncs.append((int(match.group(1)), now))
                buffer = buffer[-256:]

    def arrival(self, revision: int) -> float | None:
        times = [t for r, t in self.resyncs if r >= revision] + [self.updates.get(revision, float("inf"))]
        return min(times) if min(times) != float("inf") else None


@pytest.mark.serial  # starts gunicorn and times it: runs alone, after the parallel part
def test_default_server_delivers_every_point_to_every_tab_within_a_second(started, tmp_path):
    url = db.engine.url.render_as_string(hide_password=False)
    with Gunicorn(url, tmp_path / "gunicorn.log") as server:  # no REDIS_URL, no GUNICORN_WORKERS: the defaults
        recorder = HttpClient(server.port).login(started.recorder.username, PASSWORD)
        watcher = HttpClient(server.port).login(started.participant.username, PASSWORD)
        token = recorder.csrf(f"/meetings/{started.meeting.id}/room")
        revision = current_revision(started.meeting.id)
        tabs = [TimedTab(server.port, watcher.cookies, f"/meetings/{started.meeting.id}/events?rev={revision}")
                for _ in range(TABS)]
        try:
            for tab in tabs:
                tab.start()
                time.sleep(0.01)  # spread the accepts over time, as tabs opening one by one do
            for tab in tabs:
                assert tab.connected.wait(10), "a stream did not open\n" + server.log_tail()
            time.sleep(0.5)
            sent = {}
            for k in range(POINTS):
                t0 = time.monotonic()
                status, _ = recorder.request("POST", f"/meetings/{started.meeting.id}/points",
                                             {"agenda_item_id": started.items[0].id, "kind": "consensus",
                                              "text": f"默认生产服务器上的第{k + 1}条共识"},
                                             {"X-CSRFToken": token, "HX-Request": "true"})
                assert status == 200, server.log_tail()
                revision += 1
                sent[revision] = t0
                time.sleep(0.2)
            deadline = time.monotonic() + 15  # long enough for the watchdog, to tell "late" from "lost"
            while time.monotonic() < deadline and any(t.arrival(r) is None for t in tabs for r in sent):
                time.sleep(0.05)
        finally:
            for tab in tabs:
                tab.stop.set()
            for tab in tabs:
                tab.join(timeout=5)
        workers = len(server.worker_pids())
    arrivals = [(t.arrival(r), t0) for t in tabs for r, t0 in sent.items()]
    late = [round(t - t0, 2) if t is not None else "lost" for t, t0 in arrivals if t is None or t - t0 > WITHIN_SECONDS]
    assert late == [], f"{len(late)} of {TABS * POINTS} tab-points late or lost ({workers} workers): {late[:10]}"


def _serve(env: dict, *args: str) -> subprocess.CompletedProcess:
    """gunicorn as `make serve` starts it, with this environment; it must exit by itself."""
    env = dict({k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "GUNICORN_WORKERS", "GUNICORN_CMD_ARGS")},
               HOST="127.0.0.1", PORT=str(free_port()), **env)
    return subprocess.run([str(GUNICORN), "-c", "gunicorn.conf.py", *args, "wsgi:app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.serial
@pytest.mark.parametrize("asked", [{"GUNICORN_WORKERS": "2"}, {"GUNICORN_CMD_ARGS": "--workers 3"}])
def test_several_workers_without_redis_refuse_to_start(asked):
    done = _serve(asked)
    assert done.returncode != 0
    assert "without REDIS_URL" in done.stderr and "REDIS_URL" in done.stderr.split("without REDIS_URL", 1)[1]
    assert "Booting worker" not in done.stderr


@pytest.mark.serial
def test_sigttin_does_not_add_a_worker_without_redis(started, tmp_path):
    with Gunicorn(db.engine.url.render_as_string(hide_password=False), tmp_path / "gunicorn.log",
                  LOG_LEVEL="info") as server:
        assert len(server.wait_workers()) == 1
        os.kill(server.proc.pid, signal.SIGTTIN)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "refusing to start 2 workers" not in server.log_tail():
            time.sleep(0.1)
        time.sleep(1.0)  # a worker the master would fork appears within this
        assert "refusing to start 2 workers" in server.log_tail()
        assert len(server.worker_pids()) == 1
        assert server.get("/healthz")[0] == 200


def test_default_worker_count_follows_the_broker():
    default_workers, refusal = GUNICORN_CONF["default_workers"], GUNICORN_CONF["refusal"]
    assert default_workers({}) == 1
    assert default_workers({"REDIS_URL": "redis://127.0.0.1:6379/0"}) == 2
    assert default_workers({"GUNICORN_WORKERS": "4", "REDIS_URL": "redis://127.0.0.1:6379/0"}) == 4
    assert default_workers({"GUNICORN_WORKERS": "1"}) == 1
    assert refusal(1, {}) is None
    assert refusal(4, {"REDIS_URL": "redis://127.0.0.1:6379/0"}) is None
    message = refusal(2, {"REDIS_URL": ""})
    assert "REDIS_URL" in message and "GUNICORN_WORKERS=1" in message and "请设置 REDIS_URL" in message


def _read_chunked_events(sock: socket.socket, want: int, timeout: float) -> list[tuple[int, str]]:
    """Read an SSE response strictly as HTTP/1.1 chunks, until revision `want`: the (revision, kind) of each event.

    Any byte out of place (a chunk cut short, a frame written twice or into another) fails the decoding.
    """
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, data = data.split(b"\r\n\r\n", 1)
    assert b"transfer-encoding: chunked" in head.lower(), head
    body, events = b"", []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        while True:
            line_end = data.find(b"\r\n")
            if line_end == -1:
                break
            size = int(data[:line_end], 16)  # a ValueError here: the framing is broken
            if len(data) < line_end + 2 + size + 2:
                break
            assert data[line_end + 2 + size:line_end + 4 + size] == b"\r\n", "a chunk does not end where it says"
            body += data[line_end + 2:line_end + 2 + size]
            data = data[line_end + 4 + size:]
        *frames, body = body.split(b"\n\n")
        for frame in frames:
            match = re.match(rb"id: (\d+)\nevent: (\w+)\n", frame)
            if match:
                events.append((int(match.group(1)), match.group(2).decode()))
        if events and events[-1][0] >= want:
            return events
        data += sock.recv(65536)
    return events


@pytest.mark.serial
def test_a_tab_that_does_not_read_gets_every_frame_whole_and_holds_no_one_up(started, tmp_path):
    """The hub writes frames for up-to-date tabs itself; a socket that is full hands the rest to its own stream."""
    url = db.engine.url.render_as_string(hide_password=False)
    with Gunicorn(url, tmp_path / "gunicorn.log") as server:
        recorder = HttpClient(server.port).login(started.recorder.username, PASSWORD)
        watcher = HttpClient(server.port).login(started.participant.username, PASSWORD)
        token = recorder.csrf(f"/meetings/{started.meeting.id}/room")
        revision = first = current_revision(started.meeting.id)
        path = f"/meetings/{started.meeting.id}/events?rev={revision}"
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # a small window, and nobody reads it
        slow.connect(("127.0.0.1", server.port))
        cookie = "; ".join(f"{k}={v}" for k, v in watcher.cookies.items())
        slow.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                     f"Cookie: {cookie}\r\n\r\n".encode())
        fast = TimedTab(server.port, watcher.cookies, path)
        fast.start()
        try:
            assert fast.connected.wait(10), server.log_tail()
            time.sleep(0.5)
            sent = {}
            for k in range(25):
                t0 = time.monotonic()
                status, _ = recorder.request("POST", f"/meetings/{started.meeting.id}/points",
                                             {"agenda_item_id": started.items[0].id, "kind": "viewpoint",
                                              "department_id": started.recorder.department_id,
                                              "text": f"第{k + 1}条：" + "客服部在收到投诉后一小时内补充问题描述，" * 99},
                                             {"X-CSRFToken": token, "HX-Request": "true"})
                assert status == 200, server.log_tail()
                revision += 1
                sent[revision] = t0
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(fast.arrival(r) is None for r in sent):
                time.sleep(0.05)
            late = {r: fast.arrival(r) and round(fast.arrival(r) - t0, 2) for r, t0 in sent.items()
                    if fast.arrival(r) is None or fast.arrival(r) - t0 > WITHIN_SECONDS}
            assert late == {}, f"the tab that reads was held up by the one that does not: {late}"
            events = _read_chunked_events(slow, revision, timeout=20)
        finally:
            fast.stop.set()
            fast.join(timeout=5)
            slow.close()
    updates = [r for r, kind in events if kind == "update"]
    assert updates == list(range(first + 1, revision + 1)), f"every point once, in order: {events}"


@pytest.mark.serial
def test_worker_freezes_the_loaded_app_out_of_the_garbage_collector(started, tmp_path):
    """Each worker, once the app is loaded, freezes it out of the collector's sight and raises the generation-0
    threshold (issue 21: full collections over the app's long-lived objects made the room page's p95 3× its p50).
    The worker reports what it did in its own log line, read from its own collector."""
    with Gunicorn(db.engine.url.render_as_string(hide_password=False), tmp_path / "gunicorn.log",
                  LOG_LEVEL="info") as server:
        workers = server.wait_workers()
        assert server.get("/healthz")[0] == 200
        log = server.log_tail(20000)
    settled = re.findall(r"\[(\d+)\] \[INFO\] gc: (\d+) objects frozen after loading the app, threshold (\(.*?\))", log)
    assert [int(pid) for pid, _, _ in settled] == workers, log
    for _pid, frozen, threshold in settled:
        assert int(frozen) > 10_000  # the app's modules, templates and mappers, not a handful of objects
        assert threshold == str(GUNICORN_CONF["GC_THRESHOLD"])


def test_collector_left_alone_when_asked():
    """GUNICORN_GC_FREEZE=0 (to measure the difference) leaves the collector as Python set it."""
    import gc

    before = gc.get_threshold(), gc.get_freeze_count()
    assert GUNICORN_CONF["settle_garbage_collector"]({"GUNICORN_GC_FREEZE": "0"}) is None
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
