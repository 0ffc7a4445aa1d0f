"""Feishu (飞书) web-app sign-in: authorize → code → app_access_token → user_access_token → user_info.

As the open platform documents it: the browser goes to the authorize page with the app's id, `redirect_uri` and
`state`; the code that comes back (valid 5 minutes, once) is redeemed with the app's app_access_token
(auth/v3/app_access_token/internal, a custom app's App ID + App Secret) at authen/v1/oidc/access_token; the
user_access_token reads authen/v1/user_info. The account's stable id is the user_id (company-scoped; the app needs
the "获取用户 user ID" permission).
"""
from urllib.parse import urlencode

from flask_babel import gettext

from minutes.identity.service import Profile, ProviderUnavailable, SignInRefused, call_provider

PROVIDER = "feishu"


def _base(config) -> str:
    return config["FEISHU_BASE_URL"].rstrip("/")


def _call(config, method: str, path: str, **kwargs) -> dict:
    _status, body = call_provider(method, _base(config) + path, what=gettext("飞书开放平台"),
                                  timeout=float(config.get("SSO_HTTP_TIMEOUT") or 10), **kwargs)
    return body


def authorize_url(config, redirect_uri: str, state: str, user_agent: str = "") -> str:
    """Feishu's authorization page for this app (in the Feishu client it signs in without asking)."""
    query = {"client_id": config["FEISHU_APP_ID"], "response_type": "code", "redirect_uri": redirect_uri,
             "state": state}
    return config["FEISHU_AUTHORIZE_URL"] + "?" + urlencode(query)


def _own_token(config, kind: str) -> str:
    """The app's own token, "app" (to redeem codes) or "tenant" (the company's contacts): custom app's id + secret.

    A refused secret is the administrator's to fix, not the person's signing in.
    """
    body = _call(config, "POST", f"/open-apis/auth/v3/{kind}_access_token/internal",
                 json={"app_id": config["FEISHU_APP_ID"], "app_secret": config["FEISHU_APP_SECRET"]})
    if body.get("code") != 0 or not body.get(f"{kind}_access_token"):
        raise ProviderUnavailable(gettext("飞书拒绝了应用凭证（%(code)s：%(msg)s），请管理员检查 FEISHU_APP_ID / FEISHU_APP_SECRET",
                                          code=body.get("code"), msg=body.get("msg") or "-"))
    return body[f"{kind}_access_token"]


def app_access_token(config) -> str:
    return _own_token(config, "app")


def tenant_access_token(config) -> str:
    return _own_token(config, "tenant")


def profile_from_code(config, code: str) -> Profile:
    """Redeem the code and read who signed in."""
    app_token = app_access_token(config)
    body = _call(config, "POST", "/open-apis/authen/v1/oidc/access_token",
                 headers={"Authorization": f"Bearer {app_token}"},
                 json={"grant_type": "authorization_code", "code": code})
    token = (body.get("data") or {}).get("access_token") if body.get("code") == 0 else None
    if not token:
        raise SignInRefused(gettext("飞书授权码无效、已使用或已过期（%(code)s：%(msg)s），请重新登录",
                                    code=body.get("code"), msg=body.get("msg") or "-"))
    body = _call(config, "GET", "/open-apis/authen/v1/user_info", headers={"Authorization": f"Bearer {token}"})
    data = body.get("data") or {}
    if body.get("code") != 0:
        raise SignInRefused(gettext("飞书没有返回用户信息（%(code)s：%(msg)s），请重新登录",
                                    code=body.get("code"), msg=body.get("msg") or "-"))
    user_id = data.get("user_id")
    if not user_id:
        raise ProviderUnavailable(gettext("飞书没有返回 user_id：请管理员在飞书开放平台为应用开通“获取用户 user ID”权限"))
    return Profile(subject=user_id, username=user_id[:64], name=(data.get("name") or user_id)[:64],
                   email=data.get("enterprise_email") or data.get("email") or None)
