"""DingTalk 免登 in Chromium: the micro-app's homepage inside the DingTalk client, and opened in a plain browser.

Inside the client is Chromium with DingTalk's iPhone user agent and a stand-in for the client's native bridge
(WebViewJavascriptBridge, injected before any script runs): the real dingtalk-jsapi bundle that the page loads
from static/vendor sees DingTalk, and its requestAuthCode reaches the stand-in, which answers with a code the
loopback DingTalk server issued (as the client gets one from DingTalk). The server then redeems it there.
"""
import json
import re

import pytest
from playwright.sync_api import expect

from tests.identity.vendor_servers import DingTalkServer

SETTINGS = ("DINGTALK_CLIENT_ID", "DINGTALK_CLIENT_SECRET", "DINGTALK_CORP_ID", "DINGTALK_LOGIN_URL",
            "DINGTALK_API_URL", "DINGTALK_OAPI_URL")
#: DingTalk's iOS client (the jsapi reads the platform and the client's version from it)
DINGTALK_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                   "Mobile/15E148 AliApp(DingTalk/7.6.0) com.laiwang.DingTalk/34028340 Channel/201200 "
                   "language/zh-Hans-CN UT4Aplus/0.0.4 WK")
PHONE = (390, 844)

#: The client's native bridge as the jsapi's iOS code calls it. requestAuthCode answers for the company's corpId
#: only (DingTalk refuses another), and waits for window.__answer() when the test wants to see the page waiting.
BRIDGE = """
(() => {
  const setup = %s;
  window.__bridgeCalls = [];
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective));
  let pending = null;
  window.__answer = () => { if (pending) { pending(); pending = null; } };
  window.WebViewJavascriptBridge = {
    init() {},
    registerHandler() {},
    callHandler(name, params, respond) {
      window.__bridgeCalls.push({name, corpId: params && params.corpId});
      if (name !== "runtime.permission.requestAuthCode") { respond({errorCode: "0", result: {}}); return; }
      const answer = () => params.corpId === setup.corpId
        ? respond({errorCode: "0", result: {code: setup.code}})
        : respond({errorCode: "3", errorMessage: "企业 corpId 不匹配"});
      if (setup.hold) { pending = answer; } else { setTimeout(answer, 30); }
    }
  };
})();
"""


@pytest.fixture
def dingtalk(live_server):
    server = DingTalkServer()
    server.departments["5"] = {"name": "钉钉部门"}
    server.members["dt001"] = {"name": "钉钉用户", "unionid": "u-dt001", "dept_id_list": [5]}
    app = live_server.app
    saved = {k: app.config.get(k) for k in SETTINGS}
    app.config.update(DINGTALK_CLIENT_ID=server.client_id, DINGTALK_CLIENT_SECRET=server.client_secret,
                      DINGTALK_CORP_ID=server.corp_id, DINGTALK_LOGIN_URL=server.url, DINGTALK_API_URL=server.url,
                      DINGTALK_OAPI_URL=server.url)
    yield server
    app.config.update(saved)
    server.stop()


def in_dingtalk(new_page, corp_id, code, hold=False):
    page = new_page(viewport=PHONE, user_agent=DINGTALK_IPHONE, is_mobile=True, has_touch=True)
    page.add_init_script(BRIDGE % json.dumps({"corpId": corp_id, "code": code, "hold": hold}))
    return page


def test_in_dingtalk_the_homepage_signs_in_without_a_password(live_server, dingtalk, new_page, shot):
    page = in_dingtalk(new_page, dingtalk.corp_id, dingtalk.issue_code("dt001", "in_app"), hold=True)
    page.goto(f"{live_server.url}/login/dingtalk/in-app?next=/actions/mine")
    expect(page.locator("#in-app-working")).to_be_visible()
    page.wait_for_function("() => window.__bridgeCalls.length > 0")
    assert page.evaluate("() => window.__bridgeCalls") == [
        {"name": "runtime.permission.requestAuthCode", "corpId": "ding-corp-1"}]
    assert page.evaluate("() => dd.env.platform") == "ios"  # the bundled jsapi, not a stand-in, is dd
    assert page.evaluate("() => window.__cspViolations") == []  # the app's own policy, unchanged, lets it run
    shot(page, "dingtalk-in-app-waiting")
    page.evaluate("() => window.__answer()")
    expect(page).to_have_url(f"{live_server.url}/actions/mine")
    expect(page.locator(".usermenu")).to_contain_text("钉钉用户")
    expect(page.locator(".usermenu")).to_contain_text("钉钉部门")
    shot(page, "dingtalk-in-app-signed-in")


def test_in_dingtalk_a_code_the_server_refuses_is_shown_and_not_asked_again(live_server, dingtalk, new_page, shot):
    code = dingtalk.issue_code("dt001", "in_app")
    dingtalk.expire_codes()
    page = in_dingtalk(new_page, dingtalk.corp_id, code)
    page.goto(f"{live_server.url}/login/dingtalk/in-app")
    expect(page.locator("#in-app-error")).to_contain_text("钉钉免登授权码无效、已使用或已过期")
    assert page.evaluate("() => window.__bridgeCalls.length") == 0  # the refusal page does not loop
    shot(page, "dingtalk-in-app-refused")
    page.locator("a.button", has_text="用账号密码登录").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_in_dingtalk_a_refusal_by_the_client_is_shown(live_server, dingtalk, new_page, shot):
    page = in_dingtalk(new_page, "ding-another-corp", "unused")
    page.goto(f"{live_server.url}/login/dingtalk/in-app")
    expect(page.locator("#in-app-failed")).to_be_visible()
    expect(page.locator("#in-app-failed")).to_contain_text("钉钉没有给出免登授权码（企业 corpId 不匹配）")
    expect(page.locator("#in-app-working")).to_be_hidden()
    shot(page, "dingtalk-in-app-client-refused")


def test_in_dingtalk_a_client_that_never_answers_is_shown(live_server, dingtalk, new_page):
    page = in_dingtalk(new_page, dingtalk.corp_id, "unused", hold=True)  # the answer is never released
    page.clock.install()
    page.goto(f"{live_server.url}/login/dingtalk/in-app")
    page.wait_for_function("() => window.__bridgeCalls.length > 0")
    expect(page.locator("#in-app-working")).to_be_visible()
    page.clock.fast_forward(21_000)
    expect(page.locator("#in-app-failed")).to_contain_text("钉钉没有给出免登授权码（钉钉客户端长时间没有响应）")


@pytest.mark.parametrize("viewport", [PHONE, (1366, 768)])
def test_outside_dingtalk_the_page_says_so_and_offers_the_login_page(live_server, dingtalk, new_page, shot, viewport):
    page = new_page(viewport=viewport)
    page.goto(f"{live_server.url}/login/dingtalk/in-app?next=/actions/mine")
    outside = page.locator("#in-app-outside")
    expect(outside).to_be_visible()
    expect(outside).to_contain_text("请在钉钉的工作台中打开本应用")
    expect(page.locator("#in-app-working")).to_be_hidden()
    assert page.evaluate("() => dd.env.platform") == "notInDingTalk"  # the bundle loaded (CSP: from this site)
    shot(page, f"dingtalk-in-app-outside-{viewport[0]}")
    outside.locator("a", has_text="前往登录页").click()
    expect(page).to_have_url(f"{live_server.url}/login?next=/actions/mine")
    assert dingtalk.calls == []
