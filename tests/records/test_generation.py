"""Generation of the formal minutes from what the room recorded, the draft editor and its preview."""
import re

import pytest

from minutes.core.errors import PermissionDenied, RuleViolation, StaleEdit, ValidationFailed
from minutes.extensions import db
from minutes.records import drafting, render
from minutes.records.models import Minutes, MinutesStatus

SECTIONS = ["## 一、会议基本信息", "## 二、会议目标与议程回顾", "## 三、各议题讨论要点"]


def positions(text, needles):
    found = [text.find(n) for n in needles]
    assert all(p >= 0 for p in found), [n for n, p in zip(needles, found) if p < 0]
    return found


def test_draft_has_every_section_in_the_prescribed_order(recorded):
    r = recorded()
    body = drafting.draft_from_record(r.recorder, r.meeting).draft_body
    assert positions(body, SECTIONS) == sorted(positions(body, SECTIONS))
    # 会议基本信息: topic, time, place, host, recorder, attendees, late arrivals, absentees with reasons, cc
    for line in ["**会议主题**：解决客户投诉处理流程卡点", "**会议时间**：2026年6月18日（周四） 14:00–15:30",
                 "**会议地点**：301会议室", "**主持人**：赵敏（客服部）", "**记录人**：李四（产品部）",
                 "**参会人员**（实到4人）", "**迟到人员**：王五（技术部，14:12到会）",
                 "**缺席人员**：钱六（法务部，原因：出差）", "**抄送**：吴九（总经办）"]:
        assert line in body
    # 会议目标与议程回顾: goal, outcome, agenda with estimate and actual time
    assert "**核心目标**：解决客户投诉处理流程中的部门推诿问题" in body
    assert "1. 投诉升级后的处理时效（主讲：客服部；预计30分钟，实际40分钟）" in body
    assert "3. 法务介入条件（主讲：法务部；预计15分钟）" in body


def test_discussion_follows_agenda_order_with_viewpoints_disputes_consensus(recorded):
    r = recorded()
    body = drafting.draft_from_record(r.recorder, r.meeting).draft_body
    discussion = body[body.index(SECTIONS[2]):]
    order = positions(discussion, ["### 议题一：投诉升级后的处理时效", "**观点**", "- **客服部**（赵敏）：需缩短技术部响应时间至24小时内",
                                   "- **技术部**（王五）：", "**争议**", "- **客服部 与 技术部**：技术部认为问题描述不完整",
                                   "**共识**", "- 客服部需在收到投诉后1小时内补充问题描述", "**决议**：见“决议事项汇总”第1项。",
                                   "### 议题二：投诉提报模板优化", "### 议题三：法务介入条件", "本议题未记录讨论要点。"])
    assert order == sorted(order)


def test_tables_match_recorded_decisions_and_actions(recorded):
    r = recorded()
    decisions, actions = drafting.record_tables(r.meeting)
    assert [d["text"] for d in decisions] == [d.text for d in r.decisions]
    assert render.decision_cells(decisions[0]) == ["1", "确定客户投诉处理总时效不超过72小时", "客服部 赵敏", "技术部",
                                                   "2026年6月30日"]
    assert render.decision_cells(decisions[1]) == ["2", "投诉提报模板由产品部负责维护", "产品部", "—", "—"]
    assert render.action_cells(actions[0]) == ["1", "技术部增配1名投诉值班工程师", "技术部 王五", "—", "2026年7月10日", "未开始"]
    assert render.action_cells(actions[1]) == ["2", "优化投诉提报模板并上线", "产品部 孙七", "客服部、技术部", "2026年6月30日",
                                               "未开始"]


def test_tables_are_not_part_of_the_editable_text_and_follow_the_record(recorded):
    """The recorder edits sections 一–三; sections 四/五 always come from the decisions and actions."""
    r = recorded()
    minutes = drafting.draft_from_record(r.recorder, r.meeting)
    assert str(render.DECISIONS_HEADING) not in minutes.draft_body
    preview = drafting.preview(r.recorder, r.meeting, minutes.draft_body + "\n| 伪造 | 表格 |\n")
    assert [d["no"] for d in preview.decisions] == [1, 2]
    r.actions[0].status = r.actions[0].status.__class__("in_progress")  # the action domain moves it on
    db.session.flush()
    assert drafting.preview(r.recorder, r.meeting, minutes.draft_body).actions[0]["status"] == "进行中"


