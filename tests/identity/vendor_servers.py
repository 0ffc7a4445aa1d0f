"""Feishu, DingTalk and WeCom open platforms on loopback: the documented endpoints, refusing what the vendor refuses.

Each server runs in a thread on http://127.0.0.1:<port> (`.url`) and knows one company: its app credentials,
members (`.members`, by the vendor's company-scoped user id) and departments. Its authorize page takes a POSTed
`userid` (the person scanning the QR code / confirming in the client) and sends the browser to `redirect_uri` with a
code and the `state` it was given. Codes are good once and for 5 minutes (`expire_codes()` ages them); a wrong app
secret, an unknown token or a used code get the vendor's error codes.
"""
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from werkzeug.serving import make_server

AUTHORIZE_PAGE = ('<!doctype html><meta charset="utf-8"><title>{title}</title><form method="post">'
                  '<input id="vendor-userid" name="userid"><button id="vendor-approve">确认登录</button></form>')


class VendorServer:
    """What the three vendors share: a loopback server, codes good once within 5 minutes, issued tokens."""

    title = "vendor"
    code_param = "code"

    def __init__(self):
        self.members: dict[str, dict] = {}
        self.departments: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.app_tokens: set[str] = set()
        self.user_tokens: dict[str, str] = {}
        self.calls: list[str] = []
        self.app = Flask(f"{self.title}-server")
        self.app.before_request(lambda: self.calls.append(request.path))
        self.routes(self.app)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True, name=f"{self.title}-server")
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reset(self):
        self.codes.clear()
        self.app_tokens.clear()
        self.user_tokens.clear()
        self.calls.clear()

    def routes(self, app: Flask) -> None:
        raise NotImplementedError

    # --- codes and tokens ---------------------------------------------------------------------
    def issue_code(self, userid: str, kind: str = "oauth") -> str:
        """A code for `userid`: "oauth" from the authorize page, "in_app" from the client's requestAuthCode."""
        code = secrets.token_hex(16)
        self.codes[code] = {"userid": userid, "expires_at": time.time() + 300, "used": False, "kind": kind}
        return code

    def redeem(self, code: str | None, kind: str = "oauth") -> str | None:
        """The user id behind a code of this kind that is known, unused and younger than 5 minutes; it is then used."""
        entry = self.codes.get(code or "")
        if entry is None or entry["kind"] != kind or entry["used"] or time.time() > entry["expires_at"]:
            return None
        entry["used"] = True
        return entry["userid"]

    def expire_codes(self):
        for entry in self.codes.values():
            entry["expires_at"] = time.time() - 1

    def new_app_token(self) -> str:
        token = "t-" + secrets.token_hex(12)
        self.app_tokens.add(token)
        return token

    def new_user_token(self, userid: str) -> str:
        token = "u-" + secrets.token_hex(12)
        self.user_tokens[token] = userid
        return token

    def authorize_page(self, client_ok: bool, redirect_uri: str | None, state: str | None):
        """GET: the QR / consent page; POST userid=...: the person confirmed, back to redirect_uri with a code."""
        if not client_ok or not redirect_uri:
            return "应用不存在或回调地址不合法", 400
        if request.method == "GET":
            return AUTHORIZE_PAGE.format(title=self.title)
        code = self.issue_code(request.form["userid"])
        params = {self.code_param: code}
        if state is not None:
            params["state"] = state
        return redirect(redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(params))


