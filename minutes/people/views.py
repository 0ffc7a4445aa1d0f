"""Login, logout and the user's own profile."""
import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user

from minutes.api import service as tokens
from minutes.core.errors import DomainError, ValidationFailed
from minutes.identity.ldap import configured as ldap_configured
from minutes.identity.login import password_login
from minutes.people import service
from minutes.people.forms import LoginForm
from minutes.webutil import write_after_request

bp = Blueprint("people", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow a next= that is a path on this site, with nothing a header or a browser could misread."""
    if not target or not _is_local_path(target):
        return url_for("meetings.dashboard")
    return target


def local_next(target: str | None) -> str:
    """A next= worth carrying to the following page: a path on this site, else nothing."""
    return target if target and _is_local_path(target) else ""


def login_url(next_url: str | None = None) -> str:
    """Where the login form posts: always /login (a page showing it after a failed single sign-on is elsewhere)."""
    target = local_next(next_url)
    return url_for("people.login", next=target) if target else url_for("people.login")


def _is_local_path(target: str) -> bool:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target) or "\\" in target:
        return False  # CR/LF would split the Location header; browsers read a backslash as a slash
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not (parts.scheme or parts.netloc)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with a local account or the company directory (LDAP/AD)."""
    if current_user.is_authenticated:
        return redirect(url_for("meetings.dashboard"))
    form = LoginForm()
    error, status = None, 400
    if form.validate_on_submit():
        try:  # the local password, then the company directory when one is configured
            user = password_login(form.username.data, form.password.data, request.remote_addr or "-",
                                  after_commit=write_after_request)
        except DomainError as exc:  # too many attempts, disabled in the directory, directory unreachable
            error, status, user = exc.message, exc.status, None
        else:
            if user is None:
                error = gettext("用户名或密码错误")
        if user is not None:
            session.clear()  # a fresh session at login: nothing from before survives
            login_user(user)
            session.permanent = True
            session["login_at"] = session["last_seen"] = int(time.time())
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        error = next(iter(form.errors.values()))[0] if form.errors else gettext("请求无效，请刷新后重试")
    return (render_template("people/login.html", form=form, error=error, directory_login=ldap_configured()),
            200 if error is None else status)


@bp.post("/logout")
def logout():
    """Log out: every session of this user ends, so a copied cookie is worthless afterwards."""
    service.end_all_sessions(current_user._get_current_object())
    at_provider = session.get("logout_url")  # set at an OpenID Connect sign-in: log out at the IdP too
    logout_user()
    session.clear()
    if at_provider:  # a page that goes on to the IdP: a redirect of this form POST would break form-action 'self'
        return render_template("identity/leaving.html", target=at_provider)
    return redirect(url_for("people.login"))


@bp.post("/profile/tokens")
def create_token():
    """Create an API token; its plaintext is shown once on the returned page."""
    try:
        _token, plaintext = tokens.create_token(current_user, request.form.get("name", ""),
                                                read_only=bool(request.form.get("read_only")))
    except ValidationFailed as exc:
        return _profile_page(token_errors=exc.fields, token_values=request.form, status=422)
    return _profile_page(new_token=plaintext)


@bp.post("/profile/tokens/<int:token_id>/revoke")
def revoke_token(token_id):
    """Revoke one of my API tokens."""
    tokens.revoke_token(current_user, token_id)
    flash(gettext("令牌已吊销"), "success")
    return redirect(url_for("people.profile"), 303)


def _profile_page(errors=None, token_errors=None, token_values=None, new_token=None, status=200):
    return render_template("people/profile.html", errors=errors or {}, token_errors=token_errors or {},
                           token_values=token_values or {}, new_token=new_token,
                           tokens=tokens.tokens_of(current_user)), status


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """Show the account and let the user change the password (ends every other session)."""
    errors = {}
    if request.method == "POST":
        current = request.form.get("current_password", "")
        new = request.form.get("new_password", "")
        if service.authenticate(current_user.username, current) is None:
            errors["current_password"] = gettext("当前密码不正确")
        elif new != request.form.get("confirm_password", ""):
            errors["confirm_password"] = gettext("两次输入的新密码不一致")
        else:
            try:
                service.set_password(current_user, new)
            except ValidationFailed as exc:
                errors.update(exc.fields)
        if not errors:
            login_user(current_user._get_current_object())  # keep this browser signed in
            session["login_at"] = session["last_seen"] = int(time.time())
            flash(gettext("密码已修改，其他设备上的登录已失效"), "success")
            return redirect(url_for("people.profile"))
    return _profile_page(errors=errors, status=422 if errors else 200)
