"""归档与复盘 in a real browser: the archive by topic and date, a topic page, search as you type."""
import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, wait_for_htmx

pytestmark = pytest.mark.browser


def _hold(app, host_id, topic, starts, goal, agenda, points=(), decisions=(), actions=(), invite=(),
          confidential=False, finish=True, done=(), scenario="problem"):
    """Hold a meeting through the planning and room services, at its own time (the clock is pinned meanwhile)."""
    from minutes.core import timefmt
    from minutes.extensions import db
    from minutes.meetings import service as planning
    from minutes.people.models import User
    from minutes.people.service import create_user
    from minutes.room import service as room
    from minutes.room import recording, review

    from minutes.extensions import write_intent

    start = datetime(*starts, tzinfo=timefmt.LOCAL_TZ)
    timefmt.freeze(start)
    token = write_intent.set(True)  # like a POST: take the SQLite write lock up front (the outbox thread writes too)
    try:
        with app.app_context():
            host = db.session.get(User, host_id)
            meeting = planning.create_meeting(host, planning.MeetingInput(
                topic=topic, goal=goal, expected_outcome="形成行动方案", scenario=scenario, starts_at=start,
                ends_at=start + timedelta(minutes=90), location="3号楼 301会议室",
                organizer_department_id=host.department_id, confidential=confidential))
            for user_id in invite:
                planning.invite(host, meeting, [user_id])
            recorder = create_user(f"jilu{uuid.uuid4().hex[:8]}", "记录员", host.department.name,
                                   PASSWORD)  # starting a meeting needs a recorder
            planning.invite(host, meeting, [recorder.id], "recorder")
            db.session.commit()
            db.session.expire_all()
            item = planning.add_agenda_item(host, meeting, agenda, 40, department_id=host.department_id)
            room.start_meeting(host, meeting)
            for dept_id, text in points:
                recording.add_point(host, meeting, item.id, "viewpoint", text, department_id=dept_id)
            for text in decisions:
                recording.add_decision(host, meeting, item.id, text, owner_id=host.id)
            due = (start + timedelta(days=14)).date().isoformat()
            made = [recording.add_action(host, meeting, item.id, text, owner_id=host.id, due=due) for text in actions]
            if finish:
                review.enter_review(host, meeting)
                for entry in review.review_entries(meeting):
                    review.confirm_entry(host, meeting, entry.review_key)
                review.finish_meeting(host, meeting)
            from minutes.actions.models import ActionStatus

            for index in done:
                made[index].status = ActionStatus.DONE
            db.session.commit()
            return meeting.id
    finally:
        write_intent.reset(token)
        timefmt.freeze(None)


def _finalize(app, host_id, meeting_id, reason="会上已逐项确认"):
    from minutes.extensions import db, write_intent
    from minutes.meetings.models import Meeting
    from minutes.people.models import User
    from minutes.records import signoff

    token = write_intent.set(True)
    try:
        with app.app_context():
            host, meeting = db.session.get(User, host_id), db.session.get(Meeting, meeting_id)
            signoff.distribute(host, meeting)
            signoff.finalize(host, meeting, reason=reason)
            db.session.commit()
    finally:
        write_intent.reset(token)


@pytest.fixture
def archive(live_server, users):
    """A small knowledge base: two meetings on one topic, a quarterly series, a project kickoff, a secret."""
    from minutes.archive.backends import backend_for
    from minutes.extensions import db

    app = live_server.app
    with app.app_context(), db.engine.begin() as conn:
        backend_for("sqlite").rebuild(conn)  # the shared wipe drops the triggers that keep FTS5 in step
    host = users("zhaomin", "赵敏", dept="客服部", head=True, title="客服部经理")
    legal = users("qianli", "钱立", dept="法务部")
    tech = users("wanggang", "王刚", dept="技术部")
    outsider = users("sunyu", "孙雨", dept="财务部")
    first = _hold(app, host.id, "解决客户投诉处理流程卡点", (2026, 6, 12, 14, 0),
                  "明确投诉从受理到结案各环节的责任部门与处理时限", "客户投诉升级后的处理时效",
                  points=[(host.department_id, "客服部：需缩短技术部响应时间至24小时内"),
                          (tech.department_id, "技术部：需增加人力配置，请客服部提前提交详细问题描述"),
                          (legal.department_id, "法务部：赔付类投诉须先经法务审核再答复客户")],
                  decisions=["确定客户投诉处理总时效不超过72小时", "客服部收到投诉后1小时内补充问题描述"],
                  actions=["产品部优化投诉提报模板，6月30日前上线", "技术部与客服部约定SLA响应标准"],
                  invite=[legal.id, tech.id], done=[0])
    _finalize(app, host.id, first)
    _hold(app, host.id, "解决客户投诉处理流程卡点", (2026, 7, 3, 10, 0), "复盘72小时时效试行两周的效果",
          "时效试行复盘", points=[(tech.department_id, "技术部：夜间投诉响应仍超时，建议设值班工程师")],
          decisions=["技术部设夜间值班工程师，投诉响应不超过4小时"], actions=["技术部排出夜间值班表"],
          invite=[tech.id])
    _hold(app, host.id, "2026年Q2季度协调会", (2026, 6, 29, 9, 30), "回顾Q2各部门目标完成情况，对齐Q3重点",
          "Q3预算与人力", decisions=["Q3预算总额维持不变，市场费用内部调剂"], actions=["财务部发布Q3预算分配表"],
          scenario="alignment")
    _hold(app, host.id, "2026年Q3季度协调会", (2026, 9, 28, 9, 30), "回顾Q3目标完成情况与预算执行",
          "预算执行回顾", decisions=["Q4预算按执行率调整"], scenario="alignment", finish=False)
    _hold(app, host.id, "高管薪酬预算调整", (2026, 6, 18, 16, 0), "讨论高管薪酬预算", "薪酬预算",
          decisions=["薪酬预算冻结至年底"], confidential=True, invite=[legal.id])
    return {"host": host, "legal": legal, "outsider": outsider}


