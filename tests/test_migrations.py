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
