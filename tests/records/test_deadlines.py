"""The 24-hour rule for the minutes and the 1-working-day rule for answers, on the real 2026 calendar."""
from datetime import date, datetime

import pytest

from minutes.calendar.service import set_override
from minutes.core.timefmt import LOCAL_TZ, to_local
from minutes.extensions import db
from minutes.records import drafting, reading, signoff


@pytest.mark.parametrize("sent, due", [
    (datetime(2026, 6, 15, 10, 0), date(2026, 6, 16)),   # Mon → Tue
    (datetime(2026, 6, 12, 17, 0), date(2026, 6, 15)),   # Fri → Mon, across the weekend
    (datetime(2026, 6, 13, 11, 0), date(2026, 6, 15)),   # sent on a Saturday → the first working day
    (datetime(2026, 6, 18, 16, 0), date(2026, 6, 22)),   # Thu before Dragon Boat (19–21 off) → Mon
    (datetime(2026, 9, 30, 17, 0), date(2026, 10, 8)),   # Wed before National Day (1–7 off) → Thu 8th
    (datetime(2026, 10, 9, 16, 0), date(2026, 10, 10)),  # Fri 9th → Sat 10th, a 调休 working day
    (datetime(2026, 9, 19, 9, 0), date(2026, 9, 20)),    # Sat → Sun 20th, a 调休 working day
])
def test_answer_due_after_one_working_day(app, sent, due):
    assert signoff.answer_due_on(sent.replace(tzinfo=LOCAL_TZ)) == due


def test_answer_deadline_follows_the_company_calendar(app, make_user):
    admin = make_user("admin", admin=True)
    set_override(admin, date(2026, 6, 22), False, "公司团建")
    db.session.commit()
    assert signoff.answer_due_on(datetime(2026, 6, 18, 16, 0, tzinfo=LOCAL_TZ)) == date(2026, 6, 23)


def test_national_day_distribution_through_the_service(recorded, clock):
    r = recorded(day=(2026, 9, 30))
    clock(2026, 9, 30, 17, 0)
    drafting.draft_from_record(r.recorder, r.meeting)
    version = signoff.distribute(r.recorder, r.meeting)
    requests = {s.user.username: s.request.due_on for s in signoff.recipient_states(version.minutes)}
    assert set(requests.values()) == {date(2026, 10, 8)}
    clock(2026, 10, 8, 23, 0)
    assert not any(s.overdue for s in signoff.recipient_states(version.minutes))
    clock(2026, 10, 9, 0, 5)
    assert all(s.overdue for s in signoff.recipient_states(version.minutes))


def test_minutes_are_due_24_hours_after_the_meeting_ends_even_over_a_holiday(recorded, clock):
    r = recorded()  # ends Thu 2026-06-18 15:30; Fri 19th is the Dragon Boat Festival: the 24 hours still run
    clock(2026, 6, 19, 15, 0)
    state = reading.get_current(r.recorder, r.meeting)
    assert to_local(state.due_at) == datetime(2026, 6, 19, 15, 30, tzinfo=LOCAL_TZ)
    assert not state.overdue
    clock(2026, 6, 19, 15, 31)
    assert reading.get_current(r.recorder, r.meeting).overdue


def test_dashboards_of_recorder_and_host_show_due_then_overdue(recorded, clock, client, login_as, switch_user):
    r = recorded()
    clock(2026, 6, 19, 9, 0)
    for user in (r.recorder, r.host):
        panel = reading.dashboard(user)
        assert [row["meeting"].id for row in panel.to_write] == [r.meeting.id]
        assert not panel.to_write[0]["overdue"]
    assert not reading.dashboard(r.member)
    login_as(r.recorder)
    html = client.get("/").get_data(as_text=True)
    assert "待出纪要" in html and "2026年6月19日（周五） 15:30" in html and "整理纪要" in html
    clock(2026, 6, 19, 16, 0)
    html = client.get("/").get_data(as_text=True)
    assert "纪要已逾期" in html
    switch_user(r.host)
    assert "纪要已逾期" in client.get("/").get_data(as_text=True)
    switch_user(r.member)
    assert 'id="minutes-panel"' not in client.get("/").get_data(as_text=True)
    minutes_page = client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
    assert "尚未发出" in minutes_page and 'id="minutes-overdue"' in minutes_page  # everyone invited sees the delay


def test_late_distribution_is_marked(recorded, clock):
    r = recorded()
    clock(2026, 6, 20, 10, 0)
    drafting.draft_from_record(r.recorder, r.meeting)
    signoff.distribute(r.recorder, r.meeting)
    state = reading.get_current(r.recorder, r.meeting)
    assert state.distributed_late and not state.overdue
    assert not reading.dashboard(r.recorder).to_write


def test_overdue_reminders_are_queued_once(recorded, clock, smtp_server):
    from minutes.notify.delivery import deliver_pending

    r = recorded()
    clock(2026, 6, 19, 15, 0)
    assert signoff.send_reminders() == 0
    clock(2026, 6, 19, 16, 0)  # 24 hours after the end: recorder and host are told, once
    assert signoff.send_reminders() == 2
    assert signoff.send_reminders() == 0
    drafting.draft_from_record(r.recorder, r.meeting)
    version = signoff.distribute(r.recorder, r.meeting)  # due Mon 22nd (Dragon Boat)
    signoff.respond(r.late, version.id, "confirm")
    clock(2026, 6, 22, 18, 0)
    assert signoff.send_reminders() == 0
    clock(2026, 6, 23, 9, 0)
    assert signoff.send_reminders() == 5  # everyone but 王五, who answered
    assert signoff.send_reminders() == 0
    db.session.commit()
    deliver_pending()
    subjects = [m["msg"]["Subject"] for m in smtp_server.wait_for(2 + 6 + 5)]
    assert subjects.count("【纪要已逾期】解决客户投诉处理流程卡点") == 2
    assert subjects.count("【纪要确认已逾期】解决客户投诉处理流程卡点（第1版）") == 5


def test_the_tick_sends_the_overdue_minutes_notices_even_on_a_holiday(recorded, clock, runner, smtp_server):
    r = recorded()  # ends Thu 2026-06-18 15:30; Fri 19th is the Dragon Boat Festival
    clock(2026, 6, 19, 15, 0)
    assert "纪要逾期提醒" not in runner.invoke(args=["minutes", "tick"]).output
    clock(2026, 6, 19, 16, 0)
    result = runner.invoke(args=["minutes", "tick"])
    assert result.exit_code == 0, result.output
    assert "纪要逾期提醒：新排队消息 2 条" in result.output and "已发送 2 条" in result.output
    mails = smtp_server.wait_for(2)
    assert sorted(m["to"][0] for m in mails) == sorted([r.recorder.email, r.host.email])
    assert all(m["msg"]["Subject"] == "【纪要已逾期】解决客户投诉处理流程卡点" for m in mails)
    again = runner.invoke(args=["minutes", "tick"])
    assert "纪要逾期提醒" not in again.output and "已发送 0 条" in again.output
