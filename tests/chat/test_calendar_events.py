"""The meeting in the chat platform's own calendar (CHAT_CALENDAR_EVENTS): created when the agenda is sent, the same
event updated when the time moves or someone is uninvited, deleted when the meeting is cancelled; a platform that is
down is retried and shown to the sender and the administrator, and the e-mail invitations go out regardless.
Each platform runs on loopback (tests/chat/calendar_servers.py), checking what the vendor checks."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from minutes.chat import calendar_events
from minutes.chat.calendar_apis import CalendarRefused, DingTalk
from minutes.chat.models import ChatCalendarEvent
from minutes.core import timefmt
from minutes.extensions import db
from minutes.meetings import sending
from minutes.meetings.models import Participant
from minutes.notify.delivery import deliver_pending
from minutes.notify.models import OutboxMessage, OutboxStatus
from tests.chat.calendar_servers import DingTalkCalendarServer, FeishuCalendarServer, WeComCalendarServer
from tests.chat.test_agenda_cards import mailed_to, plan, send
from tests.meetings.test_planning import meeting_form

#: Who has an identity on each platform: the owner (王伟) and the host (赵敏); the recorder has none.
SUBJECTS = {"feishu": ("fs_wangwei", "fs_host"), "wecom": ("WangWei", "ZhaoMin"), "dingtalk": ("dt_wangwei", "dt_host")}
PLATFORMS = ["feishu", "wecom", "dingtalk"]
SEP_21_14H = int(datetime(2026, 9, 21, 6, 0, tzinfo=timezone.utc).timestamp())  # 14:00 in Shanghai


@pytest.fixture(scope="module")
def feishu_server():
    server = FeishuCalendarServer()
    server.members.update({"fs_wangwei": {"name": "王伟"}, "fs_host": {"name": "赵敏"}})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def wecom_server():
    server = WeComCalendarServer()
    server.members.update({"WangWei": {"name": "王伟", "department": [1]}, "ZhaoMin": {"name": "赵敏", "department": [1]}})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dingtalk_server():
    server = DingTalkCalendarServer()
    server.members.update({"dt_wangwei": {"name": "王伟", "unionid": "u-wangwei"},
                           "dt_host": {"name": "赵敏", "unionid": "u-zhaomin"}})
    yield server
    server.stop()


@pytest.fixture
def calendar(app, chat, team, link_identity):
    """calendar(platform): the platform's calendar turned on, the owner and the host linked; returns its server."""

    def configure(platform: str):
        server = chat(platform)
        app.config.update(CHAT_CALENDAR_EVENTS=True)
        owner, host = SUBJECTS[platform]
        link_identity(team.owner, platform, owner)
        link_identity(team.host, platform, host)
        return server

    return configure


def calendar_messages() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "calendar")
                                   .order_by(OutboxMessage.id)))


def cancel(team):
    sending.cancel_meeting(team.host, team.meeting)
    db.session.commit()
    deliver_pending()


def move(client, login_as, team, starts: str, ends: str, **fields):
    login_as(team.host)
    meeting = team.meeting
    form = meeting_form(starts_at=starts, ends_at=ends, organizer_department_id=str(meeting.organizer_department_id),
                        version=str(meeting.version), **fields)
    assert client.post(f"/meetings/{meeting.id}/edit", data=form).status_code == 303


