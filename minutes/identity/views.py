"""Sign-in through the company's IdP (OpenID Connect) or Feishu / DingTalk / WeCom: start, callback."""
import time

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import login_user

from minutes.core.errors import DomainError
from minutes.extensions import write_intent
from minutes.identity import dingtalk, feishu, oidc, service, wecom
from minutes.people.forms import LoginForm
from minutes.people.views import _is_local_path, _safe_next

bp = Blueprint("identity", __name__)

#: Vendors whose sign-in is an OAuth2 code with `state`, read by their module's authorize_url/profile_from_code.
VENDORS = {"feishu": feishu, "dingtalk": dingtalk, "wecom": wecom}
#: The callbacks each vendor sends the code in (DingTalk's new login calls it authCode).
CODE_PARAMS = ("code", "authCode", "auth_code")


def sign_in_buttons(next_url: str | None = None) -> list[dict]:
    """The login page's buttons: one per configured method, carrying a next= that stays on this site."""
    keep = {"next": next_url} if next_url and _is_local_path(next_url) else {}
    return [{"provider": provider, "label": label, "url": url_for(f"identity.{provider}_login", **keep)}
            for provider, label in service.configured_methods(current_app.config)]


def _require(provider: str) -> None:
    if not service.is_configured(current_app.config, provider):
        abort(404)


def _login_page(message: str, status: int):
    """The login page with the reason the sign-in failed (nothing was changed)."""
    return render_template("people/login.html", form=LoginForm(), error=message), status


def _remember_next() -> None:
    target = request.args.get("next")
    session["sso_next"] = target if target and _is_local_path(target) else None


def _finish_sign_in(provider: str, profile: service.Profile, logout_url: str | None = None):
    """The account for the profile, a fresh session for it, and on to where the person was going."""
    intent = write_intent.set(True)  # SQLite: this GET writes (the link, the last login): take the lock up front
    try:
        user = service.sign_in(provider, profile)
    finally:
        write_intent.reset(intent)
    target = session.get("sso_next")
    session.clear()  # a fresh session at login: nothing from before survives
    login_user(user)
    session.permanent = True
    session["login_at"] = session["last_seen"] = int(time.time())
    session["sign_in_method"] = provider
    if logout_url:
        session["logout_url"] = logout_url  # people.logout sends the browser there: logged out at the IdP too
    return redirect(_safe_next(target))


@bp.get("/login/oidc")
def oidc_login():
    """Go to the company's IdP to sign in (authorization code with PKCE)."""
    _require("oidc")
    settings = oidc.Settings.from_config(current_app.config)
    try:
        url, pending = oidc.begin(settings, url_for("identity.oidc_callback", _external=True))
    except DomainError as exc:
        return _login_page(exc.message, exc.status)
    session["oidc_pending"] = pending
    _remember_next()
    return redirect(url)


@bp.get("/login/oidc/callback")
def oidc_callback():
    """Come back from the IdP: check state, the ID token and its nonce, then sign in."""
    _require("oidc")
    settings = oidc.Settings.from_config(current_app.config)
    pending = session.pop("oidc_pending", None)  # one answer per sign-in: a replayed callback finds nothing
    try:
        profile, id_token = oidc.finish(settings, url_for("identity.oidc_callback", _external=True), pending,
                                        request.args)
        logout_url = None
        if current_app.config.get("OIDC_LOGOUT_AT_PROVIDER"):
            logout_url = oidc.logout_url(settings, id_token, url_for("people.login", _external=True))
        return _finish_sign_in("oidc", profile, logout_url)
    except DomainError as exc:
        return _login_page(exc.message, exc.status)


def _vendor_login(provider: str):
    _require(provider)
    state = service.new_state()
    session[f"{provider}_state"] = state
    _remember_next()
    module = VENDORS[provider]
    return redirect(module.authorize_url(current_app.config, url_for(f"identity.{provider}_callback", _external=True),
                                         state, request.headers.get("User-Agent", "")))


def _vendor_callback(provider: str):
    _require(provider)
    expected = session.pop(f"{provider}_state", None)
    try:
        service.check_state(expected, request.args.get("state"))
        code = next((request.args[name] for name in CODE_PARAMS if request.args.get(name)), None)
        if not code:
            raise service.SignInRefused(gettext("没有收到授权码（可能已取消授权），请重新登录"))
        profile = VENDORS[provider].profile_from_code(current_app.config, code)
        return _finish_sign_in(provider, profile)
    except DomainError as exc:
        return _login_page(exc.message, exc.status)


def _routes(provider: str) -> None:
    def start():
        return _vendor_login(provider)

    def callback():
        return _vendor_callback(provider)

    start.__doc__ = f"Go to {provider} to sign in (state-protected OAuth2 code)."
    callback.__doc__ = f"Come back from {provider}: check state, redeem the code, sign in."
    bp.add_url_rule(f"/login/{provider}", f"{provider}_login", start, methods=["GET"])
    bp.add_url_rule(f"/login/{provider}/callback", f"{provider}_callback", callback, methods=["GET"])


for _provider in VENDORS:
    _routes(_provider)
