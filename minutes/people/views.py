"""Login, logout and the user's own profile."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from minutes.core.errors import ValidationFailed
from minutes.people import service
from minutes.people.forms import LoginForm

bp = Blueprint("people", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow a next= that stays on this site."""
    if not target:
        return url_for("meetings.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("meetings.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with a local account."""
    if current_user.is_authenticated:
        return redirect(url_for("meetings.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = service.authenticate(form.username.data, form.password.data)
        if user is None:
            error = "用户名或密码错误"
        else:
            session.clear()  # a fresh session at login: nothing from before survives
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        error = next(iter(form.errors.values()))[0] if form.errors else "请求无效，请刷新后重试"
    status = 200 if error is None else 400
    return render_template("people/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    """Log out of this browser."""
    logout_user()
    session.clear()
    return redirect(url_for("people.login"))


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """Show the account and let the user change the password (ends every other session)."""
    errors = {}
    if request.method == "POST":
        current = request.form.get("current_password", "")
        new = request.form.get("new_password", "")
        if service.authenticate(current_user.username, current) is None:
            errors["current_password"] = "当前密码不正确"
        elif new != request.form.get("confirm_password", ""):
            errors["confirm_password"] = "两次输入的新密码不一致"
        else:
            try:
                service.set_password(current_user, new)
            except ValidationFailed as exc:
                errors.update(exc.fields)
        if not errors:
            login_user(current_user._get_current_object())  # keep this browser signed in
            flash("密码已修改，其他设备上的登录已失效", "success")
            return redirect(url_for("people.profile"))
    return render_template("people/profile.html", errors=errors), (422 if errors else 200)
