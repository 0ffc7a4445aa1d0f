"""Reminders and sign-off requests as cards through the company's chat app, and the buttons pressed on them."""
import json
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from minutes.actions import service as actions
from minutes.actions.models import ActionStatus, ActionUpdate
from minutes.jobs import tick
from minutes.chat.models import ChatCard
from minutes.extensions import db
from minutes.notify.delivery import deliver_pending
from minutes.notify.models import OutboxMessage, OutboxStatus
from minutes.records import drafting, service as records, signoff
from minutes.records.models import MinutesResponse, MinutesStatus, ResponseKind
from tests.chat.servers import (WECOM_AES_KEY, dingtalk_button, dingtalk_open, feishu_card_text, feishu_element,
                                feishu_signed, wecom_decrypt)

TEXT = "整理投诉分级标准并发给各部门确认"
DUE = date(2026, 9, 22)


def remind(clock, team, make_action, due=DUE):
    """An action of 王伟 due today, and the morning tick that reminds him."""
    clock(2026, 9, 22, 9, 30)
    action = make_action(team.meeting, team.owner, due, TEXT)
    tick()
    return action


def updates_of(action) -> list[ActionUpdate]:
    return list(db.session.scalars(select(ActionUpdate).where(ActionUpdate.action_id == action.id)
                                   .order_by(ActionUpdate.id)))


def post_feishu(client, headers, body):
    return client.post("/chat/feishu/callback", data=body, headers=headers)


# --- Feishu --------------------------------------------------------------------------------------

def test_feishu_reminder_card_pressed_done_marks_the_action_done_from_the_chat_card(
        app, client, login_as, team, make_action, clock, chat, link_identity, smtp_server):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_wangwei")
    action = remind(clock, team, make_action)

    assert [to for to, _card in server.sent] == ["fs_wangwei"]
    assert smtp_server.messages == []  # the card instead of the e-mail, not both
    card = server.sent[0][1]
    assert TEXT in feishu_card_text(card) and "2026年9月22日" in feishu_card_text(card)
    labels = [(e.get("text") or e.get("placeholder") or {}).get("content") for e in
              (a for el in card["elements"] if el["tag"] == "action" for a in el["actions"])]
    assert labels[:2] == ["进行中", "已完成"] and "延期至…" in labels and "需支持：选择部门" in labels
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "chat"))
    assert message.status == OutboxStatus.SENT
    assert db.session.scalar(select(ChatCard.vendor_message_id)).startswith("om_")

    clock(2026, 9, 22, 10, 32)
    response = post_feishu(client, *server.press(card, "已完成", "fs_wangwei"))
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["toast"] == {"type": "success", "content": "已完成 · 9月22日 10:32"}
    shown = feishu_card_text(answer["card"]["data"])
    assert "已完成 · 9月22日 10:32" in shown and "当前状态：已完成" in shown
    assert not any(e["tag"] == "action" and any(a.get("value") for a in e["actions"])
                   for e in answer["card"]["data"]["elements"])  # nothing left to press

    assert action.status == ActionStatus.DONE
    (update,) = updates_of(action)
    assert (update.source, update.created_by_id, update.new_status) == ("chat", team.owner.id, ActionStatus.DONE)
    login_as(team.owner)
    page = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "来自消息卡片" in page


def test_feishu_delay_from_the_date_picker_moves_the_deadline(app, client, team, make_action, clock, chat,
                                                             link_identity):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_wangwei")
    action = remind(clock, team, make_action)
    card = server.sent[0][1]
    response = post_feishu(client, *server.press(card, "延期至", "fs_wangwei", option="2026-09-30 +0800"))
    assert response.get_json()["toast"]["type"] == "success"
    assert action.status == ActionStatus.DELAYED and action.due_date == date(2026, 9, 30)
    assert "新截止日期：2026年9月30日" in feishu_card_text(response.get_json()["card"]["data"])
    # a date before the deadline is refused with the tracker's own message, nothing changed
    response = post_feishu(client, *server.press(card, "延期至", "fs_wangwei", option="2026-09-25 +0800"))
    assert response.get_json()["toast"] == {"type": "error", "content": "新的截止日期须晚于原截止日期（2026年9月30日（周三））"}
    assert action.due_date == date(2026, 9, 30) and len(updates_of(action)) == 1


