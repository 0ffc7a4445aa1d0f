"""Feishu (飞书): an app message with an interactive card, and the card callback (卡片回传交互).

Sending: im/v1/messages?receive_id_type=user_id with the app's tenant_access_token, msg_type "interactive",
content the card JSON. A button's `value` carries {"card": token, "do": choice}; 延期 is a date picker (its
callback names the date in `action.option`), 需支持 a department picker (`option`), 提出修改意见 an input
(`input_value`).

Callback (开发者后台 → 事件与回调 → 回调配置 → 卡片回传交互 card.action.trigger, request URL
<BASE_URL>/chat/feishu/callback, with an Encrypt Key): the body is {"encrypt": ...}; the signature header is
checked, then the timestamp window, then the decrypted event (its Verification Token when configured).
The answer is {"toast": ..., "card": {"type": "raw", "data": <the updated card>}}, which replaces the card.
"""
from __future__ import annotations

import json
import time

from flask_babel import gettext

from minutes.chat.crypto import BadCallback, feishu_check, feishu_decrypt
from minutes.chat.service import CardRefused, RecipientUnknown
from minutes.identity import feishu as identity
from minutes.identity.service import call_provider, drop_own_token

PLATFORM = "feishu"
#: The person is not reachable by the app: unknown user id, or outside the app's availability (可用范围).
UNKNOWN_RECIPIENT = (230013, 99992351, 99992361)


def render(card: dict, token: str) -> dict:
    """The card in Feishu's card JSON (plain text only: nothing typed by a user becomes markup)."""
    elements: list[dict] = [{"tag": "div", "text": {"tag": "plain_text", "content": "\n".join(card["lines"])}}]
    if card.get("result"):
        elements.append({"tag": "hr"})
        elements.append({"tag": "div", "text": {"tag": "plain_text", "content": card["result"]}})
    choices = dict(card.get("choices") or [])
    actions: list[dict] = []
    for key in ("in_progress", "done", "confirm"):
        if key in choices:
            actions.append({"tag": "button", "text": {"tag": "plain_text", "content": choices[key]},
                            "type": "primary" if key in ("done", "confirm") else "default",
                            "value": {"card": token, "do": key}})
    if "delay" in choices:
        actions.append({"tag": "date_picker", "placeholder": {"tag": "plain_text", "content": gettext("延期至…")},
                        "value": {"card": token, "do": "delay"}})
    if "support" in choices and card.get("departments"):
        actions.append({"tag": "select_static", "placeholder": {"tag": "plain_text", "content": gettext("需支持：选择部门")},
                        "options": [{"text": {"tag": "plain_text", "content": name}, "value": d_id}
                                    for d_id, name in card["departments"]],
                        "value": {"card": token, "do": "support"}})
    if card.get("link"):
        actions.append({"tag": "button", "text": {"tag": "plain_text", "content": card.get("link_label") or gettext("查看详情")},
                        "type": "primary" if card.get("link_label") else "default", "url": card["link"]})
    if actions:
        elements.append({"tag": "action", "actions": actions})
    if "change" in choices:
        elements.append({"tag": "action", "actions": [{
            "tag": "input", "name": "comment", "max_length": 500,
            "placeholder": {"tag": "plain_text", "content": gettext("提出修改意见：写下意见后回车提交")},
            "value": {"card": token, "do": "change"}}]})
    return {"config": {"wide_screen_mode": True, "update_multi": True},
            "header": {"template": "green" if card.get("result") else "blue",
                       "title": {"tag": "plain_text", "content": card["title"]}},
            "elements": elements}


def send(config, subject: str, card: dict, token: str) -> str:
    """Send the card to one person (by user_id); the message_id Feishu gives it."""
    base = config["FEISHU_BASE_URL"].rstrip("/")
    body = {"receive_id": subject, "msg_type": "interactive", "content": json.dumps(render(card, token), ensure_ascii=False)}

    def post():
        headers = {"Authorization": f"Bearer {identity.tenant_access_token(config)}"}
        _status, answer = call_provider("POST", base + "/open-apis/im/v1/messages", what=gettext("飞书开放平台"),
                                        timeout=float(config.get("SSO_HTTP_TIMEOUT") or 10),
                                        params={"receive_id_type": "user_id"}, json=body, headers=headers)
        return answer

    answer = post()
    if answer.get("code") in identity.TOKEN_REJECTED:
        drop_own_token(identity._token_key(config, "tenant"))
        answer = post()
    if answer.get("code") in UNKNOWN_RECIPIENT:
        raise RecipientUnknown(gettext("飞书无法把消息卡片发给该用户（%(code)s：%(msg)s）", code=answer.get("code"),
                                       msg=answer.get("msg") or "-"))
    if answer.get("code") != 0:
        raise CardRefused(gettext("飞书拒绝了消息卡片（%(code)s：%(msg)s）", code=answer.get("code"), msg=answer.get("msg") or "-"))
    return (answer.get("data") or {}).get("message_id") or ""


def read_callback(config, headers, body: bytes, now: float | None = None) -> dict:
    """Check the signature and the timestamp window, decrypt, check the Verification Token: the callback's JSON."""
    key = config.get("FEISHU_CARD_ENCRYPT_KEY") or ""
    timestamp = headers.get("X-Lark-Request-Timestamp", "")
    nonce = headers.get("X-Lark-Request-Nonce", "")
    feishu_check(timestamp, nonce, key, body, headers.get("X-Lark-Signature", ""))
    window = float(config.get("CHAT_CALLBACK_WINDOW_SECONDS") or 300)
    try:
        if abs((now or time.time()) - int(timestamp)) > window:
            raise BadCallback("timestamp")
    except ValueError:
        raise BadCallback("timestamp") from None
    try:
        outer = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BadCallback("body") from None
    if not isinstance(outer, dict) or not isinstance(outer.get("encrypt"), str):
        raise BadCallback("not encrypted")
    event = feishu_decrypt(key, outer["encrypt"])
    if not isinstance(event, dict):
        raise BadCallback("body")
    expected = config.get("FEISHU_CARD_VERIFICATION_TOKEN")
    got = event.get("token") if event.get("type") == "url_verification" else (event.get("header") or {}).get("token")
    if expected and got != expected:
        raise BadCallback("verification token")
    return event


def press_of(event: dict) -> tuple[str, str, str, str, str]:
    """(event id, operator's user_id, card token, choice, value) of a card.action.trigger callback."""
    header, body = event.get("header") or {}, event.get("event") or {}
    if header.get("event_type") != "card.action.trigger":
        raise BadCallback("event type")
    action = body.get("action") or {}
    value = action.get("value") or {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = {}
    choice = str(value.get("do") or "")
    extra = ""
    if choice == "delay":
        extra = str(action.get("option") or "").split(" ")[0]  # "2026-12-20 +0800"
    elif choice == "support":
        extra = str(action.get("option") or "")
    elif choice == "change":
        extra = str(action.get("input_value") or (action.get("form_value") or {}).get("comment") or "")
    operator = (body.get("operator") or {}).get("user_id") or ""
    return str(header.get("event_id") or ""), str(operator), str(value.get("card") or ""), choice, extra


def reply(card: dict, token: str, message: str, ok: bool) -> dict:
    """The answer that shows a toast and replaces the card."""
    return {"toast": {"type": "success" if ok else "error", "content": message},
            "card": {"type": "raw", "data": render(card, token)}}

