"""DingTalk (钉钉) scan / web sign-in: OAuth2 authorize → userAccessToken → contact/users/me → the company's userid.

As the open platform documents it: login.dingtalk.com/oauth2/auth with the app's client id, `redirect_uri`,
`state` and scope `openid corpid`; the `authCode` that comes back is redeemed at api.dingtalk.com
/v1.0/oauth2/userAccessToken (client id + secret); /v1.0/contact/users/me tells the person's unionId. The stable
company-scoped id is the userid: the app's own token (oapi gettoken, AppKey + AppSecret) looks it up with
topapi/user/getbyunionid, and topapi/v2/user/get gives the name, e-mail, title and departments.

免登 inside the DingTalk client (H5 微应用): the page calls dd.runtime.permission.requestAuthCode({corpId}) and posts
the code; the app's own token redeems it at topapi/v2/user/getuserinfo, which answers the same userid directly.
"""
from urllib.parse import urlencode

from flask_babel import gettext

from minutes.identity.service import (DirectoryDepartment, DirectoryPerson, Profile, ProviderUnavailable, SignInRefused,
                                      call_provider, drop_own_token, own_token, own_token_key)

PROVIDER = "dingtalk"


def _timeout(config) -> float:
    return float(config.get("SSO_HTTP_TIMEOUT") or 10)


def _api(config, method: str, path: str, **kwargs) -> tuple[int, dict]:
    return call_provider(method, config["DINGTALK_API_URL"].rstrip("/") + path, what=gettext("钉钉开放平台"),
                         timeout=_timeout(config), **kwargs)


def _oapi(config, method: str, path: str, **kwargs) -> dict:
    _status, body = call_provider(method, config["DINGTALK_OAPI_URL"].rstrip("/") + path,
                                  what=gettext("钉钉开放平台"), timeout=_timeout(config), **kwargs)
    return body


def in_client(user_agent: str) -> bool:
    """Whether a request comes from DingTalk's own browser (its User-Agent names "DingTalk/<version>"), where 免登
    signs the person in without typing; elsewhere the login page does."""
    return "DingTalk/" in (user_agent or "")


def authorize_url(config, redirect_uri: str, state: str, user_agent: str = "") -> str:
    """DingTalk's login page (QR code in a browser; inside DingTalk it asks for consent only)."""
    query = {"redirect_uri": redirect_uri, "response_type": "code", "client_id": config["DINGTALK_CLIENT_ID"],
             "scope": "openid corpid", "state": state, "prompt": "consent"}
    return config["DINGTALK_LOGIN_URL"].rstrip("/") + "/oauth2/auth?" + urlencode(query)


#: errcodes that mean the app's access_token is no longer good (invalid, expired): fetch a new one once.
TOKEN_REJECTED = (40014, 42001)


def _token_key(config) -> tuple:
    return own_token_key(PROVIDER, config["DINGTALK_OAPI_URL"], config["DINGTALK_CLIENT_ID"],
                         config["DINGTALK_CLIENT_SECRET"])


def _fetch_app_token(config) -> tuple[str, float]:
    body = _oapi(config, "GET", "/gettoken", params={"appkey": config["DINGTALK_CLIENT_ID"],
                                                      "appsecret": config["DINGTALK_CLIENT_SECRET"]})
    if body.get("errcode") != 0 or not body.get("access_token"):
        raise ProviderUnavailable(gettext("钉钉拒绝了应用凭证（%(code)s：%(msg)s），请管理员检查 DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET",
                                          code=body.get("errcode"), msg=body.get("errmsg") or "-"))
    return body["access_token"], body.get("expires_in") or 7200


def app_access_token(config) -> str:
    """The app's token for the company's directory (an internal app's AppKey/AppSecret = client id/secret)."""
    return own_token(_token_key(config), lambda: _fetch_app_token(config))


def _corp_call(config, path: str, body: dict) -> dict:
    """A topapi call with the app's token; a token DingTalk no longer accepts is fetched again, once."""
    answer = _oapi(config, "POST", path, params={"access_token": app_access_token(config)}, json=body)
    if answer.get("errcode") in TOKEN_REJECTED:
        drop_own_token(_token_key(config))
        answer = _oapi(config, "POST", path, params={"access_token": app_access_token(config)}, json=body)
    return answer


def profile_from_code(config, code: str) -> Profile:
    """Redeem the authCode and find the person in the company's directory."""
    app_access_token(config)  # first: a refused secret is the administrator's to fix, not the person's
    status, body = _api(config, "POST", "/v1.0/oauth2/userAccessToken",
                        json={"clientId": config["DINGTALK_CLIENT_ID"], "clientSecret": config["DINGTALK_CLIENT_SECRET"],
                              "code": code, "grantType": "authorization_code"})
    if status != 200 or not body.get("accessToken"):
        raise SignInRefused(gettext("钉钉授权码无效、已使用或已过期（%(code)s：%(msg)s），请重新登录",
                                    code=body.get("code") or status, msg=body.get("message") or "-"))
    corp = config.get("DINGTALK_CORP_ID")
    if corp and body.get("corpId") != corp:
        raise SignInRefused(gettext("该钉钉账号不属于本企业组织，不能登录"))
    status, me = _api(config, "GET", "/v1.0/contact/users/me", headers={"x-acs-dingtalk-access-token": body["accessToken"]})
    if status != 200 or not me.get("unionId"):
        raise SignInRefused(gettext("钉钉没有返回用户信息（%(code)s：%(msg)s），请重新登录",
                                    code=me.get("code") or status, msg=me.get("message") or "-"))
    found = _corp_call(config, "/topapi/user/getbyunionid", {"unionid": me["unionId"]})
    userid = (found.get("result") or {}).get("userid") if found.get("errcode") == 0 else None
    if not userid:
        raise SignInRefused(gettext("该钉钉账号不是本企业的成员（%(code)s：%(msg)s），不能登录",
                                    code=found.get("errcode"), msg=found.get("errmsg") or "-"))
    return _member_profile(config, userid, name=me.get("nick"), email=me.get("email"))


