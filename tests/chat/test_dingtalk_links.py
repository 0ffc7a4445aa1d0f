"""A DingTalk work notification's buttons are signed links; a link acts only for its recipient, signed in.

Every button of both cards (进行中 / 已完成 / 延期 / 需支持 on a reminder, 确认无误 / 提出修改意见 on a sign-off
request) is opened end to end through the loopback DingTalk server: the link sends DingTalk's browser to 免登,
the code the client hands out (issued by the server, redeemed by the app at topapi/v2/user/getuserinfo) names
the person, and the browser comes back to the link. Only the card's recipient gets past it.
"""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from minutes.actions.models import ActionItem, ActionUpdate
from minutes.chat.models import ChatCard
from minutes.extensions import db
from minutes.people.models import Department
from minutes.records.models import MinutesResponse
from tests.chat.servers import DINGTALK_BROWSER, IN_APP, dingtalk_button, dingtalk_open
from tests.chat.test_card_inputs import COMMENT, reminded
from tests.chat.test_cards import TEXT, sign_off_by_card
from tests.conftest import PASSWORD

ACTION_BUTTONS = ["进行中", "已完成", "延期", "需支持"]
MINUTES_BUTTONS = ["确认无误", "提出修改意见"]
ALL_BUTTONS = ACTION_BUTTONS + MINUTES_BUTTONS


class Link:
    """A button's link on the card sent to 王伟's DingTalk account (dt_wangwei), and who else is in the company."""

    def __init__(self, server, card, label, recipient, other, about, value):
        self.server, self.label, self.recipient, self.other, self.about = server, label, recipient, other, about
        self.path, self.query = dingtalk_button(card, label)
        self.value = value  # what the button's page asks for (a day, a department, a comment), or nothing

    @property
    def form(self) -> dict:
        return dict(self.query, value=self.value) if self.value else dict(self.query)


@pytest.fixture
def link(request, app, clock, chat, link_identity):
    """link("延期"): that button's link; the card's recipient is dt_wangwei, another member (dt_liuyang) is someone
    else with an account here."""

    def build(label: str) -> Link:
        if label in ACTION_BUTTONS:  # (the two set-ups share people's names: only the one needed is built)
            team, make_action = request.getfixturevalue("team"), request.getfixturevalue("make_action")
            server, _action, card = reminded(chat, link_identity, clock, team, make_action, "dingtalk", "dt_wangwei")
            link_identity(team.other, "dingtalk", "dt_liuyang")
            market = db.session.scalar(select(Department).where(Department.name == "市场部"))
            value = {"延期": "2026-09-28", "需支持": str(market.id)}.get(label, "")
            return Link(server, card, label, team.owner, team.other, TEXT, value)
        recorded = request.getfixturevalue("recorded")
        server, r, _version, card = sign_off_by_card(chat, link_identity, clock, recorded, "dingtalk", "dt_wangwei")
        link_identity(r.member, "dingtalk", "dt_liuyang")
        return Link(server, card, label, r.late, r.member, "解决客户投诉处理流程卡点",
                    COMMENT if label == "提出修改意见" else "")

    return build


def state():
    """Everything a press could change: the actions' updates, the sign-off answers, the cards' results."""
    return (db.session.scalar(select(func.count(ActionUpdate.id))),
            db.session.scalar(select(func.count(MinutesResponse.id))),
            [(c.answered_choice, c.result) for c in db.session.scalars(select(ChatCard).order_by(ChatCard.id))],
            db.session.execute(select(ActionItem.status, ActionItem.due_date).order_by(ActionItem.id)).all())


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("label", ALL_BUTTONS)
def test_every_button_acts_for_its_recipient_once_dingtalk_signed_them_in(client, link, label):
    link = link(label)
    before = state()
    page = dingtalk_open(client, link.server, link.path, link.query, "dt_wangwei")
    assert page.status_code == 200 and link.about in text(page)
    assert state() == before  # opening the link presses nothing
    pressed = client.post(link.path, data=link.form, headers=DINGTALK_BROWSER)
    assert pressed.status_code == 200, text(pressed)
    assert f"<h1>已提交：{label}</h1>" in text(pressed)  # a short heading; the card's result line below it
    updates, responses, cards, _ = state()
    assert (updates, responses) == ((1, 0) if label in ACTION_BUTTONS else (0, 1))
    assert [choice for choice, _result in cards if choice] == [link.query["do"]]


@pytest.mark.parametrize("label", ALL_BUTTONS)
def test_someone_elses_dingtalk_code_is_refused_and_changes_nothing(client, link, label):
    link = link(label)
    before = state()
    page = dingtalk_open(client, link.server, link.path, link.query, "dt_liuyang")  # the link forwarded to 刘洋
    assert page.status_code == 403
    assert f"此链接是发给{link.recipient.name}的，请用本人的钉钉账号打开" in text(page)
    assert link.about not in text(page) and "<form method=\"post\" action=\"/chat" not in text(page)
    pressed = client.post(link.path, data=link.form, headers=DINGTALK_BROWSER)
    assert pressed.status_code == 403 and f"此链接是发给{link.recipient.name}的" in text(pressed)
    assert state() == before
    assert client.get("/actions/mine").status_code == 200  # signed in all the same: as 刘洋, not as the recipient


