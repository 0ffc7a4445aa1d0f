"""A transcript in a real browser: the recorder imports a Feishu 妙记 export into the room, reviews the suggestions
per agenda item (one action refused until it has a date), accepts them, and ends the meeting with a record that
passes the end-of-meeting review. Screenshots of the transcript page at 1366×768 and 390 px wide."""
import re
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_htmx, click_then_reload

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).parent.parent / "transcripts" / "samples" / "feishu_30min.txt"


@pytest.fixture
def meeting_day(live_server):
    """The live server's clock at Monday 2026-06-15 13:55, the day of the transcript (its dates are 6月30日 …)."""
    from minutes.core import timefmt

    timefmt.freeze(datetime(2026, 6, 15, 13, 55, tzinfo=timefmt.LOCAL_TZ))
    yield
    timefmt.freeze(None)


def _started_meeting(live_server, users):
    from minutes.core import timefmt
    from minutes.extensions import db
    from minutes.meetings import service as meetings
    from minutes.people.models import User
    from minutes.room import service as room

    host = users("wangzc", "王主持", dept="客服部")
    recorder = users("lijl", "李记录", dept="客服部")
    tech = users("zhangwei", "张伟", dept="技术部")
    product = users("liuyang", "刘洋", dept="产品部")
    legal = users("zhaomin", "赵敏", dept="法务部")
    with live_server.app.app_context():
        get = lambda info: db.session.get(User, info.id)  # noqa: E731
        h, r = get(host), get(recorder)
        start = datetime(2026, 6, 15, 14, 0, tzinfo=timefmt.LOCAL_TZ)
        meeting = meetings.create_meeting(h, meetings.MeetingInput(
            topic="解决客户投诉处理流程卡点", goal="明确投诉处理各环节的部门职责与时限", expected_outcome="形成行动方案",
            scenario="problem", starts_at=start, ends_at=start + (datetime(2026, 1, 1, 1) - datetime(2026, 1, 1)),
            location="301会议室", organizer_department_id=h.department_id))
        meetings.invite(h, meeting, [r.id], "recorder")
        meetings.invite(h, meeting, [tech.id, product.id], "participant")
        meetings.invite(h, meeting, [legal.id], "cc")
        meetings.add_agenda_item(h, meeting, "客户投诉升级后的处理时效", 30, get(tech).department_id)
        meetings.add_agenda_item(h, meeting, "投诉提报模板优化", 20, h.department_id)
        db.session.commit()
        room.start_meeting(r, meeting)
        db.session.commit()
        return recorder, meeting.id


def test_recorder_imports_a_transcript_accepts_the_suggestions_and_ends_with_a_reviewed_record(
        live_server, users, new_page, shot, meeting_day):
    recorder, meeting_id = _started_meeting(live_server, users)
    page = new_page(recorder, viewport=(1366, 768))
    page.goto(f"/meetings/{meeting_id}/room")
    page.locator("#import-transcript").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/transcript$"))

    # a wrong file first: refused with the reason, nothing imported
    page.set_input_files("#tr-file", files=[{"name": "照片.png", "mimeType": "image/png",
                                             "buffer": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 8}])
    page.get_by_role("button", name="导入并生成建议").click()
    expect(page.locator("#import-error")).to_contain_text("无法识别该文件")
    expect(page.locator(".tr-line")).to_have_count(0)

    page.set_input_files("#tr-file", str(SAMPLE))
    click_then_reload(page, page.get_by_role("button", name="导入并生成建议"), re.compile(rf"/meetings/{meeting_id}/transcript$"))
    expect(page.locator(".tr-line")).to_have_count(31)
    groups = page.locator(".tr-group")
    expect(groups).to_have_count(2)
    expect(groups.nth(0).locator("h2")).to_have_text("1. 客户投诉升级后的处理时效")
    expect(groups.nth(1).locator("h2")).to_have_text("2. 投诉提报模板优化")
    shot(page, "transcript-import-1366", full_page=False)

    # the template action, reworded without its date: refused (the room's rule), then accepted with a date
    card = page.locator(".tr-sg--action", has_text="模板改版")
    card.locator("textarea[name=text]").fill("投诉提报模板改版，出新版本给各部门确认")
    card.locator("input[name=due]").fill("")
    card.get_by_role("button", name="采纳").click()
    wait_for_htmx(page)
    card = page.locator(".tr-sg--action", has_text="模板改版")
    expect(card.locator(".alert.error")).to_contain_text("须有明确的完成时限")
    card.scroll_into_view_if_needed()
    shot(card, "transcript-refused-action")
    expect(card).not_to_contain_text("已采纳")
    card.locator("input[name=due]").fill("下周五")
    card.get_by_role("button", name="采纳").click()
    expect(page.locator(".tr-sg--action.tr-sg--accepted", has_text="模板改版")).to_have_count(1)

    # the closing remark "尽快…" was merged into the dated action; the rest accepted as suggested, the consensus dropped
    consensus = page.locator(".tr-sg--consensus").first
    consensus.get_by_role("button", name="忽略").click()
    expect(page.locator(".tr-sg--consensus.tr-sg--dropped")).to_have_count(1)
    for _ in range(12):
        pending = page.locator(".tr-sg--open")
        if pending.count() == 0:
            break
        first = pending.first
        sid = first.get_attribute("id")
        first.get_by_role("button", name="采纳").click()
        expect(page.locator(f"#{sid}.tr-sg--accepted")).to_have_count(1)
    expect(page.locator(".tr-sg--open")).to_have_count(0)
    accepted = page.locator(".tr-sg--accepted").count()
    assert accepted >= 7
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "transcript-import-390", full_page=False)
    page.locator(".tr-suggestions").scroll_into_view_if_needed()
    page.screenshot(path=str(Path(__file__).parent / "shots" / "transcript-suggestions-390.png"))
    page.set_viewport_size({"width": 1366, "height": 768})

    # the room shows them as recorded; the review confirms every decision and action, then the meeting ends
    page.get_by_role("link", name="返回会议室").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/room$"))
    items = page.locator("#room-items")
    expect(items).to_contain_text("提报模板保留订单号、复现步骤、截图和问题分类四个必填字段")
    expect(items).to_contain_text("张伟7月3日前提交根因分析报告")
    page.locator("#room-head button", has_text="会末确认").click()
    review = page.locator("#room-review")
    expect(review).to_contain_text("会末确认")
    for _ in range(10):
        if "全部确认完毕" in review.inner_text():
            break
        review.get_by_role("button", name="✓ 确认").click()
        wait_for_htmx(page)
        page.wait_for_timeout(150)
    expect(review).to_contain_text("全部确认完毕")
    page.locator("#room-head button", has_text="结束会议").click()
    page.locator("#confirm-dialog").get_by_role("button", name="确定").click()
    expect(page.locator("#room-head")).to_contain_text("纪要须在会后24小时内完成")

    from minutes.actions.models import ActionItem
    from minutes.extensions import db
    from minutes.room.models import Decision
    from sqlalchemy import select

    with live_server.app.app_context():
        actions = {a.text: a.due_date.isoformat() for a in db.session.scalars(
            select(ActionItem).where(ActionItem.meeting_id == meeting_id))}
        decisions = list(db.session.scalars(select(Decision).where(Decision.meeting_id == meeting_id)))
    assert actions["投诉提报模板改版，出新版本给各部门确认"] == "2026-06-26"
    assert actions["张伟7月3日前提交根因分析报告。"] == "2026-07-03"
    assert len(decisions) == 2 and all(d.confirmed_at for d in decisions)
