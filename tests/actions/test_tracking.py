"""Status reports with history, the tracker and my actions, permissions, the dashboard panels."""
import pytest
from sqlalchemy import select

from minutes.actions import service
from minutes.actions.models import ActionStatus, ActionUpdate
from minutes.actions.service import ActionFilters, update_status
from minutes.core.errors import NotFound, PermissionDenied, StaleEdit, ValidationFailed
from minutes.extensions import db
from minutes.notify.models import OutboxMessage
from tests.actions.conftest import d

HX = {"HX-Request": "true"}


# --- status reports ----------------------------------------------------------------------------

def test_owner_reports_progress_and_every_change_is_kept(app, team, make_action, clock):
    clock(2026, 6, 10, 10, 0)
    action = make_action(team.meeting, team.owner, d(2026, 6, 22))
    update_status(team.owner, action, "in_progress", "已完成初稿")
    clock(2026, 6, 12, 15, 0)
    update_status(team.owner, action, "need_support", "需要法务审核条款", support_department_id=team.host.department_id)
    db.session.commit()
    history = service.history(action)
    assert [(u.old_status, u.new_status, u.note) for u in history] == [
        (ActionStatus.IN_PROGRESS, ActionStatus.NEED_SUPPORT, "需要法务审核条款"),
        (ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS, "已完成初稿"),
    ]
    assert history[0].support_department.name == "客服部" and history[0].created_by.name == "王伟"
    assert action.status == ActionStatus.NEED_SUPPORT and action.updated_by == team.owner


@pytest.mark.parametrize("status, fields, expected", [
    ("delayed", {"note": "等法务"}, {"new_due": "延期请填写新的截止日期"}),
    ("delayed", {"new_due": "2026-06-30"}, {"note": "请说明延期原因"}),
    ("delayed", {"note": "等法务", "new_due": "2026-06-20"}, {"new_due": "新的截止日期须晚于原截止日期（2026年6月22日（周一））"}),
    ("delayed", {"note": "等法务", "new_due": "2026-13-40"}, {"new_due": "新的截止日期格式不正确，请选择日期"}),
    ("delayed", {"note": "等法务", "new_due": "2026-06-27"}, {"new_due": "新的截止日期2026年6月27日（周六）不是工作日，请选择工作日"}),
    ("delayed", {"note": "等法务", "new_due": "2026-10-01"}, {"new_due": "新的截止日期2026年10月1日（周四）不是工作日，请选择工作日"}),
    ("delayed", {"note": "等法务", "new_due": "下周五"}, {"new_due": "新的截止日期格式不正确，请选择日期"}),
    ("need_support", {"note": "需要数据"}, {"support_department_id": "请选择需要哪个部门支持"}),
    ("need_support", {}, {"support_department_id": "请选择需要哪个部门支持", "note": "请说明需要什么支持"}),
    ("in_progress", {}, {"note": "请填写进展说明"}),
    ("in_progress", {"note": "进行中", "new_due": "2026-06-30"}, {"new_due": "只有选择“延期”时才需要填写新的截止日期"}),
    ("finished", {"note": "x"}, {"status": "请选择状态：未开始、进行中、已完成、延期或需支持"}),
])
def test_a_report_missing_what_its_status_needs_is_refused_with_every_reason(app, team, make_action, clock, status,
                                                                            fields, expected):
    clock(2026, 6, 10, 10, 0)
    action = make_action(team.meeting, team.owner, d(2026, 6, 22))
    with pytest.raises(ValidationFailed) as caught:
        update_status(team.owner, action, status, **fields)
    assert caught.value.fields == expected
    db.session.rollback()
    assert db.session.scalars(select(ActionUpdate)).all() == []


def test_done_needs_no_note_but_a_delay_into_the_past_is_refused(app, team, make_action, clock):
    clock(2026, 6, 25, 10, 0)
    action = make_action(team.meeting, team.owner, d(2026, 6, 22))
    with pytest.raises(ValidationFailed) as caught:
        update_status(team.owner, action, "delayed", "晚了", new_due="2026-06-24")
    assert caught.value.fields == {"new_due": "新的截止日期不能早于今天"}
    update_status(team.owner, action, "done")
    assert action.status == ActionStatus.DONE