def test_feishu_pressing_done_twice_completes_once(app, client, team, make_action, clock, chat, link_identity):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_wangwei")
    action = remind(clock, team, make_action)
    card = server.sent[0][1]
    first = post_feishu(client, *server.press(card, "已完成", "fs_wangwei"))
    second = post_feishu(client, *server.press(card, "已完成", "fs_wangwei"))  # a new event: a second real press
    assert first.status_code == second.status_code == 200
    assert second.get_json()["toast"]["type"] == "success"
    assert feishu_card_text(second.get_json()["card"]["data"]) == feishu_card_text(first.get_json()["card"]["data"])
    assert len(updates_of(action)) == 1


def test_feishu_tampered_stale_replayed_and_foreign_callbacks_are_refused(app, client, team, make_action, clock, chat,
                                                                          link_identity):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_wangwei")
    link_identity(team.host, "feishu", "fs_host")
    action = remind(clock, team, make_action)
    card = server.sent[0][1]

    headers, body = server.press(card, "已完成", "fs_wangwei")
    tampered = json.loads(body)
    tampered["encrypt"] = tampered["encrypt"][:-8] + "AAAAAAA="
    assert post_feishu(client, headers, json.dumps(tampered).encode()).status_code == 401
    assert post_feishu(client, *server.press(card, "已完成", "fs_wangwei", key="someone-elses-key")).status_code == 401
    stale = server.press(card, "已完成", "fs_wangwei", timestamp=int(time.time()) - 3600)
    assert post_feishu(client, *stale).status_code == 401
    # the host may update the action on the web page, but this card was sent to the owner
    assert post_feishu(client, *server.press(card, "已完成", "fs_host")).status_code == 403
    assert action.status == ActionStatus.NOT_STARTED and updates_of(action) == []

    headers, body = server.press(card, "进行中", "fs_wangwei")
    assert post_feishu(client, headers, body).status_code == 200
    replay = post_feishu(client, headers, body)
    assert replay.status_code == 409 and "重放" in replay.get_json()["msg"]
    # the same event id signed again (a fresh nonce) is still the same event
    event_id = "evt-1"
    assert post_feishu(client, *server.press(card, "进行中", "fs_wangwei", event_id=event_id)).status_code == 200
    assert post_feishu(client, *server.press(card, "已完成", "fs_wangwei", event_id=event_id)).status_code == 409
    assert action.status == ActionStatus.IN_PROGRESS and len(updates_of(action)) == 1
    # what was taken is remembered for a day, then forgotten (older callbacks fail the timestamp window anyway)
    from minutes.chat.models import ChatCallback

    assert db.session.scalar(select(func.count()).select_from(ChatCallback)) == 2
    clock(2026, 9, 23, 11, 0)
    assert post_feishu(client, *server.press(card, "已完成", "fs_wangwei")).status_code == 200
    assert db.session.scalar(select(ChatCallback.event_key)) not in (event_id,)
    assert db.session.scalar(select(func.count()).select_from(ChatCallback)) == 1


def test_feishu_url_verification_answers_the_challenge_only_when_signed(app, client, chat):
    from tests.chat.servers import FEISHU_ENCRYPT_KEY, FEISHU_VERIFICATION_TOKEN, feishu_encrypt

    chat("feishu")
    plain = json.dumps({"challenge": "ch-123", "token": FEISHU_VERIFICATION_TOKEN, "type": "url_verification"})
    headers, body = feishu_signed({"encrypt": feishu_encrypt(plain, FEISHU_ENCRYPT_KEY)})
    assert post_feishu(client, headers, body).get_json() == {"challenge": "ch-123"}
    wrong = json.dumps({"challenge": "ch-123", "token": "not-ours", "type": "url_verification"})
    assert post_feishu(client, *feishu_signed({"encrypt": feishu_encrypt(wrong, FEISHU_ENCRYPT_KEY)})).status_code == 401


