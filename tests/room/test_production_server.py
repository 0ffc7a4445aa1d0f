"""The SSE endpoint under the production server: gunicorn with gevent workers, two of them, Redis between them."""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from minutes.extensions import db
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")

pytestmark = pytest.mark.redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def production_server(app, redis_url, tmp_path):
    """`gunicorn -c gunicorn.conf.py wsgi:app` with 2 gevent workers on the test database and Redis."""
    port = _free_port()
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), GUNICORN_WORKERS="2", GUNICORN_WORKER_CLASS="gevent",
               DATABASE_URL=str(db.engine.url.render_as_string(hide_password=False)), REDIS_URL=redis_url,
               SECRET_KEY="gunicorn-test-secret", OUTBOX_DELIVER_ON_COMMIT="0", LOG_LEVEL="warning",
               BASE_URL=f"http://127.0.0.1:{port}", ROOM_REDIS_PREFIX=f"minutes:test-room:{port}")
    log = open(tmp_path / "gunicorn.log", "w+")
    proc = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail("gunicorn did not start:\n" + log.read()[-3000:])
            time.sleep(0.2)
        yield port, f"minutes:test-room:{port}", tmp_path / "gunicorn.log"
    finally:
        os.killpg(proc.pid, signal.SIGQUIT)  # quick shutdown: open streams need not drain
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


class Browser:
    """A cookie jar over http.client: log in through the form, keep the session, read the CSRF token."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            body = urllib.parse.urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        data = response.read().decode()
        conn.close()
        return response.status, data

    def login(self, username):
        _, html = self.request("GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        status, _ = self.request("POST", "/login", {"csrf_token": token, "username": username, "password": PASSWORD})
        assert status == 302, status
        return self

    def csrf(self, path):
        _, html = self.request("GET", path)
        return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


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
    recorder = Browser(port).login(started.recorder.username)
    watcher = Browser(port).login(started.participant.username)
    token = recorder.csrf(f"/meetings/{started.meeting.id}/room")
    clients, threads, stop, ready = [], [], threading.Event(), threading.Semaphore(0)
    for _ in range(8):  # enough connections that both workers hold some
        got = {}
        clients.append(got)
        thread = threading.Thread(target=_listen, daemon=True,
                                  args=(port, watcher.cookies, f"/meetings/{started.meeting.id}/events?rev=1", got,
                                        ready, stop))
        thread.start()
        threads.append(thread)
    for _ in threads:
        ready.acquire(timeout=10)
    time.sleep(1.0)  # the streams subscribe
    import redis

    listeners = [c for c in redis.Redis.from_url(redis_url).client_list()
                 if c.get("name", "").startswith(f"minutes-room:{prefix}:")]
    assert len(listeners) == 2, "both workers hold streams, each with its one Redis listener"
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
