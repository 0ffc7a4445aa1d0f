"""Shared fixtures: the app on SQLite or PostgreSQL, a client, a real SMTP server, factories."""
import contextlib
import contextvars
import os
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from minutes import create_app
from minutes.core import timefmt
from minutes.extensions import db

BACKEND = os.environ.get("MINUTES_TEST_DB", "sqlite")
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct-horse-42"


def _postgres_reachable(url: str) -> str | None:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:  # any failure means "no server here"
        return str(exc).strip().splitlines()[0]
    return None


#: The longest tests (tens of seconds each, measured with --durations): started first, so that the other
#: pytest-xdist worker runs the many short ones meanwhile instead of one worker finishing a long one alone at the end.
LONGEST_FIRST = (
    "tests/api/test_schema_fuzz.py", "tests/browser/test_xss_corpus.py", "tests/security/test_malformed_corpus.py",
    "tests/security/test_access_matrix.py", "tests/test_page_budgets.py", "tests/browser/test_minutes_flow.py",
    "tests/browser/test_room_live.py", "tests/browser/test_actions_flow.py", "tests/actions/test_reminders.py",
)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))  # stable: the rest keep their order
    missing = [p for p in LONGEST_FIRST if not (config.rootpath / p).is_file()]  # a renamed file must not leave
    assert not missing, f"LONGEST_FIRST names files that no longer exist: {missing}"  # its entry doing nothing


class IsolatedClient(FlaskClient):
    """A test client whose requests run in their own app context, like real requests do.

    The test body keeps its own app context and session; before each request the test's work is
    committed (so the request sees it and SQLite is not locked), afterwards the test's objects are
    expired so that assertions read what the request wrote.
    """

    def open(self, *args, **kwargs):
        if db.session:
            db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()
        return response


class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self._lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes
                from email.policy import default

                msg = message_from_bytes(envelope.content, policy=default)
                with sink._lock:
                    sink.messages.append({"to": list(envelope.rcpt_tos), "msg": msg})
                return "250 OK"

        import socket

        with socket.socket() as probe:  # aiosmtpd cannot start on port 0: pick a free port first
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def clear(self):
        with self._lock:
            self.messages.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        return list(self.messages)

    def stop(self):
        self.controller.stop()


@pytest.fixture(scope="session")
def smtp_server():
    server = SmtpSink()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _app(tmp_path_factory, smtp_server):
    base = tmp_path_factory.mktemp("minutes")
    schema = None
    if BACKEND == "postgresql":
        problem = _postgres_reachable(PG_URL)
        if problem:
            if IN_CI:
                pytest.exit(f"CI=true 但 PostgreSQL 不可用（{PG_URL}）：{problem}", returncode=1)
            pytest.skip(f"PostgreSQL 未在 {PG_URL} 运行，跳过 PostgreSQL 测试（CI=true 时必须运行）：{problem}")
        import psycopg

        schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{base / 'test.sqlite3'}"
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "OUTBOX_DELIVER_ON_COMMIT": False,
        "UPLOAD_FOLDER": str(base / "uploads"),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "BASE_URL": "http://minutes.test",
        "MAX_UPLOAD_BYTES": 1024 * 1024,
        # the same scrypt at 1/32 of production's cost: every test user is hashed, every sign-in checked
        # (~14% of the suite's CPU at full cost); tests/people/test_passwords.py pins production's default
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        # create_all keeps the suite fast; tests/test_migrations.py proves the migrations build the same schema
        db.create_all()
    yield app
    if schema:
        with app.app_context():
            db.engine.dispose()
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _wipe(app):
    with app.app_context():
        tables = [t for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                if conn.exec_driver_sql("SELECT current_setting('is_superuser')").scalar() == "on":
                    # DELETE with triggers off (the append-only and lock triggers refuse it, foreign keys are
                    # triggers too) and the sequences back to 1, as RESTART IDENTITY does: two round trips of
                    # ~8 ms where TRUNCATE of 45 tables takes 70–1,100 ms (new files for every table)
                    # every table of the schema: some (the search grams) are created outside the metadata
                    names = conn.exec_driver_sql("SELECT tablename FROM pg_tables "
                                                 "WHERE schemaname = current_schema()").scalars().all()
                    conn.exec_driver_sql(
                        "SET LOCAL session_replication_role = replica; "
                        + "; ".join(f'DELETE FROM "{name}"' for name in names)
                        + "; SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n "
                          "ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = current_schema()")
                else:
                    names = ", ".join(f'"{t.name}"' for t in tables)
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                # Append-only and lock triggers refuse DELETE: lift them for the wipe, then put them back.
                # (only the refusing ones: the search index triggers must run to keep FTS in step)
                triggers = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                                "AND sql LIKE '%RAISE(%'").all()
                for name, _sql in triggers:
                    conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                for table in reversed(tables):
                    conn.execute(table.delete())
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                for _name, sql in triggers:
                    conn.exec_driver_sql(sql)


