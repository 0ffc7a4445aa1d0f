"""Calendar invitations with the agenda: REQUEST when it goes out, an update (next SEQUENCE) when the time or
place changes, CANCEL when the meeting is cancelled or an invitation withdrawn. Every message goes through the
real SMTP server on loopback, and its calendar is read by a second parser (vobject), not the one that wrote it."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from sqlalchemy import func, select

from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.notify.delivery import deliver_pending
from minutes.notify.models import OutboxMessage
from tests.meetings.test_planning import meeting_form

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONLINE = "https://meet.example.com/j/8812345?pwd=a1b2"


class World:
    pass


@pytest.fixture
def sent(app, clock, make_user, make_meeting, login_as, client, smtp_server):
    """A confidential meeting whose agenda its host sent through the page to four people (one of them cc);
    an employee who is not invited; the four agenda e-mails delivered and cleared from the server."""
    clock(2026, 6, 1, 9, 0)
    w = World()
    w.host = make_user("zhaomin", "赵敏", dept="客服部")
    w.recorder = make_user("lisi", "李四")
    w.member = make_user("wangwu", "王五", dept="技术部")
    w.cc = make_user("sunqi", "孙七")
    w.outsider = make_user("zhoujie", "周杰")
    w.meeting = make_meeting(w.host, starts=(2026, 6, 15, 14, 0), confidential=True, online_link=ONLINE)
    meetings.invite(w.host, w.meeting, [w.recorder.id], "recorder")
    meetings.invite(w.host, w.meeting, [w.member.id], "participant")
    meetings.invite(w.host, w.meeting, [w.cc.id], "cc")
    meetings.add_agenda_item(w.host, w.meeting, "投诉升级后的处理时效", 30, w.host.department_id)
    db.session.commit()
    login_as(w.host)
    assert client.post(f"/meetings/{w.meeting.id}/send-agenda").status_code == 303
    w.invitees = {u.email for u in (w.host, w.recorder, w.member, w.cc)}
    w.uid = f"meeting-{w.meeting.id}@minutes.test"
    w.agenda = delivered(smtp_server, 4)
    return w


def delivered(smtp_server, count: int) -> list:
    """Deliver the outbox, wait for `count` messages at the SMTP server, return them and clear it."""
    deliver_pending()
    messages = smtp_server.wait_for(count)
    assert len(messages) == count, [m["msg"]["Subject"] for m in messages]
    smtp_server.clear()
    return messages


def calendar_of(received: dict):
    """The message's calendar, checked for the shape Outlook reads, parsed by vobject."""
    msg = received["msg"]
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in alternative.get_payload()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    inline = alternative.get_payload()[2]
    text = inline.get_content()
    assert attachment.get_content_disposition() == "attachment" and attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True).decode("utf-8") == text
    cal = vobject.readOne(text)
    assert inline.get_param("method") == cal.method.value  # the part says what the calendar says
    assert text.startswith("BEGIN:VCALENDAR\r\n") and all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    return cal


def attendees(event) -> dict:
    return {a.value.lower().removeprefix("mailto:"): a.params for a in event.contents.get("attendee", [])}


def test_agenda_email_carries_a_calendar_request_for_each_invitee_only(sent):
    assert sorted(m["to"][0] for m in sent.agenda) == sorted(sent.invitees)
    assert all(sent.outsider.email not in m["to"] for m in sent.agenda)
    for received in sent.agenda:
        assert received["msg"]["Subject"].startswith("【会议议程】")
        cal = calendar_of(received)
        assert cal.method.value == "REQUEST"
        event = cal.vevent
        assert event.uid.value == sent.uid and event.sequence.value == "0"
        assert event.summary.value == "解决客户投诉处理流程卡点" and event.status.value == "CONFIRMED"
        # vobject reads TZID=Asia/Shanghai through the VTIMEZONE the message carries (not the system's zones)
        for when in (event.dtstart, event.dtend):
            assert when.params["X-VOBJ-ORIGINAL-TZID"] == ["Asia/Shanghai"]
            assert "tzicalvtz" in type(when.value.tzinfo).__name__ and when.value.utcoffset() == timedelta(hours=8)
        assert event.dtstart.value == datetime(2026, 6, 15, 14, 0, tzinfo=SHANGHAI)
        assert event.dtend.value - event.dtstart.value == timedelta(minutes=90)
        assert cal.vtimezone.tzid.value == "Asia/Shanghai"
        assert event.location.value == "301会议室"
        assert event.url.value == ONLINE and ONLINE in event.description.value
        assert "投诉升级后的处理时效" in event.description.value
        assert event.organizer.value == "mailto:zhaomin@example.com" and event.organizer.params["CN"] == ["赵敏"]
        people = attendees(event)
        assert set(people) == sent.invitees
        assert people["zhaomin@example.com"]["ROLE"] == ["CHAIR"]
        assert people["zhaomin@example.com"]["PARTSTAT"] == ["ACCEPTED"]
        assert people["wangwu@example.com"]["ROLE"] == ["REQ-PARTICIPANT"]
        assert people["wangwu@example.com"]["PARTSTAT"] == ["NEEDS-ACTION"]
        assert people["wangwu@example.com"]["RSVP"] == ["TRUE"] and people["wangwu@example.com"]["CN"] == ["王五"]
        assert people["sunqi@example.com"]["ROLE"] == ["NON-PARTICIPANT"]  # 抄送: for information
        assert sent.outsider.email not in people


