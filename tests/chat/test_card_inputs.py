"""延期 (a new date), 需支持 (a department) and 提出修改意见 (a comment) inside the chat, on WeCom and on DingTalk."""
import socket
from datetime import date

from defusedxml import ElementTree
from sqlalchemy import select

from minutes.actions.models import ActionStatus
from minutes.calendar.service import work_calendar
from minutes.chat.models import ChatCard
from minutes.extensions import db
from minutes.people.models import Department
from minutes.records import signoff
from minutes.records.models import MinutesResponse, ResponseKind
from tests.chat.servers import WECOM_TOKEN, dingtalk_button, dingtalk_open, sha1_sorted, wecom_decrypt
from tests.chat.test_cards import TEXT, remind, sign_off_by_card, updates_of

COMMENT = "第二项决议的负责人应为市场部，请改正"


def post_wecom(client, query, body):
    return client.post("/chat/wecom/callback", query_string=query, data=body, content_type="text/xml")


def wecom_answer(server, response):
    """The decrypted passive reply (checking its signature), or None for an empty answer."""
    assert response.status_code == 200, response.get_data(as_text=True)
    if not response.data:
        return None
    outer = {e.tag: e.text for e in ElementTree.fromstring(response.data)}
    assert outer["MsgSignature"] == sha1_sorted(WECOM_TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    return ElementTree.fromstring(wecom_decrypt(outer["Encrypt"], server.corp_id))


def reminded(chat, link_identity, clock, team, make_action, platform="wecom", subject="WangWei"):
    """王伟's action due today and its reminder card on the platform: (server, action, card)."""
    server = chat(platform)
    link_identity(team.owner, platform, subject)
    action = remind(clock, team, make_action)
    (_to, card), = server.sent
    return server, action, card


# --- WeCom: 延期 and 需支持 through a select list -------------------------------------------------

def test_wecom_delay_offers_the_next_working_days_and_moves_the_deadline_to_the_one_chosen(
        app, client, team, make_action, clock, chat, link_identity):
    server, action, card = reminded(chat, link_identity, clock, team, make_action)
    assert [b["text"] for b in card["button_list"]] == ["进行中", "已完成", "延期", "需支持"]

    answer = post_wecom(client, *server.press(card, "延期", "WangWei"))
    assert wecom_answer(server, answer) is None  # the card itself changes: a list to choose from
    (to, picker), = server.updates
    assert to == "WangWei" and picker["card_type"] == "multiple_interaction" and picker["task_id"] == card["task_id"]
    (select_list,) = picker["select_list"]
    days = [date.fromisoformat(o["id"]) for o in select_list["option_list"]]
    assert len(days) == 10 and days[0] == date(2026, 9, 23) and days == sorted(days)
    assert all(work_calendar().is_workday(d) for d in days)
    assert date(2026, 9, 25) not in days and date(2026, 10, 1) not in days  # 中秋节, 国庆节
    assert date(2026, 10, 10) in days  # a Saturday worked (调休)
    assert select_list["option_list"][0]["text"] == "2026年9月23日（周三）"
    assert action.status == ActionStatus.NOT_STARTED  # nothing changed by opening the list

    clock(2026, 9, 22, 10, 32)
    assert wecom_answer(server, post_wecom(client, *server.submit(picker, "2026年9月28日（周一）", "WangWei"))) is None
    shown = server.updates[-1][1]  # the card again, with the submit's response_code: what was done
    assert shown["card_type"] == "button_interaction" and shown["task_id"] == card["task_id"]
    assert "延期 · 9月22日 10:32 · 新截止日期：2026年9月28日" in shown["sub_title_text"]
    assert "截止日期：2026年9月28日（周一）" in shown["sub_title_text"] and "当前状态：延期" in shown["sub_title_text"]
    assert action.status == ActionStatus.DELAYED and action.due_date == date(2026, 9, 28)
    (update,) = updates_of(action)
    assert (update.source, update.created_by_id, update.new_due) == ("chat", team.owner.id, date(2026, 9, 28))
    assert db.session.scalar(select(ChatCard.result)) == "延期 · 9月22日 10:32 · 新截止日期：2026年9月28日"


def test_wecom_delay_to_a_day_off_or_a_vague_date_is_refused_as_on_the_web_page_and_asked_again(
        app, client, team, make_action, clock, chat, link_identity):
    server, action, card = reminded(chat, link_identity, clock, team, make_action)
    post_wecom(client, *server.press(card, "延期", "WangWei"))
    picker = server.updates[-1][1]
    # options the list never offered (a forged callback): the actions service refuses them with its own words
    assert wecom_answer(server, post_wecom(client, *server.submit(picker, "2026-09-25", "WangWei"))) is None
    again = server.updates[-1][1]
    assert again["card_type"] == "multiple_interaction"
    assert again["main_title"]["desc"] == "新的截止日期2026年9月25日（周五）不是工作日，请选择工作日"
    post_wecom(client, *server.submit(again, "下周五", "WangWei"))
    assert server.updates[-1][1]["main_title"]["desc"] == "新的截止日期格式不正确，请选择日期"
    assert action.status == ActionStatus.NOT_STARTED and action.due_date == date(2026, 9, 22)
    assert updates_of(action) == []
    # submitted twice (a second real submit of the same list): the deadline moves once
    final = server.updates[-1][1]
    post_wecom(client, *server.submit(final, "2026年9月24日（周四）", "WangWei"))
    first_shown = server.updates[-1][1]
    post_wecom(client, *server.submit(final, "2026年9月24日（周四）", "WangWei"))
    assert action.due_date == date(2026, 9, 24) and len(updates_of(action)) == 1
    assert server.updates[-1][1] == first_shown  # the same result, not "须晚于原截止日期"


def test_wecom_need_support_asks_for_a_department_and_tells_it(app, client, team, make_action, clock, chat,
                                                             link_identity):
    server, action, card = reminded(chat, link_identity, clock, team, make_action)
    post_wecom(client, *server.press(card, "需支持", "WangWei"))
    picker = server.updates[-1][1]
    names = [o["text"] for o in picker["select_list"][0]["option_list"]]
    assert set(names) == {"客服部", "研发部", "市场部", "信息部"} and picker["submit_button"]["text"] == "请求支持"
    clock(2026, 9, 22, 11, 5)
    assert wecom_answer(server, post_wecom(client, *server.submit(picker, "市场部", "WangWei"))) is None
    assert "需支持 · 9月22日 11:05 · 请市场部支持" in server.updates[-1][1]["sub_title_text"]
    market = db.session.scalar(select(Department).where(Department.name == "市场部"))
    assert action.status == ActionStatus.NEED_SUPPORT
    (update,) = updates_of(action)
    assert (update.support_department_id, update.source) == (market.id, "chat")
    assert db.session.scalar(select(ChatCard.result)).endswith("请市场部支持")
    post_wecom(client, *server.submit(picker, "市场部", "WangWei"))  # submitted twice: asked once
    assert len(updates_of(action)) == 1 and "请市场部支持" in server.updates[-1][1]["sub_title_text"]


def test_wecom_need_support_with_more_departments_than_a_list_holds_sends_to_the_web_page(
        app, client, team, make_action, clock, chat, link_identity):
    from minutes.people.service import get_department

    for n in range(8):  # 4 + 8 = 12 departments: WeCom's select list holds 10
        get_department(f"事业{n + 1}部", create=True)
    db.session.commit()
    server, action, card = reminded(chat, link_identity, clock, team, make_action)
    reply = wecom_answer(server, post_wecom(client, *server.press(card, "需支持", "WangWei")))
    assert reply.findtext("Button/ReplaceName") == "请在网页上操作" and server.updates == []
    assert updates_of(action) == []


def test_wecom_lists_are_only_for_the_cards_person_and_a_replayed_submit_is_refused(
        app, client, team, make_action, clock, chat, link_identity):
    server, action, card = reminded(chat, link_identity, clock, team, make_action)
    link_identity(team.host, "wecom", "ZhaoMin")
    assert post_wecom(client, *server.press(card, "延期", "ZhaoMin")).status_code == 403
    assert server.updates == []
    post_wecom(client, *server.press(card, "延期", "WangWei"))
    picker = server.updates[-1][1]
    assert post_wecom(client, *server.submit(picker, "2026年9月28日（周一）", "ZhaoMin")).status_code == 403
    query, body = server.submit(picker, "2026年9月28日（周一）", "WangWei")
    assert post_wecom(client, query, body).status_code == 200
    assert post_wecom(client, query, body).status_code == 409
    bad = dict(query, msg_signature="0" * 40)
    assert post_wecom(client, bad, body).status_code == 401
    assert len(updates_of(action)) == 1


# --- WeCom: 提出修改意见 by replying with a message -------------------------------------------

def test_wecom_change_request_takes_the_next_message_as_the_comment_and_the_card_shows_it(
        app, client, login_as, recorded, clock, chat, link_identity):
    server, r, version, card = sign_off_by_card(chat, link_identity, clock, recorded)
    clock(2026, 6, 18, 16, 40)
    reply = wecom_answer(server, post_wecom(client, *server.press(card, "提出修改意见", "WangWei")))
    assert reply.findtext("Button/ReplaceName") == "请回复修改意见"
    assert db.session.scalar(select(MinutesResponse)) is None

    empty = wecom_answer(server, post_wecom(client, *server.message("WangWei", "   ")))
    assert (empty.findtext("MsgType"), empty.findtext("Content")) == ("text", "请写明修改意见")
    clock(2026, 6, 18, 16, 45)
    query, body = server.message("WangWei", COMMENT)
    answer = wecom_answer(server, post_wecom(client, query, body))
    assert answer.findtext("Content") == "已提出修改意见 · 6月18日 16:45"
    (response,) = db.session.scalars(select(MinutesResponse)).all()
    assert (response.user_id, response.version_id, response.kind, response.comment, response.source) == \
        (r.late.id, version.id, ResponseKind.CHANGE, COMMENT, "chat")
    (to, shown), = server.updates  # the card, updated with the code its 提出修改意见 press gave
    assert to == "WangWei" and "已提出修改意见 · 6月18日 16:45" in shown["sub_title_text"]

    assert post_wecom(client, query, body).status_code == 409  # the same message again (same MsgId): once
    later = wecom_answer(server, post_wecom(client, *server.message("WangWei", "还有一点")))
    assert "没有等待您回复的纪要卡片" in later.findtext("Content")
    assert len(db.session.scalars(select(MinutesResponse)).all()) == 1

    login_as(r.recorder)
    page = client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
    assert COMMENT in page and "来自消息卡片" in page


def test_wecom_a_message_after_the_wait_or_after_final_is_not_a_comment(app, client, recorded, clock, chat,
                                                                        link_identity):
    server, r, version, card = sign_off_by_card(chat, link_identity, clock, recorded)
    clock(2026, 6, 18, 16, 40)
    post_wecom(client, *server.press(card, "提出修改意见", "WangWei"))
    clock(2026, 6, 18, 17, 20)  # 40 minutes later: the wait (30 minutes) is over
    late = wecom_answer(server, post_wecom(client, *server.message("WangWei", COMMENT)))
    assert "没有等待您回复的纪要卡片" in late.findtext("Content")
    post_wecom(client, *server.press(card, "提出修改意见", "WangWei"))
    signoff.finalize(r.host, r.meeting, reason="全体已口头确认")
    db.session.commit()
    final = wecom_answer(server, post_wecom(client, *server.message("WangWei", COMMENT)))
    assert "纪要已定稿" in final.findtext("Content")
    assert db.session.scalars(select(MinutesResponse).where(MinutesResponse.user_id == r.late.id)).all() == []
    assert db.session.scalar(select(ChatCard.awaiting_comment_until)) is None


# --- DingTalk: the signed link's page asks for the input ----------------------------------------

def test_dingtalk_delay_link_offers_the_working_days_and_moves_the_deadline(app, client, team, make_action, clock,
                                                                           chat, link_identity):
    server, action, card = reminded(chat, link_identity, clock, team, make_action, "dingtalk", "dt_wangwei")
    assert [b["title"] for b in card["btn_json_list"]] == ["进行中", "已完成", "延期", "需支持", "查看详情"]
    path, query = dingtalk_button(card, "延期")
    assert path == "/chat/dingtalk/callback"  # signed, like 已完成; acts once 免登 names its recipient
    page = dingtalk_open(client, server, path, query, "dt_wangwei").get_data(as_text=True)
    assert "延期至" in page and '<option value="2026-09-28">2026年9月28日（周一）</option>' in page
    assert 'value="2026-09-25"' not in page and 'value="2026-10-10"' in page  # 中秋节 off, 调休 Saturday on
    assert action.status == ActionStatus.NOT_STARTED

    refused = client.post(path, data=dict(query, value="2026-09-25"))  # not offered: refused by the service
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "新的截止日期2026年9月25日（周五）不是工作日，请选择工作日" in text and 'value="2026-09-25"' not in text
    vague = client.post(path, data=dict(query, value="下周五"))
    assert vague.status_code == 400 and "新的截止日期格式不正确，请选择日期" in vague.get_data(as_text=True)
    assert updates_of(action) == [] and action.due_date == date(2026, 9, 22)

    clock(2026, 9, 22, 10, 32)
    done = client.post(path, data=dict(query, value="2026-09-28"))
    assert done.status_code == 200 and "延期 · 9月22日 10:32 · 新截止日期：2026年9月28日" in done.get_data(as_text=True)
    again = client.post(path, data=dict(query, value="2026-09-28"))
    assert again.status_code == 200 and "新截止日期：2026年9月28日" in again.get_data(as_text=True)
    (update,) = updates_of(action)
    assert (update.source, update.new_due, action.status) == ("chat", date(2026, 9, 28), ActionStatus.DELAYED)
    forged = dict(query, do="support", value="1")  # the signature covers the button
    assert client.post(path, data=forged).status_code == 401


def test_dingtalk_need_support_link_asks_for_the_department(app, client, team, make_action, clock, chat,
                                                           link_identity):
    server, action, card = reminded(chat, link_identity, clock, team, make_action, "dingtalk", "dt_wangwei")
    path, query = dingtalk_button(card, "需支持")
    market = db.session.scalar(select(Department).where(Department.name == "市场部"))
    page = dingtalk_open(client, server, path, query, "dt_wangwei").get_data(as_text=True)
    assert f'<option value="{market.id}">市场部</option>' in page
    clock(2026, 9, 22, 11, 5)
    done = client.post(path, data=dict(query, value=str(market.id)))
    assert "需支持 · 9月22日 11:05 · 请市场部支持" in done.get_data(as_text=True)
    (update,) = updates_of(action)
    assert (update.support_department_id, update.source, action.status) == (market.id, "chat", ActionStatus.NEED_SUPPORT)


def test_dingtalk_change_request_link_takes_the_comment(app, client, login_as, recorded, clock, chat, link_identity):
    server, r, version, card = sign_off_by_card(chat, link_identity, clock, recorded, "dingtalk", "dt_wangwei")
    path, query = dingtalk_button(card, "提出修改意见")
    page = dingtalk_open(client, server, path, query, "dt_wangwei").get_data(as_text=True)
    assert "<textarea" in page and "提交修改意见" in page
    empty = client.post(path, data=dict(query, value="  "))
    assert empty.status_code == 400 and "请写明修改意见" in empty.get_data(as_text=True)
    clock(2026, 6, 18, 16, 45)
    done = client.post(path, data=dict(query, value=COMMENT))
    assert done.status_code == 200 and "已提出修改意见 · 6月18日 16:45" in done.get_data(as_text=True)
    (response,) = db.session.scalars(select(MinutesResponse)).all()
    assert (response.user_id, response.version_id, response.kind, response.comment, response.source) == \
        (r.late.id, version.id, ResponseKind.CHANGE, COMMENT, "chat")
    again = client.post(path, data=dict(query, value=COMMENT))  # the form posted twice: given once
    assert again.status_code == 200 and "已提出修改意见 · 6月18日 16:45" in again.get_data(as_text=True)
    assert len(db.session.scalars(select(MinutesResponse)).all()) == 1
    login_as(r.recorder)
    minutes_page = client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
    assert COMMENT in minutes_page and "来自消息卡片" in minutes_page


def test_wecom_unreachable_while_the_card_is_updated_keeps_the_answer(app, client, team, make_action, clock, chat,
                                                                     link_identity):
    server, action, card = reminded(chat, link_identity, clock, team, make_action)
    post_wecom(client, *server.press(card, "延期", "WangWei"))
    picker = server.updates[-1][1]
    with socket.socket() as probe:  # a port nobody listens on: WeCom unreachable for the card's update
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    app.config["WECOM_BASE_URL"] = f"http://127.0.0.1:{dead}"
    response = post_wecom(client, *server.submit(picker, "2026年9月28日（周一）", "WangWei"))
    assert response.status_code == 200  # not a 502 that would roll the postponement back
    assert action.status == ActionStatus.DELAYED and action.due_date == date(2026, 9, 28)
    assert len(updates_of(action)) == 1


def test_a_signature_with_other_than_ascii_is_refused_not_a_server_error(app, client, team, make_action, clock, chat,
                                                                        link_identity):
    _server, _action, card = reminded(chat, link_identity, clock, team, make_action, "dingtalk", "dt_wangwei")
    path, query = dingtalk_button(card, "已完成")
    assert client.get(path, query_string=dict(query, sig="签名")).status_code == 401
    chat("wecom")
    wecom = client.post("/chat/wecom/callback", query_string={"msg_signature": "签名", "timestamp": "1", "nonce": "n"},
                        data="<xml><Encrypt>x</Encrypt></xml>", content_type="text/xml")
    assert wecom.status_code in (400, 401)
