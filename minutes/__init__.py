"""minutes: cross-department meetings from agenda to signed-off minutes."""
import os
import re
import sqlite3
import time

import psycopg

from flask import Flask, g, has_request_context, jsonify, request
from flask_babel import gettext, lazy_gettext
from sqlalchemy import event
from sqlalchemy.engine import Engine

from minutes import aftercommit, errorpages, jobs, logs, models, web  # noqa: F401  (models: register every table)
from minutes.actions import views as actions_views
from minutes.admin.views import bp as admin_bp
from minutes.api.views import bp as api_bp
from minutes.archive import indexer
from minutes.archive.views import bp as archive_bp
from minutes.audit import service as audit_service
from minutes.audit.views import bp as audit_bp
from minutes.chat.views import bp as chat_bp
from minutes.cli import register_cli
from minutes.config import Config
from minutes.dashboard import register_dashboard_panel
from minutes.extensions import babel, csrf, db, htmx, login_manager, migrate, write_intent
from minutes.identity.directory_views import bp as directory_bp
from minutes.identity.views import bp as identity_bp, sign_in_buttons
from minutes.meetings import files as meeting_files
from minutes.meetings.views import bp as meetings_bp
from minutes.notify import service as notify_service
from minutes.notify.views import bp as notify_bp, dev_bp as dev_mailbox_bp
from minutes.people import service as people_service
from minutes.people.views import bp as people_bp, login_url
from minutes.records import views as records_views
from minutes.room import live as room_live
from minutes.room.views import bp as room_bp
from minutes.transcripts.views import bp as transcripts_bp


def _database_uri(app: Flask) -> str:
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or os.environ.get("DATABASE_URL")
    if not uri:
        uri = "sqlite:///" + os.path.join(app.instance_path, "minutes.sqlite3")
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    return uri


#: How long a write waits for SQLite's write lock (the busy_timeout every connection has).
SQLITE_LOCK_WAIT = 10.0


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Every SQLite connection: WAL, a busy timeout, enforced foreign keys, and our own BEGIN."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_LOCK_WAIT * 1000)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """Writes take the write lock up front (BEGIN IMMEDIATE), so two writers wait instead of deadlocking."""
    if conn.dialect.name != "sqlite":
        return
    if _wants_write():
        _begin_immediate(conn)
    else:
        conn.exec_driver_sql("BEGIN")


def _begin_immediate(conn) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock with time.sleep rather than inside SQLite.

    SQLite's own busy handler sleeps in C: under gunicorn's gevent workers that blocks the whole
    worker, including the greenlet that holds the lock and is waiting on the network (Redis, SMTP),
    so both wait out the busy timeout and the request fails with "database is locked". time.sleep
    lets the holder run (gevent patches it) and is an ordinary short sleep in threads and processes.
    """
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        deadline, pause = time.monotonic() + SQLITE_LOCK_WAIT, 0.001
        while time.monotonic() < deadline:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # one last time, failing as SQLAlchemy reports it
    finally:
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_LOCK_WAIT * 1000)}")
        cursor.close()


#: A SELECT that must run inside a transaction: row locks, and settings or locks that last until its end.
_NEEDS_TRANSACTION = re.compile(r"\bFOR (UPDATE|NO KEY UPDATE|SHARE|KEY SHARE)\b|set_config\(|pg_advisory_xact", re.I)


@event.listens_for(Engine, "begin")
def _postgresql_begin(conn):
    """PostgreSQL: a request that only reads runs its SELECTs without BEGIN and COMMIT, two of the eleven round
    trips of the room's read (docs/BENCHMARKS.md "Read throughput"); each SELECT sees the committed data of its
    moment, as it does in a READ COMMITTED transaction. Its first write opens the transaction (below), so a GET
    that writes still writes all or nothing."""
    if conn.dialect.name != "postgresql":
        return
    raw = conn.connection.dbapi_connection
    # a connection given its own isolation (the room stream's one snapshot, AUTOCOMMIT) is left as it was set
    own = "isolation_level" in conn.get_execution_options()
    idle = raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    alone = idle and not own and has_request_context() and not _wants_write()
    conn.info["reads_alone"] = alone
    if idle and not own:
        raw.autocommit = alone


