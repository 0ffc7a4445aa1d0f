"""Feishu, DingTalk and WeCom sign-in in Chromium, against the loopback servers of their documented endpoints."""
import re

import pytest
from playwright.sync_api import expect

from tests.identity.vendor_servers import DingTalkServer, FeishuServer, WeComServer

SETTINGS = ("FEISHU_APP_ID", "FEISHU_APP_SECRET", "FEISHU_BASE_URL", "FEISHU_AUTHORIZE_URL", "DINGTALK_CLIENT_ID",
            "DINGTALK_CLIENT_SECRET", "DINGTALK_CORP_ID", "DINGTALK_LOGIN_URL", "DINGTALK_API_URL",
            "DINGTALK_OAPI_URL", "WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_BASE_URL",
            "WECOM_LOGIN_URL", "WECOM_OAUTH_URL")


@pytest.fixture
def vendor_servers(live_server):
    f, d, w = FeishuServer(), DingTalkServer(), WeComServer()
    f.members["fs001"] = {"name": "飞书用户", "enterprise_email": "fs001@corp.example"}
    d.departments["5"] = {"name": "钉钉部门"}
    d.members["dt001"] = {"name": "钉钉用户", "unionid": "u-dt001", "dept_id_list": [5]}
    w.departments["6"] = {"name": "企微部门"}
    w.members["WxUser"] = {"name": "企微用户", "department": [6]}
    app = live_server.app
    saved = {k: app.config.get(k) for k in SETTINGS}
    app.config.update(
        FEISHU_APP_ID=f.app_id, FEISHU_APP_SECRET=f.app_secret, FEISHU_BASE_URL=f.url,
        FEISHU_AUTHORIZE_URL=f.url + "/open-apis/authen/v1/authorize",
        DINGTALK_CLIENT_ID=d.client_id, DINGTALK_CLIENT_SECRET=d.client_secret, DINGTALK_CORP_ID=d.corp_id,
        DINGTALK_LOGIN_URL=d.url, DINGTALK_API_URL=d.url, DINGTALK_OAPI_URL=d.url,
        WECOM_CORP_ID=w.corp_id, WECOM_AGENT_ID=w.agent_id, WECOM_SECRET=w.secret, WECOM_BASE_URL=w.url,
        WECOM_LOGIN_URL=w.url, WECOM_OAUTH_URL=w.url)
    yield {"飞书登录": "fs001", "钉钉登录": "dt001", "企业微信登录": "WxUser"}
    app.config.update(saved)
    for server in (f, d, w):
        server.stop()


def test_each_vendor_button_signs_in(live_server, vendor_servers, new_page, shot):
    expected = {"飞书登录": ("飞书用户", None), "钉钉登录": ("钉钉用户", "钉钉部门"), "企业微信登录": ("企微用户", "企微部门")}
    for label, userid in vendor_servers.items():
        page = new_page()
        page.goto(f"{live_server.url}/login?next=/actions/mine")
        if label == "飞书登录":
            shot(page, "login-vendor-buttons")
        page.locator("a.sso-button", has_text=label).click()
        page.fill("#vendor-userid", userid)  # the person confirms on the vendor's page
        page.click("#vendor-approve")
        expect(page).to_have_url(f"{live_server.url}/actions/mine")
        name, department = expected[label]
        expect(page.locator(".usermenu")).to_contain_text(name)
        if department:
            expect(page.locator(".usermenu")).to_contain_text(department)
        page.locator(".usermenu button", has_text="退出").click()
        expect(page).to_have_url(re.compile(r"/login$"))