class FeishuServer(VendorServer):
    """open.feishu.cn + accounts.feishu.cn: authen v1 authorize, app_access_token, oidc/access_token, user_info."""

    title = "feishu"

    def __init__(self, app_id="cli_a1b2c3", app_secret="feishu-secret"):
        self.app_id, self.app_secret = app_id, app_secret
        super().__init__()

    def routes(self, app):
        server = self

        @app.route("/open-apis/authen/v1/authorize", methods=["GET", "POST"])
        def authorize():
            args = request.args
            return server.authorize_page(args.get("client_id") == server.app_id, args.get("redirect_uri"),
                                         args.get("state"))

        def own_token(kind):
            body = request.get_json(silent=True) or {}
            if body.get("app_id") != server.app_id or body.get("app_secret") != server.app_secret:
                return jsonify(code=10014, msg="app secret invalid")
            token = server.new_app_token()
            return jsonify(code=0, msg="ok", expire=7200, **{f"{kind}_access_token": token})

        app.add_url_rule("/open-apis/auth/v3/app_access_token/internal", "app_token",
                         lambda: own_token("app"), methods=["POST"])
        app.add_url_rule("/open-apis/auth/v3/tenant_access_token/internal", "tenant_token",
                         lambda: own_token("tenant"), methods=["POST"])

        @app.post("/open-apis/authen/v1/oidc/access_token")
        def user_token():
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if bearer not in server.app_tokens:
                return jsonify(code=99991664, msg="invalid app access token"), 400
            body = request.get_json(silent=True) or {}
            if body.get("grant_type") != "authorization_code":
                return jsonify(code=20001, msg="invalid grant_type"), 400
            userid = server.redeem(body.get("code"))
            if userid is None:
                return jsonify(code=20007, msg="code is invalid, expired or already used"), 400
            return jsonify(code=0, msg="success", data={
                "access_token": server.new_user_token(userid), "token_type": "Bearer", "expires_in": 6900,
                "refresh_token": "ur-" + secrets.token_hex(8), "refresh_expires_in": 2591700, "scope": ""})

        @app.get("/open-apis/authen/v1/user_info")
        def user_info():
            userid = server.user_tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
            if userid is None:
                return jsonify(code=99991668, msg="Invalid access token for authorization"), 401
            member = server.members[userid]
            return jsonify(code=0, msg="success", data={
                "name": member["name"], "en_name": member.get("en_name", ""), "avatar_url": "",
                "open_id": "ou_" + userid, "union_id": "on_" + userid, "user_id": userid,
                "email": member.get("email", ""), "enterprise_email": member.get("enterprise_email", ""),
                "tenant_key": "736588c9260f175d", "employee_no": member.get("employee_no", "")})

        self.contacts_routes(app)


    def contacts_routes(self, app):
        """通讯录 v3 with a tenant_access_token: departments/:id/children (fetch_child) and users/find_by_department.

        departments: {open_department_id: {"name", "parent" ("0": the root), "leader" (user_id), "deleted"}};
        members: {user_id: {..., "departments": [open_department_id, ...], "resigned": bool}}.
        """
        server = self

        def page(items):
            size = int(request.args.get("page_size", 20))
            start = int(request.args.get("page_token") or 0)
            chunk = items[start:start + size]
            more = start + size < len(items)
            return jsonify(code=0, msg="success", data={"has_more": more, "page_token": str(start + size) if more else "",
                                                        "items": chunk})

        def tenant_ok():
            return request.headers.get("Authorization", "").removeprefix("Bearer ") in server.app_tokens

        @app.get("/open-apis/contact/v3/departments/<dept_id>/children")
        def children(dept_id):
            if not tenant_ok():
                return jsonify(code=99991663, msg="Invalid access token for authorization"), 400
            found, queue = [], [dept_id]
            while queue:
                parent = queue.pop(0)
                for open_id, dept in server.departments.items():
                    if dept.get("parent", "0") == parent:
                        found.append({"name": dept["name"], "open_department_id": open_id,
                                      "department_id": "D" + open_id, "parent_department_id": parent,
                                      "leader_user_id": dept.get("leader", ""),
                                      "status": {"is_deleted": bool(dept.get("deleted"))}})
                        if request.args.get("fetch_child") == "true":
                            queue.append(open_id)
            return page(found)

        @app.get("/open-apis/contact/v3/users/find_by_department")
        def find_by_department():
            if not tenant_ok():
                return jsonify(code=99991663, msg="Invalid access token for authorization"), 400
            dept_id = request.args.get("department_id")
            items = [{"user_id": uid, "open_id": "ou_" + uid, "union_id": "on_" + uid, "name": m["name"],
                      "email": m.get("email", ""), "enterprise_email": m.get("enterprise_email", ""),
                      "job_title": m.get("title", ""), "department_ids": m.get("departments", ["0"]),
                      "status": {"is_resigned": bool(m.get("resigned")), "is_frozen": False, "is_activated": True,
                                 "is_exited": False}}
                     for uid, m in sorted(server.members.items()) if dept_id in m.get("departments", ["0"])]
            return page(items)


