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

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert client.get("/").status_code == 200
        reads, begins[:] = list(begins), []
        assert client.post("/logout").status_code == 302  # ends every session of the user: a write
        writes = list(begins)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert reads and set(reads) == {"BEGIN"}
    assert writes == ["BEGIN IMMEDIATE"]


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
