"""Online backup and restore: SQLite's backup API, pg_dump/pg_restore for PostgreSQL."""
import os
import sqlite3
import subprocess
from urllib.parse import parse_qs, unquote, urlsplit

from flask_babel import gettext

from minutes.extensions import db


class BackupError(Exception):
    """The backup or restore could not be completed; the message says why (Chinese)."""


def _pg_url() -> tuple[str, str | None]:
    """The libpq URL of the engine, and the schema it is pinned to by search_path (if any)."""
    url = db.engine.url
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    options = parse_qs(urlsplit(plain).query).get("options", [""])[0]
    schema = None
    for part in unquote(options).split():
        if part.startswith("-csearch_path="):
            schema = part.split("=", 1)[1].split(",")[0]
    return plain, schema


def backup(path: str) -> str:
    """Write a consistent copy of the live database to `path` while the app keeps running."""
    dialect = db.engine.dialect.name
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if dialect == "sqlite":
        source = db.engine.url.database
        with sqlite3.connect(source) as src, sqlite3.connect(path) as dest:
            src.backup(dest)  # page-by-page copy of a consistent snapshot, WAL included
        dest = sqlite3.connect(path)
        try:
            if dest.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(gettext("备份文件未通过完整性检查"))
        finally:
            dest.close()
        return path
    if dialect == "postgresql":
        url, schema = _pg_url()
        command = ["pg_dump", "--format=custom", "--no-owner", "--file", path, url]
        if schema:
            command[1:1] = ["--schema", schema]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(gettext("pg_dump 失败：%(error)s", error=result.stderr.strip()))
        return path
    raise BackupError(gettext("不支持的数据库类型：%(dialect)s", dialect=dialect))


def restore(path: str) -> None:
    """Replace the database's content with a backup made by `backup` (stop the app first)."""
    if not os.path.exists(path):
        raise BackupError(gettext("备份文件不存在：%(path)s", path=path))
    dialect = db.engine.dialect.name
    db.session.remove()
    db.engine.dispose()
    if dialect == "sqlite":
        target = db.engine.url.database
        with sqlite3.connect(path) as src, sqlite3.connect(target) as dest:
            src.backup(dest)
        return
    if dialect == "postgresql":
        url, _schema = _pg_url()
        result = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                                 "--dbname", url, path], capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(gettext("pg_restore 失败：%(error)s", error=result.stderr.strip()))
        return
    raise BackupError(gettext("不支持的数据库类型：%(dialect)s", dialect=dialect))