def test_change_of_time_sends_an_update_with_the_same_uid_and_the_next_sequence(sent, client, smtp_server):
    meeting = sent.meeting
    moved = meeting_form(starts_at="2026-06-16T09:30", ends_at="2026-06-16T11:00", online_link=ONLINE,
                         confidential="1", organizer_department_id=str(sent.host.department_id),
                         version=str(meeting.version))
    assert client.post(f"/meetings/{meeting.id}/edit", data=moved).status_code == 303
    updates = delivered(smtp_server, 4)
    assert sorted(m["to"][0] for m in updates) == sorted(sent.invitees)
    for received in updates:
        assert received["msg"]["Subject"].startswith("【会议变更】")
        body = received["msg"].get_body(("plain",)).get_content()
        assert "2026年6月15日（周一） 14:00 – 15:30 → 2026年6月16日（周二） 09:30 – 11:00" in body
        cal = calendar_of(received)
        event = cal.vevent
        assert cal.method.value == "REQUEST" and event.uid.value == sent.uid and event.sequence.value == "1"
        assert event.dtstart.value == datetime(2026, 6, 16, 9, 30, tzinfo=SHANGHAI)
        assert event.dtend.value == datetime(2026, 6, 16, 11, 0, tzinfo=SHANGHAI)
        assert set(attendees(event)) == sent.invitees

    db.session.expire_all()
    queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    same_time = dict(moved, goal="明确各部门职责与处理时限", version=str(meeting.version))
    assert client.post(f"/meetings/{meeting.id}/edit", data=same_time).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == queued  # no time or place change

    elsewhere = dict(same_time, location="502会议室", version=str(meeting.version))
    assert client.post(f"/meetings/{meeting.id}/edit", data=elsewhere).status_code == 303
    for received in delivered(smtp_server, 4):
        assert "301会议室 → 502会议室" in received["msg"].get_body(("plain",)).get_content()
        event = calendar_of(received).vevent
        assert event.uid.value == sent.uid and event.sequence.value == "2" and event.location.value == "502会议室"
    assert meeting.calendar_sequence == 2


def test_a_refused_edit_sends_nothing_and_keeps_the_sequence(sent, client, smtp_server):
    meeting = sent.meeting
    stale = meeting_form(starts_at="2026-06-16T09:30", ends_at="2026-06-16T11:00",
                         organizer_department_id=str(sent.host.department_id), version=str(meeting.version - 1))
    assert client.post(f"/meetings/{meeting.id}/edit", data=stale).status_code == 409
    backwards = dict(stale, ends_at="2026-06-16T09:00", version=str(meeting.version))
    assert client.post(f"/meetings/{meeting.id}/edit", data=backwards).status_code == 422
    assert deliver_pending()["sent"] == 0 and smtp_server.messages == []
    db.session.expire_all()
    assert meeting.calendar_sequence == 0


