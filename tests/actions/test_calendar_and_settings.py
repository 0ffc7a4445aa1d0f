"""The personal .ics feed behind a token URL, and the admin's reminder rules."""
import re

from sqlalchemy import select

from minutes.actions import reminders
from minutes.actions.models import CalendarFeed, ReminderSettings
from minutes.extensions import db
from minutes.jobs import tick
from tests.actions.conftest import d

HX = {"HX-Request": "true"}


def feed_url(client) -> str:
    page = client.post("/actions/calendar").get_data(as_text=True)
    return re.search(r'id="feed-url">([^<]+)<', page).group(1)


def test_calendar_feed_carries_deadlines_and_meetings_without_login(app, client, login_as, team, make_action, clock):
    clock(2026, 6, 10, 10, 0)
    make_action(team.meeting, team.owner, d(2026, 6, 22), "整理投诉分级标准, 发各部门确认; 附说明")
    login_as(team.owner)
    url = feed_url(client)
    token = url.rsplit("/", 1)[-1][:-4]
    assert len(token) >= 40 and url.startswith("http://")
    anonymous = app.test_client()
    response = anonymous.get(url.replace("http://localhost", ""))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    unfolded = body.replace("\r\n ", "")
    assert "DTSTART;VALUE=DATE:20260622" in unfolded
    assert "SUMMARY:【待办截止】整理投诉分级标准\\, 发各部门确认\\; 附说明" in unfolded
    assert f"SUMMARY:{team.meeting.topic}" in unfolded and "DTSTART:20260921T060000Z" in unfolded
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert db.session.scalar(select(CalendarFeed)).last_used_at is not None


def test_calendar_token_is_stored_hashed_and_revoking_or_replacing_it_stops_the_old_url(app, client, login_as, team):
    login_as(team.owner)
    url = feed_url(client)
    token = url.rsplit("/", 1)[-1][:-4]
    stored = db.session.scalar(select(CalendarFeed))
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    path = url.replace("http://localhost", "")
    anonymous = app.test_client()
    assert anonymous.get(path).status_code == 200
    second = feed_url(client)
    assert anonymous.get(path).status_code == 404
    assert anonymous.get(second.replace("http://localhost", "")).status_code == 200
    assert client.post("/actions/calendar", data={"revoke": "1"}).status_code == 303
    assert "订阅链接已停用" in client.get("/actions/calendar").get_data(as_text=True)
    assert anonymous.get(second.replace("http://localhost", "")).status_code == 404
    assert anonymous.get("/calendar/guess.ics").status_code == 404


def test_a_disabled_account_feed_stops(app, client, login_as, team):
    login_as(team.owner)
    path = feed_url(client).replace("http://localhost", "")
    team.owner.is_enabled = False
    db.session.commit()
    assert app.test_client().get(path).status_code == 404


# --- reminder rules ----------------------------------------------------------------------------

def test_only_an_admin_sees_and_changes_the_rules(app, client, login_as, team):
    login_as(team.host)
    assert client.get("/actions/settings").status_code == 403
    assert client.post("/actions/settings", data={"before_days": "5"}).status_code == 403


def test_admin_changes_the_rules_and_the_schedule_follows(app, client, login_as, team, make_action, clock,
                                                         outbox_watch):
    login_as(team.admin)
    page = client.get("/actions/settings").get_data(as_text=True)
    assert "截止前提醒负责人" in page and 'value="2"' in page
    bad = client.post("/actions/settings", headers=HX,
                      data={"before_days": "abc", "overdue_requests": "99", "send_hour": "8", "on_due": "on"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "提前天数须为0–15之间的整数" in body and "催报次数须为0–10之间的整数" in body
    assert "请至少保留一种提醒方式" in body and 'value="abc"' in body
    good = client.post("/actions/settings", headers=HX,
                       data={"before_days": "3", "before_unit": "calendar", "overdue_requests": "1", "send_hour": "8",
                             "by_email": "on", "escalate": "on"})
    assert good.status_code == 200 and "提醒规则已保存" in good.get_data(as_text=True)
    rules = reminders.current_rules()
    assert (rules.before_days, rules.before_in_workdays, rules.on_due, rules.overdue_requests, rules.send_hour,
            rules.by_im) == (3, False, False, 1, 8, False)
    assert db.session.get(ReminderSettings, 1).updated_by == team.admin
    clock(2026, 6, 1, 16, 0)
    make_action(team.meeting, team.owner, d(2026, 6, 22), "整理投诉分级标准")
    sent = {}
    for day in range(15, 27):
        clock(2026, 6, day, 8, 5)
        tick()
        if new := outbox_watch.new():
            sent[d(2026, 6, day)] = [kind.split("】")[0] + "】" for _, _, kind in new]
    # 3 calendar days before Monday 06-22 is Friday 06-19, a holiday: the working day before is Thursday 06-18
    assert sent == {d(2026, 6, 18): ["【待办提醒】"], d(2026, 6, 23): ["【待办已逾期·请更新进展】"],
                    d(2026, 6, 24): ["【需协调】", "【需协调】"]}