def test_feishu_sign_off_confirmed_from_the_card_and_email_for_recipients_without_an_identity(
        app, client, recorded, clock, chat, link_identity, smtp_server):
    server = chat("feishu")
    r = recorded()
    link_identity(r.late, "feishu", "fs_wangwei")  # 王五 uses Feishu; the others keep e-mail
    clock(2026, 6, 18, 16, 0)
    drafting.draft_from_record(r.recorder, r.meeting)
    version = signoff.distribute(r.recorder, r.meeting)
    db.session.commit()
    deliver_pending()

    assert [to for to, _card in server.sent] == ["fs_wangwei"]
    mailed = sorted(m["to"][0] for m in smtp_server.wait_for(5))
    assert "wangwu@example.com" not in mailed and "zhaomin@example.com" in mailed and len(mailed) == 5
    card = server.sent[0][1]
    assert "解决客户投诉处理流程卡点" in feishu_card_text(card)

    clock(2026, 6, 18, 16, 45)
    response = post_feishu(client, *server.press(card, "确认无误", "fs_wangwei"))
    assert response.get_json()["toast"]["content"] == "确认于 6月18日 16:45"
    assert "确认于 6月18日 16:45" in feishu_card_text(response.get_json()["card"]["data"])
    again = post_feishu(client, *server.press(card, "确认无误", "fs_wangwei"))
    assert again.status_code == 200 and again.get_json()["toast"]["content"] == "确认于 6月18日 16:45"
    answers = list(db.session.scalars(select(MinutesResponse).where(MinutesResponse.user_id == r.late.id)))
    assert [(a.version_id, a.kind) for a in answers] == [(version.id, ResponseKind.CONFIRM)]
    states = {s.user.name: s.state for s in signoff.recipient_states(records.minutes_of(r.meeting))}
    assert states["王五"] == "confirmed"


def test_feishu_change_request_needs_a_comment_and_a_press_after_final_shows_the_final_state(
        app, client, recorded, clock, chat, link_identity):
    server = chat("feishu")
    r = recorded()
    link_identity(r.member, "feishu", "fs_wangwei")
    clock(2026, 6, 18, 16, 0)
    drafting.draft_from_record(r.recorder, r.meeting)
    signoff.distribute(r.recorder, r.meeting)
    db.session.commit()
    deliver_pending()
    card = server.sent[0][1]
    assert feishu_element(card, "提出修改意见")["tag"] == "input"
    empty = post_feishu(client, *server.press(card, "提出修改意见", "fs_wangwei", input_value="  "))
    assert empty.get_json()["toast"] == {"type": "error", "content": "请写明修改意见"}

    clock(2026, 6, 19, 10, 0)
    records_final = signoff.finalize(r.host, r.meeting, reason="全体已口头确认")
    db.session.commit()
    assert records.minutes_of(r.meeting).status == MinutesStatus.FINAL
    late = post_feishu(client, *server.press(card, "确认无误", "fs_wangwei"))
    assert late.get_json()["toast"]["type"] == "error"
    assert "纪要已定稿" in late.get_json()["toast"]["content"] and records_final.label in late.get_json()["toast"]["content"]
    assert db.session.scalar(select(func.count()).select_from(MinutesResponse)
                             .where(MinutesResponse.user_id == r.member.id)) == 0


# --- WeCom ---------------------------------------------------------------------------------------

def post_wecom(client, query, body):
    return client.post("/chat/wecom/callback", query_string=query, data=body, content_type="text/xml")


