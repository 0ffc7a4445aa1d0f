"""Feishu, DingTalk and WeCom sign-in against loopback servers of their documented endpoints (vendor_servers.py)."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from minutes.extensions import db
from minutes.identity.models import ExternalIdentity
from minutes.people.models import User
from tests.conftest import PASSWORD
from tests.identity.flows import callback
from tests.identity.oidc_provider import OidcProvider
from tests.identity.vendor_servers import DingTalkServer, FeishuServer, WeComServer

#: the test IdP is Authlib's server code, which warns about its own hooks' signatures (not about this app)
pytestmark = pytest.mark.filterwarnings("ignore:The 'grant' parameter will become mandatory")


@pytest.fixture(scope="module")
def feishu_server():
    server = FeishuServer()
    server.members["a1b2c3d4"] = {"name": "张伟", "enterprise_email": "zhangwei@corp.example"}
    server.members["e5f6"] = {"name": "王芳", "email": "wangfang@corp.example"}
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dingtalk_server():
    server = DingTalkServer()
    server.departments["42"] = {"name": "市场部"}
    server.members["manager4521"] = {"name": "刘洋", "unionid": "u-liuyang", "org_email": "liuyang@corp.example",
                                     "title": "市场总监", "dept_id_list": [42], "leads": [42]}
    yield server
    server.stop()


@pytest.fixture(scope="module")
def wecom_server():
    server = WeComServer()
    server.departments["7"] = {"name": "财务部"}
    server.members["ChenJing"] = {"name": "陈静", "biz_mail": "chenjing@corp.example", "position": "会计",
                                  "department": [7]}
    yield server
    server.stop()


@pytest.fixture
def vendors(app, feishu_server, dingtalk_server, wecom_server):
    """The app pointed at all three loopback servers; returns {provider: (server, a member's user id)}."""
    for server in (feishu_server, dingtalk_server, wecom_server):
        server.reset()
    f, d, w = feishu_server, dingtalk_server, wecom_server
    app.config.update(
        FEISHU_APP_ID=f.app_id, FEISHU_APP_SECRET=f.app_secret, FEISHU_BASE_URL=f.url,
        FEISHU_AUTHORIZE_URL=f.url + "/open-apis/authen/v1/authorize",
        DINGTALK_CLIENT_ID=d.client_id, DINGTALK_CLIENT_SECRET=d.client_secret, DINGTALK_CORP_ID=d.corp_id,
        DINGTALK_LOGIN_URL=d.url, DINGTALK_API_URL=d.url, DINGTALK_OAPI_URL=d.url,
        WECOM_CORP_ID=w.corp_id, WECOM_AGENT_ID=w.agent_id, WECOM_SECRET=w.secret, WECOM_BASE_URL=w.url,
        WECOM_LOGIN_URL=w.url, WECOM_OAUTH_URL=w.url)
    return {"feishu": (f, "a1b2c3d4"), "dingtalk": (d, "manager4521"), "wecom": (w, "ChenJing")}


def start(client, provider, **headers) -> str:
    response = client.get(f"/login/{provider}", headers=headers)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def approve(authorize_url: str, userid: str) -> str:
    """The person confirms on the vendor's page (scans the QR code): the callback URL the vendor sends back."""
    assert requests.get(authorize_url, timeout=5).status_code == 200
    response = requests.post(authorize_url, data={"userid": userid}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def sign_in(client, provider, userid, next_url=None):
    response = client.get(f"/login/{provider}" + (f"?next={next_url}" if next_url else ""))
    return callback(client, approve(response.headers["Location"], userid))


def identities():
    return db.session.scalars(select(ExternalIdentity).order_by(ExternalIdentity.id)).all()


PROVIDERS = ("feishu", "dingtalk", "wecom")
CODE = {"feishu": "code", "dingtalk": "authCode", "wecom": "code"}


def test_authorize_urls_follow_each_vendors_documented_parameters(client, vendors):
    feishu = parse_qs(urlsplit(start(client, "feishu")).query)
    assert feishu["client_id"] == ["cli_a1b2c3"] and feishu["response_type"] == ["code"]
    assert feishu["redirect_uri"] == ["http://localhost/login/feishu/callback"] and feishu["state"][0]
    ding = urlsplit(start(client, "dingtalk"))
    assert ding.path == "/oauth2/auth"
    ding_q = parse_qs(ding.query)
    assert ding_q["scope"] == ["openid corpid"] and ding_q["prompt"] == ["consent"] and ding_q["client_id"]
    wecom = urlsplit(start(client, "wecom"))
    assert wecom.path == "/wwlogin/sso/login"
    assert parse_qs(wecom.query)["login_type"] == ["CorpApp"] and parse_qs(wecom.query)["agentid"] == ["1000002"]
    inside = urlsplit(start(client, "wecom", **{"User-Agent": "Mozilla/5.0 wxwork/4.1.0 MicroMessenger"}))
    assert inside.path == "/connect/oauth2/authorize" and inside.fragment == "wechat_redirect"
    assert parse_qs(inside.query)["scope"] == ["snsapi_base"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_vendor_sign_in_maps_the_company_user_id_to_one_account(client, vendors, provider):
    server, userid = vendors[provider]
    response = sign_in(client, provider, userid, next_url="/actions/mine")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert urlsplit(response.headers["Location"]).path == "/actions/mine"
    [ident] = identities()
    assert (ident.provider, ident.subject) == (provider, userid)
    assert client.get("/actions/mine").status_code == 200
    client.post("/logout")
    assert sign_in(client, provider, userid).status_code == 302  # again: the same account
    assert db.session.scalar(select(func.count(User.id))) == 1 and len(identities()) == 1


def test_vendor_profiles_carry_name_email_department_title_and_head(client, vendors):
    for provider in PROVIDERS:
        server, userid = vendors[provider]
        assert sign_in(client, provider, userid).status_code == 302
        client.post("/logout")
    users = {i.provider: i.user for i in identities()}
    assert (users["feishu"].name, users["feishu"].email) == ("张伟", "zhangwei@corp.example")
    ding = users["dingtalk"]
    assert (ding.name, ding.email, ding.department.name, ding.title, ding.is_department_head) == (
        "刘洋", "liuyang@corp.example", "市场部", "市场总监", True)
    wecom = users["wecom"]
    assert (wecom.name, wecom.email, wecom.department.name, wecom.title, wecom.is_department_head) == (
        "陈静", "chenjing@corp.example", "财务部", "会计", False)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_wrong_state_is_refused(client, vendors, provider):
    server, userid = vendors[provider]
    response = callback(client, approve(start(client, provider), userid), state="forged")
    assert response.status_code == 400 and "state 不符" in response.get_data(as_text=True)
    assert identities() == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_used_code_is_refused_by_the_vendor(client, vendors, provider):
    server, userid = vendors[provider]
    first = approve(start(client, provider), userid)
    assert callback(client, first).status_code == 302
    client.post("/logout")
    old_code = parse_qs(urlsplit(first).query)[CODE[provider]][0]
    fresh_state = parse_qs(urlsplit(start(client, provider)).query)["state"][0]
    response = callback(client, first, state=fresh_state, **{CODE[provider]: old_code})
    assert response.status_code == 400
    assert "授权码无效、已使用或已过期" in response.get_data(as_text=True)
    assert client.get("/actions/mine").status_code == 302  # not signed in


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_expired_code_is_refused_by_the_vendor(client, vendors, provider):
    server, userid = vendors[provider]
    url = approve(start(client, provider), userid)
    server.expire_codes()  # more than 5 minutes later
    response = callback(client, url)
    assert response.status_code == 400 and "授权码无效、已使用或已过期" in response.get_data(as_text=True)
    assert identities() == []


@pytest.mark.parametrize("provider,setting", [("feishu", "FEISHU_APP_SECRET"), ("dingtalk", "DINGTALK_CLIENT_SECRET"),
                                              ("wecom", "WECOM_SECRET")])
def test_a_wrong_app_secret_is_refused_by_the_vendor_and_named_for_the_administrator(app, client, vendors, provider,
                                                                                      setting):
    server, userid = vendors[provider]
    url = approve(start(client, provider), userid)
    app.config[setting] = "not-the-secret"
    response = callback(client, url)
    text = response.get_data(as_text=True)
    assert response.status_code in (400, 502) and setting.rsplit("_", 1)[0] in text
    assert identities() == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cancelled_authorization_is_a_message(client, vendors, provider):
    state = parse_qs(urlsplit(start(client, provider)).query)["state"][0]
    response = client.get(f"/login/{provider}/callback?state={state}")
    assert response.status_code == 400 and "没有收到授权码" in response.get_data(as_text=True)


def test_dingtalk_refuses_another_organization(app, client, vendors):
    app.config["DINGTALK_CORP_ID"] = "ding-some-other-corp"
    response = sign_in(client, "dingtalk", "manager4521")
    assert response.status_code == 400 and "不属于本企业" in response.get_data(as_text=True)
    assert identities() == []


def test_wecom_refuses_someone_outside_the_company(client, vendors):
    server, _ = vendors["wecom"]
    url = approve(start(client, "wecom"), "ChenJing")
    query = parse_qs(urlsplit(url).query)
    server.outsider_codes.add(query["code"][0])
    response = callback(client, url)
    assert response.status_code == 400 and "不是本企业的成员" in response.get_data(as_text=True)


def test_unconfigured_vendor_routes_are_404(app, client):
    for provider in PROVIDERS:
        assert client.get(f"/login/{provider}").status_code == 404
        assert client.get(f"/login/{provider}/callback?code=x&state=y").status_code == 404


def test_oidc_then_feishu_stays_one_account(app, client, vendors):
    idp = OidcProvider(redirect_uris=["http://localhost/login/oidc/callback"])
    try:
        idp.add_person(sub="kc-0001", username="zhangwei", password="pw-1", name="张伟", email="zhangwei@corp.example")
        app.config.update(OIDC_ISSUER=idp.issuer, OIDC_CLIENT_ID="minutes", OIDC_CLIENT_SECRET="s3cret")
        authorize = client.get("/login/oidc").headers["Location"]
        back = requests.post(authorize, data={"username": "zhangwei", "password": "pw-1"}, allow_redirects=False,
                             timeout=5).headers["Location"]
        assert callback(client, back).status_code == 302
        client.post("/logout")
    finally:
        idp.stop()
    assert sign_in(client, "feishu", "a1b2c3d4").status_code == 302  # Feishu's enterprise e-mail is the same
    rows = identities()
    assert [(i.provider, i.subject) for i in rows] == [("oidc", "kc-0001"), ("feishu", "a1b2c3d4")]
    assert rows[0].user_id == rows[1].user_id
    assert db.session.scalar(select(func.count(User.id))) == 1


TOKEN_PATHS = {"feishu": "/open-apis/auth/v3/app_access_token/internal", "dingtalk": "/gettoken",
               "wecom": "/cgi-bin/gettoken"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_apps_own_token_is_reused_and_fetched_again_once_revoked(client, vendors, provider):
    server, userid = vendors[provider]
    for _ in range(2):
        assert sign_in(client, provider, userid).status_code == 302
        client.post("/logout")
    assert server.calls.count(TOKEN_PATHS[provider]) == 1  # the vendors ask callers to keep the token
    server.app_tokens.clear()  # revoked early (the secret was reset, the vendor restarted...)
    assert sign_in(client, provider, userid).status_code == 302
    assert server.calls.count(TOKEN_PATHS[provider]) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_redirect_after_vendor_sign_in_stays_on_this_site(client, vendors, provider):
    server, userid = vendors[provider]
    response = sign_in(client, provider, userid, next_url="https://evil.example/x")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).netloc in ("", "localhost")
    assert "evil" not in response.headers["Location"]


def _login_form_action(html: str) -> str:
    return re.search(r'<form class="login-card" method="post" action="([^"]*)"', html).group(1)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_login_form_shown_after_a_failed_sign_in_posts_to_login(client, vendors, make_user, provider):
    """The page of a refused callback (/login/<provider>/callback) shows the login form: it must post to /login,
    not back to the callback (which takes GET only)."""
    make_user("lisi")
    server, userid = vendors[provider]
    failed = callback(client, approve(start(client, provider), userid), state="forged")
    assert failed.status_code == 400
    action = _login_form_action(failed.get_data(as_text=True))
    assert action == "/login"
    response = client.post(action, data={"username": "lisi", "password": PASSWORD})
    assert response.status_code == 302 and client.get("/actions/mine").status_code == 200


def test_the_login_form_keeps_a_local_next_only(client):
    assert _login_form_action(client.get("/login?next=/actions/mine").get_data(as_text=True)) == \
        "/login?next=/actions/mine"
    assert _login_form_action(client.get("/login?next=https://evil.example/").get_data(as_text=True)) == "/login"
