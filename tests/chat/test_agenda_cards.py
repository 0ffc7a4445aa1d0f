"""The agenda as a card (查看议程) beside the agenda e-mail: each invitee with an identity on the configured platform
gets one on that platform's loopback server; the e-mail with the calendar invitation still goes to everyone."""
import pytest
from sqlalchemy import select

from minutes.chat.models import ChatCard
from minutes.extensions import db
from minutes.meetings import sending, service as meetings
from minutes.notify.delivery import deliver_pending
from minutes.notify.models import OutboxMessage, OutboxStatus
from tests.chat.servers import dingtalk_button, feishu_card_text, feishu_element
from tests.meetings.test_planning import meeting_form

ITEMS = [("投诉升级后的处理时效", 30), ("客服与研发的交接口径：" + "超长的议题标题" * 6, 20)]


def plan(team, confidential=False):
    """The team's meeting (Monday 2026-09-21 14:00, 301会议室) with two agenda items, planned on Tuesday the 15th."""
    meeting = team.meeting
    meeting.confidential = confidential
    for title, minutes in ITEMS:
        meetings.add_agenda_item(team.host, meeting, title, minutes, team.host.department_id)
    db.session.commit()
    return meeting


def send(team, clock, smtp_server, at=(2026, 9, 15, 9, 0), mails=3):
    """Send the agenda at `at`, deliver; the e-mails that reached the SMTP server (then cleared)."""
    clock(*at)
    sending.send_agenda(team.host, team.meeting)
    db.session.commit()
    deliver_pending()
    received = smtp_server.wait_for(mails)
    assert len(received) == mails, [m["msg"]["Subject"] for m in received]
    smtp_server.clear()
    return received


def mailed_to(received) -> list[str]:
    return sorted(m["to"][0].split("@")[0] for m in received)


def link_of(team) -> str:
    return f"http://minutes.test/meetings/{team.meeting.id}"


def test_feishu_invitees_with_an_identity_get_the_agenda_card_and_everyone_the_email(
        app, team, clock, chat, link_identity, smtp_server):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_wangwei")
    link_identity(team.host, "feishu", "fs_host")
    plan(team)
    received = send(team, clock, smtp_server)

    # the calendar client needs the e-mail: the host, the recorder (no identity) and the owner all get it
    assert mailed_to(received) == ["chenjing", "wangwei", "zhaomin"]
    assert all(m["msg"].get_content_type() == "multipart/mixed" for m in received)  # with the invitation
    assert sorted(to for to, _card in server.sent) == ["fs_host", "fs_wangwei"]
    card = server.sent[0][1]
    text = feishu_card_text(card)
    assert card["header"]["title"]["content"] == "会议议程"
    assert "会议：解决客户投诉处理流程卡点" in text
    assert "时间：2026年9月21日（周一） 14:00 – 15:30" in text
    assert "地点：301会议室" in text and "主持人：赵敏（客服部）" in text
    assert "1. 投诉升级后的处理时效（30分钟）" in text
    second = text.split("\n2. ")[1]
    assert second.endswith("…（20分钟）") and len(second) < 45  # a long title is cut short
    button = feishu_element(card, "查看议程")
    assert button["url"] == link_of(team) and "value" not in button  # a link, nothing to press
    assert [m.status for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "chat"))] \
        == [OutboxStatus.SENT] * 2
    assert {c.kind for c in db.session.scalars(select(ChatCard))} == {"agenda"}


def test_resending_without_a_change_sends_no_new_card_and_a_changed_agenda_does(
        app, team, clock, chat, link_identity, smtp_server):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_wangwei")
    plan(team)
    send(team, clock, smtp_server)
    assert len(server.sent) == 1

    send(team, clock, smtp_server, at=(2026, 9, 15, 11, 0))  # resent unchanged: the e-mails go again, no card
    deliver_pending()
    assert len(server.sent) == 1
    assert db.session.query(OutboxMessage).filter_by(channel="chat").count() == 1

    meetings.add_agenda_item(team.host, team.meeting, "下一步分工", 15, team.host.department_id)
    db.session.commit()
    send(team, clock, smtp_server, at=(2026, 9, 15, 14, 0))
    assert len(server.sent) == 2
    assert "3. 下一步分工（15分钟）" in feishu_card_text(server.sent[1][1])


