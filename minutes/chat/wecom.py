"""WeCom (企业微信): an app message with a template card (button_interaction), and its callback.

Sending: cgi-bin/message/send with the app's access_token, msgtype "template_card", card_type
"button_interaction"; the card's task_id is our card token and each button's key the choice. 进行中 / 已完成
/ 确认无误 call back; 延期, 需支持 and 提出修改意见 need a date, a department or a comment, which a WeCom
button cannot carry, so they open the web page (button type 1, url).

Callback (应用管理 → 接收消息 → 设置API接收, URL <BASE_URL>/chat/wecom/callback, Token, EncodingAESKey):
GET verifies the URL (echostr decrypted and returned); POST carries XML whose <Encrypt> holds the event
(Event template_card_event, FromUserName, TaskId, EventKey). msg_signature = SHA-1 over the sorted token,
timestamp, nonce and ciphertext. The answer is a passive reply, encrypted the same way, that replaces the
pressed button's label with the result (update_button).
"""
from __future__ import annotations

import secrets
import time

from defusedxml import ElementTree
from flask_babel import gettext

from minutes.chat.crypto import BadCallback, block_decrypt, block_encrypt, sha1_check, sha1_signature
from minutes.chat.service import CardRefused, RecipientUnknown
from minutes.identity import wecom as identity
from minutes.identity.service import call_provider, drop_own_token

PLATFORM = "wecom"
INSTANT = ("in_progress", "done", "confirm")


def render(card: dict, token: str) -> dict:
    lines = card["lines"]
    buttons = []
    for key, label in card.get("choices") or []:
        if key in INSTANT:
            buttons.append({"text": label, "style": 1 if key in ("done", "confirm") else 2, "key": key})
        elif card.get("link"):
            buttons.append({"text": label, "style": 3, "type": 1, "url": card["link"], "key": key})
    if card.get("link_label") and card.get("link"):  # a card whose button opens its page (the agenda: 查看议程)
        buttons.append({"text": card["link_label"][:10], "style": 1, "type": 1, "url": card["link"], "key": "open"})
    template = {"card_type": "button_interaction", "source": {"desc": gettext("会议纪要")},
                "main_title": {"title": card["title"][:36], "desc": lines[0][:44]},
                "sub_title_text": "\n".join(lines[1:] + ([card["result"]] if card.get("result") else [])),
                "task_id": token, "button_list": buttons[:6]}
    if card.get("link"):
        template["card_action"] = {"type": 1, "url": card["link"]}
    if not buttons:  # nothing left to press: a button that says what happened
        template["button_list"] = [{"text": (card.get("result") or gettext("已处理"))[:10], "style": 4,
                                    "key": "noop"}]
    return template


def send(config, subject: str, card: dict, token: str) -> str:
    base = config["WECOM_BASE_URL"].rstrip("/")
    body = {"touser": subject, "msgtype": "template_card", "agentid": int(config["WECOM_AGENT_ID"]),
            "template_card": render(card, token)}

    def post():
        _status, answer = call_provider("POST", base + "/cgi-bin/message/send", what=gettext("企业微信"),
                                        timeout=float(config.get("SSO_HTTP_TIMEOUT") or 10),
                                        params={"access_token": identity.access_token(config)}, json=body)
        return answer

    answer = post()
    if answer.get("errcode") in identity.TOKEN_REJECTED:
        drop_own_token(identity._token_key(config))
        answer = post()
    if answer.get("invaliduser") or answer.get("errcode") in (60111, 81013):
        raise RecipientUnknown(gettext("企业微信无法把模板卡片发给该成员（%(code)s：%(msg)s）", code=answer.get("errcode"),
                                       msg=answer.get("invaliduser") or answer.get("errmsg") or "-"))
    if answer.get("errcode") != 0:
        raise CardRefused(gettext("企业微信拒绝了模板卡片（%(code)s：%(msg)s）", code=answer.get("errcode"),
                                  msg=answer.get("errmsg") or answer.get("invaliduser") or "-"))
    return answer.get("msgid") or ""


def _check(config, args, encrypted: str, now: float | None) -> None:
    timestamp = args.get("timestamp", "")
    sha1_check(config["WECOM_CALLBACK_TOKEN"], timestamp, args.get("nonce", ""), encrypted,
               args.get("msg_signature", ""))
    window = float(config.get("CHAT_CALLBACK_WINDOW_SECONDS") or 300)
    try:
        if abs((now or time.time()) - int(timestamp)) > window:
            raise BadCallback("timestamp")
    except ValueError:
        raise BadCallback("timestamp") from None


def verify_url(config, args, now: float | None = None) -> str:
    """The URL check when the callback is saved: the decrypted echostr."""
    echostr = args.get("echostr", "")
    _check(config, args, echostr, now)
    return block_decrypt(config["WECOM_ENCODING_AES_KEY"], echostr, config["WECOM_CORP_ID"]).decode("utf-8")


def _xml(data: bytes) -> dict:
    try:
        root = ElementTree.fromstring(data)
    except Exception as exc:  # defusedxml refuses entities and DTDs; anything unparsable is not WeCom's
        raise BadCallback("xml") from exc
    return {child.tag: (child.text or "") for child in root}


def read_callback(config, args, body: bytes, now: float | None = None) -> dict:
    """Check the signature and window, decrypt: the event's fields (FromUserName, Event, TaskId, EventKey...)."""
    encrypted = _xml(body).get("Encrypt", "")
    if not encrypted:
        raise BadCallback("not encrypted")
    _check(config, args, encrypted, now)
    return _xml(block_decrypt(config["WECOM_ENCODING_AES_KEY"], encrypted, config["WECOM_CORP_ID"]))


def press_of(args, event: dict) -> tuple[str, str, str, str, str]:
    """(event key, operator's UserId, card token, choice, value) of a template_card_event."""
    if event.get("Event") != "template_card_event":
        raise BadCallback("event type")
    key = f"{args.get('timestamp', '')}:{args.get('nonce', '')}:{args.get('msg_signature', '')}"
    return key, event.get("FromUserName", ""), event.get("TaskId", ""), event.get("EventKey", ""), ""


def _cdata(text: str) -> str:
    return "<![CDATA[" + str(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def reply(config, user_id: str, result: str) -> str:
    """An encrypted passive reply that renames the pressed button to the result (update_button)."""
    now = str(int(time.time()))
    plain = (f"<xml><ToUserName>{_cdata(user_id)}</ToUserName><FromUserName>{_cdata(config['WECOM_CORP_ID'])}"
             f"</FromUserName><CreateTime>{now}</CreateTime><MsgType>{_cdata('update_button')}</MsgType>"
             f"<Button><ReplaceName>{_cdata(result[:20])}</ReplaceName></Button></xml>")
    encrypted = block_encrypt(config["WECOM_ENCODING_AES_KEY"], plain.encode("utf-8"), config["WECOM_CORP_ID"])
    nonce = secrets.token_hex(8)
    signature = sha1_signature(config["WECOM_CALLBACK_TOKEN"], now, nonce, encrypted)
    return (f"<xml><Encrypt>{_cdata(encrypted)}</Encrypt><MsgSignature>{_cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{now}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>")
