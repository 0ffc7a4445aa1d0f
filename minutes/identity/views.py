"""Sign-in through the company's IdP (OpenID Connect) or Feishu / DingTalk / WeCom: start, callback; DingTalk 免登."""
import time

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user

from minutes.core.errors import DomainError
from minutes.extensions import write_intent
from minutes.identity import dingtalk, feishu, oidc, service, wecom
from minutes.people.forms import LoginForm
from minutes.people.views import _safe_next, local_next

bp = Blueprint("identity", __name__)

#: Vendors whose sign-in is an OAuth2 code with `state`, read by their module's authorize_url/profile_from_code.
VENDORS = {"feishu": feishu, "dingtalk": dingtalk, "wecom": wecom}
#: The callbacks each vendor sends the code in (DingTalk's new login calls it authCode).
CODE_PARAMS = ("code", "authCode", "auth_code")


def sign_in_buttons(next_url: str | None = None) -> list[dict]:
    """The login page's buttons: one per configured method, carrying a next= that stays on this site."""
    target = local_next(next_url)
    keep = {"next": target} if target else {}
    return [{"provider": provider, "label": label, "url": url_for(f"identity.{provider}_login", **keep)}
            for provider, label in service.configured_methods(current_app.config)]


def _require(provider: str) -> None:
    if not service.is_configured(current_app.config, provider):
        abort(404)


def _login_page(message: str, status: int):
    """The login page with the reason the sign-in failed (nothing was changed)."""
    return render_template("people/login.html", form=LoginForm(), error=message), status


def _remember_next() -> None:
    session["sso_next"] = local_next(request.args.get("next"))


def _finish_sign_in(provider: str, profile: service.Profile, logout_url: str | None = None,
                    target: str | None = None):
    """The account for the profile, a fresh session for it, and on to where the person was going (`target`, else
    the next= the sign-in started with)."""
    intent = write_intent.set(True)  # SQLite: this GET writes (the link, the last login): take the lock up front
    try:
        user = service.sign_in(provider, profile)
    finally:
        write_intent.reset(intent)
    target = target or session.get("sso_next")
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


def _in_app_page(next_url: str, error: str | None = None, status: int = 200):
    return render_template("identity/dingtalk_in_app.html", corp_id=current_app.config.get("DINGTALK_CORP_ID") or "",
                           next_url=next_url, error=error), status


@bp.route("/login/dingtalk/in-app", methods=["GET", "POST"])
def dingtalk_in_app():
    """DingTalk 免登: the micro-app's homepage asks the client for a code (static/dingtalk-in-app.js) and posts it here."""
    _require("dingtalk")
    next_url = local_next(request.values.get("next"))
    if not current_app.config.get("DINGTALK_CORP_ID"):
        return _in_app_page(next_url, gettext("钉钉内免登需要企业的 CorpId：请管理员设置 DINGTALK_CORP_ID"), 404)
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(next_url))
        return _in_app_page(next_url)
    code = request.form.get("code", "").strip()
    try:
        if not code:
            raise service.SignInRefused(gettext("没有收到钉钉的免登授权码，请在钉钉中重新打开本应用"))
        profile = dingtalk.profile_from_in_app_code(current_app.config, code)
        return _finish_sign_in("dingtalk", profile, target=next_url)
    except DomainError as exc:
        return _in_app_page(next_url, exc.message, exc.status)
