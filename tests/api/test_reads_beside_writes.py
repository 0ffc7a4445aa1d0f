"""Reads never fail because someone else writes: API readers and calendar feeds beside room writers.

gunicorn runs as `make serve` runs it (gevent, two workers, Redis between them). Eight writers post
room points through the API without pause while twelve readers fetch the room through the API with
their own Bearer tokens and the users' calendar feeds. A read's bookkeeping (the last use of its token
or feed URL) must not make the read fail: every read and every write answers 2xx, and the bookkeeping
still happens.

The duration is the issue's 6 s (MINUTES_READS_SECONDS changes it), longer on a busy box until each side
has made at least two requests per thread.
"""
import os
import random
import threading
import time

import pytest
from sqlalchemy import select

from minutes.actions import feeds
from minutes.actions.models import CalendarFeed
from minutes.api import service as tokens
from minutes.api.models import ApiToken
from minutes.extensions import db
from tests.room.conftest import cast, redis_url, started  # noqa: F401  (fixtures)
from tests.server import Gunicorn

SECONDS = float(os.environ.get("MINUTES_READS_SECONDS", "6"))
READERS = 12
WRITERS = 8

pytestmark = [pytest.mark.redis, pytest.mark.serial]


def _loop(stop, call, ok, failed):
    """Call `call()` without pause until told to stop; it answers (success?, what came back)."""
    while not stop.is_set():
        try:
            good, answer = call()
        except Exception as exc:  # a timeout or a reset connection is a failure like a 5xx
            good, answer = False, repr(exc)
        (ok if good else failed).append(answer)


def test_reads_with_tokens_and_feeds_never_fail_beside_writes(started, redis_url, tmp_path):
    meeting_id = started.meeting.id
    item_ids = [item.id for item in started.items]
    people = [started.host, started.recorder, started.participant, started.cc]
    writer_token = tokens.create_token(started.recorder, "写入")[1]
    reader_tokens = [tokens.create_token(people[n % len(people)], f"读取{n}")[1] for n in range(READERS // 2)]
    feed_urls = [f"/calendar/{feeds.issue_calendar_token(person)}.ics" for person in people]
    db.session.commit()  # and hold no snapshot open while the server writes
    server = Gunicorn(db.engine.url.render_as_string(hide_password=False), tmp_path / "gunicorn.log", workers=2,
                      redis_url=redis_url).start()

    def write():
        status, body = server.api("POST", f"/agenda/{random.choice(item_ids)}/points", writer_token,
                                  {"kind": "viewpoint", "text": "技术部承诺 48 小时内给出根因", "department": "技术部"},
                                  timeout=30)
        return status == 201, (status, body)

    def api_reader(token):
        def read():
            status, body = server.api("GET", f"/meetings/{meeting_id}/room", token, timeout=30)
            return status == 200, (status, body if status != 200 else None)
        return read

    def feed_reader(url):
        def read():
            status, body = server.get(url, timeout=30)
            return status == 200 and body.startswith(b"BEGIN:VCALENDAR"), (status, body[:200])
        return read

    readers = [api_reader(t) for t in reader_tokens] + [feed_reader(feed_urls[n % len(feed_urls)])
                                                        for n in range(READERS - len(reader_tokens))]
    stop = threading.Event()
    reads_ok, reads_failed, writes_ok, writes_failed = [], [], [], []
    threads = [threading.Thread(target=_loop, args=(stop, write, writes_ok, writes_failed), daemon=True)
               for _ in range(WRITERS)]
    threads += [threading.Thread(target=_loop, args=(stop, read, reads_ok, reads_failed), daemon=True)
                for read in readers]
    try:
        began = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)
        deadline = time.monotonic() + 60  # a busy box: go on until each side has done enough to mean something
        while time.monotonic() < deadline and (len(reads_ok) + len(reads_failed) < 2 * READERS
                                               or len(writes_ok) + len(writes_failed) < 2 * WRITERS):
            time.sleep(0.1)
        stop.set()
        for thread in threads:
            thread.join(timeout=40)
        elapsed = time.monotonic() - began
        log = server.log_tail(10**7)
    finally:
        stop.set()
        server.stop()
    print(f"\n{len(reads_ok)} reads ok, {len(reads_failed)} failed; {len(writes_ok)} writes ok, "
          f"{len(writes_failed)} failed; {READERS} readers, {WRITERS} writers, {elapsed:.1f}s "
          f"({db.engine.dialect.name})")
    assert reads_failed == [] and writes_failed == [], (len(reads_failed), reads_failed[:3], writes_failed[:3])
    assert len(reads_ok) >= 2 * READERS and len(writes_ok) >= 2 * WRITERS, "too little traffic to mean anything"
    assert "database is locked" not in log and "Traceback" not in log, log[-3000:]
    # the bookkeeping happened all the same, apart from the reads
    db.session.rollback()
    assert None not in db.session.scalars(select(ApiToken.last_used_at)).all()
    assert None not in db.session.scalars(select(CalendarFeed.last_used_at)).all()
