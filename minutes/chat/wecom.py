"""WeCom (企业微信): an app message with a template card (button_interaction), and its callback.

Sending: cgi-bin/message/send with the app's access_token, msgtype "template_card", card_type
"button_interaction"; the card's task_id is our card token and each button's key the choice. Every button
calls back. 延期, 需支持 and 提出修改意见 need a date, a department or a comment, which a button cannot carry:
pressing 延期 or 需支持 turns the card (cgi-bin/message/update_template_card with the callback's one-use
response_code) into a multiple_interaction card, a select list of the next working days or of the departments
and a submit button whose callback names the option chosen (SelectedItems); pressing 提出修改意见 relabels the
buttons 请回复修改意见 and the person's next text message to the app (接收消息, MsgType text) is the comment,
after which the card is updated with the response_code kept from the press (minutes/chat/wecom_callback.py).

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
#: The buttons that need something chosen or typed first (the card asks for it, see above).
ASKING = ("delay", "support", "change")
#: WeCom's limits: options in a select list, characters of an option, of a select's title, of a button.
OPTIONS, OPTION_CHARS, SELECT_TITLE_CHARS, BUTTON_CHARS = 10, 17, 13, 10


def render(card: dict, token: str) -> dict:
    if card.get("ask"):
        return _render_ask(card, token)
    lines = card["lines"]
    buttons = []
    for key, label in card.get("choices") or []:
        buttons.append({"text": label, "style": 1 if key in ("done", "confirm") else 2 if key == "in_progress" else 3,
                        "key": key})
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


def _render_ask(card: dict, token: str) -> dict:
    """The multiple_interaction card that asks for 延期's day or 需支持's department."""
    ask = card["ask"]
    options = [{"id": str(key), "text": str(text)[:OPTION_CHARS]} for key, text in ask["options"][:OPTIONS]]
    template = {"card_type": "multiple_interaction", "source": {"desc": gettext("会议纪要")},
                "main_title": {"title": card["title"][:36], "desc": card["lines"][0][:44]}, "task_id": token,
                "select_list": [{"question_key": ask["key"], "title": ask["title"][:SELECT_TITLE_CHARS],
                                 "selected_id": options[0]["id"], "option_list": options}],
                "submit_button": {"text": ask["submit"][:BUTTON_CHARS], "key": ask["key"]}}
    if card.get("result"):
        template["main_title"]["desc"] = card["result"][:44]
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
    """The fields of a WeCom XML message; SelectedItems (a multiple_interaction submit) as {question key: [ids]}."""
    try:
        root = ElementTree.fromstring(data)
    except Exception as exc:  # defusedxml refuses entities and DTDs; anything unparsable is not WeCom's
        raise BadCallback("xml") from exc
    fields: dict = {child.tag: (child.text or "") for child in root}
    items = root.find("SelectedItems")
    if items is not None:
        fields["SelectedItems"] = {item.findtext("QuestionKey", ""): [o.text or "" for o in item.iter("OptionId")]
                                   for item in items.findall("SelectedItem")}
    return fields


def read_callback(config, args, body: bytes, now: float | None = None) -> dict:
    """Check the signature and window, decrypt: the event's fields (FromUserName, Event, TaskId, EventKey...)."""
    encrypted = _xml(body).get("Encrypt", "")
    if not encrypted:
        raise BadCallback("not encrypted")
    _check(config, args, encrypted, now)
    return _xml(block_decrypt(config["WECOM_ENCODING_AES_KEY"], encrypted, config["WECOM_CORP_ID"]))


def press_of(args, event: dict) -> tuple[str, str, str, str, str]:
    """(event key, operator's UserId, card token, choice, value) of a template_card_event; the value is the option
    chosen in the select list of a multiple_interaction card (its question key is the choice)."""
    if event.get("Event") != "template_card_event":
        raise BadCallback("event type")
    key = f"{args.get('timestamp', '')}:{args.get('nonce', '')}:{args.get('msg_signature', '')}"
    choice = event.get("EventKey", "")
    chosen = (event.get("SelectedItems") or {}).get(choice) or [""]
    return key, event.get("FromUserName", ""), event.get("TaskId", ""), choice, chosen[0]


def update_card(config, subject: str, response_code: str, card: dict, token: str) -> None:
    """Replace the card a person pressed with `card` (cgi-bin/message/update_template_card, the one-use
    response_code of the press); CardRefused when WeCom refuses or cannot be reached."""
    base = config["WECOM_BASE_URL"].rstrip("/")
    body = {"userids": [subject], "agentid": int(config["WECOM_AGENT_ID"]), "response_code": response_code,
            "template_card": render(card, token)}
    _status, answer = call_provider("POST", base + "/cgi-bin/message/update_template_card", what=gettext("企业微信"),
                                    timeout=float(config.get("SSO_HTTP_TIMEOUT") or 10),
                                    params={"access_token": identity.access_token(config)}, json=body)
    if answer.get("errcode") != 0:
        raise CardRefused(gettext("企业微信拒绝了卡片更新（%(code)s：%(msg)s）", code=answer.get("errcode"),
                                  msg=answer.get("errmsg") or "-"))


def _cdata(text: str) -> str:
    return "<![CDATA[" + str(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def reply(config, user_id: str, result: str) -> str:
    """An encrypted passive reply that renames the pressed button to the result (update_button)."""
    return _passive(config, user_id, "update_button", f"<Button><ReplaceName>{_cdata(result[:20])}</ReplaceName></Button>")


def text_reply(config, user_id: str, text: str) -> str:
    """An encrypted passive reply to a person's message: a text message (at most 2,048 bytes)."""
    content = text.encode("utf-8")[:2048].decode("utf-8", "ignore")
    return _passive(config, user_id, "text", f"<Content>{_cdata(content)}</Content>")


def _passive(config, user_id: str, msg_type: str, fields: str) -> str:
    now = str(int(time.time()))
    plain = (f"<xml><ToUserName>{_cdata(user_id)}</ToUserName><FromUserName>{_cdata(config['WECOM_CORP_ID'])}"
             f"</FromUserName><CreateTime>{now}</CreateTime><MsgType>{_cdata(msg_type)}</MsgType>{fields}</xml>")
    encrypted = block_encrypt(config["WECOM_ENCODING_AES_KEY"], plain.encode("utf-8"), config["WECOM_CORP_ID"])
    nonce = secrets.token_hex(8)
    signature = sha1_signature(config["WECOM_CALLBACK_TOKEN"], now, nonce, encrypted)
    return (f"<xml><Encrypt>{_cdata(encrypted)}</Encrypt><MsgSignature>{_cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{now}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>")