def test_cancellation_sends_method_cancel_to_everyone_invited(sent, client, smtp_server):
    page = client.get(f"/meetings/{sent.meeting.id}").get_data(as_text=True)
    assert 'id="cancel-meeting"' in page and "已收到议程的人会收到取消通知" in page
    response = client.post(f"/meetings/{sent.meeting.id}/cancel", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/meetings/{sent.meeting.id}"
    cancels = delivered(smtp_server, 4)
    assert sorted(m["to"][0] for m in cancels) == sorted(sent.invitees)
    for received in cancels:
        assert received["msg"]["Subject"].startswith("【会议取消】")
        cal = calendar_of(received)
        event = cal.vevent
        assert cal.method.value == "CANCEL" and event.status.value == "CANCELLED"
        assert event.uid.value == sent.uid and event.sequence.value == "1"
        assert event.dtstart.value == datetime(2026, 6, 15, 14, 0, tzinfo=SHANGHAI)
        assert not hasattr(event, "valarm")
    assert client.post(f"/meetings/{sent.meeting.id}/cancel").status_code == 409  # cancelled once, told once
    assert deliver_pending()["sent"] == 0
    assert 'id="cancel-meeting"' not in client.get(f"/meetings/{sent.meeting.id}").get_data(as_text=True)


def test_only_those_who_plan_the_meeting_see_the_cancel_button(sent, client, login_as):
    client.post("/logout")
    login_as(sent.member)
    assert 'id="cancel-meeting"' not in client.get(f"/meetings/{sent.meeting.id}").get_data(as_text=True)
    assert client.post(f"/meetings/{sent.meeting.id}/cancel").status_code == 403
    assert deliver_pending()["sent"] == 0


def test_local_mailbox_shows_the_invitation_an_email_carries(app, sent, client):
    app.config["MAIL_DEV_MAILBOX"] = True
    html = client.get("/dev/mailbox").get_data(as_text=True)
    assert html.count('class="mailbox-calendar"') == 4 and "METHOD:REQUEST" in html


def test_withdrawn_invitee_gets_a_cancel_of_their_own_and_nothing_after(sent, client, smtp_server):
    meeting = sent.meeting
    member = next(p for p in meeting.participants if p.user_id == sent.member.id)
    assert client.post(f"/participants/{member.id}/delete").status_code == 303
    (withdrawn,) = delivered(smtp_server, 1)
    assert withdrawn["to"] == ["wangwu@example.com"] and withdrawn["msg"]["Subject"].startswith("【邀请撤回】")
    cal = calendar_of(withdrawn)
    assert cal.method.value == "CANCEL" and cal.vevent.uid.value == sent.uid and cal.vevent.sequence.value == "1"
    assert set(attendees(cal.vevent)) == {"wangwu@example.com"}  # nobody else's address goes with it

    moved = meeting_form(starts_at="2026-06-16T09:30", ends_at="2026-06-16T11:00", online_link=ONLINE,
                         confidential="1", organizer_department_id=str(sent.host.department_id),
                         version=str(meeting.version))
    assert client.post(f"/meetings/{meeting.id}/edit", data=moved).status_code == 303
    updates = delivered(smtp_server, 3)
    remaining = sent.invitees - {"wangwu@example.com"}
    assert sorted(m["to"][0] for m in updates) == sorted(remaining)
    for received in updates:
        event = calendar_of(received).vevent
        assert event.sequence.value == "2" and set(attendees(event)) == remaining
    assert client.post(f"/meetings/{meeting.id}/cancel").status_code == 303
    assert {m["to"][0] for m in delivered(smtp_server, 3)} == remaining
    every = db.session.scalars(select(OutboxMessage.recipient)).all()
    assert sent.outsider.email not in every


def test_changes_and_cancellation_before_the_agenda_went_out_send_nothing(app, clock, make_user, make_meeting,
                                                                          login_as, client, smtp_server):
    clock(2026, 6, 1, 9, 0)
    host = make_user("zhaomin", "赵敏", dept="客服部")
    meeting = make_meeting(host, starts=(2026, 6, 15, 14, 0))
    meetings.invite(host, meeting, [make_user("wangwu", "王五").id], "participant")
    db.session.commit()
    login_as(host)
    moved = meeting_form(starts_at="2026-06-16T09:30", ends_at="2026-06-16T11:00",
                         organizer_department_id=str(host.department_id), version=str(meeting.version))
    assert client.post(f"/meetings/{meeting.id}/edit", data=moved).status_code == 303
    assert client.post(f"/meetings/{meeting.id}/cancel").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    db.session.expire_all()
    assert meeting.calendar_sequence == 0


def test_api_patch_of_the_time_sends_the_update_too(sent, client, smtp_server):
    from minutes.api.service import create_token

    _row, token = create_token(sent.host, "日历测试")
    db.session.commit()
    starts = datetime(2026, 6, 17, 10, 0, tzinfo=SHANGHAI)
    response = client.patch(f"/api/v1/meetings/{sent.meeting.id}", headers={"Authorization": f"Bearer {token}"},
                            json={"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat()})
    assert response.status_code == 200, response.get_data(as_text=True)
    for received in delivered(smtp_server, 4):
        event = calendar_of(received).vevent
        assert event.sequence.value == "1" and event.dtstart.value == starts


def test_resending_the_agenda_reaches_a_late_invitee_and_updates_everyone_with_the_next_sequence(
        sent, client, smtp_server, make_user, clock):
    clock(2026, 6, 2, 10, 0)
    late = make_user("zhengkai", "郑凯", dept="财务部")
    meetings.invite(sent.host, sent.meeting, [late.id], "participant")
    db.session.commit()
    assert client.post(f"/meetings/{sent.meeting.id}/send-agenda").status_code == 303
    again = delivered(smtp_server, 5)
    everyone = sent.invitees | {"zhengkai@example.com"}
    assert sorted(m["to"][0] for m in again) == sorted(everyone)
    for received in again:
        event = calendar_of(received).vevent
        assert event.uid.value == sent.uid and event.sequence.value == "1" and set(attendees(event)) == everyone
