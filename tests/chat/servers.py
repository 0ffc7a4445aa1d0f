"""The three open platforms' message APIs on loopback, and their callbacks built the way each vendor builds them.

Each server extends the sign-in server of tests/identity/vendor_servers.py (same app credentials, members and
tokens) with the endpoint that sends a person a message as the company's app, refusing what the vendor refuses:
an unknown or missing access token, a person who is not a member, a card that breaks the documented schema.
What was accepted is kept in `.sent` as (receiver, card). The press helpers build the callback the platform
would post when that person presses a button of that card, signed and encrypted the vendor's way: the
encryption here is written from the vendors' documentation, independently of minutes/chat/crypto.py.
"""
import base64
import hashlib
import json
import os
import secrets
import struct
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import jsonify, request

from tests.identity.vendor_servers import DingTalkServer, FeishuServer, WeComServer

FEISHU_ENCRYPT_KEY = "feishu-encrypt-key-7Gq"
FEISHU_VERIFICATION_TOKEN = "feishu-verification-token"
WECOM_TOKEN = "wecom-callback-token"
WECOM_AES_KEY = base64.b64encode(b"0123456789abcdef0123456789ABCDEF").decode().rstrip("=")  # 43 characters


class FeishuChatServer(FeishuServer):
    """+ im/v1/messages (msg_type interactive) with a tenant_access_token."""

    def __init__(self, *args, **kwargs):
        self.sent: list[tuple[str, dict]] = []
        self.sent_times: list[float] = []
        self.delay = 0.0  #: seconds each send takes (a slow day at the vendor)
        super().__init__(*args, **kwargs)

    def reset(self):
        super().reset()
        self.sent.clear()
        self.sent_times.clear()
        self.delay = 0.0

    def routes(self, app):
        super().routes(app)
        server = self

        @app.post("/open-apis/im/v1/messages")
        def send_message():
            if request.headers.get("Authorization", "").removeprefix("Bearer ") not in server.app_tokens:
                return jsonify(code=99991663, msg="Invalid access token for authorization"), 400
            if request.args.get("receive_id_type") != "user_id":
                return jsonify(code=230001, msg="invalid receive_id_type"), 400
            body = request.get_json(silent=True) or {}
            if body.get("receive_id") not in server.members:
                return jsonify(code=230013, msg="Bot has NO availability to this user"), 400
            if body.get("msg_type") != "interactive":
                return jsonify(code=230001, msg="invalid msg_type"), 400
            try:
                card = json.loads(body.get("content") or "")
                problem = feishu_card_problem(card)
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                problem = f"content is not a card: {exc}"
            if problem:
                return jsonify(code=230099, msg=f"Failed to create card content: {problem}"), 400
            time.sleep(server.delay)
            server.sent.append((body["receive_id"], card))
            server.sent_times.append(time.monotonic())
            return jsonify(code=0, msg="success", data={"message_id": "om_" + secrets.token_hex(8),
                                                        "msg_type": "interactive"})

    def press(self, card: dict, label: str, operator: str, option: str | None = None, input_value: str | None = None,
              event_id: str | None = None, timestamp: int | None = None, key: str = FEISHU_ENCRYPT_KEY):
        """(headers, body) of the card.action.trigger callback for pressing `label` (a button's text, or the
        placeholder of a date picker / select / input) on `card`."""
        element = feishu_element(card, label)
        action = {"value": element["value"], "tag": element["tag"], "timezone": "Asia/Shanghai"}
        if option is not None:
            action["option"] = option
        if input_value is not None:
            action["input_value"] = input_value
        event = {"schema": "2.0",
                 "header": {"event_id": event_id or uuid.uuid4().hex, "token": FEISHU_VERIFICATION_TOKEN,
                            "create_time": str(int(time.time() * 1000)), "event_type": "card.action.trigger",
                            "tenant_key": "736588c9260f175d", "app_id": self.app_id},
                 "event": {"operator": {"tenant_key": "736588c9260f175d", "user_id": operator, "open_id": "ou_" + operator,
                                        "union_id": "on_" + operator},
                           "token": "c-" + secrets.token_hex(8), "action": action, "host": "im_message",
                           "context": {"open_message_id": "om_x", "open_chat_id": "oc_x"}}}
        return feishu_signed({"encrypt": feishu_encrypt(json.dumps(event, ensure_ascii=False), key)},
                             timestamp=timestamp, key=key)


def feishu_encrypt(plain: str, key: str) -> str:
    aes_key = hashlib.sha256(key.encode()).digest()
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(data) + encryptor.finalize()).decode()


