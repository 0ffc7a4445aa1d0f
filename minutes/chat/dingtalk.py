"""DingTalk (钉钉): a work notification (工作通知, corpconversation asyncsend_v2) with an action_card.

Sending: topapi/message/corpconversation/asyncsend_v2 with the app's access token (AppKey + AppSecret),
the app's agent_id and the person's userid; msg.msgtype "action_card" with a button list (btn_json_list).

A work notification's action_card buttons are links (DingTalk posts nothing back for them). So 进行中 /
已完成 / 确认无误 are links to <BASE_URL>/chat/dingtalk/callback carrying the card token, the choice, the
time the card was sent and an HMAC-SHA256 signature over the three with the app's secret key: a link that was
altered, or is older than CHAT_LINK_DAYS, is refused. The signature proves the link is ours, not who opened it
(a link can be forwarded), so a link acts only for a session signed in as the card's recipient: opened without
one, it goes through 免登 inside DingTalk's browser (the client hands out the code, nothing to type) or the login
page elsewhere, and comes back; signed in as anyone else, it is refused (403) and changes nothing. The page asks
once more (a link preview must never press a button); the press is a POST of the same signed values with the
session's CSRF token. 延期, 需支持 and 提出修改意见 are such links too: their page asks for what the button needs —
one of the next working days, a department, the comment — and the POST carries it out through the same service
call as the web page.
"""
from __future__ import annotations

import hashlib
import hmac
import time

from flask_babel import gettext

from minutes.core.links import external_url
from minutes.chat.crypto import BadCallback
from minutes.chat.service import CardRefused, RecipientUnknown
from minutes.identity import dingtalk as identity
from minutes.identity.service import call_provider, drop_own_token
from minutes.notify.service import im_text

PLATFORM = "dingtalk"


#: The query of a button's link: the card's token, the choice, when it was sent, the signature over the three.
LINK_FIELDS = ("card", "do", "ts", "sig")


def _signature(config, token: str, choice: str, ts: str) -> str:
    key = ("chat-dingtalk-link:" + str(config["SECRET_KEY"])).encode("utf-8")
    return hmac.new(key, f"{token}:{choice}:{ts}".encode("utf-8"), hashlib.sha256).hexdigest()


def press_url(config, token: str, choice: str, ts: int | None = None) -> str:
    ts = str(int(ts if ts is not None else time.time()))
    query = {"card": token, "do": choice, "ts": ts, "sig": _signature(config, token, choice, ts)}
    return external_url("chat.callback", platform="dingtalk", **query)


def render(config, card: dict, token: str) -> dict:
    lines = [im_text(line) for line in card["lines"]]
    if card.get("result"):
        lines.append("**" + im_text(card["result"]) + "**")
    buttons = []
    for key, label in card.get("choices") or []:
        buttons.append({"title": label, "action_url": press_url(config, token, key)})
    if card.get("link"):
        buttons.append({"title": card.get("link_label") or gettext("查看详情"), "action_url": card["link"]})
    return {"msgtype": "action_card", "action_card": {
        "title": card["title"], "markdown": f"### {im_text(card['title'])}\n\n" + "\n\n".join(lines),
        "btn_orientation": "1", "btn_json_list": buttons}}


def send(config, subject: str, card: dict, token: str) -> str:
    base = config["DINGTALK_OAPI_URL"].rstrip("/")
    body = {"agent_id": int(config["DINGTALK_AGENT_ID"]), "userid_list": subject, "msg": render(config, card, token)}

    def post():
        _status, answer = call_provider("POST", base + "/topapi/message/corpconversation/asyncsend_v2",
                                        what=gettext("钉钉开放平台"), timeout=float(config.get("SSO_HTTP_TIMEOUT") or 10),
                                        params={"access_token": identity.app_access_token(config)}, json=body)
        return answer

    answer = post()
    if answer.get("errcode") in identity.TOKEN_REJECTED:
        drop_own_token(identity._token_key(config))
        answer = post()
    if answer.get("errcode") in (33012, 60121):
        raise RecipientUnknown(gettext("钉钉无法把工作通知发给该用户（%(code)s：%(msg)s）", code=answer.get("errcode"),
                                       msg=answer.get("errmsg") or "-"))
    if answer.get("errcode") != 0:
        raise CardRefused(gettext("钉钉拒绝了工作通知（%(code)s：%(msg)s）", code=answer.get("errcode"),
                                  msg=answer.get("errmsg") or "-"))
    return str(answer.get("task_id") or "")


def read_press(config, values, now: float | None = None) -> tuple[str, str]:
    """(card token, choice) of a signed link, once its signature and age are checked."""
    token, choice, ts, sig = (values.get(k, "") for k in LINK_FIELDS)
    if not sig or not hmac.compare_digest(_signature(config, token, choice, ts).encode(), sig.encode()):
        raise BadCallback("signature")
    try:
        age = (now or time.time()) - int(ts)
    except ValueError:
        raise BadCallback("timestamp") from None
    if not -300 <= age <= float(config.get("CHAT_LINK_DAYS") or 30) * 86400:
        raise BadCallback("timestamp")
    return token, choice