class DingTalkServer(VendorServer):
    """login.dingtalk.com + api.dingtalk.com + oapi.dingtalk.com on one port (their paths do not collide).

    `issue_code(userid, "in_app")` is what the client's requestAuthCode hands the page (免登); only
    topapi/v2/user/getuserinfo redeems it, with the app's token.
    """

    title = "dingtalk"
    code_param = "authCode"

    def __init__(self, client_id="dingabc123", client_secret="ding-secret", corp_id="ding-corp-1"):
        self.client_id, self.client_secret, self.corp_id = client_id, client_secret, corp_id
        super().__init__()

    def routes(self, app):
        server = self

        @app.route("/oauth2/auth", methods=["GET", "POST"])
        def authorize():
            args = request.args
            ok = args.get("client_id") == server.client_id and args.get("response_type") == "code"
            return server.authorize_page(ok, args.get("redirect_uri"), args.get("state"))

        @app.post("/v1.0/oauth2/userAccessToken")
        def user_access_token():
            body = request.get_json(silent=True) or {}
            if body.get("clientId") != server.client_id or body.get("clientSecret") != server.client_secret:
                return jsonify(code="invalidClientSecret", message="应用凭证不正确", requestid="r1"), 400
            if body.get("grantType") != "authorization_code":
                return jsonify(code="invalidParameter.grantType", message="grantType 不合法", requestid="r2"), 400
            userid = server.redeem(body.get("code"))
            if userid is None:
                return jsonify(code="invalidAuthCode", message="授权码不存在、已使用或已过期", requestid="r3"), 400
            return jsonify(accessToken=server.new_user_token(userid), refreshToken=secrets.token_hex(8),
                           expireIn=7200, corpId=server.corp_id)

        @app.get("/v1.0/contact/users/me")
        def me():
            userid = server.user_tokens.get(request.headers.get("x-acs-dingtalk-access-token", ""))
            if userid is None:
                return jsonify(code="InvalidAuthentication", message="不合法的access_token", requestid="r4"), 401
            member = server.members[userid]
            return jsonify(nick=member["name"], unionId=member["unionid"], openId="open-" + userid,
                           email=member.get("email"), mobile="13800000000", stateCode="86", avatarUrl="")

        @app.get("/gettoken")
        def gettoken():
            if request.args.get("appkey") != server.client_id or request.args.get("appsecret") != server.client_secret:
                return jsonify(errcode=40089, errmsg="不合法的corpid或corpsecret")
            return jsonify(errcode=0, errmsg="ok", access_token=server.new_app_token(), expires_in=7200)

        def corp_call(work):
            if request.args.get("access_token") not in server.app_tokens:
                return jsonify(errcode=40014, errmsg="不合法的access_token")
            return work(request.get_json(silent=True) or {})

        def by_unionid(body):
            found = next((uid for uid, m in server.members.items() if m["unionid"] == body.get("unionid")), None)
            if found is None:
                return jsonify(errcode=60121, errmsg="找不到该用户")
            return jsonify(errcode=0, errmsg="ok", result={"contact_type": 0, "userid": found})

        def user_get(body):
            member = server.members.get(body.get("userid"))
            if member is None:
                return jsonify(errcode=60121, errmsg="找不到该用户")
            return jsonify(errcode=0, errmsg="ok", result={
                "userid": body["userid"], "unionid": member["unionid"], "name": member["name"],
                "email": member.get("email", ""), "org_email": member.get("org_email", ""),
                "title": member.get("title", ""), "dept_id_list": member.get("dept_id_list", []),
                "leader_in_dept": [{"dept_id": d, "leader": d in member.get("leads", [])}
                                   for d in member.get("dept_id_list", [])], "active": True})

        def department_get(body):
            dept = server.departments.get(str(body.get("dept_id")))
            if dept is None:
                return jsonify(errcode=60003, errmsg="部门不存在")
            return jsonify(errcode=0, errmsg="ok", result={"dept_id": body["dept_id"], "name": dept["name"],
                                                           "parent_id": dept.get("parent_id", 1)})

        def listsub(body):
            children = [{"dept_id": int(k), "name": d["name"], "parent_id": d.get("parent_id", 1)}
                        for k, d in sorted(server.departments.items(), key=lambda kv: int(kv[0]))
                        if d.get("parent_id", 1) == body.get("dept_id")]
            return jsonify(errcode=0, errmsg="ok", result=children)

        def user_list(body):
            dept_id, cursor, size = body.get("dept_id"), int(body.get("cursor") or 0), min(int(body.get("size", 10)), 100)
            members = [(uid, m) for uid, m in sorted(server.members.items()) if dept_id in m.get("dept_id_list", [1])]
            chunk = members[cursor:cursor + size]
            more = cursor + size < len(members)
            return jsonify(errcode=0, errmsg="ok", result={"has_more": more, "next_cursor": cursor + size if more else None,
                                                           "list": [{"userid": uid, "unionid": m["unionid"], "name": m["name"],
                                                                     "org_email": m.get("org_email", ""),
                                                                     "title": m.get("title", ""),
                                                                     "dept_id_list": m.get("dept_id_list", [1]),
                                                                     "leader": dept_id in m.get("leads", []),
                                                                     "active": not m.get("left")}
                                                                    for uid, m in chunk]})

        def getuserinfo(body):
            userid = server.redeem(body.get("code"), kind="in_app")
            if userid is None:
                return jsonify(errcode=40078, errmsg="不存在的临时授权码", request_id="r5")
            member = server.members[userid]
            return jsonify(errcode=0, errmsg="ok", request_id="r6", result={
                "userid": userid, "unionid": member["unionid"], "name": member["name"], "device_id": "dev-1",
                "sys": False, "sys_level": 0, "associated_unionid": "", "real_authed": True})

        app.add_url_rule("/topapi/v2/user/getuserinfo", "getuserinfo", lambda: corp_call(getuserinfo), methods=["POST"])
        app.add_url_rule("/topapi/v2/department/listsub", "listsub", lambda: corp_call(listsub), methods=["POST"])
        app.add_url_rule("/topapi/v2/user/list", "user_list", lambda: corp_call(user_list), methods=["POST"])
        app.add_url_rule("/topapi/user/getbyunionid", "by_unionid", lambda: corp_call(by_unionid), methods=["POST"])
        app.add_url_rule("/topapi/v2/user/get", "user_get", lambda: corp_call(user_get), methods=["POST"])
        app.add_url_rule("/topapi/v2/department/get", "department_get", lambda: corp_call(department_get),
                         methods=["POST"])