@pytest.mark.parametrize("platform", PLATFORMS)
def test_sending_the_agenda_creates_one_event_with_the_invitees_who_have_an_identity(
        app, team, clock, calendar, smtp_server, platform):
    server = calendar(platform)
    plan(team)
    received = send(team, clock, smtp_server)
    assert mailed_to(received) == ["chenjing", "wangwei", "zhaomin"]  # everyone keeps the e-mail invitation
    deliver_pending()
    event = server.only_event()
    assert event["attendees"] == set(SUBJECTS[platform])  # the recorder, without an identity, is not on it
    assert event["summary"] == "解决客户投诉处理流程卡点"
    assert (event["starts"], event["ends"]) == (SEP_21_14H, SEP_21_14H + 90 * 60)
    assert event["location"] == "301会议室"
    assert f"http://minutes.test/meetings/{team.meeting.id}" in event["description"]
    if platform == "dingtalk":
        assert event["organizer"] == "u-zhaomin"  # the host's calendar, named by the unionId
    row = db.session.scalar(select(ChatCalendarEvent))
    assert row.vendor_event_id in server.events and row.platform == platform
    assert [m.status for m in calendar_messages()] == [OutboxStatus.SENT]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_confidential_meetings_event_keeps_place_and_online_link_behind_the_sign_in(
        app, team, clock, calendar, smtp_server, platform):
    server = calendar(platform)
    team.meeting.online_link = "https://meeting.example.com/j/4711"
    plan(team, confidential=True)
    send(team, clock, smtp_server)
    deliver_pending()
    event = server.only_event()
    assert event["attendees"] == set(SUBJECTS[platform]) and event["summary"] == "解决客户投诉处理流程卡点"
    assert not event["location"] and not event.get("online_link")
    assert "301会议室" not in str(event) and "4711" not in str(event)
    assert "保密会议" in event["description"] and f"http://minutes.test/meetings/{team.meeting.id}" in event["description"]
    if platform == "feishu":
        assert event["visibility"] == "private"  # not shown to whoever subscribes to a shared calendar


@pytest.mark.parametrize("platform", PLATFORMS)
def test_moving_the_meeting_updates_the_same_event_and_cancelling_deletes_it(
        app, client, login_as, team, clock, calendar, smtp_server, platform):
    server = calendar(platform)
    plan(team)
    send(team, clock, smtp_server)
    deliver_pending()
    (event_id,) = server.events
    move(client, login_as, team, "2026-09-22T09:30", "2026-09-22T11:00", location="502会议室",
         online_link="https://meeting.tencent.com/dm/abc")
    deliver_pending()
    assert list(server.events) == [event_id]  # updated in place, not a second event
    event = server.events[event_id]
    starts = int(datetime(2026, 9, 22, 1, 30, tzinfo=timezone.utc).timestamp())
    assert (event["starts"], event["ends"], event["location"]) == (starts, starts + 90 * 60, "502会议室")
    assert "https://meeting.tencent.com/dm/abc" in (event["description"] + event["online_link"])
    assert event["attendees"] == set(SUBJECTS[platform])

    cancel(team)
    assert server.events == {}
    assert db.session.scalar(select(ChatCalendarEvent)).cancelled_at is not None
    assert all(m.status == OutboxStatus.SENT for m in calendar_messages()) and len(calendar_messages()) == 3


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_withdrawn_invitation_takes_the_person_off_the_event(app, team, clock, calendar, smtp_server, platform):
    server = calendar(platform)
    plan(team)
    send(team, clock, smtp_server)
    deliver_pending()
    owner = db.session.scalar(select(Participant).where(Participant.user_id == team.owner.id))
    sending.withdraw_invitation(team.host, owner)
    db.session.commit()
    deliver_pending()
    assert server.only_event()["attendees"] == {SUBJECTS[platform][1]}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_platform_that_is_down_is_retried_shown_to_sender_and_admin_and_the_email_still_goes(
        app, client, login_as, team, clock, calendar, smtp_server, platform):
    server = calendar(platform)
    server.down = True
    plan(team)
    received = send(team, clock, smtp_server)
    assert mailed_to(received) == ["chenjing", "wangwei", "zhaomin"]
    (message,) = calendar_messages()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1 and "502" in message.last_error
    assert message.last_error.startswith(("飞书", "企业微信", "钉钉")), message.last_error  # our words, no class name
    assert server.events == {}

    login_as(team.host)  # the sender sees it beside the agenda e-mails
    page = client.get(f"/meetings/{team.meeting.id}/agenda-delivery").get_data(as_text=True)
    assert "日历" in page and "502" in page and "重试" in page
    client.post("/logout")
    login_as(team.admin)  # the administrator on the outbox page
    page = client.get("/admin/outbox?status=pending").get_data(as_text=True)
    assert "日历日程" in page and "日程：解决客户投诉处理流程卡点" in page and "502" in page

    server.down = False
    clock(2026, 9, 15, 9, 5)  # past the first back-off (30 s)
    deliver_pending()
    db.session.expire_all()
    assert calendar_messages()[0].status == OutboxStatus.SENT
    assert server.only_event()["attendees"] == set(SUBJECTS[platform])
    assert smtp_server.messages == []  # the e-mails went once