@event.listens_for(Engine, "before_cursor_execute")
def _postgresql_write_opens_transaction(conn, cursor, statement, parameters, context, executemany):
    """On a reading connection (above), anything but a plain SELECT starts the transaction first; commit and
    rollback then end it as usual (psycopg sends them only when a transaction is open)."""
    if conn.dialect.name != "postgresql" or not conn.info.get("reads_alone"):
        return
    raw = conn.connection.dbapi_connection
    if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return
    if statement.lstrip()[:6].upper() == "SELECT" and not _NEEDS_TRANSACTION.search(statement):
        return
    raw.execute("BEGIN")


def _wants_write() -> bool:
    if write_intent.get():
        return True
    if not has_request_context() or g.get("committed_early"):  # the answer of a committed change only reads
        return False
    return request.method not in ("GET", "HEAD", "OPTIONS")


def create_app(config: dict | None = None) -> Flask:
    """Create and configure the application."""
    app = Flask(__name__, instance_relative_config=True, template_folder="../templates",
                static_folder="../static")
    app.config.from_object(Config)
    app.config.from_pyfile("config.py", silent=True)
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_uri(app)
    # a copy: the class attribute is shared by every app made in this process
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 10})
    else:
        # After a database restart the pooled connections are dead: test each before use instead of failing a
        # request with it; and give up connecting after 5 s rather than the operating system's minutes.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
        # A gevent worker serves hundreds of requests at once, each holding a connection while it works: the
        # default 5 + 10 queued streams behind pool timeouts at a thousand tabs (bench/load.py). The connections
        # are kept rather than opened as overflow: an overflow connection is closed when it comes back, and at the
        # peak 10 + 30 opened ~2,800 backends a minute (each a fork, a login and cold caches), 35 + 5 ~500.
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        options.setdefault("pool_size", int(os.environ.get("DATABASE_POOL_SIZE", "35")))
        options.setdefault("max_overflow", int(os.environ.get("DATABASE_MAX_OVERFLOW", "5")))
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"connect_timeout": 5})

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=lambda: "zh_CN", timezone_selector=lambda: app.config["TIMEZONE"])
    login_manager.init_app(app)
    login_manager.login_view = "people.login"
    login_manager.login_message = lazy_gettext("请先登录")
    login_manager.localize_callback = str  # translate the lazy message when it is flashed
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(people_service.user_by_session_id)

    # What runs inside a flush or at the end of a transaction, for every session (docs/DEVELOPING.md):
    aftercommit.init_app(app)
    audit_service.init_app(app)  # inside each flush: an audit entry per audited row written
    indexer.init_app(app)  # after each flush: rewrite the search blocks of what it wrote
    room_live.init_app(app)  # the room's broker; before each commit render the room's changes, after it publish them
    notify_service.init_app(app)  # after commit: deliver new outbox messages (single-process mode)
    meeting_files.init_app(app)  # after commit: remove the stored files of deleted materials

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for

        if request.blueprint == "api" or request.path.startswith("/api/"):
            return jsonify(error={"code": "unauthorized", "message": gettext("请先登录或提供有效的令牌"), "fields": {}}), 401
        target = url_for("people.login", next=request.full_path if request.query_string else request.path)
        if request.headers.get("HX-Request"):
            response = app.response_class("", status=401)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)

    logs.init_app(app)

    web.install_url_converters(app)  # before any rule is added
    register_blueprints(app)
    jobs.init_app(app)  # the embedded scheduler starts with the first request
    web.init_app(app)
    errorpages.init_app(app)

    register_cli(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Register every domain's blueprint and the dashboard's panels."""
    app.register_blueprint(people_bp)
    app.register_blueprint(identity_bp)  # /login/oidc, /login/feishu...: 404 unless the method is configured
    app.jinja_env.globals["sign_in_buttons"] = sign_in_buttons
    app.jinja_env.globals["login_url"] = login_url  # the login form's action, on every page that shows it
    app.register_blueprint(meetings_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(archive_bp)
    app.register_blueprint(actions_views.bp)
    app.register_blueprint(notify_bp)
    app.register_blueprint(dev_mailbox_bp)  # answers 404 unless MAIL_DEV_MAILBOX=1
    app.register_blueprint(audit_bp)
    app.register_blueprint(directory_bp)  # 系统管理 → 目录同步
    app.register_blueprint(transcripts_bp)
    app.register_blueprint(chat_bp)  # /chat/<platform>/callback: card buttons (public, verified)
    app.register_blueprint(room_bp)
    app.register_blueprint(records_views.bp)

    # the dashboard's cards beside the meetings, in this order
    register_dashboard_panel(app, actions_views.coordination_panel)
    register_dashboard_panel(app, actions_views.due_panel)
    register_dashboard_panel(app, records_views.dashboard_panel)
