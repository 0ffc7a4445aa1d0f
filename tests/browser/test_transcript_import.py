"""A transcript in a real browser: the recorder imports a 30-minute Feishu 妙记 export (54 turns) into the room,
reviews the suggestions per agenda item (accepts, edits, drops; the vague one refused until it has a date), ends the
meeting with a record that passes the end-of-meeting review, and opens the minutes draft written from it.
Screenshots of the transcript page at 1366×768 and 390 px wide, and of the minutes draft."""
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


def _accept(page, card, **fill):
    """Accept a suggestion card, after filling the given fields (text=…, due=…); wait until it says 已采纳."""
    sid = card.get_attribute("id")
    for name, value in fill.items():
        selector = "textarea[name=text]" if name == "text" else f"input[name={name}]"
        card.locator(selector).fill(value)
    card.get_by_role("button", name="采纳").click()
    expect(card.page.locator(f"#{sid}.tr-sg--accepted")).to_have_count(1)


def _accept_the_rest(page, group):
    for _ in range(8):
        pending = group.locator(".tr-sg--open")
        if pending.count() == 0:
            return
        _accept(page, pending.first)
    expect(group.locator(".tr-sg--open")).to_have_count(0)


def test_recorder_imports_a_transcript_reviews_the_suggestions_per_item_and_ends_with_a_reviewed_record(
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
    expect(page.locator(".tr-line")).to_have_count(54)
    expect(page.locator(".tr-line").last).to_contain_text("00:29:40")
    groups = page.locator(".tr-group")
    expect(groups).to_have_count(2)
    first, second = groups.nth(0), groups.nth(1)
    expect(first.locator("h2")).to_have_text("1. 客户投诉升级后的处理时效")
    expect(second.locator("h2")).to_have_text("2. 投诉提报模板优化")
    # 11 suggestions: 2 decisions, 6 actions (one vague), 2 disputes, 1 consensus
    expect(first.locator(".tr-sg")).to_have_count(6)
    expect(second.locator(".tr-sg")).to_have_count(5)
    expect(page.locator(".tr-sg--action")).to_have_count(6)
    shot(page, "transcript-import-1366", full_page=False)

    # item 1: the 24-hour dispute was settled by the decision that follows it: dropped; the knowledge-base action
    # reworded; the rest accepted as suggested
    dispute = first.locator(".tr-sg--dispute")
    dispute.get_by_role("button", name="忽略").click()
    expect(first.locator(".tr-sg--dispute.tr-sg--dropped")).to_have_count(1)
    _accept(page, first.locator(".tr-sg--action", has_text="支付回调超时的处理口径"),
            text="整理支付回调超时的处理口径，形成知识库初稿")
    expect(first.locator(".tr-sg--accepted", has_text="形成知识库初稿")).to_have_count(1)
    _accept_the_rest(page, first)

    # item 2: "我这边尽快评估一下" is refused by the room's rule until it has a concrete date
    vague = second.locator(".tr-sg--action", has_text="自动打码")
    expect(vague.locator(".alert.warn")).to_contain_text("含模糊表述“尽快”")
    vague.get_by_role("button", name="采纳").click()
    wait_for_htmx(page)
    vague = second.locator(".tr-sg--action", has_text="自动打码")
    expect(vague.locator(".alert.error")).to_contain_text("尽快")
    expect(vague).not_to_contain_text("已采纳")
    vague.scroll_into_view_if_needed()
    shot(vague, "transcript-refused-action")
    _accept(page, vague, text="张伟评估自动打码功能的排期，给法务部答复", due="6月19日")
    _accept_the_rest(page, second)
    expect(page.locator(".tr-sg--open")).to_have_count(0)
    expect(page.locator(".tr-sg--accepted")).to_have_count(10)
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "transcript-import-390", full_page=False)
    page.locator(".tr-suggestions").scroll_into_view_if_needed()
    page.screenshot(path=str(Path(__file__).parent / "shots" / "transcript-suggestions-390.png"))
    page.set_viewport_size({"width": 1366, "height": 768})

    # the room shows them as recorded; the review confirms every decision and action, then the meeting ends
    page.get_by_role("link", name="返回会议室").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/room$"))
    items = page.locator("#room-items")
    expect(items).to_contain_text("身份证号字段删除")
    expect(items).to_contain_text("张伟7月3日前提交根因分析报告")
    page.locator("#room-head button", has_text="会末确认").click()
    review = page.locator("#room-review")
    expect(review).to_contain_text("会末确认")
    for _ in range(12):
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
    from minutes.room.models import Decision, Point
    from sqlalchemy import select

    with live_server.app.app_context():
        actions = {a.text: a.due_date.isoformat() for a in db.session.scalars(
            select(ActionItem).where(ActionItem.meeting_id == meeting_id))}
        decisions = list(db.session.scalars(select(Decision).where(Decision.meeting_id == meeting_id)))
        points = sorted(p.kind.value for p in db.session.scalars(select(Point).where(Point.meeting_id == meeting_id)))
    assert len(actions) == 6 and len(decisions) == 2 and all(d.confirmed_at for d in decisions)
    assert points == ["consensus", "dispute"]
    assert actions["整理支付回调超时的处理口径，形成知识库初稿"] == "2026-06-30"
    assert actions["张伟7月3日前提交根因分析报告。"] == "2026-07-03"
    assert actions["张伟评估自动打码功能的排期，给法务部答复"] == "2026-06-19"
    assert actions["模板改版由李记录负责，下周五之前出新版本给大家确认。"] == "2026-06-26"

    # the minutes draft is written from that record, with the way back to the transcript
    page.locator("#write-minutes").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/minutes$"))
    click_then_reload(page, page.get_by_role("button", name="根据会中记录生成初稿"),
                      re.compile(rf"/meetings/{meeting_id}/minutes$"))
    expect(page.locator("#minutes-transcript")).to_have_text("记录稿与建议")
    expect(page.locator("#minutes-preview")).to_contain_text("张伟评估自动打码功能的排期，给法务部答复")
    shot(page, "transcript-minutes-draft-1366", full_page=False)
