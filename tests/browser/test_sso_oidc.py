"""Single sign-on in Chromium: the login page's button, the company IdP's own form, back signed in; logout at the IdP."""
import re

import pytest
from playwright.sync_api import expect

from tests.identity.oidc_provider import OidcProvider

#: the test IdP is Authlib's server code, which warns about its own hooks' signatures (not about this app)
pytestmark = pytest.mark.filterwarnings("ignore:The 'grant' parameter will become mandatory")


@pytest.fixture
def idp(live_server):
    provider = OidcProvider()  # any redirect URI of the live server's
    provider.add_person(sub="kc-7f3a", username="zhouxin", password="idp-pass-9", name="周欣",
                        email="zhouxin@corp.example", department="品质部")
    app = live_server.app
    saved = {k: app.config.get(k) for k in ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET",
                                            "OIDC_DEPARTMENT_CLAIM", "OIDC_BUTTON_LABEL")}
    app.config.update(OIDC_ISSUER=provider.issuer, OIDC_CLIENT_ID="minutes", OIDC_CLIENT_SECRET="s3cret",
                      OIDC_DEPARTMENT_CLAIM="department", OIDC_BUTTON_LABEL="公司统一身份认证")
    yield provider
    app.config.update(saved)
    provider.stop()


def test_sign_in_through_oidc_lands_on_the_page_asked_for_and_logs_out_at_the_idp(live_server, idp, new_page, shot):
    page = new_page()
    page.goto(f"{live_server.url}/actions/mine")  # not signed in: the login page, remembering where to go
    expect(page).to_have_url(re.compile(r"/login\?next="))
    button = page.locator("a.sso-button", has_text="公司统一身份认证")
    expect(button).to_be_visible()
    shot(page, "login-sso-button")
    button.click()
    expect(page.locator("#idp-username")).to_be_visible()  # the IdP's own page
    assert page.url.startswith(idp.issuer + "/authorize")
    page.fill("#idp-username", "zhouxin")
    page.fill("#idp-password", "idp-pass-9")
    page.click("#idp-submit")
    expect(page).to_have_url(f"{live_server.url}/actions/mine")
    expect(page.locator(".usermenu")).to_contain_text("周欣")
    expect(page.locator(".usermenu")).to_contain_text("品质部")
    page.locator(".usermenu button", has_text="退出").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert idp.end_session_calls and idp.end_session_calls[-1]["client_id"] == "minutes"
    page.goto(f"{live_server.url}/actions/mine")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_idp_refusal_comes_back_as_a_message_on_the_login_page(live_server, idp, new_page):
    idp.misbehave = "nonce"
    page = new_page()
    page.goto(f"{live_server.url}/login")
    page.locator("a.sso-button").click()
    page.fill("#idp-username", "zhouxin")
    page.fill("#idp-password", "idp-pass-9")
    page.click("#idp-submit")
    expect(page.locator(".alert.error")).to_contain_text("nonce 不符")
    expect(page.locator("#username")).to_be_visible()  # the password form is still there
