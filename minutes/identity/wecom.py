"""WeCom (企业微信) sign-in: QR login in a browser, web authorization inside WeCom; gettoken → getuserinfo → user/get.

As the developer center documents it: the browser goes to login.work.weixin.qq.com/wwlogin/sso/login (QR code;
inside the WeCom client to open.weixin.qq.com/connect/oauth2/authorize, which signs in silently) with the corpid,
the app's AgentId, `redirect_uri` and `state`; the code that comes back (5 minutes, once) is read with the app's
access_token (cgi-bin/gettoken, corpid + the app's secret) at cgi-bin/auth/getuserinfo, which names the member's
UserId (company-scoped, the stable id); cgi-bin/user/get gives the name, departments, position and e-mail.
"""
from urllib.parse import urlencode

from flask_babel import gettext

from minutes.identity.service import (DirectoryDepartment, DirectoryPerson, Profile, ProviderUnavailable, SignInRefused,
                                      call_provider, drop_own_token, own_token, own_token_key)

PROVIDER = "wecom"


def _call(config, path: str, **params) -> dict:
    _status, body = call_provider("GET", config["WECOM_BASE_URL"].rstrip("/") + path, what=gettext("企业微信"),
                                  timeout=float(config.get("SSO_HTTP_TIMEOUT") or 10), params=params)
    return body


def authorize_url(config, redirect_uri: str, state: str, user_agent: str = "") -> str:
    """The QR login page; inside the WeCom client (its user agent says wxwork) the silent web authorization."""
    if "wxwork" in (user_agent or "").lower():
        query = {"appid": config["WECOM_CORP_ID"], "redirect_uri": redirect_uri, "response_type": "code",
                 "scope": "snsapi_base", "state": state, "agentid": config["WECOM_AGENT_ID"]}
        return config["WECOM_OAUTH_URL"].rstrip("/") + "/connect/oauth2/authorize?" + urlencode(query) + "#wechat_redirect"
    query = {"login_type": "CorpApp", "appid": config["WECOM_CORP_ID"], "agentid": config["WECOM_AGENT_ID"],
             "redirect_uri": redirect_uri, "state": state}
    return config["WECOM_LOGIN_URL"].rstrip("/") + "/wwlogin/sso/login?" + urlencode(query)


#: errcodes that mean the app's access_token is no longer good (invalid, expired): fetch a new one once.
TOKEN_REJECTED = (40014, 42001)


def _token_key(config) -> tuple:
    return own_token_key(PROVIDER, config["WECOM_BASE_URL"], config["WECOM_CORP_ID"], config["WECOM_SECRET"])


def _fetch_access_token(config) -> tuple[str, float]:
    body = _call(config, "/cgi-bin/gettoken", corpid=config["WECOM_CORP_ID"], corpsecret=config["WECOM_SECRET"])
    if body.get("errcode") != 0 or not body.get("access_token"):
        raise ProviderUnavailable(gettext("企业微信拒绝了应用凭证（%(code)s：%(msg)s），请管理员检查 WECOM_CORP_ID / WECOM_SECRET",
                                          code=body.get("errcode"), msg=body.get("errmsg") or "-"))
    return body["access_token"], body.get("expires_in") or 7200


def access_token(config) -> str:
    """The app's access_token (corpid + the app's secret), kept until shortly before it expires."""
    return own_token(_token_key(config), lambda: _fetch_access_token(config))


def _corp(config, path: str, **params) -> dict:
    """A call with the app's access_token; a token WeCom no longer accepts is fetched again, once."""
    body = _call(config, path, access_token=access_token(config), **params)
    if body.get("errcode") in TOKEN_REJECTED:
        drop_own_token(_token_key(config))
        body = _call(config, path, access_token=access_token(config), **params)
    return body


def profile_from_code(config, code: str) -> Profile:
    """Read who the code belongs to; only members of the company sign in."""
    access_token(config)  # first: a refused secret is the administrator's to fix, not the person's
    info = _corp(config, "/cgi-bin/auth/getuserinfo", code=code)
    if info.get("errcode") != 0:
        raise SignInRefused(gettext("企业微信授权码无效、已使用或已过期（%(code)s：%(msg)s），请重新登录",
                                    code=info.get("errcode"), msg=info.get("errmsg") or "-"))
    userid = info.get("userid") or info.get("UserId")
    if not userid:  # an openid: someone outside the company
        raise SignInRefused(gettext("该企业微信账号不是本企业的成员，不能登录"))
    user = _corp(config, "/cgi-bin/user/get", userid=userid)
    if user.get("errcode") != 0:
        user = {}
    department = None
    main = user.get("main_department") or next(iter(user.get("department") or []), None)
    if main is not None:
        dept = _corp(config, "/cgi-bin/department/get", id=main)
        department = (dept.get("department") or {}).get("name") if dept.get("errcode") == 0 else None
    leads = user.get("is_leader_in_dept")
    return Profile(subject=userid, username=userid[:64], name=(user.get("name") or userid)[:64],
                   email=user.get("biz_mail") or user.get("email") or None, department=department,
                   title=user.get("position") or None,
                   is_department_head=any(leads) if isinstance(leads, list) and leads else None)


# --- contacts for the org sync: the app's 可见范围 is what it can read ------------------------------------------

#: WeCom member status: 1 active, 2 disabled, 4 not yet activated (still an employee), 5 left.
ACTIVE_STATUSES = (1, 4)


def _listing(config, path: str, key: str, **params) -> list[dict]:
    body = _corp(config, path, **params)
    if body.get("errcode") != 0:
        raise ProviderUnavailable(gettext("企业微信通讯录读取失败（%(code)s：%(msg)s），请检查应用的可见范围",
                                          code=body.get("errcode"), msg=body.get("errmsg") or "-"))
    return body.get(key) or []


def directory(config) -> tuple[list[DirectoryDepartment], list[DirectoryPerson]]:
    """The company's departments (by id; the root, parentid 0, is the company itself) and members (by UserId)."""
    raw = _listing(config, "/cgi-bin/department/list", "department")
    roots = {d["id"] for d in raw if not d.get("parentid")}
    departments = [DirectoryDepartment(subject=str(d["id"]), name=d["name"],
                                       parent=None if d.get("parentid") in roots or not d.get("parentid")
                                       else str(d["parentid"])) for d in raw if d["id"] not in roots]
    people: dict[str, DirectoryPerson] = {}
    for dept in raw:
        for user in _listing(config, "/cgi-bin/user/list", "userlist", department_id=dept["id"]):
            if user["userid"] in people:
                continue
            home = user.get("main_department") or next(iter(user.get("department") or []), None)
            leads = user.get("is_leader_in_dept") or []
            people[user["userid"]] = DirectoryPerson(
                profile=Profile(subject=user["userid"], username=user["userid"][:64],
                                name=(user.get("name") or user["userid"])[:64],
                                email=user.get("biz_mail") or user.get("email") or None,
                                title=user.get("position") or None, is_department_head=any(leads)),
                department=None if home is None or home in roots else str(home),
                enabled=user.get("status", 1) in ACTIVE_STATUSES)
    return departments, list(people.values())
