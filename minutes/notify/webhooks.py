"""Group robots by webhook: 钉钉自定义机器人, 企业微信群机器人, 飞书自定义机器人.

Each vendor takes a JSON POST and answers 200 with its own error code in the body. Signatures
follow the vendors' published algorithms:

- 钉钉 (加签): string_to_sign = timestamp_ms + "\\n" + secret; sign = urlencode(base64(HMAC-SHA256(
  key=secret, msg=string_to_sign))); both go into the URL as `timestamp` and `sign`.
- 飞书 (签名校验): string_to_sign = timestamp_s + "\\n" + secret is the HMAC-SHA256 *key*, the message
  is empty; sign = base64(digest); `timestamp` and `sign` go into the JSON body.
- 企业微信: no signature; the `key` in the webhook URL is the credential.

Both vendors refuse a timestamp more than an hour away from their clock, so signing happens at
send time (a retry hours later signs afresh), never when the message is queued.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from flask_babel import gettext

from minutes.core.timefmt import utcnow

TIMEOUT_SECONDS = 10

#: Vendor error codes that mean "too many messages, slow down" (the message is fine: send it later).
THROTTLE_CODES = {
    "dingtalk": {130101},  # send too fast, exceed 20 times per minute (the robot is paused for 10 minutes)
    "wecom": {45009},  # api freq out of limit
    "feishu": {11232},  # frequency limited
}
#: How long a throttled robot rests before the next try.
THROTTLE_PAUSE_SECONDS = {"dingtalk": 600, "wecom": 60, "feishu": 60}
#: Messages per minute each platform accepts from one robot.
DEFAULT_PER_MINUTE = {"dingtalk": 20, "wecom": 20, "feishu": 100}
#: Platforms that also limit per second (飞书: 5 a second).
PER_SECOND = {"feishu": 5}
#: For paced platforms, at most this many posts per robot per minute, so a delivery run stays short
#: (10 posts at 5 a second: about one second). The tick runs every minute; the rest waits in the queue.
PACED_PER_MINUTE = {"feishu": 10}


class WebhookError(Exception):
    """The robot did not take the message; `throttled` when it only asked us to slow down."""

    def __init__(self, message: str, throttled: bool = False, connection: bool = False):
        super().__init__(message)
        self.throttled = throttled
        #: The server could not be reached at all: the robot's other messages need not be tried now.
        self.connection = connection


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """Return DingTalk's `sign` query value (already URL-encoded)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Return Feishu's `sign` body value: HMAC-SHA256 keyed by timestamp + "\\n" + secret over nothing."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


@dataclass
class Post:
    """What to send: a title, Markdown-ish text lines and a link back to the app."""

    title: str
    text: str
    link: str = ""


def build_request(vendor: str, url: str, secret: str, post: Post, now_ms: int | None = None) -> tuple[str, bytes]:
    """Return the URL to POST to and the JSON body, signed for the vendor."""
    now_ms = now_ms if now_ms is not None else int(utcnow().timestamp() * 1000)
    more = gettext("查看详情")
    link_line = f"\n\n[{more}]({post.link})" if post.link else ""
    if vendor == "dingtalk":
        body = {"msgtype": "markdown", "markdown": {"title": post.title, "text": f"#### {post.title}\n\n{post.text}{link_line}"}}
        if secret:
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={now_ms}&sign={dingtalk_sign(secret, now_ms)}"
    elif vendor == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": f"**{post.title}**\n{post.text}{link_line}"}}
    elif vendor == "feishu":
        lines = [[{"tag": "text", "text": line}] for line in post.text.replace("**", "").splitlines()]
        if post.link:
            lines.append([{"tag": "a", "text": more, "href": post.link}])
        body = {"msg_type": "post", "content": {"post": {"zh_cn": {"title": post.title, "content": lines}}}}
        if secret:
            ts = now_ms // 1000
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
    else:
        raise WebhookError(gettext("不支持的机器人类型：%(vendor)s", vendor=vendor))
    return url, json.dumps(body, ensure_ascii=False).encode()


def post(vendor: str, url: str, secret: str, message: Post) -> None:
    """Post one message; raise WebhookError unless the vendor says it was accepted."""
    target, body = build_request(vendor, url, secret, message)
    if not target.lower().startswith(("https://", "http://")):  # checked when saved; never file: or ftp:
        raise WebhookError(gettext("机器人地址须以 https:// 或 http:// 开头"))
    request = urllib.request.Request(target, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        # bandit B310: an admin-set http(s) URL (scheme checked above)
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
            raw = response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"HTTP {exc.code} {exc.reason}", throttled=exc.code == 429) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(gettext("无法连接机器人服务器：%(reason)s", reason=reason), connection=True) from None
    try:
        answer = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookError(gettext("机器人服务器返回了无法识别的内容：%(raw)s", raw=repr(raw[:200]))) from None
    if vendor == "feishu":
        code = answer.get("code", answer.get("StatusCode", 0))
        text = answer.get("msg", answer.get("StatusMessage", ""))
    else:
        code, text = answer.get("errcode", 0), answer.get("errmsg", "")
    if code not in (0, None):
        raise WebhookError(f"{code}: {text}", throttled=code in THROTTLE_CODES.get(vendor, ()))
