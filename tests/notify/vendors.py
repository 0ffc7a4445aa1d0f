"""A real HTTP server on loopback that plays 钉钉, 企业微信 and 飞书 group robots the way the vendors do.

Built from the vendors' published rules, not from our code:
- 钉钉自定义机器人 (POST /robot/send?access_token=T[&timestamp=&sign=]): with 加签 the request must carry
  timestamp (ms, within one hour of the server's clock) and sign = urlencode(base64(HmacSHA256(key=secret,
  msg=timestamp + "\\n" + secret))); more than 20 messages a minute → errcode 130101.
- 企业微信群机器人 (POST /cgi-bin/webhook/send?key=K): the key is the credential; 20 a minute → 45009.
- 飞书自定义机器人 (POST /open-apis/bot/v2/hook/T): with 签名校验 the JSON body carries timestamp (s) and
  sign = base64(HmacSHA256(key=timestamp + "\\n" + secret, msg="")); errors 19021; 100 a minute or
  5 a second (real time) → 11232.

The server's clock is the app's clock (`minutes.core.timefmt.utcnow`), so tests that pin and walk it
see the same minute windows as the vendor would.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from minutes.core import timefmt

LIMITS = {"dingtalk": 20, "wecom": 20, "feishu": 100}


@dataclass
class Robot:
    vendor: str
    token: str
    secret: str = ""
    accepted: list = field(default_factory=list)  #: (time, body) of every message shown in the group
    refused: list = field(default_factory=list)  #: (time, code, reason)
    wall: list = field(default_factory=list)  #: real-clock times of accepted posts (per-second limits)


class FakeRobots:
    """Group robots of all three vendors behind one loopback port; stop() and start() simulate an outage."""

    def __init__(self):
        self.robots: dict[tuple[str, str], Robot] = {}
        self.lock = threading.Lock()
        self.server = None
        self.port = 0
        self.fail_with_500 = False
        self.start()

    # -- lifecycle --
    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, answer = fake.handle(self.path, self.headers.get("Content-Type", ""), raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        """Take the robots offline: connections are refused until start()."""
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- robots --
    def add(self, vendor: str, token: str, secret: str = "") -> str:
        """Create a robot and return its webhook URL as the vendor would show it."""
        self.robots[(vendor, token)] = Robot(vendor, token, secret)
        if vendor == "dingtalk":
            return f"{self.base}/robot/send?access_token={token}"
        if vendor == "wecom":
            return f"{self.base}/cgi-bin/webhook/send?key={token}"
        return f"{self.base}/open-apis/bot/v2/hook/{token}"

    def robot(self, vendor: str, token: str) -> Robot:
        return self.robots[(vendor, token)]

    def texts(self, vendor: str, token: str) -> list[str]:
        """What the group saw, as plain text (title and body), in order."""
        out = []
        for _, body in self.robot(vendor, token).accepted:
            if vendor == "dingtalk":
                out.append(body["markdown"]["text"] if body["msgtype"] == "markdown" else body["text"]["content"])
            elif vendor == "wecom":
                out.append(body["markdown"]["content"] if body["msgtype"] == "markdown" else body["text"]["content"])
            else:
                post = body["content"]["post"]["zh_cn"]
                parts = [post["title"]] + ["".join(el.get("text", "") + el.get("href", "") for el in line)
                                           for line in post["content"]]
                out.append("\n".join(parts))
        return out

    # -- the vendors' rules --
    def handle(self, path: str, content_type: str, raw: bytes):
        if self.fail_with_500:
            return 500, {"error": "internal"}
        url = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(url.query)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, {"errcode": 400, "errmsg": "invalid json"}
        now = timefmt.utcnow()
        with self.lock:
            if url.path == "/robot/send":
                return 200, self._dingtalk(query, body, now)
            if url.path == "/cgi-bin/webhook/send":
                return 200, self._wecom(query, body, now)
            if url.path.startswith("/open-apis/bot/v2/hook/"):
                return 200, self._feishu(url.path.rsplit("/", 1)[-1], body, now)
        return 404, {"errcode": 404, "errmsg": "not found"}

    def _too_fast(self, robot: Robot, now) -> bool:
        window = now - timedelta(seconds=60)
        return sum(1 for at, _ in robot.accepted if at > window) >= LIMITS[robot.vendor]

    def _refuse(self, robot: Robot | None, now, code: int, reason: str, key="errcode", msg="errmsg") -> dict:
        if robot is not None:
            robot.refused.append((now, code, reason))
        return {key: code, msg: reason}

    def _dingtalk(self, query, body, now) -> dict:
        robot = self.robots.get(("dingtalk", (query.get("access_token") or [""])[0]))
        if robot is None:
            return self._refuse(None, now, 300001, "token is not exist")
        if robot.secret:
            timestamp, sign = (query.get("timestamp") or [""])[0], (query.get("sign") or [""])[0]
            if not timestamp.isdigit() or abs(int(timestamp) - int(now.timestamp() * 1000)) > 3600 * 1000:
                return self._refuse(robot, now, 310000, "invalid timestamp")
            expected = base64.b64encode(hmac.new(robot.secret.encode(), f"{timestamp}\n{robot.secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(expected, sign):  # parse_qs already undid the urlencoding
                return self._refuse(robot, now, 310000, "sign not match")
        if body.get("msgtype") not in ("text", "markdown", "link", "actionCard", "feedCard"):
            return self._refuse(robot, now, 40035, "缺少参数 json")
        if body["msgtype"] == "markdown" and not (body["markdown"].get("title") and body["markdown"].get("text")):
            return self._refuse(robot, now, 40035, "缺少参数 markdown")
        if self._too_fast(robot, now):
            return self._refuse(robot, now, 130101, "send too fast, exceed 20 times per minute")
        robot.accepted.append((now, body))
        return {"errcode": 0, "errmsg": "ok"}

    def _wecom(self, query, body, now) -> dict:
        robot = self.robots.get(("wecom", (query.get("key") or [""])[0]))
        if robot is None:
            return self._refuse(None, now, 93000, "invalid webhook url")
        kind = body.get("msgtype")
        if kind not in ("text", "markdown") or not (body.get(kind) or {}).get("content"):
            return self._refuse(robot, now, 40008, "invalid message type")
        if len(body[kind]["content"].encode()) > 4096:
            return self._refuse(robot, now, 40058, "markdown.content exceed max length 4096")
        if self._too_fast(robot, now):
            return self._refuse(robot, now, 45009, "api freq out of limit")
        robot.accepted.append((now, body))
        return {"errcode": 0, "errmsg": "ok"}

    def _feishu(self, token, body, now) -> dict:
        robot = self.robots.get(("feishu", token))
        if robot is None:
            return self._refuse(None, now, 19001, "param invalid: incoming webhook access token invalid", "code", "msg")
        if robot.secret:
            timestamp, sign = str(body.get("timestamp", "")), body.get("sign", "")
            expected = base64.b64encode(hmac.new(f"{timestamp}\n{robot.secret}".encode(), b"",
                                                 hashlib.sha256).digest()).decode()
            if (not timestamp.isdigit() or abs(int(timestamp) - int(now.timestamp())) > 3600
                    or not hmac.compare_digest(expected, sign)):
                return self._refuse(robot, now, 19021, "sign match fail or timestamp is not within one hour from "
                                                        "current time", "code", "msg")
        if body.get("msg_type") not in ("text", "post", "image", "share_chat", "interactive"):
            return self._refuse(robot, now, 9499, "Bad Request", "code", "msg")
        wall = time.monotonic()
        if self._too_fast(robot, now) or sum(1 for t in robot.wall if wall - t < 1.0) >= 5:  # 100/min, 5/s
            return self._refuse(robot, now, 11232, "frequency limited", "code", "msg")
        robot.accepted.append((now, body))
        robot.wall.append(wall)
        return {"code": 0, "msg": "success", "data": {}}


if __name__ == "__main__":  # for bench/tick.py: the vendors in their own process, like the real ones
    import sys
    from datetime import datetime

    config = json.loads(sys.stdin.readline())
    timefmt.freeze(datetime.fromisoformat(config["freeze"]))
    fake = FakeRobots()
    urls = [fake.add(vendor, token, secret) for vendor, token, secret in config["robots"]]
    print(json.dumps({"port": fake.port, "urls": urls}), flush=True)
    for _ in sys.stdin:
        with fake.lock:
            accepted = sum(len(r.accepted) for r in fake.robots.values())
            refused = sum(len(r.refused) for r in fake.robots.values())
        print(accepted, refused, flush=True)
