"""Request plumbing around every blueprint: login everywhere, one commit per request, health, filters.

`create_app` calls `install_url_converters` before it registers the blueprints and `init_app` after them;
the request helpers views use are in `minutes.webutil`, the error answers in `minutes.errorpages`. This
module imports no view.
"""
import time

from flask import Flask, flash, g, has_app_context, jsonify, request, session
import flask_babel
from flask_babel import gettext, lazy_gettext, lazy_pgettext
from flask_login import current_user, logout_user
from werkzeug.routing import IntegerConverter

from minutes.core import clarity, rawinput, timefmt
from minutes.core.errors import DomainError
from minutes.core.sizes import human_size
from minutes.dbtypes import MAX_ID
from minutes.extensions import db, login_manager, write_intent
from minutes.notify.service import im_text
from minutes.room.live import broker
from minutes.webutil import is_htmx, session_is_current

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
                    "identity.dingtalk_in_app",  # DingTalk 免登: the code from the client, redeemed like a callback's
                    "identity.wecom_login", "identity.wecom_callback",
                    # card buttons: verified by each platform's signature; a DingTalk link signs the person in
                    # itself and acts only for the card's recipient (minutes/chat/views.py)
                    "chat.callback"}


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


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every rule: a number the database's integer holds; a larger one is no row (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 (Werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def install_url_converters(app: Flask) -> None:
    """Make `<int:...>` a row id (see RowIdConverter); before any rule is added: rules bind their converter then."""
    app.url_map.converters["int"] = RowIdConverter


def request_translations():
    """The catalog of this request, looked up once per app context and kept in `g`.

    Flask-Babel's template callables look it up again for every `_()` (the domain, the locale and its name,
    each from the context: 6 of a call's 15 µs); the room page makes 400 of them a render."""
    if not has_app_context():
        return flask_babel.get_translations()
    try:
        return g.template_translations
    except AttributeError:
        g.template_translations = translations = flask_babel.get_translations()
        return translations


def install_template_gettext(app: Flask) -> None:
    """Give the templates' `_()`, `ngettext()` … the request's catalog (as Flask-Babel's own, newstyle)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True)


def init_app(app: Flask) -> None:
    """Add the request hooks (input check, login, headers, the one commit), health, Jinja filters and globals."""

    @app.get("/favicon.ico", endpoint="favicon")
    def favicon():
        """The tab icon browsers ask for at the site's root."""
        return app.send_static_file("favicon.ico")

    @app.get("/healthz", endpoint="health")
    def health():
        """200 when the database and the room broker answer; 503 naming what failed (for load balancers)."""
        from sqlalchemy import text

        checks = {}
        try:
            db.session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            db.session.rollback()
            app.logger.warning("healthz: database unreachable: %s", exc)
            checks["database"] = gettext("数据库无法连接（%(error)s）", error=type(exc).__name__)
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
    app.jinja_env.filters["im"] = im_text  # user text in a group robot's Markdown message
    install_template_gettext(app)

    @app.template_filter("local_input")
    def local_input(dt):
        """Format an aware datetime for <input type=datetime-local>."""
        return "" if dt is None else timefmt.to_local(dt).strftime("%Y-%m-%dT%H:%M")

    @app.context_processor
    def inject():
        return {"now_utc": timefmt.utcnow()}