def test_a_retry_that_comes_after_a_newer_change_does_not_undo_it(
        app, client, login_as, team, clock, calendar, smtp_server):
    server = calendar("feishu")
    plan(team)
    server.down = True
    send(team, clock, smtp_server)  # the create fails: retried in 30 s
    server.down = False
    move(client, login_as, team, "2026-09-22T09:30", "2026-09-22T11:00")
    deliver_pending()  # the change goes first and creates the event as it is now
    clock(2026, 9, 15, 9, 5)
    deliver_pending()  # then the late retry of the first: skipped
    event = server.only_event()
    assert event["starts"] == int(datetime(2026, 9, 22, 1, 30, tzinfo=timezone.utc).timestamp())
    assert [m.status for m in calendar_messages()] == [OutboxStatus.SENT, OutboxStatus.SENT]


def test_the_platform_calendar_is_off_unless_the_administrator_turns_it_on(
        app, team, clock, chat, link_identity, smtp_server):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_wangwei")
    plan(team)
    send(team, clock, smtp_server)
    deliver_pending()
    assert calendar_messages() == [] and server.events == {}


def test_nobody_with_an_identity_means_no_event_and_no_cancellation(app, team, clock, chat, smtp_server):
    server = chat("wecom")
    app.config.update(CHAT_CALENDAR_EVENTS=True)
    plan(team)
    send(team, clock, smtp_server)
    cancel(team)
    assert calendar_messages() == [] and server.events == {}


def test_an_expired_token_is_fetched_again_once(app, client, login_as, team, clock, calendar, smtp_server):
    server = calendar("wecom")
    plan(team)
    send(team, clock, smtp_server)
    server.app_tokens.clear()  # the platform forgot the app's token (revoked, or the secret was reset)
    fetched = server.calls.count("/cgi-bin/gettoken")
    move(client, login_as, team, "2026-09-22T09:30", "2026-09-22T11:00")
    deliver_pending()
    assert server.calls.count("/cgi-bin/gettoken") == fetched + 1
    assert server.only_event()["starts"] == int(datetime(2026, 9, 22, 1, 30, tzinfo=timezone.utc).timestamp())
    assert [m.status for m in calendar_messages()] == [OutboxStatus.SENT, OutboxStatus.SENT]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_event_deleted_in_the_client_is_made_anew_on_a_change_and_its_cancellation_is_done(
        app, client, login_as, team, clock, calendar, smtp_server, platform):
    server = calendar(platform)
    plan(team)
    send(team, clock, smtp_server)
    server.events.clear()  # someone deleted it in the platform's calendar
    move(client, login_as, team, "2026-09-22T09:30", "2026-09-22T11:00")
    deliver_pending()
    event = server.only_event()
    assert event["attendees"] == set(SUBJECTS[platform])
    assert event["starts"] == int(datetime(2026, 9, 22, 1, 30, tzinfo=timezone.utc).timestamp())
    assert db.session.scalar(select(ChatCalendarEvent)).vendor_event_id in server.events

    server.events.clear()
    cancel(team)
    assert [m.status for m in calendar_messages()] == [OutboxStatus.SENT] * 3