def test_wecom_template_card_pressed_done_updates_the_action_and_the_button(app, client, team, make_action, clock,
                                                                           chat, link_identity):
    from defusedxml import ElementTree

    server = chat("wecom")
    link_identity(team.owner, "wecom", "WangWei")
    action = remind(clock, team, make_action)
    (to, card), = server.sent
    assert to == "WangWei" and card["main_title"]["desc"] == TEXT
    assert [b["text"] for b in card["button_list"]] == ["进行中", "已完成", "延期", "需支持"]
    assert all(b.get("type", 0) == 0 for b in card["button_list"])  # every button calls back (延期: tests/chat/test_card_inputs.py)
    assert card["card_action"]["url"].endswith(f"/actions/{action.id}")

    clock(2026, 9, 22, 10, 32)
    query, body = server.press(card, "已完成", "WangWei")
    response = post_wecom(client, query, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    outer = {e.tag: e.text for e in ElementTree.fromstring(response.data)}
    from tests.chat.servers import WECOM_TOKEN, sha1_sorted

    assert outer["MsgSignature"] == sha1_sorted(WECOM_TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    reply = ElementTree.fromstring(wecom_decrypt(outer["Encrypt"], server.corp_id))
    assert reply.findtext("MsgType") == "update_button"
    assert reply.findtext("Button/ReplaceName") == "已完成 · 9月22日 10:32"
    assert action.status == ActionStatus.DONE and updates_of(action)[0].source == "chat"

    assert post_wecom(client, query, body).status_code == 409  # the same callback again: a replay
    query2, body2 = server.press(card, "已完成", "WangWei")
    assert post_wecom(client, query2, body2).status_code == 200  # pressed again: same answer, nothing new
    assert len(updates_of(action)) == 1


def test_wecom_refuses_a_wrong_signature_an_old_timestamp_and_answers_the_url_check(app, client, team, make_action,
                                                                                   clock, chat, link_identity):
    from tests.chat.servers import WECOM_TOKEN, sha1_sorted, wecom_encrypt

    server = chat("wecom")
    link_identity(team.owner, "wecom", "WangWei")
    action = remind(clock, team, make_action)
    card = server.sent[0][1]
    query, body = server.press(card, "已完成", "WangWei", token="not-the-token")
    assert post_wecom(client, query, body).status_code == 401
    query, body = server.press(card, "已完成", "WangWei", timestamp=int(time.time()) - 3600)
    assert post_wecom(client, query, body).status_code == 401
    query, body = server.press(card, "已完成", "WangWei")
    assert post_wecom(client, query, body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[x")).status_code == 401
    assert action.status == ActionStatus.NOT_STARTED

    echo = wecom_encrypt(b"echo-8731", server.corp_id)
    ts, nonce = str(int(time.time())), "n1"
    answer = client.get("/chat/wecom/callback", query_string={
        "msg_signature": sha1_sorted(WECOM_TOKEN, ts, nonce, echo), "timestamp": ts, "nonce": nonce, "echostr": echo})
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "echo-8731"
    assert WECOM_AES_KEY  # the key the loopback platform and the app share


# --- DingTalk ------------------------------------------------------------------------------------

def test_dingtalk_work_notification_link_asks_then_marks_done(app, client, team, make_action, clock, chat,
                                                             link_identity):
    server = chat("dingtalk")
    link_identity(team.owner, "dingtalk", "dt_wangwei")
    action = remind(clock, team, make_action)
    (to, card), = server.sent
    assert to == "dt_wangwei" and TEXT in card["markdown"]
    path, query = dingtalk_button(card, "已完成")
    assert path == "/chat/dingtalk/callback"

    page = dingtalk_open(client, server, path, query, "dt_wangwei")  # signed in by 免登, back to the link
    # opening the link (or a preview fetching it) presses nothing
    assert page.status_code == 200 and "确认操作：已完成" in page.get_data(as_text=True)
    assert TEXT in page.get_data(as_text=True)  # the page says which action it is about before asking
    assert action.status == ActionStatus.NOT_STARTED

    clock(2026, 9, 22, 10, 32)
    done = client.post(path, data=query)
    assert done.status_code == 200 and "已完成 · 9月22日 10:32" in done.get_data(as_text=True)
    assert action.status == ActionStatus.DONE and updates_of(action)[0].source == "chat"
    again = client.post(path, data=query)
    assert again.status_code == 200 and len(updates_of(action)) == 1

    forged = dict(query, do="in_progress")  # the signature covers the choice
    assert client.post(path, data=forged).status_code == 401
    old = dict(query, ts=str(int(query["ts"]) - 40 * 86400))
    assert client.post(path, data=old).status_code == 401


# --- fallback, failures, configuration ---------------------------------------------------------------

def test_a_person_without_a_chat_identity_keeps_the_email(app, team, make_action, clock, chat, smtp_server):
    server = chat("feishu")
    remind(clock, team, make_action)
    assert server.sent == []
    (mail,) = smtp_server.wait_for(1)
    assert mail["to"] == ["wangwei@example.com"] and "待办今日到期" in mail["msg"]["Subject"]


@pytest.mark.parametrize("platform, subject", [("feishu", "fs_left_company"), ("wecom", "LeftCompany"),
                                                 ("dingtalk", "dt_left_company")])
def test_a_person_the_platform_does_not_know_gets_the_card_by_email_and_the_card_shows_failed(
        app, team, make_action, clock, chat, link_identity, smtp_server, platform, subject):
    server = chat(platform)
    link_identity(team.owner, platform, subject)  # not a member (any more): the platform refuses the card
    remind(clock, team, make_action)
    assert server.sent == []
    card = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "chat"))
    assert card.status == OutboxStatus.DEAD and card.attempts == 1
    assert "无法把" in card.last_error and "已改发邮件至wangwei@example.com" in card.last_error
    deliver_pending()
    (mail,) = smtp_server.wait_for(1)
    assert mail["to"] == ["wangwei@example.com"] and TEXT in mail["msg"]["Subject"]
    assert TEXT in mail["msg"].get_body(("plain",)).get_content()
    tick()
    assert len(smtp_server.messages) == 1 and server.sent == []  # once


def test_cards_keep_to_the_platforms_rate(app, team, make_action, clock, chat, link_identity):
    server = chat("feishu")
    app.config["CHAT_SENDS_PER_SECOND"] = 2
    link_identity(team.owner, "feishu", "fs_wangwei")
    clock(2026, 9, 22, 9, 30)
    for n in range(5):
        make_action(team.meeting, team.owner, DUE, f"{TEXT}（{n + 1}）")
    tick()
    assert len(server.sent) == 5
    times = server.sent_times
    assert all(times[i + 2] - times[i] >= 0.9 for i in range(len(times) - 2))  # never 3 within a second


def test_a_delivery_pass_sends_what_its_share_of_time_allows_and_the_next_pass_the_rest(
        app, team, make_action, clock, chat, link_identity):
    server = chat("feishu")
    app.config.update(CHAT_SENDS_PER_SECOND=2, CHAT_SECONDS_PER_PASS=1.5)  # 3 cards a pass
    link_identity(team.owner, "feishu", "fs_wangwei")
    clock(2026, 9, 22, 9, 30)
    for n in range(5):
        make_action(team.meeting, team.owner, DUE, f"{TEXT}（{n + 1}）")
    tick()
    assert len(server.sent) == 3
    waiting = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.channel == "chat", OutboxMessage.status == OutboxStatus.PENDING))
    assert waiting == 2  # not claimed: due at once for the next pass
    clock(2026, 9, 22, 9, 31)
    tick()  # the next minute's tick queues nothing new and sends the rest
    assert len(server.sent) == 5
    assert len({card["header"]["title"]["content"] + feishu_card_text(card) for _to, card in server.sent}) == 5