def test_draft_is_opened_once_and_only_by_recorder_or_host(recorded):
    r = recorded()
    with pytest.raises(PermissionDenied):
        drafting.draft_from_record(r.member, r.meeting)
    first = drafting.draft_from_record(r.recorder, r.meeting)
    assert drafting.draft_from_record(r.host, r.meeting).id == first.id
    assert db.session.query(Minutes).count() == 1


def test_minutes_cannot_start_before_the_meeting_ends(app, make_user, make_meeting):
    host = make_user("zhaomin", dept="客服部")
    meeting = make_meeting(host)
    with pytest.raises(RuleViolation, match="会议结束后"):
        drafting.draft_from_record(host, meeting)


def test_save_draft_keeps_text_and_refuses_a_stale_revision(recorded):
    r = recorded()
    minutes = drafting.draft_from_record(r.recorder, r.meeting)
    rev = minutes.draft_revision
    drafting.save_draft(r.recorder, r.meeting, minutes.draft_body + "\n补充说明。\n", rev)
    assert minutes.draft_revision == rev + 1 and "补充说明。" in minutes.draft_body
    with pytest.raises(StaleEdit, match="李四"):
        drafting.save_draft(r.host, r.meeting, "主持人的改动", rev)
    with pytest.raises(ValidationFailed):
        drafting.save_draft(r.recorder, r.meeting, "   \n ", minutes.draft_revision)


def test_regenerate_rewrites_from_the_record(recorded):
    r = recorded()
    minutes = drafting.draft_from_record(r.recorder, r.meeting)
    drafting.save_draft(r.recorder, r.meeting, "只有一行", minutes.draft_revision)
    drafting.regenerate(r.recorder, r.meeting)
    assert minutes.draft_body.startswith(SECTIONS[0])


def test_editor_page_preview_and_save_through_http(client, login_as, recorded):
    r = recorded()
    login_as(r.recorder)
    response = client.post(f"/meetings/{r.meeting.id}/minutes")
    assert response.status_code == 303
    page = client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
    assert 'id="markdown"' in page and "一、会议基本信息" in page and "四、决议事项汇总" in page
    assert 'hx-trigger="input changed delay:400ms"' in page
    fragment = client.post(f"/meetings/{r.meeting.id}/minutes/preview", data={"markdown": "## 标题\n\n**加粗**"},
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<h2>标题</h2>" in fragment and "<strong>加粗</strong>" in fragment
    assert 'class="minutes-doc" hx-disable' in fragment and "<html" not in fragment
    minutes = db.session.query(Minutes).one()
    saved = client.post(f"/meetings/{r.meeting.id}/minutes/draft", headers={"HX-Request": "true"},
                        data={"markdown": "## 一、会议基本信息\n\n新的正文", "revision": minutes.draft_revision})
    assert saved.status_code == 200 and "已保存" in saved.get_data(as_text=True)
    assert db.session.get(Minutes, minutes.id).draft_body == "## 一、会议基本信息\n\n新的正文\n"


def test_stale_save_through_http_keeps_what_was_typed(client, login_as, recorded):
    r = recorded()
    minutes = drafting.draft_from_record(r.recorder, r.meeting)
    old = minutes.draft_revision
    drafting.save_draft(r.host, r.meeting, "主持人先改了", old)
    login_as(r.recorder)
    response = client.post(f"/meetings/{r.meeting.id}/minutes/draft",
                           data={"markdown": "我辛苦输入的内容", "revision": old})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "我辛苦输入的内容" in html and "赵敏" in html
    assert db.session.get(Minutes, minutes.id).draft_body == "主持人先改了\n"


def test_other_participants_do_not_see_the_draft(client, login_as, recorded):
    r = recorded()
    drafting.draft_from_record(r.recorder, r.meeting)
    db.session.commit()
    login_as(r.member)
    html = client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
    assert "正在整理纪要" in html and 'id="markdown"' not in html
    assert client.post(f"/meetings/{r.meeting.id}/minutes/draft", data={"markdown": "x"}).status_code == 403


def test_meeting_page_links_to_the_minutes_for_the_right_people(client, login_as, switch_user, recorded):
    r = recorded()
    login_as(r.recorder)
    html = client.get(f"/meetings/{r.meeting.id}").get_data(as_text=True)
    assert re.search(r'id="minutes-link"[^>]*>整理会议纪要<', html)
    switch_user(r.member)
    assert 'id="minutes-link"' not in client.get(f"/meetings/{r.meeting.id}").get_data(as_text=True)


def test_status_of_minutes_row_starts_as_draft(recorded):
    r = recorded()
    assert drafting.draft_from_record(r.recorder, r.meeting).status == MinutesStatus.DRAFT
