"""Follow-up meetings from overdue actions (二次沟通会议) and periodic series with 上次会议待办回顾."""
from datetime import datetime

import pytest
from sqlalchemy import select

from minutes.actions import service
from minutes.actions.models import ActionReview, ActionStatus, ActionUpdate
from minutes.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from minutes.core.timefmt import LOCAL_TZ
from minutes.extensions import db
from minutes.meetings import series
from minutes.meetings.models import Meeting, MeetingStatus, Role
from tests.actions.conftest import d

HX = {"HX-Request": "true"}


@pytest.fixture
def overdue(app, team, make_action, make_user, clock):
    clock(2026, 6, 10, 10, 0)
    sales = make_user("wuhao", "吴昊", dept="市场部")
    late = make_action(team.meeting, team.owner, d(2026, 6, 15), "修订投诉分级标准")
    late2 = make_action(team.meeting, sales, d(2026, 6, 16), "统计二季度投诉数据")
    soon = make_action(team.meeting, team.owner, d(2026, 7, 15), "评估客服系统选型")
    clock(2026, 6, 24, 10, 0)
    return late, late2, soon, sales


# --- follow-up meetings ---------------------------------------------------------------------------

def test_follow_up_meeting_takes_the_overdue_actions_as_agenda_items_and_invites_their_owners(app, team, overdue):
    late, late2, soon, sales = overdue
    update_note = service.update_status(team.owner, late, "in_progress", "等待法务确认条款")
    db.session.commit()
    assert [a.text for a in service.follow_up_candidates(team.host)] == ["修订投诉分级标准", "统计二季度投诉数据"]
    start = datetime(2026, 6, 29, 10, 0, tzinfo=LOCAL_TZ)
    meeting = service.create_follow_up(team.host, [late.id, late2.id], start)
    db.session.commit()
    assert meeting.topic == "二次沟通会议：解决客户投诉处理流程卡点"
    assert meeting.location == team.meeting.location and meeting.duration_minutes == 30
    assert [i.title for i in meeting.agenda_items] == ["逾期待办：修订投诉分级标准", "逾期待办：统计二季度投诉数据"]
    first = meeting.agenda_items[0]
    assert first.department.name == "研发部"
    assert "负责人：王伟（研发部）" in first.description and "已逾期" in first.description
    assert f"最近进展：{update_note.note}" in first.description
    roles = {p.user.username: p.role for p in meeting.participants}
    assert roles == {"zhaomin": Role.HOST, "chenjing": Role.RECORDER, "wangwei": Role.PARTICIPANT,
                     "wuhao": Role.PARTICIPANT}
    assert service.follow_ups_of([late])[late.id] == [meeting]


def test_follow_up_refuses_actions_that_are_not_overdue_or_not_the_users_to_coordinate(app, team, overdue):
    late, late2, soon, sales = overdue
    start = datetime(2026, 6, 29, 10, 0, tzinfo=LOCAL_TZ)
    with pytest.raises(RuleViolation, match="未逾期"):
        service.create_follow_up(team.host, [soon.id], start)
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        service.create_follow_up(team.owner, [late.id], start)
    db.session.rollback()
    with pytest.raises(ValidationFailed, match="请至少选择一项逾期待办"):
        service.create_follow_up(team.host, [], start)