def test_a_change_of_time_after_the_agenda_went_out_sends_an_updated_card(
        app, client, login_as, team, clock, chat, link_identity, smtp_server):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_wangwei")
    meeting = plan(team)
    send(team, clock, smtp_server)
    login_as(team.host)
    moved = meeting_form(starts_at="2026-09-22T09:30", ends_at="2026-09-22T11:00",
                         organizer_department_id=str(meeting.organizer_department_id), version=str(meeting.version))
    assert client.post(f"/meetings/{meeting.id}/edit", data=moved).status_code == 303
    deliver_pending()
    assert len(server.sent) == 2
    card = server.sent[1][1]
    assert card["header"]["title"]["content"] == "会议变更"
    assert "时间：2026年9月22日（周二） 09:30 – 11:00" in feishu_card_text(card)


def test_a_cancellation_after_the_agenda_went_out_tells_those_who_had_the_card(
        app, client, login_as, team, clock, chat, link_identity, smtp_server):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_wangwei")
    meeting = plan(team)
    send(team, clock, smtp_server)
    link_identity(team.host, "feishu", "fs_host")  # linked after the agenda went out: had no agenda card
    sending.cancel_meeting(team.host, meeting)
    db.session.commit()
    deliver_pending()
    assert [to for to, _card in server.sent] == ["fs_wangwei", "fs_wangwei"]
    card = server.sent[1][1]
    assert card["header"]["title"]["content"] == "会议取消" and "本次会议已取消" in feishu_card_text(card)
    assert "投诉升级" not in feishu_card_text(card)
    assert feishu_element(card, "查看会议")["url"] == link_of(team)


def test_a_confidential_meetings_card_carries_only_topic_time_and_link(
        app, team, clock, chat, link_identity, smtp_server):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_wangwei")
    plan(team, confidential=True)
    send(team, clock, smtp_server)
    ((_to, card),) = server.sent
    text = feishu_card_text(card)
    assert "会议：解决客户投诉处理流程卡点" in text and "2026年9月21日（周一） 14:00" in text
    assert "301会议室" not in text and "投诉升级" not in text and "主持人：" not in text
    assert "保密会议：地点、主持人和议程请登录后查看" in text
    assert feishu_element(card, "查看议程")["url"] == link_of(team)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "chat"))
    assert message.confidential  # its subject is not shown on the outbox page


def test_wecom_agenda_card_has_the_button_to_the_meeting_page(app, team, clock, chat, link_identity, smtp_server):
    server = chat("wecom")
    link_identity(team.owner, "wecom", "WangWei")
    plan(team)
    received = send(team, clock, smtp_server)
    assert mailed_to(received) == ["chenjing", "wangwei", "zhaomin"]
    ((to, card),) = server.sent
    assert to == "WangWei" and card["main_title"]["title"] == "会议议程"
    assert "1. 投诉升级后的处理时效（30分钟）" in card["sub_title_text"]
    (button,) = card["button_list"]
    assert (button["text"], button["type"], button["url"]) == ("查看议程", 1, link_of(team))


def test_dingtalk_agenda_notification_links_to_the_meeting_page(app, team, clock, chat, link_identity, smtp_server):
    server = chat("dingtalk")
    link_identity(team.owner, "dingtalk", "dt_wangwei")
    plan(team)
    send(team, clock, smtp_server)
    ((to, card),) = server.sent
    assert to == "dt_wangwei" and "主持人：赵敏（客服部）" in card["markdown"]
    path, _query = dingtalk_button(card, "查看议程")
    assert path == f"/meetings/{team.meeting.id}"
    assert [b["title"] for b in card["btn_json_list"]] == ["查看议程"]


@pytest.mark.parametrize("platform", ["feishu", "wecom", "dingtalk"])
def test_nobody_without_an_identity_on_the_configured_platform_gets_a_card(
        app, team, clock, chat, link_identity, smtp_server, platform):
    server = chat(platform)
    other = {"feishu": ("wecom", "WangWei"), "wecom": ("dingtalk", "dt_wangwei"), "dingtalk": ("feishu", "fs_wangwei")}
    link_identity(team.owner, *other[platform])  # an identity, but on another platform
    plan(team)
    received = send(team, clock, smtp_server)
    assert mailed_to(received) == ["chenjing", "wangwei", "zhaomin"]
    assert server.sent == [] and db.session.query(ChatCard).count() == 0


def test_a_person_the_platform_does_not_know_keeps_the_agenda_email_only_once(
        app, team, clock, chat, link_identity, smtp_server):
    server = chat("feishu")
    link_identity(team.owner, "feishu", "fs_left_the_company")
    plan(team)
    received = send(team, clock, smtp_server)
    deliver_pending()
    assert mailed_to(received) == ["chenjing", "wangwei", "zhaomin"] and smtp_server.messages == []
    assert server.sent == []
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "chat"))
    assert message.status == OutboxStatus.DEAD and "议程已随日历邀请邮件发出" in message.last_error
