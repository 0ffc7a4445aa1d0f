"""个人设置 in Chromium: a read-only API token is made with the form and the list shows each token's scope."""
import re

from playwright.sync_api import expect


def test_settings_page_makes_a_read_only_token_and_shows_scopes(live_server, users, new_page, shot):
    page = new_page(users("zhaomin", "赵敏", dept="客服部"), viewport=(1366, 768))
    page.goto(f"{live_server.url}/profile")
    page.fill("#token-name", "同步脚本")
    page.locator("#tokens button[type=submit]", has_text="创建令牌").click()
    expect(page.locator("#new-token")).to_have_text(re.compile(r"^mnt_"))
    page.fill("#token-name", "OA 报表")
    page.check("#tokens input[name=read_only]")
    page.locator("#tokens button[type=submit]", has_text="创建令牌").click()
    expect(page.locator("#new-token")).to_have_text(re.compile(r"^mnt_"))
    rows = page.locator("#tokens table tr")
    expect(rows.nth(1)).to_contain_text("OA 报表")
    expect(rows.nth(1)).to_contain_text("只读")
    expect(rows.nth(2)).to_contain_text("同步脚本")
    expect(rows.nth(2)).to_contain_text("读写")
    expect(page.locator("#tokens input[name=read_only]")).not_to_be_checked()  # the next token starts read-write
    shot(page, "profile-tokens-read-only")