@contextlib.contextmanager
def emptied_afterwards(app, smtp_server):
    """A request context for the body; afterwards the clock, the configuration and the database are reset."""
    saved = dict(app.config)
    smtp_server.clear()
    ctx = app.test_request_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.rollback()
        ctx.pop()
        timefmt.freeze(None)
        app.config.clear()
        app.config.update(saved)
        _wipe(app)


@pytest.fixture
def app(_app, smtp_server):
    """The app with an empty database and a request context for the test body."""
    with emptied_afterwards(_app, smtp_server):
        yield _app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def set_clock(*args):
    """Pin the clock: set_clock(2026, 6, 1, 9, 0) sets company-local time."""
    at = datetime(*args, tzinfo=timefmt.LOCAL_TZ)
    timefmt.freeze(at)
    return at


@pytest.fixture
def clock(app):
    """Pin the clock: clock(2026, 6, 1, 9, 0) sets company-local time."""
    yield set_clock
    timefmt.freeze(None)


# --- factories -------------------------------------------------------------------------------

def new_user(username, name=None, dept="产品部", admin=False, email=True, title=None):
    """Create a committed user (in an app context): new_user("zhangsan", dept="产品部", admin=False)."""
    from minutes.people.service import create_user

    user = create_user(username, name or username, dept, PASSWORD,
                       email=(f"{username}@example.com" if email is True else (email or None)),
                       is_admin=admin, title=title)
    db.session.commit()
    return user


def new_meeting(creator=None, starts=(2026, 6, 15, 14, 0), minutes=90, **fields):
    """Create a committed meeting (in an app context) with sensible defaults; keyword arguments override them."""
    from minutes.meetings import service

    creator = creator or new_user(f"host{uuid.uuid4().hex[:6]}")
    start = datetime(*starts, tzinfo=timefmt.LOCAL_TZ)
    data = service.MeetingInput(
        topic=fields.pop("topic", "解决客户投诉处理流程卡点"),
        goal=fields.pop("goal", "明确投诉处理各环节的部门职责与时限"),
        expected_outcome=fields.pop("expected_outcome", "形成行动方案"),
        scenario=fields.pop("scenario", "problem"),
        starts_at=start,
        ends_at=start + __import__("datetime").timedelta(minutes=minutes),
        location=fields.pop("location", "301会议室"),
        online_link=fields.pop("online_link", ""),
        organizer_department_id=fields.pop("organizer_department_id", None) or creator.department_id,
        confidential=fields.pop("confidential", False),
    )
    assert not fields, f"unknown fields {fields}"
    meeting = service.create_meeting(creator, data)
    db.session.commit()
    return meeting


@pytest.fixture
def make_user(app):
    """Create a committed user: make_user("zhangsan", dept="产品部", admin=False)."""
    return new_user


@pytest.fixture
def make_meeting(app, make_user):
    """Create a committed meeting with sensible defaults; keyword arguments override them."""
    return new_meeting


@pytest.fixture
def startable(make_user):
    """Give a meeting what starting it needs (a recorder, an agenda item) where a test is about something else:
    startable(meeting) → the meeting, committed."""
    from minutes.meetings import service

    def prepare(meeting):
        host = meeting.host
        if meeting.recorder is None:
            recorder = make_user(f"rec{uuid.uuid4().hex[:6]}", "记录员", dept=host.department.name)
            service.invite(host, meeting, [recorder.id], "recorder")
            db.session.commit()
            db.session.expire(meeting)  # invite() lists a new participant twice in the loaded collection
        if not meeting.agenda_items:
            service.add_agenda_item(host, meeting, "会议议题", 30)
        db.session.commit()
        return meeting

    return prepare


@pytest.fixture
def login_as(client):
    """Log the test client in as a user, through the real login form."""

    def do_login(user):
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return do_login


@pytest.fixture
def shots_dir():
    path = Path(__file__).parent / "browser" / "shots"
    path.mkdir(parents=True, exist_ok=True)
    return path
