"""Request plumbing shared by every blueprint: login everywhere, one commit per request, errors."""
import time
from collections.abc import Callable
from functools import partial

from flask import Flask, current_app, flash, g, jsonify, render_template, request, session
from flask_babel import gettext, lazy_gettext, lazy_pgettext
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from minutes.core import clarity, rawinput, timefmt
from minutes.core.errors import DomainError
from minutes.core.sizes import human_size
from minutes.dbtypes import MAX_ID, use_record_due
from minutes.extensions import db, write_intent

# weekday names for the `weekday` (a date -> 周一) and `weekday_head` (0..6 -> 一, calendar columns) filters
WEEKDAYS = (lazy_gettext("周一"), lazy_gettext("周二"), lazy_gettext("周三"), lazy_gettext("周四"),
            lazy_gettext("周五"), lazy_gettext("周六"), lazy_gettext("周日"))
WEEKDAY_HEADS = (lazy_pgettext("calendar column", "一"), lazy_pgettext("calendar column", "二"),
                 lazy_pgettext("calendar column", "三"), lazy_pgettext("calendar column", "四"),
                 lazy_pgettext("calendar column", "五"), lazy_pgettext("calendar column", "六"),
                 lazy_pgettext("calendar column", "日"))

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
#: Sent when the app is served over HTTPS: browsers then refuse plain HTTP to this host for a year.
HSTS = "max-age=31536000; includeSubDomains"

#: Endpoints reachable without logging in.
PUBLIC_ENDPOINTS = {"people.login", "static", "health", "favicon", "actions.calendar_feed",
                    # single sign-on: each method's start and callback (minutes/identity/views.py)
                    "identity.oidc_login", "identity.oidc_callback", "identity.feishu_login",
                    "identity.feishu_callback", "identity.dingtalk_login", "identity.dingtalk_callback",
                    "identity.wecom_login", "identity.wecom_callback",
                    "chat.callback"}  # card buttons: verified by each platform's signature (minutes/chat/views.py)


#: Request headers the app reads (htmx, live room reconnects, API tokens, CSRF): checked like any field.
READ_HEADERS = ("Authorization", "HX-Request", "HX-History-Restore-Request", "HX-Current-URL", "Last-Event-ID",
                "X-CSRFToken", "X-CSRF-Token")
INPUT_PROBLEMS = {
    rawinput.NUL: lazy_gettext("输入包含非法字符（NUL），未保存"),
    rawinput.SURROGATE: lazy_gettext("输入包含无法识别的字符（不成对的 Unicode 代理字符），未保存"),
    rawinput.TOO_DEEP: lazy_gettext("JSON 嵌套层数过多（上限 %(depth)s 层），未处理", depth=rawinput.MAX_JSON_DEPTH),
}


def _input_problem() -> str | None:
    """What is wrong with the request's path, query, form, files, JSON body or read headers; None if nothing."""
    texts = [request.path, *request.args.keys(), *(v for vs in request.args.listvalues() for v in vs)]
    texts += [request.headers.get(name, "") for name in READ_HEADERS]
    texts += [*request.form.keys(), *(v for vs in request.form.listvalues() for v in vs)]
    texts += [f.filename or "" for f in request.files.values()]
    for text in texts:
        problem = rawinput.text_problem(text)
        if problem:
            return problem
    if request.is_json:
        try:
            data = request.get_json(silent=True)
        except RecursionError:  # the parser gave up long before our own depth limit
            return rawinput.TOO_DEEP
        return rawinput.json_problem(data)
    return None


def is_htmx() -> bool:
    """True for an htmx request that wants a fragment (not a history restore)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def render(page: str, fragment: str | None = None, status: int = 200, **context):
    """Render the full page, or only its fragment for htmx; the page includes the fragment."""
    template = fragment if fragment and is_htmx() else page
    return render_template(template, **context), status


def commit_early() -> None:
    """Commit the request's change now, before its answer is rendered, instead of in `finish_request`.

    For changes open tabs are waiting for: the live layer publishes right after the commit, so the event
    leaves before the answer is built rather than after it. The objects are not expired (they hold what
    was just committed), so rendering the answer reads nothing again; reads after this point take no
    write lock (SQLite) and `finish_request` finds nothing left to commit. Call it only once the service
    has succeeded: what follows must not write.
    """
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.expire_on_commit = expire
    g.committed_early = True


def write_after_request(work: Callable[[], None]) -> None:
    """Run `work` once this request has committed or rolled back, in its own short write transaction.

    For the bookkeeping a read does (the last use of a token): written inside the read's transaction it
    would make a SQLite read a writer that cannot wait: a transaction that began as a read and then writes
    fails at once with "database is locked" when another connection holds the write lock or has committed
    since the read began (SQLite cannot wait there without risking a deadlock). Here the transaction
    begins as a write (BEGIN IMMEDIATE on SQLite) and waits for the lock like every other write. A failure
    is logged; the answer has been decided already and is never changed by it.
    """
    g.setdefault("writes_after_request", []).append(work)


def record_use_after_request(credential, record: Callable[[int], None]) -> None:
    """Have `record(credential.id)` note a token's use after the request, unless noted within the minute."""
    if use_record_due(credential.last_used_at):
        write_after_request(partial(record, credential.id))


