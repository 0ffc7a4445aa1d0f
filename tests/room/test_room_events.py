"""Live updates through the real SSE endpoint, with the in-process broker and with Redis pub/sub."""
import time

import pytest

from minutes.extensions import db
from minutes.room import live, recording, service, stream
from minutes.room.broker import InProcessBroker, Message, RedisBroker, sse_frame
from minutes.meetings.models import Meeting
from minutes.people.models import User
from tests.room.conftest import login

HX = {"HX-Request": "true"}


def _add_point(client, cast, text, item=0):
    response = client.post(f"/meetings/{cast.meeting.id}/points",
                           data={"agenda_item_id": cast.items[item].id, "kind": "consensus", "text": text}, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_a_new_point_reaches_every_open_stream_with_its_revision(started, broker, client, second_client, login_as,
                                                                open_stream, app):
    login_as(started.recorder)
    watcher = open_stream(login(second_client, started.participant), started.meeting.id, rev=1)
    other = open_stream(login(app.test_client(), started.outsider), started.meeting.id, rev=1)
    screen = open_stream(login(app.test_client(), started.host), started.meeting.id, rev=1, view="screen")
    time.sleep(0.2)
    _add_point(client, started, "客服部收到投诉后1小时内补充问题描述")
    for reader in (watcher, other):
        event = reader.next()
        assert event.event == "update" and event.id == "2"
        # Only the new point travels, appended to its own item's list (plus the item's count in the agenda).
        assert f'hx-swap-oob="beforeend:#points-{started.items[0].id}"' in event.data
        assert f'<span class="muted" id="agenda-count-{started.items[0].id}" hx-swap-oob="true">· 1 条</span>' in event.data
        assert "客服部收到投诉后1小时内补充问题描述" in event.data
        assert "hx-post" not in event.data  # read-only audience: no edit controls
        # Every line of the multi-line fragment is its own data: field.
        assert event.data.count("\n") > 5
        assert all(line.split(":", 1)[0] in ("id", "event", "data") for line in event.lines)
    event = screen.next()
    assert event.id == "2" and 'hx-swap-oob="beforeend:#screen-points"' in event.data
    assert "客服部收到投诉后1小时内补充问题描述" in event.data
    # A point under another item is not for the screen (it shows the current item): an empty event keeps the count.
    _add_point(client, started, "另一议题的观点", item=1)
    assert watcher.next().id == "3"
    block = screen.blocks.get(timeout=5)
    while block.comment:
        block = screen.blocks.get(timeout=5)
    assert block.id == "3" and block.data == "" and block.event == "update"


def test_writers_stream_carries_edit_controls(started, broker, client, login_as, open_stream, second_client):
    login_as(started.recorder)
    host_stream = open_stream(login(second_client, started.host), started.meeting.id, rev=1)
    time.sleep(0.2)
    _add_point(client, started, "共识一")
    event = host_stream.next()
    assert "/room/points/" in event.data and "hx-confirm" in event.data


def test_stream_at_the_current_revision_starts_quietly(started, broker, client, login_as, open_stream):
    login_as(started.participant)
    reader = open_stream(client, started.meeting.id, rev=1)
    block = reader.next(comments=True)
    assert block.comment == "connected" and "retry: 2000" in block.lines
    block = reader.blocks.get(timeout=5)
    assert block.id == "1" and block.data == "" and block.event is None  # sets the browser's Last-Event-ID
    assert reader.quiet(0.5) == []


@pytest.mark.parametrize("how", ["header", "query"])
def test_reconnect_behind_the_current_revision_gets_a_resync(started, broker, client, login_as, open_stream, how):
    for text in ("观点甲", "观点乙"):
        recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", text)
        db.session.commit()
    login_as(started.participant)
    if how == "header":
        reader = open_stream(client, started.meeting.id, headers={"Last-Event-ID": "1"}, rev=0)
    else:
        reader = open_stream(client, started.meeting.id, rev=1)
    event = reader.next()
    assert event.event == "resync" and event.id == "3"
    assert "观点甲" in event.data and "观点乙" in event.data and 'id="room-head"' in event.data


def test_stream_without_any_revision_gets_the_whole_room(started, broker, client, login_as, open_stream):
    login_as(started.participant)
    event = open_stream(client, started.meeting.id).next()
    assert event.event == "resync" and event.id == "1"


def test_a_lost_broker_message_is_noticed_as_a_gap_and_resynced(started, broker, client, login_as, open_stream,
                                                               second_client, monkeypatch):
    login_as(started.recorder)
    reader = open_stream(login(second_client, started.participant), started.meeting.id, rev=1)
    time.sleep(0.2)
    real_publish = broker.publish
    monkeypatch.setattr(broker, "publish", lambda message: None if message.revision == 2 else real_publish(message))
    _add_point(client, started, "丢失的消息")    # revision 2: never published
    _add_point(client, started, "之后的消息")    # revision 3: arrives with a gap before it
    event = reader.next(timeout=5)
    assert event.event == "resync" and event.id == "3"
    assert "丢失的消息" in event.data and "之后的消息" in event.data
    _add_point(client, started, "恢复正常")
    event = reader.next()
    assert event.event == "update" and event.id == "4"


def test_out_of_order_delivery_is_put_back_in_order(started, broker, client, login_as, open_stream, second_client,
                                                    monkeypatch):
    login_as(started.recorder)
    reader = open_stream(login(second_client, started.participant), started.meeting.id, rev=1)
    time.sleep(0.2)
    held = []
    real_publish = broker.publish
    monkeypatch.setattr(broker, "publish", lambda m: held.append(m) if m.revision == 2 else real_publish(m))
    _add_point(client, started, "先")
    _add_point(client, started, "后")
    time.sleep(0.1)
    real_publish(held[0])  # revision 2 arrives after 3, within the wait for the gap
    first, second = reader.next(), reader.next()
    assert (first.event, first.id, second.event, second.id) == ("update", "2", "update", "3")


def test_watchdog_resyncs_streams_of_a_room_whose_messages_never_arrive(started, broker, client, login_as,
                                                                       open_stream, second_client, monkeypatch):
    monkeypatch.setattr(broker, "_watch_seconds", 0)  # only the rounds below, no background thread
    login_as(started.recorder)
    reader = open_stream(login(second_client, started.participant), started.meeting.id, rev=1)
    time.sleep(0.2)
    monkeypatch.setattr(broker, "publish", lambda message: None)  # e.g. Redis was down when it was published
    _add_point(client, started, "无人收到")
    assert reader.quiet(0.6) == []
    assert broker.check_revisions() == []  # first look: maybe in flight
    assert broker.check_revisions() == [started.meeting.id]
    event = reader.next()
    assert event.event == "resync" and event.id == "2" and "无人收到" in event.data


def test_watchdog_is_not_fooled_by_a_newer_stream_of_the_same_room(started, broker, client, login_as, open_stream,
                                                                  second_client, app, monkeypatch):
    """A publish is lost (its worker died after the commit); a tab opened afterwards starts at the new revision.
    The older tab of the same process still lacks it and must be resynced: what counts is each stream's revision."""
    monkeypatch.setattr(broker, "_watch_seconds", 0)  # only the rounds below, no background thread
    login_as(started.recorder)
    old = open_stream(login(second_client, started.participant), started.meeting.id, rev=1)
    time.sleep(0.2)
    monkeypatch.setattr(broker, "publish", lambda message: None)
    _add_point(client, started, "提交后进程被杀")  # revision 2: committed, never published
    new = open_stream(login(app.test_client(), started.cc), started.meeting.id, rev=1)
    assert new.next().event == "resync"  # the new tab has revision 2 already
    assert old.quiet(0.3) == []
    deadline = time.monotonic() + 5
    while sorted(s.revision or 0 for s in broker._rooms[started.meeting.id]) != [1, 2]:
        assert time.monotonic() < deadline, "both streams are waiting"
        time.sleep(0.02)
    assert broker.check_revisions() == []  # first look: maybe in flight
    assert broker.check_revisions() == [started.meeting.id]
    event = old.next()
    assert event.event == "resync" and event.id == "2" and "提交后进程被杀" in event.data
    assert new.quiet(0.3) == []  # the up-to-date tab ignores the check


def test_a_resync_shows_exactly_its_revision(started, broker, login_as, open_stream, client, app, monkeypatch):
    """A point committed while a resync is being read is not in it: it follows as the next update, once."""
    import threading

    real_render = live.render_live
    committed = []

    def commit_in_between(meeting, audience, base=None):
        if not committed:  # the first resync: another request saves a point after its revision was read
            def add():
                with app.app_context():
                    from minutes.meetings.models import Meeting
                    from minutes.people.models import User

                    recording.add_point(db.session.get(User, started.recorder.id),
                                        db.session.get(Meeting, started.meeting.id), started.items[0].id, "consensus",
                                        "读取期间提交的共识")
                    db.session.commit()
                    committed.append(True)

            writer = threading.Thread(target=add)
            writer.start()
            writer.join(10)
        return real_render(meeting, audience, base)

    monkeypatch.setattr(live, "render_live", commit_in_between)
    login_as(started.participant)
    reader = open_stream(client, started.meeting.id, rev=0)
    first = reader.next()
    assert committed and first.event == "resync" and first.id == "1"
    assert "读取期间提交的共识" not in first.data
    second = reader.next()
    assert second.event == "update" and second.id == "2" and "读取期间提交的共识" in second.data


def test_watchdog_leaves_a_room_alone_while_each_revision_arrives_within_a_round():
    committed = {5: 1}
    hub = InProcessBroker(revision_reader=lambda ids: {i: committed[i] for i in ids})
    sub = hub.subscribe(5)
    sub.revision = 1
    for rev in range(2, 6):  # a busy meeting: every round a newer revision is in flight
        committed[5] = rev
        assert hub.check_revisions() == []
        sub.revision = rev
    assert sub.get(timeout=0) is None
    sub.close()


def test_ping_comment_keeps_idle_streams_open(started, broker, client, login_as, open_stream):
    login_as(started.participant)
    reader = open_stream(client, started.meeting.id, rev=1)
    comments = []
    while len(comments) < 2:
        block = reader.next(comments=True, timeout=3)
        if block.comment:
            comments.append(block.comment)
    assert comments == ["connected", "ping"]


def test_nothing_is_published_for_a_refused_change(started, broker, client, login_as, open_stream, second_client):
    login_as(started.recorder)
    reader = open_stream(login(second_client, started.participant), started.meeting.id, rev=1)
    time.sleep(0.2)
    response = client.post(f"/meetings/{started.meeting.id}/decisions",
                           data={"agenda_item_id": started.items[0].id, "text": "尽快处理"}, headers=HX)
    assert response.status_code == 422
    assert reader.quiet(0.6) == []
    assert service.current_revision(started.meeting.id) == 1


def test_start_turns_waiting_tabs_into_the_live_room(cast, broker, client, login_as, open_stream, second_client):
    reader = open_stream(login(second_client, cast.participant), cast.meeting.id, rev=0)
    time.sleep(0.2)
    login_as(cast.recorder)
    assert client.post(f"/meetings/{cast.meeting.id}/room/start", headers=HX).status_code == 200
    event = reader.next()
    assert event.event == "resync" and event.id == "1" and 'id="room-head"' in event.data


def test_stream_ends_when_access_is_lost(app, make_user, make_meeting, client, login_as, open_stream, broker,
                                        startable):
    from minutes.meetings import service as meetings

    host = make_user("h9", dept="客服部")
    guest = make_user("g9", dept="产品部")
    meeting = startable(make_meeting(host, confidential=True))
    participant = meetings.invite(host, meeting, [guest.id])[0]
    service.start_meeting(host, meeting)
    db.session.commit()
    login_as(guest)
    reader = open_stream(client, meeting.id, rev=1)
    time.sleep(0.2)
    meetings.remove_participant(host, participant)
    db.session.commit()
    broker.deliver(Message(meeting.id, 99, "check"))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if reader.blocks.get(timeout=5) is None:
            break
    else:
        raise AssertionError("stream still open")


# --- the brokers themselves ------------------------------------------------------------------

def test_sse_frame_puts_each_line_in_its_own_data_field():
    frame = sse_frame("update", "<div>\n  <p>一</p>\r\n</div>", 7).decode()
    assert frame == "id: 7\nevent: update\ndata: <div>\ndata:   <p>一</p>\ndata: </div>\n\n"


def test_message_is_encoded_once_per_audience():
    message = Message(1, 5, "update", {"read": "<p>x</p>", "write": "<p>y</p>"})
    assert message.frame("read") is message.frame("read")
    assert Message.from_json(message.to_json()).fragments == message.fragments


def test_slow_stream_overflows_and_must_resync():
    hub = InProcessBroker()
    sub = hub.subscribe(1)
    sub.maxsize = 2
    for rev in range(1, 5):
        hub.publish(Message(1, rev, "update"))
    assert sub.drain_overflow() is True and sub.get(timeout=0) is None
    sub.close()
    assert hub.subscriber_count(1) == 0


def test_redis_broker_shares_rooms_between_processes(redis_url):
    """Two brokers stand for two gunicorn workers: a change published by one reaches the other's streams."""
    worker_a = RedisBroker(redis_url, prefix="minutes:test-room")
    worker_b = RedisBroker(redis_url, prefix="minutes:test-room")
    try:
        sub = worker_b.subscribe(42)
        worker_a.publish(Message(42, 3, "update", {"read": "<p>来自另一个进程</p>"}))
        got = sub.get(timeout=5)
        assert got is not None and got.revision == 3 and got.fragments["read"] == "<p>来自另一个进程</p>"
        sub.close()
    finally:
        worker_a.close()
        worker_b.close()


def test_in_process_broker_alone_does_not_cross_processes_but_the_watchdog_catches_up():
    committed = {7: 4}
    worker_a = InProcessBroker(revision_reader=lambda ids: {i: committed[i] for i in ids if i in committed})
    worker_b = InProcessBroker(revision_reader=lambda ids: {i: committed[i] for i in ids if i in committed})
    sub = worker_b.subscribe(7)
    sub.revision = 3  # what its stream has sent
    worker_a.publish(Message(7, 4, "update"))
    assert sub.get(timeout=0.2) is None
    worker_b.check_revisions()
    worker_b.check_revisions()
    check = sub.get(timeout=1)
    assert check.kind == "check" and check.revision == 4


def test_redis_broker_survives_a_failed_publish(redis_url, caplog):
    broken = RedisBroker("redis://127.0.0.1:1/0", prefix="minutes:test-room")
    broken.publish(Message(1, 1, "update"))  # logged, not raised: the watchdog recovers
    assert "publishing revision 1 to Redis failed" in caplog.text
    broken.close()


def test_broker_from_configuration(app, redis_url):
    assert isinstance(live.make_room_broker(app, None), InProcessBroker)
    redis_broker = live.make_room_broker(app, redis_url)
    assert isinstance(redis_broker, RedisBroker)
    redis_broker.close()


def test_a_check_that_resyncs_over_a_gap_ends_the_wait_for_it(started, broker, client, login_as, open_stream,
                                                              second_client, monkeypatch):
    """Revision 3 arrives before 2 (the stream waits for 2), then the watchdog's check resyncs the tab to 3:
    the wait is over, so no second resync of the same revision follows when it would have expired."""
    monkeypatch.setattr(broker, "_watch_seconds", 0)
    login_as(started.recorder)
    reader = open_stream(login(second_client, started.participant), started.meeting.id, rev=1)
    time.sleep(0.2)
    real_publish = broker.publish
    monkeypatch.setattr(broker, "publish", lambda m: None if m.revision == 2 else real_publish(m))
    _add_point(client, started, "先提交")
    _add_point(client, started, "后提交")  # revision 3 waits for 2
    broker.deliver(Message(started.meeting.id, 3, "check"))
    event = reader.next()
    assert (event.event, event.id) == ("resync", "3")
    assert reader.quiet(stream.GAP_WAIT_SECONDS + 0.5) == []


def test_tabs_resyncing_to_the_same_revision_share_one_rendering(started, broker, open_stream, app, monkeypatch):
    """A reconnect storm renders each room once per audience and revision, not once per tab."""
    real_render = live.render_live
    renders = []

    def counting(meeting, audience, base=None):
        renders.append(audience)
        return real_render(meeting, audience, base)

    monkeypatch.setattr(live, "render_live", counting)
    readers = [open_stream(login(app.test_client(), started.participant), started.meeting.id, rev=0)
               for _ in range(3)]
    first = [r.next() for r in readers]
    assert [e.event for e in first] == ["resync"] * 3 and len({e.data for e in first}) == 1
    assert renders == ["read"]
    # a new revision: the next tab to resync renders it again, once
    with app.app_context():
        recording.add_point(db.session.get(User, started.recorder.id), db.session.get(Meeting, started.meeting.id),
                            started.items[0].id, "consensus", "新的共识")
        db.session.commit()
    late = open_stream(login(app.test_client(), started.cc), started.meeting.id, rev=0)
    event = late.next()
    assert event.event == "resync" and "新的共识" in event.data and renders == ["read", "read"]