def test_a_report_based_on_an_old_version_is_refused(app, team, make_action, clock):
    clock(2026, 6, 10, 10, 0)
    action = make_action(team.meeting, team.owner, d(2026, 6, 22))
    seen = action.version
    update_status(team.recorder, action, "in_progress", "记录人代为更新")
    db.session.commit()
    with pytest.raises(StaleEdit):
        update_status(team.owner, action, "done", "完成", version=seen)


def test_who_may_report(app, team, make_action, make_user, clock):
    clock(2026, 6, 10, 10, 0)
    action = make_action(team.meeting, team.owner, d(2026, 6, 22))
    assert service.can_update(team.owner, action)
    assert service.can_update(team.host, action) and service.can_update(team.recorder, action)
    assert service.can_update(team.admin, action)
    assert not service.can_update(team.other, action) and not service.can_update(team.head, action)
    with pytest.raises(PermissionDenied):
        update_status(team.other, action, "done", "我来")


def test_confidential_actions_are_invisible_to_the_uninvited_but_not_to_their_owner(app, team, make_user,
                                                                                     make_meeting, make_action, clock):
    clock(2026, 6, 10, 10, 0)
    secret = make_meeting(team.host, starts=(2026, 6, 8, 10, 0), topic="组织架构调整", confidential=True)
    outsider_owner = make_user("sunli", "孙丽", dept="财务部")
    action = make_action(secret, outsider_owner, d(2026, 6, 22), "测算人员成本")
    assert service.get_action(outsider_owner, action.id) == action
    with pytest.raises(NotFound):
        service.get_action(team.other, action.id)
    with pytest.raises(NotFound):
        service.get_action(team.admin, action.id)
    assert service.list_actions(team.other, ActionFilters()).total == 0
    assert service.list_actions(outsider_owner, ActionFilters()).total == 1


def test_support_request_tells_the_host_and_the_supporting_department(app, team, make_action, make_user, make_bot,
                                                                      robots, clock):
    clock(2026, 6, 10, 10, 0)
    legal_head = make_user("zhoujie", "周杰", dept="法务部")
    legal_head.is_department_head = True
    db.session.commit()
    make_bot(team.admin, legal_head.department_id, "dingtalk", robots.add("dingtalk", "fw"))
    action = make_action(team.meeting, team.owner, d(2026, 6, 22))
    update_status(team.owner, action, "need_support", "请法务审核赔付条款", support_department_id=legal_head.department_id)
    db.session.commit()
    messages = {(m.channel, m.recipient.split("@")[0]): m for m in db.session.scalars(select(OutboxMessage))}
    assert set(messages) == {("email", "zhaomin"), ("email", "zhoujie"), ("dingtalk", "法务部 · 钉钉 · dingtalk群")}
    assert "需要法务部支持" in messages[("email", "zhaomin")].subject
    assert "请法务审核赔付条款" in messages[("email", "zhoujie")].body_text
    assert "您是法务部的负责人" in messages[("email", "zhoujie")].body_text


# --- the tracker ---------------------------------------------------------------------------------

@pytest.fixture
def spread(app, team, make_action, make_user, make_meeting, clock):
    """Five actions across departments, statuses and deadlines; today is 2026-06-24."""
    clock(2026, 6, 10, 10, 0)
    sales = make_user("wuhao", "吴昊", dept="市场部")
    later = make_meeting(team.host, starts=(2026, 6, 12, 10, 0), topic="季度协调会")
    actions = {
        "late": make_action(team.meeting, team.owner, d(2026, 6, 19), "修订投诉分级标准"),
        "soon": make_action(team.meeting, team.owner, d(2026, 6, 26), "上线工单自动分派"),
        "done": make_action(team.meeting, sales, d(2026, 6, 15), "整理客户回访话术", status=ActionStatus.DONE),
        "sales_late": make_action(later, sales, d(2026, 6, 22), "统计二季度投诉数据"),
        "far": make_action(later, team.owner, d(2026, 8, 3), "评估客服系统选型"),
    }
    clock(2026, 6, 24, 10, 0)
    return actions


def texts(page):
    return [a.text for a in page.items]


