"""Database settings that keep records safe: SQLite pragmas on every connection, writers that never lock out."""
import os
import threading

import pytest
from sqlalchemy import func, select, text

from minutes.extensions import db, write_intent
from minutes.people.models import Department

SQLITE = os.environ.get("MINUTES_TEST_DB", "sqlite") == "sqlite"


@pytest.mark.skipif(not SQLITE, reason="SQLite pragmas; the PostgreSQL pass has no such settings")
def test_every_sqlite_connection_has_wal_busy_timeout_and_foreign_keys(app):
    for _ in range(3):  # several pooled connections, each configured on connect
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.skipif(not SQLITE, reason="foreign keys are always enforced on PostgreSQL")
def test_sqlite_refuses_a_dangling_foreign_key(app):
    with pytest.raises(Exception):
        db.session.execute(text("INSERT INTO user (username, name, password_hash, department_id, is_admin, "
                                "is_department_head, is_enabled, session_version, is_demo, created_at) "
                                "VALUES ('x', 'x', 'h', 9999, 0, 0, 1, 1, 0, '2026-01-01')"))
        db.session.flush()
    db.session.rollback()


def test_concurrent_writers_lose_nothing_and_never_see_database_is_locked(app):
    errors: list[str] = []

    def writer(n: int):
        token = write_intent.set(True)
        try:
            for i in range(15):
                with app.app_context():
                    # read first, then write: the pattern that deadlocks with deferred SQLite transactions
                    db.session.scalar(select(func.count()).select_from(Department))
                    db.session.add(Department(name=f"部门{n}-{i}"))
                    db.session.commit()
        except Exception as exc:  # collected and asserted below
            errors.append(repr(exc))
        finally:
            write_intent.reset(token)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(Department)) == 8 * 15


def test_a_cli_command_does_not_leave_the_write_intent_behind(runner, app):
    """The intent is for the command's duration: a leak would make every later read take the write lock."""
    assert write_intent.get() is False
    result = runner.invoke(args=["minutes", "tick"])
    assert result.exit_code in (0, 1), result.output
    assert write_intent.get() is False


@pytest.mark.skipif(not SQLITE, reason="BEGIN IMMEDIATE is SQLite's; PostgreSQL locks rows")
def test_a_write_request_takes_the_write_lock_up_front_once_and_a_read_request_does_not(app, client, login_as,
                                                                                       make_user):
    """POST: one BEGIN IMMEDIATE (nothing after the commit takes the lock again); GET: a plain BEGIN."""
    from sqlalchemy import event

    login_as(make_user("zhangsan"))
    begins: list[str] = []

    def note(statement):  # what SQLite itself runs (the write lock is asked for on the driver's cursor)
        if statement.startswith("BEGIN"):
            begins.append(statement)

    def trace(dbapi_connection, record, proxy):
        dbapi_connection.set_trace_callback(note)

    db.engine.dispose()  # every connection from here on is checked out through the listener
    event.listen(db.engine, "checkout", trace)
    try:
        assert client.get("/").status_code == 200
        reads, begins[:] = list(begins), []
        assert client.post("/logout").status_code == 302  # ends every session of the user: a write
        writes = list(begins)
    finally:
        event.remove(db.engine, "checkout", trace)
        db.engine.dispose()
    assert reads and set(reads) == {"BEGIN"}
    assert writes == ["BEGIN IMMEDIATE"]


def _in_transaction() -> bool:
    """Whether PostgreSQL has a transaction open on the session's connection (psycopg's view of it)."""
    raw = db.session.connection().connection.dbapi_connection
    return raw.info.transaction_status.name != "IDLE"