def test_archive_topic_page_and_search_as_you_type(archive, new_page, shot):
    page = new_page(archive["host"])
    page.goto("/archive")
    expect(page.locator(".topic-card")).to_have_count(3)
    expect(page.locator(".topic-title").first).to_have_text("季度协调会")
    expect(page.get_by_text("解决客户投诉处理流程卡点-2026-06-12")).to_be_visible()
    expect(page.locator(".archive-row", has_text="2026-06-12").locator(".badge.ok")).to_have_text("纪要已定稿")
    shot(page, "archive-topics-1440")

    page.click(".archive-tabs >> text=按日期")
    wait_for_htmx(page)
    assert "view=date" in page.url
    expect(page.locator(".month-nav a.active")).to_contain_text("9月")
    page.click(".month-nav >> text=6月")
    wait_for_htmx(page)
    expect(page.locator(".month-list h2")).to_have_text("2026年6月")
    expect(page.locator(".month-list .archive-row")).to_have_count(3)  # the secret one is the host's own
    shot(page, "archive-dates-1440")

    page.goto("/archive")
    page.click(".topic-title >> text=解决客户投诉处理流程卡点")
    expect(page.locator("h1")).to_have_text("解决客户投诉处理流程卡点")
    expect(page.locator(".timeline-item")).to_have_count(2)
    expect(page.locator(".timeline-item").first).to_contain_text("确定客户投诉处理总时效不超过72小时")
    expect(page.locator(".timeline-item").last).to_contain_text("技术部设夜间值班工程师")
    expect(page.locator(".timeline-item").first.locator(".badge.ok", has_text="已完成")).to_be_visible()
    shot(page, "archive-topic-1440")

    page.goto("/archive/search")
    box = page.locator("#q")
    box.press_sequentially("投诉", delay=60)
    expect(page.locator(".hit").first).to_be_visible()
    wait_for_htmx(page)
    assert parse_qs(urlparse(page.url).query)["q"] == ["投诉"]  # the URL keeps the query: shareable
    marks = page.locator(".snippet mark")
    expect(marks.first).to_have_text("投诉")
    box.press_sequentially(" 72小时", delay=40)
    expect(page).to_have_url(re.compile(r"q=%E6%8A%95%E8%AF%89(\+|%20)72%E5%B0%8F%E6%97%B6"))
    wait_for_htmx(page)
    expect(page.locator(".hit")).to_have_count(1)  # both words in one passage: only the decision
    expect(page.locator(".snippet mark", has_text="72小时").first).to_be_visible()
    shot(page, "archive-search-1440")

    box.fill("预算")
    expect(page).to_have_url(re.compile(r"q=%E9%A2%84%E7%AE%97"))  # after the debounce, the new query is in the URL
    wait_for_htmx(page)
    expect(page.locator(".hit").first).to_be_visible()
    page.click(".kind-tabs >> text=只看决议")
    wait_for_htmx(page)
    assert parse_qs(urlparse(page.url).query)["kind"] == ["decision"]
    expect(page.locator(".passage:not(.kind-decision)")).to_have_count(0)
    expect(page.locator(".kind-tabs a.active")).to_contain_text("只看决议")
    box.fill("Q3")  # the kind filter travels with the next query
    expect(page).to_have_url(re.compile(r"q=Q3"))
    wait_for_htmx(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["q"] == ["Q3"] and query["kind"] == ["decision"]
    expect(page.locator(".snippet mark").first).to_have_text("Q3")
    shot(page, "archive-search-decisions-1440")

    shared = page.url  # a shared link opens the same search as a full page
    other = new_page(archive["legal"])
    other.goto(shared)
    expect(other.locator("#q")).to_have_value("Q3")
    expect(other.locator(".snippet mark").first).to_have_text("Q3")


def test_search_hides_confidential_meetings_and_fits_a_phone(archive, new_page, shot):
    outsider = new_page(archive["outsider"], viewport=(390, 844))
    outsider.goto("/archive/search?q=薪酬")
    expect(outsider.locator(".search-results .empty")).to_contain_text("没有找到")
    outsider.goto("/archive/search?q=预算")
    expect(outsider.locator(".hit")).to_have_count(2)
    assert "薪酬" not in outsider.content()
    shot(outsider, "archive-search-390")
    legal = new_page(archive["legal"])
    legal.goto("/archive/search?q=薪酬")
    expect(legal.locator(".hit")).to_have_count(1)
    expect(legal.locator(".hit .badge.lock")).to_have_text("仅参会人员")
