"""A server killed (SIGKILL) in the middle of writes, 20 times: every acknowledged write survives, the database is sound.

gunicorn runs from gunicorn.conf.py with two workers on the test database (Redis between them: without it
gunicorn.conf.py refuses two workers); for the kills they are sync workers forked from a preloaded master,
so a killed worker is replaced in milliseconds rather than after a fresh import of the app (the commit happens before the response in every worker class,
which is what is under test). Four clients post room points through the API without pause and note each one answered 201. Twenty
times, at a random moment while writes are flowing, workers are SIGKILLed: one, or both at once
(nothing holds the database open any more), and the last time the master too. Afterwards every
acknowledged point is in the database with its text, SQLite's `integrity_check` says ok and no
foreign key dangles; the production server (gevent) starts again on that database and serves every
point.
"""
import http.client
import random
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from minutes.api import service as tokens
from minutes.extensions import db
from tests.server import Gunicorn

pytestmark = [pytest.mark.redis, pytest.mark.serial]  # gunicorn killed and restarted: runs alone, after the rest

KILLS = 20
WRITERS = 4


def dangling_foreign_keys(connection) -> list[str]:
    """Every foreign key of the schema whose value names no row (works on both databases)."""
    problems = []
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            child, parent = fk.parent, fk.column
            count = connection.execute(text(
                f'SELECT count(*) FROM "{table.name}" c WHERE c."{child.name}" IS NOT NULL AND NOT EXISTS '
                f'(SELECT 1 FROM "{parent.table.name}" p WHERE p."{parent.name}" = c."{child.name}")')).scalar()
            if count:
                problems.append(f"{table.name}.{child.name} → {parent.table.name}: {count}")
    return problems


def _writer(server, token, item_ids, n, acknowledged, stop):
    """Post points one after another; keep (id, text) of each the server acknowledged."""
    i = 0
    while not stop.is_set():
        i += 1
        body = f"崩溃测试 写入{n}-{i}：客服部要求投诉 24 小时内回访"
        try:
            status, data = server.api("POST", f"/agenda/{random.choice(item_ids)}/points", token,
                                      {"kind": "viewpoint", "text": body, "department": "客服部"}, timeout=5)
        except (OSError, ValueError, http.client.HTTPException):  # killed mid-request: not acknowledged, so nothing is promised
            time.sleep(0.02)
            continue
        if status == 201:
            acknowledged.append((data["id"], body))
        elif status >= 500:
            acknowledged.append((None, f"HTTP {status}: {data}"))


def test_sigkill_in_the_middle_of_writes_loses_no_acknowledged_write(started, redis_url, tmp_path):
    _token, plaintext = tokens.create_token(started.recorder, "崩溃测试")
    db.session.commit()
    url = db.engine.url.render_as_string(hide_password=False)
    item_ids = [item.id for item in started.items]
    meeting_id = started.meeting.id
    # sync workers forked from a preloaded master: a killed worker is replaced in milliseconds
    server = Gunicorn(url, tmp_path / "gunicorn.log", workers=2, worker_class="sync", redis_url=redis_url,
                      GUNICORN_CMD_ARGS="--preload").start()
    acknowledged: list = []
    stop = threading.Event()
    writers = [threading.Thread(target=_writer, args=(server, plaintext, item_ids, n, acknowledged, stop), daemon=True)
               for n in range(WRITERS)]
    rng = random.Random()
    try:
        for thread in writers:
            thread.start()
        for kill in range(1, KILLS + 1):
            # Kill while writes are flowing: wait for a fresh acknowledgement, then a random moment.
            before = len(acknowledged)
            deadline = time.monotonic() + 30
            while len(acknowledged) <= before:
                assert time.monotonic() < deadline, "no write acknowledged for 30 s\n" + server.log_tail()
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.4))
            if kill == KILLS:
                server.kill()  # the last time, the master as well: nothing is left running
            else:
                pids = server.wait_workers()
                server.kill_workers(pids if kill % 5 == 0 else [rng.choice(pids)])
        stop.set()
        for thread in writers:
            thread.join(timeout=10)
    finally:
        stop.set()
        server.stop()

    failures = [body for point_id, body in acknowledged if point_id is None]
    assert failures == [], failures[:5]
    acked = dict(acknowledged)
    assert len(acked) >= KILLS, len(acked)

    # Read the database afresh, as a process starting after the crash would.
    db.session.remove()
    db.engine.dispose()
    stored = dict(db.session.execute(text("SELECT id, text FROM point WHERE meeting_id = :m"),
                                     {"m": meeting_id}).all())
    missing = {i: body for i, body in acked.items() if stored.get(i) != body}
    assert missing == {}, f"{len(missing)} of {len(acked)} acknowledged points lost or changed"
    with db.engine.connect() as conn:
        assert dangling_foreign_keys(conn) == []
        if conn.dialect.name == "sqlite":
            path = db.engine.url.database
            raw = sqlite3.connect(path)
            try:
                assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
            finally:
                raw.close()
    db.session.remove()

    # The server starts again on that database and serves every acknowledged point.
    with Gunicorn(url, tmp_path / "gunicorn.log", workers=1) as again:
        status, room = again.api("GET", f"/meetings/{meeting_id}/room", plaintext)
    assert status == 200, room
    served = {p["id"]: p["text"] for item in room["items"] for p in item["points"]}
    assert {i: served.get(i) for i in acked} == acked
    assert room["revision"] >= len(stored) + 1