def session_is_current() -> bool:
    """False when the browser session has been idle or alive too long (it must log in again)."""
    now = int(time.time())
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    return now - session.get("last_seen", 0) <= idle and now - session.get("login_at", 0) <= absolute


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every rule: a number the database's integer holds; a larger one is no row (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 (Werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_web(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter  # before any rule is added: rules bind their converter then

    from minutes.actions.views import bp as actions_bp
    from minutes.admin.views import bp as admin_bp
    from minutes.api.views import bp as api_bp
    from minutes.archive.views import bp as archive_bp
    from minutes.audit.views import bp as audit_bp
    from minutes.chat.views import bp as chat_bp
    from minutes.identity.directory_views import bp as directory_bp
    from minutes.meetings.views import bp as meetings_bp
    from minutes.notify.views import bp as notify_bp, dev_bp as dev_mailbox_bp
    from minutes.identity.views import bp as identity_bp, sign_in_buttons
    from minutes.people.views import bp as people_bp
    from minutes.transcripts.views import bp as transcripts_bp

    app.register_blueprint(people_bp)
    app.register_blueprint(identity_bp)  # /login/oidc, /login/feishu...: 404 unless the method is configured
    app.jinja_env.globals["sign_in_buttons"] = sign_in_buttons
    app.register_blueprint(meetings_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(archive_bp)
    app.register_blueprint(actions_bp)
    app.register_blueprint(notify_bp)
    app.register_blueprint(dev_mailbox_bp)  # answers 404 unless MAIL_DEV_MAILBOX=1
    app.register_blueprint(audit_bp)
    app.register_blueprint(directory_bp)  # 系统管理 → 目录同步
    app.register_blueprint(transcripts_bp)
    app.register_blueprint(chat_bp)  # /chat/<platform>/callback: card buttons (public, verified)

    from minutes.room.views import register as register_room

    register_room(app)

    from minutes.meetings.views import register_dashboard_panel
    from minutes.records.views import bp as records_bp, dashboard_panel as minutes_panel

    app.register_blueprint(records_bp)
    register_dashboard_panel(app, minutes_panel)

    @app.get("/favicon.ico", endpoint="favicon")
    def favicon():
        """The tab icon browsers ask for at the site's root."""
        return app.send_static_file("favicon.ico")

    @app.get("/healthz", endpoint="health")
    def health():
        """200 when the database and the room broker answer; 503 naming what failed (for load balancers)."""
        from sqlalchemy import text

        from minutes.room.live import broker

        checks = {}
        try:
            db.session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            db.session.rollback()
            app.logger.warning("healthz: database unreachable: %s", exc)
            checks["database"] = f"数据库无法连接（{type(exc).__name__}）"
        hub = broker()
        checks["broker"] = hub.problem() or "ok"
        failed = [name for name, result in checks.items() if result != "ok"]
        response = jsonify(status="unavailable" if failed else "ok", failed=failed, broker_kind=hub.name, **checks)
        response.status_code = 503 if failed else 200
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.before_request
    def refuse_unreadable_input():
        """Refuse NUL, lone surrogates and runaway JSON nesting wherever the app reads input, before any view."""
        problem = _input_problem()
        if problem:
            raise DomainError(str(INPUT_PROBLEMS[problem]))
        return None

    @app.before_request
    def require_login():
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None or request.blueprint == "api":
            return None
        from minutes.extensions import login_manager

        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not session_is_current():
            logout_user()
            session.clear()
            flash(gettext("登录已超时，请重新登录"), "info")
            return login_manager.unauthorized()
        now = int(time.time())
        if now - session.get("last_seen", 0) > 60:  # refresh at most once a minute: fewer cookie writes
            session["last_seen"] = now
        return None

    @app.after_request
    def security_headers(response):
        """A strict policy: scripts only from this site (htmx runs without eval or inline scripts)."""
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # HTTPS is configured (the session cookie is HTTPS-only) or this request came over it, directly or
        # through a trusted proxy (TRUSTED_PROXIES makes X-Forwarded-Proto count; untrusted it is ignored).
        if app.config.get("SESSION_COOKIE_SECURE") or request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    @app.after_request
    def finish_request(response):
        """Commit once when the request succeeded; roll back everything when it did not."""
        response.vary.add("HX-Request")
        if response.status_code < 400:
            try:
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def run_writes_after_request(exc):
        """The writes `write_after_request` put off: each in its own transaction, after the request's own."""
        works = g.pop("writes_after_request", None)
        if not works:
            return
        db.session.rollback()  # nothing of the request is left open (finish_request committed or rolled back)
        intent = write_intent.set(True)
        try:
            for work in works:
                try:
                    work()
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    app.logger.warning("bookkeeping after %s %s failed", request.method, request.path, exc_info=True)
        finally:
            write_intent.reset(intent)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if request.path.startswith("/api/"):
            return jsonify(error={"code": exc.code, "message": exc.message, "fields": exc.fields}), exc.status
        if is_htmx():
            return render_template("_error_fragment.html", message=exc.message), exc.status
        return render_template("error.html", message=exc.message, status=exc.status), exc.status

    @app.errorhandler(404)
    def not_found(exc):
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "not_found", "message": gettext("资源不存在"), "fields": {}}), 404
        return render_template("error.html", message=gettext("页面不存在或您无权查看"), status=404), 404

    @app.errorhandler(405)
    def method_not_allowed(exc):
        allow = {"Allow": ", ".join(sorted(exc.valid_methods or []))}  # RFC 9110: a 405 names what is allowed
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "method_not_allowed", "message": gettext("不支持该请求方法"),
                                  "fields": {}}), 405, allow
        return render_template("error.html", message=gettext("不支持该请求方法"), status=405), 405, allow

    @app.errorhandler(413)
    def too_large(exc):
        limit = app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        message = gettext("上传内容超过大小上限（%(limit)s MB）", limit=limit)
        if is_htmx():
            return render_template("_error_fragment.html", message=message), 413
        return render_template("error.html", message=message, status=413), 413

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        message = gettext("页面已过期或请求来源不明，请刷新页面后重试")
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "csrf", "message": message, "fields": {}}), 400
        if is_htmx():
            return render_template("_error_fragment.html", message=message), 400
        return render_template("error.html", message=message, status=400), 400

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "server_error", "message": gettext("服务器内部错误，请稍后重试"), "fields": {}}), 500
        return render_template("error.html", message=gettext(gettext("服务器内部错误，请稍后重试")), status=500), 500

    app.jinja_env.filters["cn_date"] = timefmt.cn_date
    app.jinja_env.filters["cn_datetime"] = timefmt.cn_datetime
    app.jinja_env.filters["cn_time"] = timefmt.cn_time
    app.jinja_env.filters["cn_duration"] = timefmt.cn_duration
    app.jinja_env.filters["relative_cn"] = timefmt.relative_cn
    app.jinja_env.filters["filesize"] = human_size
    app.jinja_env.filters["local"] = timefmt.to_local
    app.jinja_env.filters["weekday"] = lambda d: str(WEEKDAYS[d.weekday()])
    app.jinja_env.filters["weekday_head"] = lambda i: str(WEEKDAY_HEADS[i])
    app.jinja_env.globals["is_htmx"] = is_htmx
    #: The date hints offer as an example ("2026-12-31、12月31日前"): counted from today, never past.
    app.jinja_env.globals["example_due"] = lambda: clarity.example_deadline(timefmt.local_today())
    from minutes.notify.service import im_text

    app.jinja_env.filters["im"] = im_text  # user text in a group robot's Markdown message

    @app.template_filter("local_input")
    def local_input(dt):
        """Format an aware datetime for <input type=datetime-local>."""
        return "" if dt is None else timefmt.to_local(dt).strftime("%Y-%m-%dT%H:%M")

    @app.context_processor
    def inject():
        return {"now_utc": timefmt.utcnow()}



@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session):
    """In single-process mode, deliver new outbox messages right after the commit that wrote them."""
    if not session.info.pop("outbox_dirty", False):
        return
    from flask import current_app

    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    if app.config.get("OUTBOX_DELIVER_ON_COMMIT"):
        from minutes.notify.delivery import deliver_in_background

        deliver_in_background(app)


@event.listens_for(Session, "after_rollback")
def _forget_outbox_after_rollback(session):
    session.info.pop("outbox_dirty", None)