def test_slow_sends_stop_when_the_passs_seconds_are_spent_and_the_rest_wait_unattempted(
        app, team, make_action, clock, chat, link_identity):
    server = chat("feishu")
    server.delay = 0.3
    app.config.update(CHAT_SECONDS_PER_PASS=1.0)  # 50 cards a pass by the pace, but only one second
    link_identity(team.owner, "feishu", "fs_wangwei")
    clock(2026, 9, 22, 9, 30)
    for n in range(8):
        make_action(team.meeting, team.owner, DUE, f"{TEXT}（{n + 1}）")
    started = time.monotonic()
    tick()
    assert time.monotonic() - started < 2.5
    assert 2 <= len(server.sent) <= 5
    left = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "chat",
                                                               OutboxMessage.status != OutboxStatus.SENT)))
    assert len(left) == 8 - len(server.sent)
    assert all(m.status == OutboxStatus.PENDING and m.attempts == 0 and m.claimed_until is None for m in left)
    server.delay = 0.0
    clock(2026, 9, 22, 9, 31)
    tick()
    assert len(server.sent) == 8


@pytest.mark.parametrize("platform", ["feishu", "wecom", "dingtalk"])
def test_only_the_configured_platform_has_a_callback(app, client, chat, platform):
    chat("feishu" if platform != "feishu" else "wecom")
    assert client.post(f"/chat/{platform}/callback", data=b"{}").status_code == 404
    app.config["CHAT_PLATFORM"] = ""
    assert client.post("/chat/feishu/callback", data=b"{}").status_code == 404