class WeComServer(VendorServer):
    """login.work.weixin.qq.com + open.weixin.qq.com + qyapi.weixin.qq.com on one port."""

    title = "wecom"

    def __init__(self, corp_id="ww1234567890", agent_id="1000002", secret="wecom-secret"):
        self.corp_id, self.agent_id, self.secret = corp_id, agent_id, secret
        self.outsider_codes: set[str] = set()
        super().__init__()

    def routes(self, app):
        server = self

        def login_page():
            args = request.args
            ok = args.get("appid") == server.corp_id and args.get("agentid") == server.agent_id
            return server.authorize_page(ok, args.get("redirect_uri"), args.get("state"))

        app.add_url_rule("/wwlogin/sso/login", "qr_login", login_page, methods=["GET", "POST"])
        app.add_url_rule("/connect/oauth2/authorize", "web_authorize", login_page, methods=["GET", "POST"])

        @app.get("/cgi-bin/gettoken")
        def gettoken():
            if request.args.get("corpid") != server.corp_id:
                return jsonify(errcode=40013, errmsg="invalid corpid")
            if request.args.get("corpsecret") != server.secret:
                return jsonify(errcode=40001, errmsg="invalid credential")
            return jsonify(errcode=0, errmsg="ok", access_token=server.new_app_token(), expires_in=7200)

        def token_ok():
            return request.args.get("access_token") in server.app_tokens

        @app.get("/cgi-bin/auth/getuserinfo")
        def getuserinfo():
            if not token_ok():
                return jsonify(errcode=40014, errmsg="invalid access_token")
            code = request.args.get("code")
            if code in server.outsider_codes:
                server.outsider_codes.discard(code)
                return jsonify(errcode=0, errmsg="ok", openid="oAAAAA-outsider")
            userid = server.redeem(code)
            if userid is None:
                return jsonify(errcode=40029, errmsg="invalid code")
            return jsonify(errcode=0, errmsg="ok", userid=userid)

        @app.get("/cgi-bin/user/get")
        def user_get():
            if not token_ok():
                return jsonify(errcode=40014, errmsg="invalid access_token")
            member = server.members.get(request.args.get("userid"))
            if member is None:
                return jsonify(errcode=60111, errmsg="userid not found")
            departments = member.get("department", [])
            return jsonify(errcode=0, errmsg="ok", userid=request.args["userid"], name=member["name"],
                           department=departments, main_department=departments[0] if departments else None,
                           position=member.get("position", ""), email=member.get("email", ""),
                           biz_mail=member.get("biz_mail", ""), status=1,
                           is_leader_in_dept=[1 if d in member.get("leads", []) else 0 for d in departments])

        @app.get("/cgi-bin/department/list")
        def department_list():
            if not token_ok():
                return jsonify(errcode=40014, errmsg="invalid access_token")
            listing = [{"id": 1, "name": "本公司", "parentid": 0, "order": 1}]
            listing += [{"id": int(k), "name": d["name"], "parentid": d.get("parentid", 1), "order": 100}
                        for k, d in sorted(server.departments.items(), key=lambda kv: int(kv[0]))]
            return jsonify(errcode=0, errmsg="ok", department=listing)

        @app.get("/cgi-bin/user/list")
        def user_list():
            if not token_ok():
                return jsonify(errcode=40014, errmsg="invalid access_token")
            dept_id = int(request.args.get("department_id", 0))
            users = [{"userid": uid, "name": m["name"], "department": m.get("department", [1]),
                      "main_department": m.get("department", [1])[0], "position": m.get("position", ""),
                      "email": m.get("email", ""), "biz_mail": m.get("biz_mail", ""), "status": m.get("status", 1),
                      "is_leader_in_dept": [1 if d in m.get("leads", []) else 0 for d in m.get("department", [1])]}
                     for uid, m in sorted(server.members.items()) if dept_id in m.get("department", [1])]
            return jsonify(errcode=0, errmsg="ok", userlist=users)

        @app.get("/cgi-bin/department/get")
        def department_get():
            if not token_ok():
                return jsonify(errcode=40014, errmsg="invalid access_token")
            dept = server.departments.get(str(request.args.get("id")))
            if dept is None:
                return jsonify(errcode=60123, errmsg="invalid party id")
            return jsonify(errcode=0, errmsg="ok", department={"id": int(request.args["id"]), "name": dept["name"],
                                                               "parentid": dept.get("parentid", 1)})