#: topapi/v2/user/getuserinfo's errcode for a code it does not know: made up, used, or older than 5 minutes.
UNKNOWN_IN_APP_CODE = 40078


def profile_from_in_app_code(config, code: str) -> Profile:
    """Redeem a code from requestAuthCode inside the DingTalk client (免登) and find the person it names."""
    found = _corp_call(config, "/topapi/v2/user/getuserinfo", {"code": code})
    userid = (found.get("result") or {}).get("userid") if found.get("errcode") == 0 else None
    if userid:
        return _member_profile(config, userid, name=(found.get("result") or {}).get("name"))
    if found.get("errcode") == UNKNOWN_IN_APP_CODE:
        raise SignInRefused(gettext("钉钉免登授权码无效、已使用或已过期（%(code)s：%(msg)s），请在钉钉中重新打开本应用",
                                    code=found.get("errcode"), msg=found.get("errmsg") or "-"))
    raise SignInRefused(gettext("钉钉拒绝了免登请求（%(code)s：%(msg)s），请联系管理员检查应用的权限与设置",
                                code=found.get("errcode"), msg=found.get("errmsg") or "-"))


def _member_profile(config, userid: str, name: str | None = None, email: str | None = None) -> Profile:
    """The company member `userid` as the directory describes them (name, e-mail, title, department, head)."""
    detail = _corp_call(config, "/topapi/v2/user/get", {"userid": userid})
    user = detail.get("result") or {} if detail.get("errcode") == 0 else {}
    department = None
    dept_ids = user.get("dept_id_list") or []
    if dept_ids:
        dept = _corp_call(config, "/topapi/v2/department/get", {"dept_id": dept_ids[0]})
        department = (dept.get("result") or {}).get("name") if dept.get("errcode") == 0 else None
    leads = user.get("leader_in_dept") or []
    return Profile(subject=userid, username=userid[:64], name=(user.get("name") or name or userid)[:64],
                   email=user.get("org_email") or user.get("email") or email or None,
                   department=department, title=user.get("title") or None,
                   is_department_head=any(entry.get("leader") for entry in leads) if leads else None)


# --- contacts for the org sync: the app needs 通讯录部门信息读权限 and 成员信息读权限 -------------------------------

#: DingTalk's root department: the organization itself.
ROOT = 1


def _corp(config, path: str, body: dict):
    answer = _corp_call(config, path, body)
    if answer.get("errcode") != 0:
        raise ProviderUnavailable(gettext("钉钉通讯录读取失败（%(code)s：%(msg)s），请检查应用的通讯录权限",
                                          code=answer.get("errcode"), msg=answer.get("errmsg") or "-"))
    return answer.get("result")


def directory(config) -> tuple[list[DirectoryDepartment], list[DirectoryPerson]]:
    """The organization's departments (by dept_id) and people (by userid), walking the tree from the root."""
    departments, queue = [], [ROOT]
    while queue:
        parent = queue.pop(0)
        for dept in _corp(config, "/topapi/v2/department/listsub", {"dept_id": parent}) or []:
            departments.append(DirectoryDepartment(subject=str(dept["dept_id"]), name=dept["name"],
                                                   parent=None if dept.get("parent_id") in (None, ROOT)
                                                   else str(dept["parent_id"])))
            queue.append(dept["dept_id"])
    people: dict[str, DirectoryPerson] = {}
    for dept_id in [ROOT, *(int(d.subject) for d in departments)]:
        cursor = 0
        while True:
            page = _corp(config, "/topapi/v2/user/list", {"dept_id": dept_id, "cursor": cursor, "size": 100}) or {}
            for user in page.get("list") or []:
                known = people.get(user["userid"])
                if known is not None:  # in several departments: a head of any of them is a head
                    known.profile.is_department_head = known.profile.is_department_head or bool(user.get("leader"))
                    continue
                home = next(iter(user.get("dept_id_list") or []), None)
                people[user["userid"]] = DirectoryPerson(
                    profile=Profile(subject=user["userid"], username=user["userid"][:64],
                                    name=(user.get("name") or user["userid"])[:64],
                                    email=user.get("org_email") or user.get("email") or None,
                                    title=user.get("title") or None, is_department_head=bool(user.get("leader"))),
                    department=None if home in (None, ROOT) else str(home), enabled=user.get("active", True) is not False,
                    extra={"unionid": user.get("unionid")})
            if not page.get("has_more"):
                break
            cursor = page.get("next_cursor")
    return departments, list(people.values())