def test_the_tracker_still_works_without_chat(app, team, make_action, clock):
    clock(2026, 9, 22, 9, 30)
    action = make_action(team.meeting, team.owner, DUE, TEXT)
    actions.update_status(team.owner, action, "done", "")
    db.session.commit()
    assert updates_of(action)[0].source == "tracker"


def sign_off_by_card(chat, link_identity, clock, recorded, platform="wecom", subject="WangWei"):
    """Minutes sent for sign-off on 6月18日 16:00; 王五 uses the platform (`subject` there):
    (server, r, version, his card)."""
    server = chat(platform)
    r = recorded()
    link_identity(r.late, platform, subject)
    clock(2026, 6, 18, 16, 0)
    drafting.draft_from_record(r.recorder, r.meeting)
    version = signoff.distribute(r.recorder, r.meeting)
    db.session.commit()
    deliver_pending()
    (to, card), = server.sent
    assert to == subject
    return server, r, version, card


def test_sign_off_confirmed_from_a_wecom_card(app, client, recorded, clock, chat, link_identity):
    from defusedxml import ElementTree

    wecom, r, version, card = sign_off_by_card(chat, link_identity, clock, recorded)
    assert [b["text"] for b in card["button_list"]] == ["确认无误", "提出修改意见"]
    clock(2026, 6, 18, 16, 45)
    outer = {e.tag: e.text for e in ElementTree.fromstring(post_wecom(client, *wecom.press(card, "确认无误", "WangWei")).data)}
    reply = ElementTree.fromstring(wecom_decrypt(outer["Encrypt"], wecom.corp_id))
    assert reply.findtext("Button/ReplaceName") == "确认于 6月18日 16:45"
    responses = {a.user_id: a.kind for a in db.session.scalars(select(MinutesResponse)
                                                                .where(MinutesResponse.version_id == version.id))}
    assert responses == {r.late.id: ResponseKind.CONFIRM}


def test_sign_off_confirmed_from_a_dingtalk_link(app, client, recorded, clock, chat, link_identity):
    server = chat("dingtalk")
    r = recorded()
    link_identity(r.member, "dingtalk", "dt_wangwei")
    clock(2026, 6, 18, 16, 0)
    drafting.draft_from_record(r.recorder, r.meeting)
    version = signoff.distribute(r.recorder, r.meeting)
    db.session.commit()
    deliver_pending()
    (to, card), = server.sent
    assert to == "dt_wangwei" and "解决客户投诉处理流程卡点" in card["markdown"]
    path, query = dingtalk_button(card, "确认无误")
    assert dingtalk_open(client, server, path, query, "dt_wangwei").status_code == 200
    clock(2026, 6, 18, 16, 45)
    page = client.post(path, data=query).get_data(as_text=True)
    assert "确认于 6月18日 16:45" in page
    answers = list(db.session.scalars(select(MinutesResponse).where(MinutesResponse.user_id == r.member.id)))
    assert [(a.version_id, a.kind) for a in answers] == [(version.id, ResponseKind.CONFIRM)]


def test_a_platform_that_cannot_be_reached_shows_on_the_senders_page_without_blaming_the_mail_server(
        app, client, login_as, recorded, clock, chat, link_identity):
    chat("feishu")
    app.config["FEISHU_BASE_URL"] = "http://127.0.0.1:9"  # nothing listens there
    r = recorded()
    link_identity(r.late, "feishu", "fs_wangwei")
    clock(2026, 6, 18, 16, 0)
    drafting.draft_from_record(r.recorder, r.meeting)
    signoff.distribute(r.recorder, r.meeting)
    db.session.commit()
    deliver_pending()
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "chat"))
    message.next_attempt_at = message.created_at  # due again: now the card's attempt is the latest of the send
    db.session.commit()
    clock(2026, 6, 18, 16, 5)
    deliver_pending()
    report = signoff.version_delivery(r.recorder, r.meeting)
    card = next(d for d in report.deliveries if d.message.channel == "chat")
    assert card.state == "queued" and card.retrying and "无法连接飞书开放平台" in card.message.last_error
    assert report.count("sent") == 5 and report.mail_down is None
