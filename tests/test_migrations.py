"""The Alembic migrations build exactly the schema the models describe."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from minutes import create_app
from minutes.dbtypes import include_object
from minutes.extensions import db


def test_migrations_match_models(tmp_path):
    if os.environ.get("MINUTES_TEST_DB", "sqlite") != "sqlite":
        pytest.skip("migration drift is checked on SQLite; PostgreSQL runs the same migration files")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}", "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object}), db.metadata)
    assert diff == [], f"models and migrations differ; run flask db migrate: {diff}"


def test_migrations_upgrade_on_postgresql():
    url = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
    if os.environ.get("MINUTES_TEST_DB") != "postgresql":
        pytest.skip("runs in the PostgreSQL pass of make test")
    import uuid

    import psycopg

    schema = f"mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"{url}?options=-csearch_path%3D{schema}", "TESTING": True})
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object}), db.metadata)
            db.engine.dispose()
        assert diff == [], f"models and migrations differ on PostgreSQL: {diff}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_migrations_create_the_triggers_and_search_indexes(tmp_path):
    if os.environ.get("MINUTES_TEST_DB", "sqlite") != "sqlite":
        pytest.skip("checked on SQLite")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}", "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            names = {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert {"audit_entry_no_update", "audit_entry_no_delete", "search_fts", "search_gram"} <= names
    assert any(name.startswith("minutes_version") and "final" in name for name in names), sorted(names)


@pytest.fixture
def scratch_url(tmp_path):
    """An empty database of the backend under test (a fresh PostgreSQL schema, or an SQLite file)."""
    if os.environ.get("MINUTES_TEST_DB") != "postgresql":
        yield f"sqlite:///{tmp_path / 'm.sqlite3'}"
        return
    import uuid

    import psycopg

    url = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_meetings_started_before_the_planned_times_migration_get_their_actual_times(scratch_url):
    """9b3e6d1f4a27: a meeting held three days early and ended keeps its plan aside and its actual times in front."""
    from datetime import datetime, timedelta

    from flask_migrate import downgrade
    from sqlalchemy import text

    from minutes.core import timefmt
    from minutes.meetings import service as meetings
    from minutes.people.service import create_user
    from minutes.room import service as room
    from minutes.room import review

    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_url, "TESTING": True, "OUTBOX_DELIVER_ON_COMMIT": False})
    planned = datetime(2026, 6, 18, 14, 0, tzinfo=timefmt.LOCAL_TZ)
    started = datetime(2026, 6, 15, 9, 30, tzinfo=timefmt.LOCAL_TZ)
    with app.app_context():
        upgrade()
        host = create_user("zhaomin", "赵敏", "客服部", "minutes2026")
        meeting = meetings.create_meeting(host, meetings.MeetingInput(
            topic="解决客户投诉处理流程卡点", goal="明确职责", scenario="problem", starts_at=planned,
            ends_at=planned + timedelta(minutes=90), location="301", organizer_department_id=host.department_id))
        meetings.assign_lead_role(host, meeting, meetings.Role.RECORDER, host)
        meetings.add_agenda_item(host, meeting, "投诉处理时效", 30)
        room.start_meeting(host, meeting, now=started)
        review.finish_meeting(host, meeting, now=started + timedelta(minutes=70))
        db.session.commit()
        meeting_id = meeting.id
        db.session.remove()
        downgrade(revision="35e687977a03")  # the world before: the meeting row holds the plan, the room the facts
        with db.engine.connect() as conn:
            old = conn.execute(text("SELECT starts_at FROM meeting WHERE id = :id"), {"id": meeting_id}).scalar()
        assert str(old).startswith("2026-06-18 06:00")
        upgrade()
        from minutes.meetings.models import Meeting

        db.session.expire_all()
        migrated = db.session.get(Meeting, meeting_id)
        assert (migrated.starts_at, migrated.ends_at) == (started, started + timedelta(minutes=70))
        assert (migrated.planned_starts_at, migrated.planned_ends_at) == (planned, planned + timedelta(minutes=90))
        db.session.remove()
        db.engine.dispose()


def test_search_gin_indexes_have_no_pending_list(scratch_url):
    """Every room POST rewrites its meeting's search block: with GIN's fastupdate on, one writer now and then merged
    the whole pending list inside its request (the PostgreSQL tail in docs/BENCHMARKS.md "Load")."""
    if os.environ.get("MINUTES_TEST_DB") != "postgresql":
        pytest.skip("PostgreSQL's GIN indexes; SQLite's search tables have none")
    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_url, "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            options = dict(conn.exec_driver_sql(
                "SELECT relname, reloptions FROM pg_class WHERE oid IN "
                "(to_regclass('ix_search_block_trgm'), to_regclass('ix_search_block_grams'))").all())
        db.engine.dispose()
    assert options == {"ix_search_block_trgm": ["fastupdate=off"], "ix_search_block_grams": ["fastupdate=off"]}