def test_tracker_filters_by_department_owner_status_meeting_and_due_range(app, team, spread):
    everything = service.list_actions(team.host, ActionFilters())
    assert texts(everything) == ["整理客户回访话术", "修订投诉分级标准", "统计二季度投诉数据", "上线工单自动分派", "评估客服系统选型"]
    dept = team.owner.department_id
    assert texts(service.list_actions(team.host, ActionFilters(department_id=dept))) == [
        "修订投诉分级标准", "上线工单自动分派", "评估客服系统选型"]
    assert texts(service.list_actions(team.host, ActionFilters(status="overdue"))) == ["修订投诉分级标准", "统计二季度投诉数据"]
    assert texts(service.list_actions(team.host, ActionFilters(status="done"))) == ["整理客户回访话术"]
    assert texts(service.list_actions(team.host, ActionFilters(meeting_id=team.meeting.id, status="open"))) == [
        "修订投诉分级标准", "上线工单自动分派"]
    assert texts(service.list_actions(team.host, ActionFilters(due_from=d(2026, 6, 20), due_to=d(2026, 6, 30)))) == [
        "统计二季度投诉数据", "上线工单自动分派"]
    assert texts(service.list_actions(team.host, ActionFilters(owner_id=team.owner.id, q="投诉"))) == ["修订投诉分级标准"]


def test_tracker_sorts_and_counts_per_department(app, team, spread):
    by_owner = service.list_actions(team.host, ActionFilters(sort="owner", descending=True))
    assert [a.owner.name for a in by_owner.items] == ["王伟", "王伟", "王伟", "吴昊", "吴昊"]
    by_status = service.list_actions(team.host, ActionFilters(sort="status"))
    assert by_status.items[-1].status == ActionStatus.DONE
    counts = {c["department"].name: (c["total"], c["open"], c["overdue"], c["done"])
              for c in service.department_counts(team.host, ActionFilters())}
    assert counts == {"研发部": (3, 3, 1, 0), "市场部": (2, 1, 1, 1)}


def test_tracker_page_highlights_overdue_rows_and_filters_over_htmx(client, login_as, team, spread):
    login_as(team.host)
    html = client.get("/actions").get_data(as_text=True)
    late_row = html[html.index(f'id="row-{spread["late"].id}"') - 60:]
    assert 'class="overdue' in late_row[:200] and "逾期5天" in late_row[:2000]
    assert f'id="row-{spread["soon"].id}"' in html and 'class="overdue' not in html[html.index(f'id="row-{spread["soon"].id}"') - 60:][:100]
    part = client.get(f"/actions?status=overdue&department={team.owner.department_id}", headers=HX)
    body = part.get_data(as_text=True)
    assert part.status_code == 200 and "<html" not in body and 'id="tracker"' in body
    assert "修订投诉分级标准" in body and "统计二季度投诉数据" not in body
    bad = client.get("/actions?due_from=2026-99-01").get_data(as_text=True)
    assert "日期格式不正确" in bad


def test_tracker_page_past_the_end_is_empty_and_leads_back_to_the_first(client, login_as, team, spread):
    page = service.list_actions(team.host, ActionFilters(page=3))
    assert (page.page, page.pages, page.items, page.total) == (3, 1, [], 5)
    login_as(team.host)
    html = client.get("/actions?page=3&status=open").get_data(as_text=True)
    assert "第 3 页没有待办（共 1 页）" in html and 'href="/actions?status=open"' in html
    assert "修订投诉分级标准" not in html


def test_my_actions_groups_overdue_soon_later_done(client, login_as, team, spread):
    groups = service.my_actions(team.owner)
    assert [a.text for a in groups["overdue"]] == ["修订投诉分级标准"]
    assert [a.text for a in groups["soon"]] == ["上线工单自动分派"]
    assert [a.text for a in groups["later"]] == ["评估客服系统选型"]
    login_as(team.owner)
    html = client.get("/actions/mine").get_data(as_text=True)
    assert html.index("已逾期") < html.index("修订投诉分级标准") < html.index("即将到期") < html.index("上线工单自动分派")


