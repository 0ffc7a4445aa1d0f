"""A loopback server speaking the OpenAI chat-completions protocol with `stream: true` (`data: {...}` chunks, then
`data: [DONE]`), answering what a test sets; and a good answer about tests/transcripts/samples/feishu_30min.txt."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD = {
    "summary": "会议确定工作日升级投诉由技术部1个工作日内初步答复；产品部牵头整理支付回调超时的处理口径。",
    "entries": [
        {"kind": "decision", "text": "工作日的升级投诉由技术部在1个工作日内给出初步答复，周末顺延",
         "owner": "", "departments": ["技术部"], "due": "", "agenda_item": 1, "lines": [12]},
        {"kind": "action", "text": "刘洋牵头整理支付回调超时的处理口径", "owner": "刘洋", "departments": ["技术部"],
         "due": "6月30日前", "agenda_item": 1, "lines": [13, 14]},
        {"kind": "action", "text": "张伟排查升级工单信息不全的原因", "owner": "张伟", "departments": [],
         "due": "尽快", "agenda_item": 1, "lines": [3]},
        {"kind": "dispute", "text": "技术部认为24小时内答复做不到；客服部认为客户等不了三天", "owner": None,
         "departments": ["技术部", "客服部"], "due": None, "agenda_item": 1, "lines": [5, 6]},
        {"kind": "point", "text": "一半以上的升级单是支付回调超时，应先做成知识库", "owner": "刘洋",
         "departments": [], "due": "", "agenda_item": None, "lines": [7]},
    ],
}


class ChatServer:
    """A loopback server speaking `POST /v1/chat/completions` with `stream: true`, answering what the test sets."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answer = json.dumps(GOOD, ensure_ascii=False)
        self.finish_reason = "stop"
        self.delay = 0.0
        self.chunk = 40
        self.chunk_delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body,
                                        "authorization": self.headers.get("Authorization")})
                if server.delay:
                    time.sleep(server.delay)
                if self.path != "/v1/chat/completions" or not body.get("stream"):
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                text = server.answer
                for start in range(0, len(text), server.chunk):
                    self._send({"content": text[start:start + server.chunk]}, None)
                    time.sleep(server.chunk_delay)
                self._send({}, server.finish_reason)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _send(self, delta, finish_reason):
                chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1780000000,
                         "model": body_model(server), "choices": [{"index": 0, "delta": delta,
                                                                   "finish_reason": finish_reason}]}
                self.wfile.write(b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n")
                self.wfile.flush()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def body_model(server):
    return server.requests[-1]["body"]["model"] if server.requests else ""