def test_follow_up_page_creates_the_meeting_or_keeps_the_form_with_the_reason(client, login_as, team, overdue):
    late, late2, soon, sales = overdue
    login_as(team.host)
    page = client.get("/actions/follow-up").get_data(as_text=True)
    assert "修订投诉分级标准" in page and "评估客服系统选型" not in page
    assert 'value="2026-06-26"' in page  # leaves the agenda its 2 working days
    bad = client.post("/actions/follow-up", data={"action_ids": [late.id], "date": "", "time": "10:00",
                                                  "location": "", "topic": "投诉流程二次沟通"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请选择日期" in body and 'value="投诉流程二次沟通"' in body
    good = client.post("/actions/follow-up", data={"action_ids": [late.id, late2.id], "date": "2026-06-29",
                                                   "time": "14:30", "location": "302会议室"})
    assert good.status_code == 303
    meeting = db.session.scalar(select(Meeting).where(Meeting.topic.startswith("二次沟通会议")))
    assert good.headers["Location"].endswith(f"/meetings/{meeting.id}")
    assert meeting.location == "302会议室" and len(meeting.agenda_items) == 2


# --- periodic series -----------------------------------------------------------------------------

@pytest.fixture
def quarterly(app, team, make_action, clock):
    clock(2026, 3, 10, 16, 0)
    first = team.meeting
    s = series.start_series(team.host, first, "季度协调会", "quarterly")
    db.session.commit()
    open_one = make_action(first, team.owner, d(2026, 4, 30), "上线工单自动分派")
    make_action(first, team.owner, d(2026, 4, 10), "整理客户回访话术", status=ActionStatus.DONE)
    late = make_action(first, team.owner, d(2026, 4, 20), "修订投诉分级标准")
    return s, first, open_one, late


def test_next_meeting_copies_participants_and_opens_with_the_review_of_open_actions(app, team, quarterly, clock):
    s, first, open_one, late = quarterly
    clock(2026, 9, 28, 10, 0)
    service.update_status(team.owner, late, "in_progress", "还差测试报告")
    nxt = series.create_next_in_series(team.host, first)
    db.session.commit()
    assert nxt.series_id == s.id and nxt.topic == first.topic
    assert {(p.user.username, p.role) for p in nxt.participants} == {(p.user.username, p.role) for p in first.participants}
    assert nxt.starts_at.astimezone(LOCAL_TZ).date() == d(2026, 12, 21)  # quarterly from 09-21
    review_item = nxt.agenda_items[0]
    assert review_item.title == "上次会议待办回顾" and review_item.minutes == 9
    assert "【进行中】修订投诉分级标准 — 王伟（研发部）" in review_item.description
    assert "【未开始】上线工单自动分派" in review_item.description and "整理客户回访话术" not in review_item.description
    review = series.review_of(nxt)
    assert [a.text for a in review.actions] == ["修订投诉分级标准", "上线工单自动分派"]  # by deadline


def test_the_review_lists_current_status_and_is_updatable_during_the_meeting(client, login_as, team, quarterly, clock,
                                                                          make_user, app):
    s, first, open_one, late = quarterly
    clock(2026, 9, 28, 10, 0)
    nxt = series.create_next_in_series(team.host, first, datetime(2026, 10, 12, 14, 0, tzinfo=LOCAL_TZ))
    db.session.commit()
    login_as(team.recorder)
    page = client.get(f"/meetings/{nxt.id}/action-review").get_data(as_text=True)
    assert "上线工单自动分派" in page and "修订投诉分级标准" in page and "未开始" in page
    response = client.post(f"/actions/{late.id}/status", headers=HX,
                           data={"status": "done", "note": "会上确认已完成", "shape": "review"})
    assert response.status_code == 200 and "已完成" in response.get_data(as_text=True)
    update = db.session.scalar(select(ActionUpdate).where(ActionUpdate.action_id == late.id))
    assert update.source == "review" and update.created_by == team.recorder
    page = client.get(f"/meetings/{nxt.id}/action-review").get_data(as_text=True)
    assert "会上确认已完成" in page  # still listed, now with its new status


def test_a_host_of_a_later_series_meeting_may_update_earlier_actions(app, team, quarterly, make_user, clock):
    s, first, open_one, late = quarterly
    new_host = make_user("sunmei", "孙梅", dept="客服部")
    clock(2026, 9, 28, 10, 0)
    nxt = series.create_next_in_series(team.host, first)
    from minutes.meetings import service as meetings

    meetings.assign_lead_role(team.host, nxt, Role.HOST, new_host)
    db.session.commit()
    assert service.can_update(new_host, late)


def test_next_meeting_can_be_created_once_and_carries_older_open_actions_forward(app, team, quarterly, clock,
                                                                               make_action):
    s, first, open_one, late = quarterly
    clock(2026, 9, 28, 10, 0)
    second = series.create_next_in_series(team.host, first, datetime(2026, 10, 12, 14, 0, tzinfo=LOCAL_TZ))
    db.session.commit()
    with pytest.raises(RuleViolation, match="已安排了下一次会议"):
        series.create_next_in_series(team.host, first)
    db.session.rollback()
    make_action(second, team.owner, d(2026, 11, 30), "制定客服培训计划")
    third = series.create_next_in_series(team.host, second, datetime(2027, 1, 11, 14, 0, tzinfo=LOCAL_TZ))
    db.session.commit()
    texts = [a.text for a in series.review_of(third).actions]
    assert sorted(texts) == ["上线工单自动分派", "修订投诉分级标准", "制定客服培训计划"]
    assert "（往期：2026年9月21日）" in third.agenda_items[0].description


def test_series_pages(client, login_as, team, quarterly, clock):
    s, first, open_one, late = quarterly
    login_as(team.host)
    assert client.get(f"/meetings/{first.id}/series").status_code == 303
    page = client.get(f"/series/{s.id}").get_data(as_text=True)
    assert "季度协调会" in page and "每季度" in page and "待办 1/3 已完成" in page
    response = client.post(f"/series/{s.id}/next", data={"date": "2026-12-21", "time": "14:00"})
    assert response.status_code == 303
    nxt = db.session.scalar(select(Meeting).where(Meeting.id != first.id, Meeting.series_id == s.id))
    assert db.session.scalar(select(ActionReview).where(ActionReview.meeting_id == nxt.id)) is not None
    html = client.get(f"/meetings/{nxt.id}").get_data(as_text=True)
    assert "上次会议待办回顾" in html


def test_starting_a_series_needs_the_right_to_edit_the_meeting(app, client, login_as, team):
    stranger = app.test_client()
    stranger.post("/login", data={"username": team.other.username, "password": "correct-horse-42"})
    response = stranger.post(f"/meetings/{team.meeting.id}/series", data={"name": "例会", "cadence": "weekly"})
    assert response.status_code == 403
    login_as(team.host)
    bad = client.post(f"/meetings/{team.meeting.id}/series", data={"name": "例会", "cadence": "yearly"})
    assert bad.status_code == 422 and "请选择召开频率" in bad.get_data(as_text=True)
    good = client.post(f"/meetings/{team.meeting.id}/series", data={"name": "客服周例会", "cadence": "weekly"})
    assert good.status_code == 303
    db.session.refresh(team.meeting)
    assert team.meeting.series.name == "客服周例会" and team.meeting.status == MeetingStatus.DRAFT