def test_while_another_deliverer_works_on_the_event_the_message_waits_for_it(
        app, team, clock, calendar, smtp_server):
    server = calendar("dingtalk")
    plan(team)
    db.session.add(ChatCalendarEvent(meeting_id=team.meeting.id, platform="dingtalk",
                                     claimed_until=datetime(2026, 9, 15, 1, 1, tzinfo=timezone.utc)))
    db.session.commit()  # another process took it at 9:00 Shanghai time, for two minutes
    send(team, clock, smtp_server)
    (message,) = calendar_messages()
    assert message.status == OutboxStatus.PENDING and "另一个投递进程" in message.last_error
    assert server.events == {}
    clock(2026, 9, 15, 9, 5)  # its claim ran out (it died, or finished)
    deliver_pending()
    db.session.expire_all()
    assert calendar_messages()[0].status == OutboxStatus.SENT and len(server.events) == 1
    assert db.session.scalar(select(ChatCalendarEvent)).claimed_until is None


def test_a_first_create_slower_than_a_claim_keeps_the_event_so_a_second_deliverer_makes_no_second_one(
        app, team, clock, calendar, smtp_server):
    """A first DingTalk create looks up each invitee's unionId, a call each of up to SSO_HTTP_TIMEOUT (41 of them
    for 42 invitees): here each look-up takes 70 s of the pinned clock, so the second ends past the two minutes a
    claim lasts. Then another deliverer (another process: a thread with its own app context and session) takes up
    the same message, as the outbox would once its own claim on the message ran out."""
    server = calendar("dingtalk")
    DingTalk._unions.clear()  # nobody's unionId is known yet: the create looks them up
    plan(team)
    lookups, second = [], []

    def deliver_again():
        with app.app_context():
            message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "calendar")).one()
            try:
                calendar_events.deliver(message)
                second.append("delivered")
            except CalendarRefused as exc:
                second.append(str(exc))
            finally:
                db.session.remove()

    def slow_lookup():
        timefmt.freeze(timefmt.utcnow() + timedelta(seconds=70))
        lookups.append(timefmt.utcnow())
        if len(lookups) == 2:
            other = threading.Thread(target=deliver_again)
            other.start()
            other.join(30)

    server.before_lookup = slow_lookup
    send(team, clock, smtp_server)
    server.before_lookup = None
    assert len(lookups) >= 2 and second and second[0] != "delivered", second
    assert "另一个投递进程" in second[0]
    assert len(server.events) == 1  # one event, not one per deliverer
    event = server.only_event()
    assert event["attendees"] == set(SUBJECTS["dingtalk"])
    db.session.expire_all()
    assert calendar_messages()[0].status == OutboxStatus.SENT
    row = db.session.scalar(select(ChatCalendarEvent))
    assert row.vendor_event_id in server.events and row.claimed_until is None


def test_a_deliverer_whose_claim_was_taken_over_stops_before_its_next_call(app, team, clock, calendar, smtp_server):
    """Stopped long enough for its claim to run out and another deliverer to take the event: it makes no call."""
    server = calendar("dingtalk")
    DingTalk._unions.clear()
    plan(team)
    taken = []

    def taken_over():
        if not taken:
            now = timefmt.utcnow() + timedelta(seconds=400)
            timefmt.freeze(now)
            with app.app_context():  # another process took the expired claim, for two minutes from now
                db.session.execute(update(ChatCalendarEvent).values(claimed_until=now + timedelta(seconds=120)))
                db.session.commit()
                db.session.remove()
            taken.append(now)

    server.before_lookup = taken_over
    clock(2026, 9, 15, 9, 0)
    sending.send_agenda(team.host, team.meeting)
    db.session.commit()
    deliver_pending()
    server.before_lookup = None
    (message,) = calendar_messages()
    assert message.status == OutboxStatus.PENDING and "已由另一个投递进程接手" in message.last_error
    assert server.events == {}
    db.session.expire_all()
    row = db.session.scalar(select(ChatCalendarEvent))
    assert row.claimed_until == taken[0] + timedelta(seconds=120)  # the other deliverer's claim stays its own
