"""The production server in a test: `gunicorn -c gunicorn.conf.py wsgi:app` on the test database.

`Gunicorn(database_url, log_path, ...)` starts it in its own process group on a free port, waits
for `/healthz`, and can tell its worker pids, SIGKILL them (the master forks new ones) or kill the
whole group. `HttpClient` is a small cookie-keeping client over http.client with a login helper.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
#: gunicorn.conf.py's own functions (default worker count, refusal), for the tests to read, not to copy.
GUNICORN_CONF = runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """The live child processes of `pid` (read from /proc: no psutil here)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: fields after the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


class Gunicorn:
    """One gunicorn master with its workers, run exactly as `make serve` runs it."""

    def __init__(self, database_url: str, log_path: Path, workers: int | None = None, worker_class: str = "gevent",
                 redis_url: str | None = None, **env: str):
        """`workers` None: as many as gunicorn.conf.py starts by default (1 without `redis_url`, 2 with it)."""
        self.port = free_port()
        self.log_path = Path(log_path)
        self.env = dict(os.environ, HOST="127.0.0.1", PORT=str(self.port),
                        GUNICORN_WORKER_CLASS=worker_class, DATABASE_URL=database_url, SECRET_KEY="gunicorn-test-secret",
                        OUTBOX_DELIVER_ON_COMMIT="0", LOG_LEVEL="warning", BASE_URL=f"http://127.0.0.1:{self.port}",
                        ROOM_REDIS_PREFIX=f"minutes:test-room:{self.port}")
        for name in ("REDIS_URL", "GUNICORN_WORKERS", "GUNICORN_CMD_ARGS"):
            self.env.pop(name, None)
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        if workers is not None:
            self.env["GUNICORN_WORKERS"] = str(workers)
        self.env.update(env)
        self.workers_wanted = GUNICORN_CONF["default_workers"](self.env)
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- life cycle
    def start(self, timeout: float = 30.0) -> Gunicorn:
        self._log = open(self.log_path, "a")
        self.proc = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null",
                                      "wsgi:app"], cwd=ROOT, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until /healthz answers 200 (some worker serves); fails with the log if the master died."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.get("/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("gunicorn did not start:\n" + self.log_tail())
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        return children_of(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def wait_workers(self, count: int | None = None, timeout: float = 30.0) -> list[int]:
        """Until `count` workers (default: as many as configured) are forked."""
        count = self.workers_wanted if count is None else count
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) >= count:
                return pids
            time.sleep(0.05)
        raise AssertionError(f"gunicorn has {self.worker_pids()} workers, wanted {count}\n" + self.log_tail())

    def kill_workers(self, pids: list[int]) -> None:
        """SIGKILL some workers: whatever they were doing stops mid-way; the master forks new ones."""
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL the master and every worker at once."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=15)
        self._close_log()

    def stop(self) -> None:
        """Quick shutdown (SIGQUIT: open streams need not drain), SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            self._close_log()
            return
        os.killpg(self.proc.pid, signal.SIGQUIT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- requests
    def get(self, path: str, timeout: float = 10.0, headers: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def api(self, method: str, path: str, token: str, payload=None, timeout: float = 10.0) -> tuple[int, dict]:
        """One JSON API call with a bearer token; (status, decoded body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
            headers = {"Authorization": f"Bearer {token}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, "/api/v1" + path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            return response.status, (json.loads(raw) if raw else {})
        finally:
            conn.close()


class HttpClient:
    """A browser over http.client: keeps cookies, logs in through the form, reads the CSRF token."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 10.0) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            body = urllib.parse.urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, response.read().decode()
        finally:
            conn.close()

    def login(self, username: str, password: str) -> HttpClient:
        _, html = self.request("GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        status, _ = self.request("POST", "/login", {"csrf_token": token, "username": username, "password": password})
        assert status == 302, status
        return self

    def csrf(self, path: str) -> str:
        _, html = self.request("GET", path)
        return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