def feishu_signed(outer: dict, timestamp: int | None = None, key: str = FEISHU_ENCRYPT_KEY):
    body = json.dumps(outer).encode()
    ts, nonce = str(timestamp if timestamp is not None else int(time.time())), secrets.token_hex(8)
    signature = hashlib.sha256((ts + nonce + key).encode() + body).hexdigest()
    headers = {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce, "X-Lark-Signature": signature,
               "Content-Type": "application/json"}
    return headers, body


def feishu_elements(card: dict):
    for element in card["elements"]:
        if element["tag"] == "action":
            yield from element["actions"]
        else:
            yield element


def feishu_element(card: dict, label: str) -> dict:
    for element in feishu_elements(card):
        text = (element.get("text") or element.get("placeholder") or {}).get("content", "")
        if text == label or text.startswith(label):
            return element
    raise AssertionError(f"no {label} on the card: {json.dumps(card, ensure_ascii=False)}")


def feishu_card_text(card: dict) -> str:
    return "\n".join([card["header"]["title"]["content"]] + [e["text"]["content"] for e in card["elements"]
                                                             if e["tag"] == "div"])


def feishu_card_problem(card: dict) -> str | None:
    """What the message card schema (1.0) refuses: a header title, known tags, interactive parts with a value."""
    if not isinstance(card.get("elements"), list) or not card["elements"]:
        return "elements missing"
    if not (card.get("header") or {}).get("title", {}).get("content"):
        return "header.title missing"
    for element in card["elements"]:
        if element.get("tag") not in ("div", "hr", "action", "note", "markdown"):
            return f"unknown tag {element.get('tag')}"
        if element["tag"] == "div" and element["text"]["tag"] not in ("plain_text", "lark_md"):
            return "div text tag"
        for part in element.get("actions", []):
            if part.get("tag") not in ("button", "date_picker", "select_static", "input", "overflow"):
                return f"unknown action tag {part.get('tag')}"
            if part["tag"] == "button" and not part.get("url") and not isinstance(part.get("value"), dict):
                return "button without url or value"
            if part["tag"] == "select_static" and not part.get("options"):
                return "select without options"
    return None


