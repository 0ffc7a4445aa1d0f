"""One busy keep-alive connection does not starve the others on the gevent worker (issue 21).

A request that never waits on a socket (every SQLite read: the library is in-process) never gives the gevent hub
a turn. When the next request of the same keep-alive connection is already in the socket's buffer — a client that
sends its next request as soon as it has the answer, or one that pipelines — the worker served that connection
again and again while every other connection waited: `wrk` with 20 connections on the room's JSON saw p50 7 ms and
p99 2–7 s, and some connections timed out after 10 s (bench/read_throughput.py). gunicorn.conf.py's `pre_request`
yields to the hub before each request, so the others get their turn.
"""
import socket
import threading
import time

import pytest

from minutes.extensions import db
from tests.conftest import PASSWORD
from tests.server import Gunicorn, HttpClient

pytestmark = pytest.mark.serial


def read_until_closed(sock: socket.socket, done: dict) -> None:
    received = bytearray()
    while chunk := sock.recv(65536):
        received += chunk
    done["at"] = time.monotonic()
    done["answers"] = received.count(b"HTTP/1.1 200 ")


def test_a_connection_with_requests_waiting_does_not_hold_up_another_client(started, tmp_path):
    url = db.engine.url.render_as_string(hide_password=False)
    path = f"/meetings/{started.meeting.id}/room"
    db.session.rollback()
    with Gunicorn(url, tmp_path / "gunicorn.log", workers=1) as server:
        reader = HttpClient(server.port).login(started.participant.username, PASSWORD)
        assert reader.request("GET", path)[0] == 200
        cookie = "; ".join(f"{k}={v}" for k, v in reader.cookies.items())
        one = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode()
        last = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode()
        pipelined = 80
        busy = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        done: dict = {}
        draining = threading.Thread(target=read_until_closed, args=(busy, done), daemon=True)
        draining.start()
        started_at = time.monotonic()
        busy.sendall(one * (pipelined - 1) + last)  # all in the worker's socket buffer at once
        time.sleep(0.1)  # the worker is busy with them
        status, _ = server.get("/healthz", timeout=60)
        health_at = time.monotonic()
        draining.join(timeout=120)
        busy.close()
    assert status == 200 and done["answers"] == pipelined
    busy_seconds = done["at"] - started_at
    assert busy_seconds > 0.5, f"the {pipelined} pages took {busy_seconds:.2f} s: too quick to tell anything"
    assert health_at < done["at"] - 0.2, (
        f"the health check waited {health_at - started_at - 0.1:.2f} s, until the other connection's "
        f"{pipelined} pages were all served ({busy_seconds:.2f} s): the worker never yielded between them")
