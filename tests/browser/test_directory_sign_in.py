"""The company directory in a real browser: an administrator syncs from slapd, a synced person is invited
right away, and that person signs in with the directory password."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, wait_for_htmx
from tests.browser.test_planning_flow import _invite, _local, _make_meeting, _today
from tests.identity.slapd import Slapd, missing

pytestmark = pytest.mark.browser


@pytest.fixture
def directory(live_server):
    import os

    problem = missing()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true 但无法运行 slapd：{problem}", pytrace=False)
        pytest.skip(f"跳过 LDAP 浏览器测试（CI=true 时必须运行）：{problem}")
    server = Slapd().load()
    saved = dict(live_server.app.config)
    live_server.app.config.update(server.config())
    yield server
    live_server.app.config.clear()
    live_server.app.config.update(saved)
    server.close()


def test_admin_syncs_the_directory_invites_a_synced_person_who_signs_in_with_ldap(live_server, users, new_page,
                                                                                  directory, shot):
    admin = users("admin", "系统管理员", dept="总经办", admin=True)
    page = new_page(admin)
    page.goto("/admin/directory")
    page.get_by_role("button", name="立即同步").click()
    report = page.locator("#sync-report")
    expect(report).to_contain_text("同步完成")
    expect(report).to_contain_text("新建人员：张伟（研发部）")
    shot(page, "directory-sync-1440")

    # the synced person is in the invite picker at once, under the directory's department
    starts = _local(_today() + timedelta(days=10), 14)
    meeting_id = _make_meeting(live_server, admin, starts, items=[("季度目标对齐", 30)])
    page.goto(f"/meetings/{meeting_id}")
    _invite(page, "研发部", ["张伟"], "参会人")
    wait_for_htmx(page)

    # and signs in with the company password (a wrong one gets the usual answer)
    other = new_page()
    other.goto("/login")
    other.fill("#username", "zhangwei")
    other.fill("#password", "wrong-password")
    other.click("form.login-card button[type=submit]")
    expect(other.locator(".alert.error")).to_contain_text("用户名或密码错误")
    login(other, live_server.url, "zhangwei", password="zw-pass-1")
    expect(other.locator("body")).to_contain_text("季度资源协调会")  # the meeting they were invited to
    shot(other, "directory-sign-in-dashboard-1440")


def test_directory_disabled_account_is_told_so_in_the_browser(live_server, new_page, directory):
    page = new_page()
    page.goto("/login")
    page.fill("#username", "liqiang")
    page.fill("#password", "lq-pass-1")
    page.click("form.login-card button[type=submit]")
    expect(page.locator(".alert.error")).to_contain_text("已在公司目录中停用")