class WeComChatServer(WeComServer):
    """+ cgi-bin/message/send (msgtype template_card, button_interaction) and cgi-bin/message/update_template_card
    (with a one-use response_code: from a send or a callback, within 72 hours) with the app's access_token."""

    def __init__(self, *args, **kwargs):
        self.sent: list[tuple[str, dict]] = []
        self.updates: list[tuple[str, dict]] = []
        self.task_ids: set[str] = set()
        #: response_code → (task_id, userid, issued at, used)
        self.codes: dict[str, list] = {}
        super().__init__(*args, **kwargs)

    def reset(self):
        super().reset()
        self.sent.clear()
        self.updates.clear()

    def issue_code(self, task_id: str, user: str) -> str:
        code = secrets.token_hex(12)
        self.codes[code] = [task_id, user, time.time(), False]
        return code

    def app_call(self):
        """(JSON body, None) of a call made with the app's access_token and agentid, or (None, WeCom's refusal)."""
        if request.args.get("access_token") not in self.app_tokens:
            return None, jsonify(errcode=40014, errmsg="invalid access_token")
        body = request.get_json(silent=True) or {}
        if body.get("agentid") != int(self.agent_id):
            return None, jsonify(errcode=40056, errmsg="invalid agentid")
        return body, None

    def routes(self, app):
        super().routes(app)
        server = self

        @app.post("/cgi-bin/message/send")
        def send_message():
            body, refused = server.app_call()
            if refused:
                return refused
            if body.get("msgtype") != "template_card":
                return jsonify(errcode=40008, errmsg="invalid message type")
            card = body.get("template_card") or {}
            problem = wecom_card_problem(card, kinds=("button_interaction",))
            if problem:
                return jsonify(errcode=40058, errmsg=f"template_card: {problem}")
            task_id = card.get("task_id") or ""
            if task_id in server.task_ids:
                return jsonify(errcode=40058, errmsg="template_card: task_id used")
            if body.get("touser") not in server.members:
                return jsonify(errcode=0, errmsg="ok", invaliduser=body.get("touser"))
            server.task_ids.add(task_id)
            server.sent.append((body["touser"], card))
            return jsonify(errcode=0, errmsg="ok", msgid=secrets.token_hex(8),
                           response_code=server.issue_code(task_id, body["touser"]))

        @app.post("/cgi-bin/message/update_template_card")
        def update_card():
            body, refused = server.app_call()
            if refused:
                return refused
            issued = server.codes.get(body.get("response_code") or "")
            if issued is None or issued[3] or time.time() - issued[2] > 72 * 3600:
                return jsonify(errcode=40125, errmsg="invalid response_code: unknown, used or expired")
            task_id, user = issued[0], issued[1]
            if body.get("userids") != [user]:
                return jsonify(errcode=40031, errmsg="invalid userid list")
            card = body.get("template_card") or {}
            problem = wecom_card_problem(card, kinds=("button_interaction", "multiple_interaction"))
            if problem or card.get("task_id", task_id) != task_id:
                return jsonify(errcode=40058, errmsg=f"template_card: {problem or 'task_id differs'}")
            issued[3] = True
            server.updates.append((user, card))
            return jsonify(errcode=0, errmsg="ok")

    def _posted(self, event: str, timestamp: int | None, nonce: str | None, token: str):
        encrypted = wecom_encrypt(event.encode(), self.corp_id)
        ts, nonce = str(timestamp if timestamp is not None else int(time.time())), nonce or secrets.token_hex(6)
        query = {"msg_signature": sha1_sorted(token, ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
        body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><AgentID><![CDATA[{self.agent_id}]]>"
                f"</AgentID><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        return query, body.encode()

    def _card_event(self, card: dict, operator: str, key: str, extra: str = "") -> str:
        return (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><FromUserName><![CDATA[{operator}]]>"
                f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                f"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{key}]]></EventKey>"
                f"<TaskId><![CDATA[{card['task_id']}]]></TaskId><CardType><![CDATA[{card['card_type']}]]></CardType>"
                f"<ResponseCode><![CDATA[{self.issue_code(card['task_id'], operator)}]]></ResponseCode>{extra}"
                f"<AgentID>{self.agent_id}</AgentID></xml>")

    def press(self, card: dict, label: str, operator: str, timestamp: int | None = None, nonce: str | None = None,
              token: str = WECOM_TOKEN):
        """(query, XML body) of the template_card_event for pressing the button `label` on `card`."""
        button = next(b for b in card["button_list"] if b["text"] == label)
        assert button.get("type", 0) == 0, f"{label} opens a link, it does not call back"
        return self._posted(self._card_event(card, operator, button["key"]), timestamp, nonce, token)

    def submit(self, card: dict, option: str, operator: str, token: str = WECOM_TOKEN):
        """(query, XML body) of submitting a multiple_interaction card with the option whose text (or, when none
        has that text, whose id: a forged one) is `option` chosen in its select list."""
        select = card["select_list"][0]
        chosen = next((o["id"] for o in select["option_list"] if o["text"] == option), option)
        items = (f"<SelectedItems><SelectedItem><QuestionKey><![CDATA[{select['question_key']}]]></QuestionKey>"
                 f"<OptionIds><OptionId><![CDATA[{chosen}]]></OptionId></OptionIds></SelectedItem></SelectedItems>")
        return self._posted(self._card_event(card, operator, card["submit_button"]["key"], items), None, None, token)

    def message(self, operator: str, text: str, msg_id: str | None = None, token: str = WECOM_TOKEN):
        """(query, XML body) of a text message the person sends to the app (接收消息, MsgType text)."""
        content = text.replace("]]>", "]]]]><![CDATA[>")
        event = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><FromUserName><![CDATA[{operator}]]>"
                 f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                 f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or secrets.randbelow(10 ** 18)}</MsgId>"
                 f"<AgentID>{self.agent_id}</AgentID></xml>")
        return self._posted(event, None, None, token)


def wecom_card_problem(card: dict, kinds: tuple[str, ...]) -> str | None:
    """What the template card schema refuses: the card type, a main title, a task_id, and per type the buttons
    (1-6, text and key, a url for a link button) or the select lists (1-3, a question key, 1-10 options with
    unique ids and a text) and the submit button."""
    if card.get("card_type") not in kinds or not (card.get("main_title") or {}).get("title"):
        return "card_type/main_title invalid"
    task_id = card.get("task_id") or ""
    if not task_id or len(task_id) > 128:
        return "task_id missing or too long"
    if card["card_type"] == "button_interaction":
        buttons = card.get("button_list") or []
        if not 1 <= len(buttons) <= 6 or any(not b.get("text") or not b.get("key") for b in buttons) \
                or any(b.get("type") == 1 and not b.get("url") for b in buttons):
            return "button_list invalid"
        return None
    selects = card.get("select_list") or []
    if not 1 <= len(selects) <= 3:
        return "select_list invalid"
    for select in selects:
        options = select.get("option_list") or []
        ids = [o.get("id") for o in options]
        if not select.get("question_key") or not 1 <= len(options) <= 10 or not all(ids) \
                or len(set(ids)) != len(ids) or any(not o.get("text") for o in options):
            return "option_list invalid"
        if select.get("selected_id") and select["selected_id"] not in ids:
            return "selected_id not an option"
    submit = card.get("submit_button") or {}
    if not submit.get("text") or not submit.get("key"):
        return "submit_button invalid"
    return None


def sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wecom_encrypt(message: bytes, receiver: str) -> str:
    key = base64.b64decode(WECOM_AES_KEY + "=")
    plain = os.urandom(16) + struct.pack(">I", len(message)) + message + receiver.encode()
    n = 32 - len(plain) % 32
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain + bytes([n]) * n) + encryptor.finalize()).decode()


def wecom_decrypt(encrypted: str, receiver: str) -> bytes:
    key = base64.b64decode(WECOM_AES_KEY + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    plain = plain[:-plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    assert plain[20 + length:].decode() == receiver
    return plain[20:20 + length]


class DingTalkChatServer(DingTalkServer):
    """+ topapi/message/corpconversation/asyncsend_v2 (工作通知, msgtype action_card) with the app's token."""

    def __init__(self, *args, agent_id="3000001", **kwargs):
        self.agent_id = agent_id
        self.sent: list[tuple[str, dict]] = []
        super().__init__(*args, **kwargs)

    def reset(self):
        super().reset()
        self.sent.clear()

    def routes(self, app):
        super().routes(app)
        server = self

        @app.post("/topapi/message/corpconversation/asyncsend_v2")
        def asyncsend():
            if request.args.get("access_token") not in server.app_tokens:
                return jsonify(errcode=40014, errmsg="不合法的access_token")
            body = request.get_json(silent=True) or {}
            if body.get("agent_id") != int(server.agent_id):
                return jsonify(errcode=40056, errmsg="不合法的agentid")
            users = str(body.get("userid_list") or "").split(",")
            if not users[0] or any(u not in server.members for u in users):
                return jsonify(errcode=33012, errmsg="无效的USERID")
            msg = body.get("msg") or {}
            card = msg.get("action_card") or {}
            buttons = card.get("btn_json_list") or []
            if msg.get("msgtype") != "action_card" or not card.get("title") or not card.get("markdown") \
                    or not buttons or any(not b.get("title") or not b.get("action_url") for b in buttons):
                return jsonify(errcode=40035, errmsg="消息体不合法：action_card")
            for user in users:
                server.sent.append((user, card))
            return jsonify(errcode=0, errmsg="ok", task_id=int(time.time() * 1000) % 10 ** 9, request_id="r")


#: DingTalk's own browser (the iOS client): a link from a work notification opens in it.
DINGTALK_BROWSER = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                                  "(KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.6.0) com.laiwang.DingTalk/34028340"}
IN_APP = "/login/dingtalk/in-app"


def dingtalk_open(client, server, path: str, query: dict, userid: str):
    """Open a work notification's link in DingTalk's browser as the DingTalk member `userid`, not signed in: the
    link sends the browser to 免登 with next= the link, the client hands the page a code for `userid` (issued by
    the loopback server, as requestAuthCode would), the page posts it, and the browser comes back to the link.
    Returns the link's page."""
    first = client.get(path, query_string=query, headers=DINGTALK_BROWSER)
    assert first.status_code == 302, first.get_data(as_text=True)
    target = urlsplit(first.headers["Location"])
    assert target.path == IN_APP
    link = parse_qs(target.query)["next"][0]
    assert urlsplit(link).path == path and {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()} == query
    signed_in = client.post(IN_APP, data={"code": server.issue_code(userid, "in_app"), "next": link},
                            headers=DINGTALK_BROWSER)
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    assert signed_in.headers["Location"].endswith(link)
    return client.get(link, headers=DINGTALK_BROWSER)


def dingtalk_button(card: dict, label: str) -> tuple[str, dict]:
    """(path, query) of the link behind a button of a work notification."""
    url = next(b["action_url"] for b in card["btn_json_list"] if b["title"] == label)
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


if __name__ == "__main__":  # for bench/tick.py --cards: Feishu's message API in its own process, like the real one
    import logging
    import sys

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    config = json.loads(sys.stdin.readline())
    feishu = FeishuChatServer()
    for subject in config["members"]:
        feishu.members[subject] = {"name": subject}
    print(json.dumps({"url": feishu.url, "app_id": feishu.app_id, "app_secret": feishu.app_secret}), flush=True)
    for _ in sys.stdin:  # "?": cards accepted so far, and to how many people
        sent = list(feishu.sent)
        print(len(sent), len({to for to, _card in sent}), flush=True)
