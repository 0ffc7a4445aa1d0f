"""A request waiting on PostgreSQL yields the gevent worker to the others (psycopg's waits are cooperative).

One gevent worker serves every tab of the default set-up. If a database wait blocked the worker's hub, one slow
statement (a lock held by a migration, a long report) would freeze every page and live room on that worker.
"""
import threading
import time

import psycopg
import pytest

from minutes.extensions import db
from tests.conftest import BACKEND, PASSWORD
from tests.server import Gunicorn, HttpClient

pytestmark = [pytest.mark.serial,
              pytest.mark.skipif(BACKEND != "postgresql",
                                 reason="SQLite's waits are inside the C library; the PostgreSQL pass checks this")]


def test_a_request_waiting_on_a_lock_does_not_hold_up_the_gevent_worker(started, tmp_path):
    url = db.engine.url.render_as_string(hide_password=False)
    username, path = started.participant.username, f"/meetings/{started.meeting.id}"
    db.session.rollback()  # the test's own connection must hold no lock on the table the test locks
    with Gunicorn(url, tmp_path / "gunicorn.log", workers=1) as server:
        reader = HttpClient(server.port).login(username, PASSWORD)
        assert reader.request("GET", path)[0] == 200
        holder = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=False)
        try:
            holder.execute("SET lock_timeout = '10s'")
            holder.execute("LOCK TABLE meeting IN ACCESS EXCLUSIVE MODE")  # the page's query waits for this lock
            answer = {}

            def read_page():
                start = time.monotonic()
                answer["status"] = reader.request("GET", path, timeout=30)[0]
                answer["seconds"] = time.monotonic() - start

            waiting = threading.Thread(target=read_page, daemon=True)
            waiting.start()
            time.sleep(1.0)  # the page is waiting on the lock inside the worker
            assert waiting.is_alive()
            start = time.monotonic()
            status, _ = server.get("/healthz", timeout=20)
            health_seconds = time.monotonic() - start
            assert waiting.is_alive(), "the page must still be waiting while the health check is answered"
        finally:
            time.sleep(0.2)
            holder.rollback()  # the lock goes: the waiting page gets its answer
            holder.close()
        waiting.join(timeout=30)
    assert status == 200
    assert health_seconds < 2.0, f"the worker was blocked for {health_seconds:.1f} s by another request's wait"
    assert answer == {"status": 200, "seconds": answer["seconds"]} and answer["seconds"] >= 1.0