@pytest.mark.skipif(SQLITE, reason="PostgreSQL's reads without BEGIN; SQLite runs every request in a transaction")
def test_a_postgresql_page_read_sends_no_begin_and_no_commit(app, client, login_as, make_user):
    """The dashboard's statements all run outside a transaction: no BEGIN before them, no COMMIT after."""
    from sqlalchemy import event

    login_as(make_user("zhangsan"))
    seen: list[tuple[str, str]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split()[0], conn.connection.dbapi_connection.info.transaction_status.name))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert client.get("/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len(seen) >= 3 and {status for _, status in seen} == {"IDLE"}, seen


@pytest.mark.skipif(SQLITE, reason="PostgreSQL's reads without BEGIN; SQLite runs every request in a transaction")
def test_a_write_inside_a_postgresql_read_request_is_still_all_or_nothing(app):
    db.session.rollback()
    with app.test_request_context("/", method="GET"):
        db.session.scalar(select(func.count()).select_from(Department))
        assert not _in_transaction()  # the read ran on its own
        db.session.add(Department(name="读请求里的写入一"))
        db.session.flush()
        assert _in_transaction()  # the first write opened the transaction
        db.session.add(Department(name="读请求里的写入二"))
        db.session.flush()
        db.session.rollback()  # the request failed: both writes go
    with app.test_request_context("/", method="GET"):
        names = db.session.scalars(select(Department.name).where(Department.name.like("读请求里的写入%"))).all()
        assert names == []
        db.session.execute(select(Department.id).limit(1).with_for_update())
        assert _in_transaction()  # a row lock lasts until the end of a transaction: it opens one
        db.session.rollback()
    with app.test_request_context("/", method="POST"):
        db.session.scalar(select(func.count()).select_from(Department))
        assert _in_transaction()  # a write request is one transaction from its first statement
        db.session.rollback()


@pytest.mark.skipif(SQLITE, reason="a PostgreSQL server that drops connections (restart, failover)")
def test_a_request_after_the_database_dropped_its_pooled_connection_succeeds(app, client, login_as, make_user):
    login_as(make_user("zhangsan"))
    db.session.remove()
    db.engine.dispose()  # the pool now holds exactly the connection opened below
    with db.engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    import psycopg

    from tests.conftest import PG_URL

    with psycopg.connect(PG_URL, autocommit=True) as admin:  # what a database restart does to that connection
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0] is True
    assert client.get("/").status_code == 200


GEVENT_WRITERS = r"""
import sys, time
from gevent import monkey
monkey.patch_all()
import gevent
from sqlalchemy import text
from minutes import create_app
from minutes.extensions import db, write_intent

app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1],
                  "OUTBOX_DELIVER_ON_COMMIT": False})
with app.app_context():
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (greenlet TEXT)")

def write(name, hold):
    with app.app_context():
        token = write_intent.set(True)
        try:
            db.session.execute(text("INSERT INTO t VALUES (:n)"), {"n": name})  # takes the write lock
            gevent.sleep(hold)  # waits on the network (Redis, SMTP) holding it, as a request may
            db.session.commit()
        finally:
            write_intent.reset(token)
            db.session.remove()

started = time.monotonic()
holder = gevent.spawn(write, "holder", 0.5)
gevent.sleep(0.05)
waiter = gevent.spawn(write, "waiter", 0)
gevent.joinall([holder, waiter], raise_error=True)
print(round(time.monotonic() - started, 2))
"""


@pytest.mark.skipif(not SQLITE, reason="SQLite's write lock; PostgreSQL waits on row locks in the server")
def test_under_gevent_a_writer_waiting_for_the_lock_lets_the_holder_finish(tmp_path):
    """SQLite's busy handler sleeps in C and would freeze the gevent worker, holder included, for the whole
    busy timeout ("database is locked" after 10 s); the wait must yield to the other greenlets."""
    import subprocess
    import sys

    script = tmp_path / "writers.py"
    script.write_text(GEVENT_WRITERS)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "g.sqlite3")], capture_output=True, text=True,
                          timeout=60, cwd=root, env={**os.environ, "PYTHONPATH": root})
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.split()[-1]) < 5  # the holder's 0.5 s, not the 10 s busy timeout