def test_owner_updates_status_from_my_actions_over_htmx_and_a_bad_report_keeps_what_was_typed(client, login_as, team,
                                                                                              spread):
    login_as(team.owner)
    action = spread["late"]
    bad = client.post(f"/actions/{action.id}/status", headers=HX,
                      data={"status": "delayed", "note": "等待法务确认条款", "shape": "card", "version": action.version})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "延期请填写新的截止日期" in body and "等待法务确认条款" in body
    assert f'id="action-{action.id}"' in body and "<html" not in body
    good = client.post(f"/actions/{action.id}/status", headers=HX,
                       data={"status": "delayed", "note": "等待法务确认条款", "new_due": "2026-07-03", "shape": "card",
                             "version": action.version})
    body = good.get_data(as_text=True)
    assert good.status_code == 200 and "已保存" in body and "新截止 2026年7月3日" in body
    db.session.refresh(action)
    assert action.status == ActionStatus.DELAYED and action.due_date == d(2026, 7, 3)
    page = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "会上约定：2026年6月19日" in page and "等待法务确认条款" in page


def test_action_page_plain_form_post_redirects_and_others_cannot_post(client, login_as, team, spread, app):
    login_as(team.owner)
    action = spread["soon"]
    response = client.post(f"/actions/{action.id}/status", data={"status": "in_progress", "note": "开发中"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/actions/{action.id}")
    other = app.test_client()
    other.post("/login", data={"username": team.other.username, "password": "correct-horse-42"})
    assert other.post(f"/actions/{action.id}/status", data={"status": "done"}).status_code == 403
    assert "只有负责人、会议主持人和记录人可以更新" in other.get(f"/actions/{action.id}").get_data(as_text=True)


# --- dashboard panels ---------------------------------------------------------------------------------

def test_host_sees_escalated_and_support_requests_as_need_coordination_on_the_dashboard(client, login_as, team, spread,
                                                                                        clock):
    from minutes.actions import reminders

    clock(2026, 6, 25, 10, 0)  # due 06-19 (端午, a day off): requests 06-22..24, escalated 06-25
    reminders.run_reminders()
    update_status(team.owner, spread["soon"], "need_support", "需要客服部提供话术", support_department_id=team.host.department_id)
    db.session.commit()
    login_as(team.host)
    html = client.get("/").get_data(as_text=True)
    panel = html[html.index('id="panel-coordination"'):]
    panel = panel[:panel.index("</section>")]
    assert "需协调" in panel and "修订投诉分级标准" in panel and "上线工单自动分派" in panel
    assert "统计二季度投诉数据" not in panel  # overdue, but not yet past its three working days of requests
    assert 'id="panel-due"' not in html  # the host owns nothing


def test_open_actions_of_a_deactivated_owner_need_coordination_on_the_hosts_dashboard(client, login_as, team, spread):
    login_as(team.host)
    assert 'id="panel-coordination"' not in client.get("/").get_data(as_text=True)
    team.owner.is_enabled = False  # left the company directory: the sync deactivated the account
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    panel = html[html.index('id="panel-coordination"'):]
    panel = panel[:panel.index("</section>")]
    assert "需协调 · 负责人已停用" in panel and "评估客服系统选型" in panel and "修订投诉分级标准" in panel


def test_owner_sees_their_due_actions_on_the_dashboard(client, login_as, team, spread):
    login_as(team.owner)
    html = client.get("/").get_data(as_text=True)
    panel = html[html.index('id="panel-due"'):]
    panel = panel[:panel.index("</section>")]
    assert "修订投诉分级标准" in panel and "已逾期 5 天" in panel and "上线工单自动分派" in panel
    assert "评估客服系统选型" not in panel and 'id="panel-coordination"' not in html


def test_api_filters_owner_and_due_before_exclusive(app, team, spread):
    page = service.list_actions(team.host, ActionFilters(owner_id=team.owner.id, due_before=d(2026, 6, 26)))
    assert texts(page) == ["修订投诉分级标准"]


def test_embedded_scheduler_runs_only_where_wanted(app):
    from minutes import jobs as scheduler

    assert not scheduler.wanted(app)  # TESTING
    app.config["EMBEDDED_TICK"] = "1"
    assert scheduler.wanted(app)
    app.config["EMBEDDED_TICK"] = False
    assert not scheduler.wanted(app)
    app.config["EMBEDDED_TICK"] = True
    thread = scheduler.start(app)
    try:
        assert thread.is_alive() and scheduler.start(app) is thread  # once per process
    finally:
        thread.stop.set()
        thread.join(timeout=5)
        app.extensions.pop("embedded_tick", None)