@pytest.mark.parametrize("label", ["已完成", "确认无误", "提出修改意见"])
def test_without_a_dingtalk_code_nothing_changes(client, link, label):
    link = link(label)
    before = state()
    pressed = client.post(link.path, data=link.form, headers=DINGTALK_BROWSER)  # the press itself, not signed in
    assert pressed.status_code == 303
    target = urlsplit(pressed.headers["Location"])
    assert target.path == IN_APP
    back = parse_qs(target.query)["next"][0]
    assert urlsplit(back).path == link.path and "value" not in back  # back to the link's page, which asks again
    no_code = client.post(IN_APP, data={"code": "", "next": back}, headers=DINGTALK_BROWSER)
    assert no_code.status_code == 400 and "没有收到钉钉的免登授权码" in text(no_code)
    again = client.post(link.path, data=link.form, headers=DINGTALK_BROWSER)
    assert again.status_code == 303 and urlsplit(again.headers["Location"]).path == IN_APP
    assert state() == before


def test_a_forged_or_stale_link_is_refused_before_any_sign_in_and_after_it(client, link):
    link = link("已完成")
    before = state()
    forged = dict(link.query, do="delay", value="2026-09-28")  # the signature covers the button
    stale = dict(link.query, ts=str(int(link.query["ts"]) - 31 * 86400))
    for values in (forged, stale, dict(link.query, sig="0" * 64)):
        assert client.get(link.path, query_string=values, headers=DINGTALK_BROWSER).status_code == 401
        assert client.post(link.path, data=values, headers=DINGTALK_BROWSER).status_code == 401
    assert dingtalk_open(client, link.server, link.path, link.query, "dt_wangwei").status_code == 200
    for values in (forged, stale):
        assert client.post(link.path, data=values, headers=DINGTALK_BROWSER).status_code == 401
    assert state() == before


def test_outside_dingtalk_the_link_goes_through_the_login_page_and_back(client, link):
    link = link("已完成")
    opened = client.get(link.path, query_string=link.query)  # a forwarded link in an ordinary browser
    assert opened.status_code == 302
    target = urlsplit(opened.headers["Location"])
    assert target.path == "/login"
    back = parse_qs(target.query)["next"][0]
    assert urlsplit(back).path == link.path
    signed_in = client.post(opened.headers["Location"],  # the login form posts to its own address, next= kept
                            data={"username": link.recipient.username, "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith(back)
    page = client.get(back)
    assert page.status_code == 200 and "确认操作：已完成" in text(page)
    assert client.post(link.path, data=link.form).status_code == 200
    assert state()[0] == 1


def test_signed_in_in_a_browser_as_someone_else_is_refused(client, login_as, link):
    link = link("延期")
    login_as(link.other)
    before = state()
    assert client.get(link.path, query_string=link.query).status_code == 403
    assert client.post(link.path, data=link.form).status_code == 403
    assert state() == before


def test_the_press_carries_the_pages_csrf_token(app, client, link):
    link = link("提出修改意见")
    dingtalk_open(client, link.server, link.path, link.query, "dt_wangwei")
    app.config["WTF_CSRF_ENABLED"] = True
    before = state()
    page = text(client.get(link.path, query_string=link.query, headers=DINGTALK_BROWSER))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = client.post(link.path, data=link.form, headers=DINGTALK_BROWSER)  # posted from a page elsewhere
    assert refused.status_code == 400 and state() == before
    taken = client.post(link.path, data=dict(link.form, csrf_token=token), headers=DINGTALK_BROWSER)
    assert taken.status_code == 200 and "已提出修改意见" in text(taken)
    assert state()[1] == 1


def test_a_timed_out_session_signs_in_again_before_the_link_acts(app, client, link):
    link = link("已完成")
    dingtalk_open(client, link.server, link.path, link.query, "dt_wangwei")
    with client.session_transaction() as session:
        session["last_seen"] = 0  # idle longer than SESSION_IDLE_MINUTES
    before = state()
    pressed = client.post(link.path, data=link.form, headers=DINGTALK_BROWSER)
    assert pressed.status_code == 303 and urlsplit(pressed.headers["Location"]).path == IN_APP
    assert state() == before
    assert dingtalk_open(client, link.server, link.path, link.query, "dt_wangwei").status_code == 200
    assert client.post(link.path, data=link.form, headers=DINGTALK_BROWSER).status_code == 200
    assert state()[0] == 1
