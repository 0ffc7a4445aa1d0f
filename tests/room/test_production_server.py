"""The SSE endpoint under the production server: gunicorn with gevent workers, two of them, Redis between them."""
import re
import socket
import threading
import time

import pytest

from minutes.extensions import db
from tests.conftest import PASSWORD
from tests.server import Gunicorn, HttpClient

pytestmark = [pytest.mark.redis, pytest.mark.serial]


@pytest.fixture
def production_server(app, redis_url, tmp_path):
    """`gunicorn -c gunicorn.conf.py wsgi:app` with 2 gevent workers on the test database and Redis."""
    with Gunicorn(db.engine.url.render_as_string(hide_password=False), tmp_path / "gunicorn.log", workers=2,
                  redis_url=redis_url) as server:
        yield server.port, server.env["ROOM_REDIS_PREFIX"], server.log_path


def _listen(port, cookies, path, got, ready, stop):
    """A raw SSE client: read blocks until told to stop, record (id, event, data)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCookie: {cookie}\r\n\r\n"
                 .encode())
    sock.settimeout(0.3)  # wake up often enough to notice `stop`
    buffer = b""
    ready.release()
    try:
        while not stop.is_set():
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            buffer += chunk
            text = buffer.decode("utf-8", "ignore")
            for match in re.finditer(r"id: (\d+)\nevent: (\w+)\n((?:data: .*\n)+)\n", text):
                got[match.group(1)] = (match.group(2), match.group(3))
    finally:
        sock.close()


def test_points_reach_streams_on_both_gevent_workers_through_redis(started, production_server, redis_url):
    port, prefix, log = production_server
    try:
        _points_reach_both_workers(started, port, prefix, redis_url)
    except Exception as exc:
        raise AssertionError(f"{exc}\n--- gunicorn log ---\n{log.read_text()[-4000:]}") from exc


def _points_reach_both_workers(started, port, prefix, redis_url):
    recorder = HttpClient(port).login(started.recorder.username, PASSWORD)
    watcher = HttpClient(port).login(started.participant.username, PASSWORD)
    token = recorder.csrf(f"/meetings/{started.meeting.id}/room")
    clients, threads, stop, ready = [], [], threading.Event(), threading.Semaphore(0)
    import redis

    def listeners():
        return [c for c in redis.Redis.from_url(redis_url).client_list()
                if c.get("name", "").startswith(f"minutes-room:{prefix}:")]

    # Open streams in batches until both workers hold some: which worker accepts a connection is the kernel's
    # choice, and on a loaded box one worker can take a whole batch.
    deadline = time.monotonic() + 30
    while len(listeners()) < 2 and len(threads) < 64 and time.monotonic() < deadline:
        batch = []
        for _ in range(8):
            got = {}
            clients.append(got)
            thread = threading.Thread(target=_listen, daemon=True,
                                      args=(port, watcher.cookies, f"/meetings/{started.meeting.id}/events?rev=1",
                                            got, ready, stop))
            thread.start()
            batch.append(thread)
        for _ in batch:
            ready.acquire(timeout=10)
        threads += batch
        settle = time.monotonic() + 2.0
        while len(listeners()) < 2 and time.monotonic() < settle:
            time.sleep(0.1)  # the streams subscribe
    assert len(listeners()) == 2, "both workers hold streams, each with its one Redis listener"
    status, _ = recorder.request("POST", f"/meetings/{started.meeting.id}/points",
                                 {"agenda_item_id": started.items[0].id, "kind": "consensus",
                                  "text": "经由生产服务器推送的共识"},
                                 {"X-CSRFToken": token, "HX-Request": "true"})
    assert status == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all("2" in got for got in clients):
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    assert all("2" in got for got in clients), [sorted(got) for got in clients]
    for got in clients:
        event, data = got["2"]
        assert event == "update" and "经由生产服务器推送的共识" in data
