"""Feishu (飞书) web-app sign-in: authorize → code → app_access_token → user_access_token → user_info.

As the open platform documents it: the browser goes to the authorize page with the app's id, `redirect_uri` and
`state`; the code that comes back (valid 5 minutes, once) is redeemed with the app's app_access_token
(auth/v3/app_access_token/internal, a custom app's App ID + App Secret) at authen/v1/oidc/access_token; the
user_access_token reads authen/v1/user_info. The account's stable id is the user_id (company-scoped; the app needs
the "获取用户 user ID" permission).
"""
from urllib.parse import urlencode

from flask_babel import gettext

from minutes.identity.service import (DirectoryDepartment, DirectoryPerson, Profile, ProviderUnavailable, SignInRefused,
                                      call_provider, drop_own_token, own_token, own_token_key)

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


#: codes that mean the app's (99991664) or tenant's (99991663) token is no longer good: fetch a new one once.
TOKEN_REJECTED = (99991663, 99991664)


def _token_key(config, kind: str) -> tuple:
    return own_token_key(PROVIDER, kind, _base(config), config["FEISHU_APP_ID"], config["FEISHU_APP_SECRET"])


def _fetch_own_token(config, kind: str) -> tuple[str, float]:
    body = _call(config, "POST", f"/open-apis/auth/v3/{kind}_access_token/internal",
                 json={"app_id": config["FEISHU_APP_ID"], "app_secret": config["FEISHU_APP_SECRET"]})
    if body.get("code") != 0 or not body.get(f"{kind}_access_token"):
        raise ProviderUnavailable(gettext("飞书拒绝了应用凭证（%(code)s：%(msg)s），请管理员检查 FEISHU_APP_ID / FEISHU_APP_SECRET",
                                          code=body.get("code"), msg=body.get("msg") or "-"))
    return body[f"{kind}_access_token"], body.get("expire") or 7200


def _own_token(config, kind: str) -> str:
    """The app's own token, "app" (to redeem codes) or "tenant" (the company's contacts): custom app's id + secret,
    kept until shortly before it expires. A refused secret is the administrator's to fix, not the person's."""
    return own_token(_token_key(config, kind), lambda: _fetch_own_token(config, kind))


def _as_app(config, kind: str, method: str, path: str, **kwargs) -> dict:
    """A call with the app's own token; a token Feishu no longer accepts is fetched again, once."""
    body = _call(config, method, path, headers={"Authorization": f"Bearer {_own_token(config, kind)}"}, **kwargs)
    if body.get("code") in TOKEN_REJECTED:
        drop_own_token(_token_key(config, kind))
        body = _call(config, method, path, headers={"Authorization": f"Bearer {_own_token(config, kind)}"}, **kwargs)
    return body


def app_access_token(config) -> str:
    return _own_token(config, "app")


def tenant_access_token(config) -> str:
    return _own_token(config, "tenant")


def profile_from_code(config, code: str) -> Profile:
    """Redeem the code and read who signed in."""
    body = _as_app(config, "app", "POST", "/open-apis/authen/v1/oidc/access_token",
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


# --- contacts (通讯录 v3) for the org sync: the app needs 以应用身份读取通讯录 and its data range (通讯录权限范围) ----

def _pages(config, path: str, params: dict) -> list[dict]:
    """Every item of a paged contacts list (page_token / has_more), 50 at a time."""
    items, page_token = [], ""
    while True:
        body = _as_app(config, "tenant", "GET", path,
                       params={**params, "page_size": 50, **({"page_token": page_token} if page_token else {})})
        if body.get("code") != 0:
            raise ProviderUnavailable(gettext("飞书通讯录读取失败（%(code)s：%(msg)s），请检查应用的通讯录权限范围",
                                              code=body.get("code"), msg=body.get("msg") or "-"))
        data = body.get("data") or {}
        items += data.get("items") or []
        page_token = data.get("page_token") or ""
        if not data.get("has_more") or not page_token:
            return items


def directory(config) -> tuple[list[DirectoryDepartment], list[DirectoryPerson]]:
    """The company's departments (by open_department_id) and people (by user_id), as the org sync takes them."""
    tenant_access_token(config)  # first: a refused secret stops here with the administrator's message
    ids = {"department_id_type": "open_department_id", "user_id_type": "user_id"}
    raw = [d for d in _pages(config, "/open-apis/contact/v3/departments/0/children", {**ids, "fetch_child": "true"})
           if not (d.get("status") or {}).get("is_deleted")]
    departments = [DirectoryDepartment(subject=d["open_department_id"], name=d["name"],
                                       parent=None if d.get("parent_department_id") in (None, "", "0")
                                       else d["parent_department_id"]) for d in raw]
    leaders = {d.get("leader_user_id") for d in raw if d.get("leader_user_id")}
    people: dict[str, DirectoryPerson] = {}
    for dept_id in ["0", *(d.subject for d in departments)]:
        for user in _pages(config, "/open-apis/contact/v3/users/find_by_department",
                           {**ids, "department_id": dept_id}):
            if not user.get("user_id") or user["user_id"] in people:
                continue
            status = user.get("status") or {}
            home = next(iter(user.get("department_ids") or []), None)
            people[user["user_id"]] = DirectoryPerson(
                profile=Profile(subject=user["user_id"], username=user["user_id"][:64],
                                name=(user.get("name") or user["user_id"])[:64],
                                email=user.get("enterprise_email") or user.get("email") or None,
                                title=user.get("job_title") or None,
                                is_department_head=user["user_id"] in leaders),
                department=None if home in (None, "0") else home,
                enabled=not (status.get("is_resigned") or status.get("is_frozen") or status.get("is_exited")),
                extra={"open_id": user.get("open_id"), "union_id": user.get("union_id")})
    return departments, list(people.values())
