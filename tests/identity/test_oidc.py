"""OpenID Connect sign-in against a real provider on loopback (Authlib's server components, tests/identity/oidc_provider.py)."""
import html
import re
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import select

from minutes.extensions import db
from minutes.identity.models import ExternalIdentity
from minutes.people.models import User
from tests.identity.flows import callback
from tests.identity.oidc_provider import OidcProvider

#: the test IdP is Authlib's server code, which warns about its own hooks' signatures (not about this app)
pytestmark = pytest.mark.filterwarnings("ignore:The 'grant' parameter will become mandatory")

CALLBACK = "http://localhost/login/oidc/callback"


@pytest.fixture(scope="module")
def idp():
    provider = OidcProvider(redirect_uris=[CALLBACK])
    provider.add_person(sub="f3b0c2a4-0001", username="zhangwei", password="idp-pass-1", name="张伟",
                        email="zhangwei@corp.example", department="研发部")
    provider.add_person(sub="f3b0c2a4-0002", username="lina", password="idp-pass-2", name="李娜",
                        email="lina@corp.example", email_verified=False)
    yield provider
    provider.stop()


@pytest.fixture
def oidc_app(app, idp):
    idp.misbehave = None
    app.config.update(OIDC_ISSUER=idp.issuer, OIDC_CLIENT_ID="minutes", OIDC_CLIENT_SECRET="s3cret",
                      OIDC_DEPARTMENT_CLAIM="department")
    return app


def start(client, next_url=None) -> str:
    """Press the login page's button: the IdP's authorization URL."""
    response = client.get("/login/oidc" + (f"?next={quote(next_url, safe='')}" if next_url else ""))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def log_in_at_idp(authorize_url: str, username="zhangwei", password="idp-pass-1") -> str:
    """Sign in on the IdP's own form (a real HTTP round trip): the callback URL it sends the browser to."""
    assert requests.get(authorize_url, timeout=5).status_code == 200
    response = requests.post(authorize_url, data={"username": username, "password": password},
                             allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def sign_in(client, next_url=None, **person):
    return callback(client, log_in_at_idp(start(client, next_url), **person))


def identities():
    return db.session.scalars(select(ExternalIdentity)).all()


def test_authorization_request_uses_pkce_s256_state_and_nonce(oidc_app, client, idp):
    url = start(client)
    assert url.startswith(idp.issuer + "/authorize?")
    query = parse_qs(urlsplit(url).query)
    assert query["response_type"] == ["code"] and query["client_id"] == ["minutes"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == [CALLBACK]
    assert "openid" in query["scope"][0].split()


def test_oidc_sign_in_creates_the_account_by_sub_and_lands_where_asked(oidc_app, client, make_meeting):
    response = sign_in(client, next_url="/meetings")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert urlsplit(response.headers["Location"]).path == "/meetings"
    [ident] = identities()
    assert (ident.provider, ident.subject) == ("oidc", "f3b0c2a4-0001") and ident.last_login_at is not None
    user = ident.user
    assert (user.username, user.name, user.email, user.department.name) == (
        "zhangwei", "张伟", "zhangwei@corp.example", "研发部")
    assert client.get("/meetings").status_code == 200  # signed in
    assert client.get("/login").status_code == 302  # the login page sends a signed-in user on


def test_second_sign_in_finds_the_same_account_by_sub(oidc_app, client, idp):
    assert sign_in(client).status_code == 302
    client.post("/logout")
    idp.people["zhangwei"].name = "张伟（改名）"
    assert sign_in(client).status_code == 302
    assert db.session.scalar(select(db.func.count(User.id))) == 1
    assert len(identities()) == 1


def test_existing_local_account_with_the_same_verified_email_is_linked_not_duplicated(oidc_app, client, make_user):
    local = make_user("zw", "张伟", dept="产品部", email="ZhangWei@corp.example")
    assert sign_in(client).status_code == 302
    [ident] = identities()
    assert ident.user_id == local.id
    assert db.session.scalar(select(db.func.count(User.id))) == 1


def test_a_local_account_with_the_same_username_is_not_taken_over(oidc_app, client, make_user):
    """An IdP may let people choose their username: only the e-mail it vouches for links an account."""
    local = make_user("zhangwei", "张伟", dept="产品部")  # zhangwei@example.com, not the IdP's address
    assert sign_in(client).status_code == 302
    [ident] = identities()
    assert ident.user_id != local.id and ident.user.username == "zhangwei.oidc"


def test_an_administrators_account_is_never_linked_automatically(oidc_app, client, make_user):
    admin = make_user("boss", "管理员", admin=True, email="zhangwei@corp.example")
    response = sign_in(client)
    assert response.status_code == 403 and "管理员账号" in response.get_data(as_text=True)
    assert identities() == [] and db.session.get(User, admin.id).is_admin


def test_unverified_email_never_links_to_an_account(oidc_app, client, make_user):
    other = make_user("someone", "某人", email="lina@corp.example")
    assert sign_in(client, username="lina", password="idp-pass-2").status_code == 302
    [ident] = identities()
    assert ident.user_id != other.id and ident.user.email is None


def test_wrong_state_is_refused_and_nothing_is_saved(oidc_app, client, idp):
    url = log_in_at_idp(start(client))
    response = callback(client, url, state="forged-state-value-000000000000")
    assert response.status_code == 400
    assert "state 不符" in response.get_data(as_text=True)
    assert identities() == [] and db.session.scalar(select(db.func.count(User.id))) == 0


def test_a_callback_is_good_once(oidc_app, client):
    url = log_in_at_idp(start(client))
    assert callback(client, url).status_code == 302
    client.post("/logout")
    replay = callback(client, url)
    assert replay.status_code == 400 and "state 不符" in replay.get_data(as_text=True)


def test_callback_without_a_sign_in_in_progress_is_refused(oidc_app, client):
    response = client.get("/login/oidc/callback?code=abc&state=def")
    assert response.status_code == 400 and "state 不符" in response.get_data(as_text=True)


def test_wrong_nonce_is_refused(oidc_app, client, idp):
    idp.misbehave = "nonce"
    response = sign_in(client)
    assert response.status_code == 400
    assert "nonce 不符" in response.get_data(as_text=True)
    assert identities() == []


def test_expired_id_token_is_refused(oidc_app, client, idp):
    idp.misbehave = "expired"
    response = sign_in(client)
    assert response.status_code == 400
    assert "身份令牌已过期" in response.get_data(as_text=True)
    assert identities() == []


def test_tampered_id_token_is_refused(oidc_app, client, idp, make_user):
    make_user("admin", "管理员", admin=True)
    idp.misbehave = "tamper"
    response = sign_in(client)
    assert response.status_code == 400
    assert "签名无效" in response.get_data(as_text=True)
    assert identities() == []
    assert client.get("/meetings").status_code == 302  # not signed in as anyone


def test_id_token_signed_with_a_key_outside_the_jwks_is_refused(oidc_app, client, idp):
    idp.misbehave = "foreign_key"
    response = sign_in(client)
    assert response.status_code == 400 and "签名无效" in response.get_data(as_text=True)
    assert identities() == []


def test_id_token_for_another_client_is_refused(oidc_app, client, idp):
    url = log_in_at_idp(start(client))
    oidc_app.config["OIDC_CLIENT_ID"] = "another-app"  # the token's aud is "minutes"
    idp.client.client_id = "another-app"
    try:
        response = callback(client, url)
    finally:
        idp.client.client_id = "minutes"
    assert response.status_code == 400
    assert identities() == []


def test_the_idp_refusing_is_shown_not_a_crash(oidc_app, client):
    url = start(client)
    state = parse_qs(urlsplit(url).query)["state"][0]
    response = client.get("/login/oidc/callback?" + urlencode({"error": "access_denied", "state": state,
                                                                "error_description": "用户取消了授权"}))
    assert response.status_code == 400 and "用户取消了授权" in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example",
                                    "http:/evil.example", "/%0d%0aSet-Cookie:x=1"])
