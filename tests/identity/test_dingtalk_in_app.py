"""DingTalk 免登 (sign-in inside the DingTalk client) against the loopback DingTalk server (vendor_servers.py).

The client's requestAuthCode hands the page a code (here: `server.issue_code(userid, "in_app")`), the page posts it
to /login/dingtalk/in-app, and the app redeems it at topapi/v2/user/getuserinfo with its own token.
"""
import re
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from minutes.extensions import db
from minutes.identity.models import ExternalIdentity
from minutes.people.models import User
from tests.identity.flows import callback
from tests.identity.test_vendor_sign_in import dingtalk_server  # noqa: F401  (a fixture: the company of 刘洋)

IN_APP = "/login/dingtalk/in-app"


@pytest.fixture
def dingtalk(app, dingtalk_server):  # noqa: F811
    server = dingtalk_server
    server.reset()
    app.config.update(DINGTALK_CLIENT_ID=server.client_id, DINGTALK_CLIENT_SECRET=server.client_secret,
                      DINGTALK_CORP_ID=server.corp_id, DINGTALK_LOGIN_URL=server.url, DINGTALK_API_URL=server.url,
                      DINGTALK_OAPI_URL=server.url)
    return server


def post_code(client, code, next_url=None):
    data = {"code": code}
    if next_url is not None:
        data["next"] = next_url
    return client.post(IN_APP, data=data)


def identities():
    return db.session.scalars(select(ExternalIdentity).order_by(ExternalIdentity.id)).all()


def signed_in(client) -> bool:
    return client.get("/actions/mine").status_code == 200


def test_in_app_page_gives_the_client_the_corp_id_and_loads_the_jsapi_from_this_site(client, dingtalk):
    response = client.get(IN_APP + "?next=/actions/mine")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-corp-id="ding-corp-1"' in html and 'name="next" value="/actions/mine"' in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert '<script src="/static/vendor/dingtalk-jsapi.min.js" defer>' in scripts
    assert '<script src="/static/dingtalk-in-app.js" defer>' in scripts
    assert all("src=" in tag for tag in scripts)  # no inline script: the CSP allows none
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    assert re.search(r'<form id="in-app-form" method="post" action="/login/dingtalk/in-app">', html)


def test_in_app_code_signs_in_the_company_member_and_goes_on_to_next(client, dingtalk):
    response = post_code(client, dingtalk.issue_code("manager4521", "in_app"), next_url="/actions/mine")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert urlsplit(response.headers["Location"]).path == "/actions/mine"
    [ident] = identities()
    assert (ident.provider, ident.subject) == ("dingtalk", "manager4521")
    user = ident.user
    assert (user.name, user.email, user.department.name, user.title, user.is_department_head) == (
        "刘洋", "liuyang@corp.example", "市场部", "市场总监", True)
    assert "/topapi/v2/user/getuserinfo" in dingtalk.calls
    assert signed_in(client)


def test_in_app_and_qr_login_are_one_account(client, dingtalk):
    """Both name the person by the company's userid: the scan login and 免登 find the same account."""
    start = client.get("/login/dingtalk").headers["Location"]
    requests.get(start, timeout=5)
    back = requests.post(start, data={"userid": "manager4521"}, allow_redirects=False, timeout=5).headers["Location"]
    assert callback(client, back).status_code == 302
    client.post("/logout")
    assert post_code(client, dingtalk.issue_code("manager4521", "in_app")).status_code == 302
    assert signed_in(client)
    assert len(identities()) == 1 and db.session.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize("how", ["used", "expired", "unknown", "a scan login's code"])
def test_a_code_the_vendor_does_not_know_is_refused_with_a_message(client, dingtalk, how):
    code = dingtalk.issue_code("manager4521", "oauth" if how == "a scan login's code" else "in_app")
    if how == "used":
        assert post_code(client, code).status_code == 302
        client.post("/logout")
    elif how == "expired":
        dingtalk.expire_codes()  # more than 5 minutes later
    elif how == "unknown":
        code = "0" * 32
    response = post_code(client, code, next_url="/actions/mine")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "钉钉免登授权码无效、已使用或已过期" in html and "40078" in html
    assert 'data-state="failed"' in html  # the page does not ask the client again by itself
    assert 'name="next" value="/actions/mine"' in html
    assert not signed_in(client)
    assert len(identities()) == (1 if how == "used" else 0)


def test_a_wrong_app_secret_is_named_for_the_administrator(app, client, dingtalk):
    code = dingtalk.issue_code("manager4521", "in_app")
    app.config["DINGTALK_CLIENT_SECRET"] = "not-the-secret"
    response = post_code(client, code)
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 502) and "DINGTALK_CLIENT_SECRET" in html and "40089" in html
    assert identities() == [] and not signed_in(client)


def test_an_unreachable_vendor_is_a_message(app, client, dingtalk):
    app.config["DINGTALK_OAPI_URL"] = "http://127.0.0.1:9"
    response = post_code(client, "abc")
    assert response.status_code == 502 and "无法连接钉钉开放平台" in response.get_data(as_text=True)
    assert identities() == []


def test_no_code_is_refused_before_asking_the_vendor(client, dingtalk):
    response = post_code(client, "  ")
    assert response.status_code == 400 and "没有收到钉钉的免登授权码" in response.get_data(as_text=True)
    assert dingtalk.calls == []


def test_redirect_after_in_app_sign_in_stays_on_this_site(client, dingtalk):
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example"):
        response = post_code(client, dingtalk.issue_code("manager4521", "in_app"), next_url=target)
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).netloc in ("", "localhost")
        assert "evil" not in response.headers["Location"]
        client.post("/logout")


def test_signed_in_person_goes_straight_on(client, dingtalk):
    assert post_code(client, dingtalk.issue_code("manager4521", "in_app")).status_code == 302
    response = client.get(IN_APP + "?next=/actions/mine")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/actions/mine"


def test_post_without_csrf_token_is_refused(app, client, dingtalk):
    app.config["WTF_CSRF_ENABLED"] = True
    response = post_code(client, dingtalk.issue_code("manager4521", "in_app"))
    assert response.status_code == 400 and identities() == []
    assert "getuserinfo" not in " ".join(dingtalk.calls)


def test_in_app_needs_the_corp_id(app, client, dingtalk):
    app.config["DINGTALK_CORP_ID"] = None
    for response in (client.get(IN_APP), post_code(client, dingtalk.issue_code("manager4521", "in_app"))):
        assert response.status_code == 404 and "DINGTALK_CORP_ID" in response.get_data(as_text=True)
    assert identities() == []


def test_unconfigured_dingtalk_has_no_in_app_route(client):
    assert client.get(IN_APP).status_code == 404
    assert client.post(IN_APP, data={"code": "x"}).status_code == 404
