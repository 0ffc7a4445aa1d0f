"""Company calendar overrides: they change working days, and so the 2-working-day agenda deadline."""
from datetime import date

from sqlalchemy import func, select

from minutes.calendar.models import CalendarOverride
from minutes.calendar.service import upcoming_special_days, work_calendar
from minutes.extensions import db
from minutes.meetings.models import Meeting
from minutes.meetings.sending import agenda_send_deadline

HX = {"HX-Request": "true"}


def overrides_count():
    return db.session.scalar(select(func.count()).select_from(CalendarOverride))


def test_extra_day_off_makes_a_weekday_non_working(client, admin):
    monday = date(2026, 6, 15)
    assert work_calendar().is_workday(monday)
    response = client.post("/admin/calendar", data={"day": "2026-06-15", "kind": "off", "note": "公司年会"}, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="calendar-body">')
    assert "公司年会" in html and "已将2026年6月15日设为公司休息日" in html
    assert not work_calendar().is_workday(monday)
    assert work_calendar().add_workdays(date(2026, 6, 12), 1) == date(2026, 6, 16)


def test_extra_working_day_makes_a_saturday_working(client, admin):
    saturday = date(2026, 6, 13)
    response = client.post("/admin/calendar", data={"day": "2026-06-13", "kind": "work", "note": "季度盘点加班"})
    assert response.status_code == 303
    assert work_calendar().is_workday(saturday)
    assert work_calendar().workdays_between(date(2026, 6, 12), date(2026, 6, 15)) == 2


def test_extra_day_off_moves_the_agenda_deadline_earlier(client, admin, make_meeting):
    meeting = make_meeting(admin, starts=(2026, 6, 17, 14, 0))  # Wednesday
    assert agenda_send_deadline(meeting) == date(2026, 6, 15)  # Monday
    client.post("/admin/calendar", data={"day": "2026-06-16", "kind": "off", "note": "公司司庆"})
    meeting = db.session.get(Meeting, meeting.id)
    assert agenda_send_deadline(meeting) == date(2026, 6, 12)  # the Friday before


def test_extra_working_saturday_moves_the_agenda_deadline_later(client, admin, make_meeting):
    meeting = make_meeting(admin, starts=(2026, 6, 16, 14, 0))  # Tuesday
    assert agenda_send_deadline(meeting) == date(2026, 6, 12)  # Friday
    client.post("/admin/calendar", data={"day": "2026-06-13", "kind": "work", "note": "周六补班"})
    assert agenda_send_deadline(db.session.get(Meeting, meeting.id)) == date(2026, 6, 13)


def test_agenda_deadline_shown_on_the_meeting_follows_the_override(client, admin, make_meeting):
    meeting = make_meeting(admin, starts=(2026, 6, 17, 14, 0))
    assert "2026年6月15日（周一）" in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    client.post("/admin/calendar", data={"day": "2026-06-16", "kind": "off", "note": "公司司庆"})
    assert "2026年6月12日（周五）" in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)


def test_deleting_an_override_restores_the_statutory_calendar(client, admin):
    client.post("/admin/calendar", data={"day": "2026-06-15", "kind": "off", "note": "公司年会"})
    override = db.session.scalar(select(CalendarOverride))
    response = client.post(f"/admin/calendar/{override.id}/delete", headers=HX)
    assert response.status_code == 200
    assert "该日恢复法定安排" in response.get_data(as_text=True)
    assert overrides_count() == 0
    assert work_calendar().is_workday(date(2026, 6, 15))


def test_deleting_an_unknown_override_is_404(client, admin):
    assert client.post("/admin/calendar/9999/delete").status_code == 404


def test_override_without_note_keeps_input_and_saves_nothing(client, admin):
    response = client.post("/admin/calendar", data={"day": "2026-06-15", "kind": "work", "note": " "}, headers=HX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请说明原因" in html and 'value="2026-06-15"' in html
    assert 'value="work" checked' in html
    assert overrides_count() == 0


def test_override_without_date_is_refused(client, admin):
    response = client.post("/admin/calendar", data={"day": "", "kind": "off", "note": "年会"}, headers=HX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请选择日期" in html and 'value="年会"' in html
    assert overrides_count() == 0


def test_override_with_malformed_date_is_refused(client, admin):
    response = client.post("/admin/calendar", data={"day": "2026-13-45", "kind": "off", "note": "年会"}, headers=HX)
    assert response.status_code == 422
    assert "日期格式不正确" in response.get_data(as_text=True)
    assert overrides_count() == 0


def test_override_that_changes_nothing_is_refused_with_the_statutory_reason(client, admin):
    response = client.post("/admin/calendar", data={"day": "2026-10-01", "kind": "off", "note": "放假"}, headers=HX)
    assert response.status_code == 422
    assert "按法定安排已是休息日（国庆节）" in response.get_data(as_text=True)
    response = client.post("/admin/calendar", data={"day": "2026-06-15", "kind": "work", "note": "上班"}, headers=HX)
    assert response.status_code == 422
    assert "按法定安排已是工作日" in response.get_data(as_text=True)
    assert overrides_count() == 0


def test_working_on_a_statutory_holiday_can_be_declared(client, admin):
    client.post("/admin/calendar", data={"day": "2026-10-08", "kind": "work", "note": "国庆值班"})
    assert not work_calendar().is_workday(date(2026, 10, 7))
    assert work_calendar().is_workday(date(2026, 10, 8)) is True


def test_calendar_page_says_which_years_are_provisional(client, admin, clock):
    clock(2026, 11, 25, 9, 0)
    html = client.get("/admin/calendar").get_data(as_text=True)
    known = html[html.index("2026年</div>"):html.index("2027年</div>")]
    provisional = html[html.index("2027年</div>"):]
    assert "已公布" in known and "暂定" not in known
    assert "国务院尚未公布放假安排" in provisional[:400]


def test_calendar_page_lists_upcoming_holidays_and_adjusted_working_days(client, admin, clock):
    clock(2026, 9, 15, 9, 0)
    html = client.get("/admin/calendar").get_data(as_text=True)
    upcoming = html[html.index('id="upcoming"'):]
    assert "2026年9月20日（周日）" in upcoming and "调休上班" in upcoming
    assert "2026年10月1日（周四） – 2026年10月7日（周三）" in upcoming and "国庆节" in upcoming and "共7天" in upcoming
    assert "2026年10月10日（周六）" in upcoming


def test_upcoming_breaks_join_weekends_and_name_the_holiday(app):
    entries = upcoming_special_days(date(2026, 2, 1), 60)
    spring = next(e for e in entries if e["kind"] == "off" and "春节" in e["label"])
    assert (spring["start"], spring["end"], spring["length"]) == (date(2026, 2, 15), date(2026, 2, 23), 9)
    assert spring["label"] == "农历除夕、春节"
    assert [e["start"] for e in entries if e["kind"] == "work"] == [date(2026, 2, 14), date(2026, 2, 28)]


def test_calendar_month_view_marks_company_days(client, admin, clock):
    clock(2026, 6, 1, 9, 0)
    client.post("/admin/calendar", data={"day": "2026-06-15", "kind": "off", "note": "公司年会"})
    html = client.get("/admin/calendar").get_data(as_text=True)
    assert 'title="2026年6月15日（周一）：休息（公司年会），公司安排"' in html
    assert 'class="kind-holiday' in html  # 端午节 on 6月19日