def test_redirect_after_sign_in_stays_on_this_site(oidc_app, client, target):
    response = sign_in(client, next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost") and "evil" not in location
    assert "\r" not in location and "\n" not in location


def test_disabled_account_cannot_sign_in(oidc_app, client, make_user):
    user = make_user("zhangwei", "张伟", email="zhangwei@corp.example")
    user.is_enabled = False
    db.session.commit()
    response = sign_in(client)
    assert response.status_code == 403 and "停用" in response.get_data(as_text=True)
    assert identities() == []


def test_logout_ends_the_session_at_the_idp_too(oidc_app, client, idp):
    assert sign_in(client).status_code == 302
    response = client.post("/logout")
    assert response.status_code == 200  # a page that moves on to the IdP (meta refresh and a link)
    location = html.unescape(re.search(r'id="leave-at-provider" href="([^"]+)"', response.get_data(as_text=True))[1])
    assert '<meta http-equiv="refresh" content="0;url=' in response.get_data(as_text=True)
    assert location.startswith(idp.issuer + "/logout?")
    query = parse_qs(urlsplit(location).query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/login"]
    assert query["client_id"] == ["minutes"] and query["id_token_hint"][0].count(".") == 2
    assert client.get("/meetings").status_code == 302  # logged out here


def test_login_page_shows_a_button_per_configured_method(app, client, idp):
    assert "sso-button" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/oidc").status_code == 404
    app.config.update(OIDC_ISSUER=idp.issuer, OIDC_CLIENT_ID="minutes", OIDC_BUTTON_LABEL="Keycloak 登录",
                      FEISHU_APP_ID="cli_a", FEISHU_APP_SECRET="x")
    page = client.get("/login?next=/actions/mine").get_data(as_text=True)
    assert "Keycloak 登录" in page and "飞书登录" in page and "钉钉登录" not in page
    assert 'href="/login/oidc?next=/actions/mine"' in page or 'href="/login/oidc?next=%2Factions%2Fmine"' in page


def test_unreachable_idp_is_a_clear_message(app, client):
    app.config.update(OIDC_ISSUER="http://127.0.0.1:9", OIDC_CLIENT_ID="minutes")
    response = client.get("/login/oidc")
    assert response.status_code == 502 and "无法连接身份提供方" in response.get_data(as_text=True)


def test_public_client_signs_in_with_pkce_alone(oidc_app, client, idp):
    oidc_app.config["OIDC_CLIENT_SECRET"] = None
    idp.client.client_secret = None
    try:
        response = sign_in(client)
    finally:
        idp.client.client_secret = "s3cret"
    assert response.status_code == 302, response.get_data(as_text=True)
    assert [i.subject for i in identities()] == ["f3b0c2a4-0001"]


def test_a_confidential_client_with_the_wrong_secret_is_refused(oidc_app, client):
    oidc_app.config["OIDC_CLIENT_SECRET"] = "not-the-secret"
    response = sign_in(client)
    assert response.status_code == 400 and "身份提供方拒绝了授权码" in response.get_data(as_text=True)
    assert identities() == []
