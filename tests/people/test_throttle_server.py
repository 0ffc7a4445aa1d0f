"""Login throttling through the production server: two hosts (gunicorn, one worker each) and no Redis, both databases.

Bursts of concurrent wrong passwords must not get more password checks than the limit (the count is
shared by every worker and taken before the hash is checked); an attacker's failures from one address
must not lock the real user out of the addresses they use; an office behind one address logs in.
Checks are counted by their answers: only a checked wrong password says 用户名或密码错误.
"""
import re
import threading

import pytest

from minutes.extensions import db
from tests.conftest import PASSWORD
from tests.server import Gunicorn, HttpClient

pytestmark = pytest.mark.serial

LIMIT = 5  # LOGIN_MAX_FAILURES_PER_ACCOUNT's default: failures per account and address


class TwoHosts:
    """Two servers on one database, as the several-hosts set-up runs them; `port` alternates between them.

    Without REDIS_URL one host runs one worker (gunicorn.conf.py refuses more), so two hosts are how two
    processes count logins side by side here: the count must be shared through the database.
    """

    def __init__(self, hosts):
        self.hosts = hosts
        self._next = 0
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        with self._lock:
            self._next += 1
            return self.hosts[self._next % len(self.hosts)].port


@pytest.fixture
def server(app, tmp_path):
    db.session.commit()  # and hold no snapshot open while the server writes
    # a small pool: a burst queues for connections instead of opening forty at once on a busy shared server
    # (PostgreSQL: connection timeouts); the counting transactions still run side by side
    url = db.engine.url.render_as_string(hide_password=False)
    env = {"TRUSTED_PROXIES": "1", "DATABASE_POOL_SIZE": "4", "DATABASE_MAX_OVERFLOW": "4"}
    with Gunicorn(url, tmp_path / "a.log", **env) as first, Gunicorn(url, tmp_path / "b.log", **env) as second:
        assert "REDIS_URL" not in first.env and "REDIS_URL" not in second.env
        yield TwoHosts([first, second])


class Attempt:
    """One login through the form from `address` (X-Forwarded-For, believed with TRUSTED_PROXIES=1)."""

    def __init__(self, port: int, username: str, password: str, address: str):
        self.browser = HttpClient(port)
        self.username, self.password = username, password
        self.headers = {"X-Forwarded-For": address}
        _, html = self.browser.request("GET", "/login", headers=self.headers)
        self.token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        self.status, self.html = None, ""

    def send(self) -> "Attempt":
        self.status, self.html = self.browser.request(
            "POST", "/login", {"csrf_token": self.token, "username": self.username, "password": self.password},
            headers=self.headers, timeout=60)
        return self

    @property
    def message(self) -> str:
        found = re.search(r'role="alert">([^<]*)<', self.html)
        return found.group(1) if found else self.html[-300:]

    @property
    def outcome(self) -> str:
        if self.status == 302:
            return "in"
        if "用户名或密码错误" in self.html:
            return "checked"
        if "次数过多" in self.html:
            return "throttled"
        return f"other {self.status}"


def burst(attempts: list[Attempt]) -> dict[str, int]:
    """Send every attempt at the same moment; count the outcomes."""
    gate = threading.Barrier(len(attempts))

    def go(attempt):
        gate.wait()
        attempt.send()

    threads = [threading.Thread(target=go, args=(a,)) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    counts: dict[str, int] = {}
    for attempt in attempts:
        counts[attempt.outcome] = counts.get(attempt.outcome, 0) + 1
    return counts


def login(server, username, password, address) -> Attempt:
    return Attempt(server.port, username, password, address).send()


@pytest.mark.parametrize("size", [20, 40])
def test_a_burst_of_wrong_passwords_gets_at_most_the_limit_checked(server, make_user, size):
    make_user("victim", dept="客服部")
    attempts = [Attempt(server.port, "victim", f"guess-{n}", "10.66.0.9") for n in range(size)]
    attempts.append(Attempt(server.port, "victim", PASSWORD, "10.66.0.9"))  # a right one in the burst
    counts = burst(attempts)
    print(f"\nburst of {size} wrong + 1 right from one address: {counts}")
    assert set(counts) <= {"checked", "throttled", "in"}, counts
    assert counts.get("checked", 0) <= LIMIT and counts.get("in", 0) <= 1, counts
    throttled = [a for a in attempts if a.outcome == "throttled"]
    assert throttled and all(a.status == 429 for a in throttled)
    assert re.fullmatch(r"尝试次数过多，请 1[45] 分钟后再试", throttled[0].message), throttled[0].message
    if counts.get("in"):
        return  # the right password came among the first checks: the account is the attacker's guess anyway
    again = login(server, "victim", PASSWORD, "10.66.0.9")
    assert again.outcome == "throttled" and again.status == 429
    elsewhere = login(server, "victim", PASSWORD, "10.67.0.1")  # a new address: the account backs off
    assert elsewhere.outcome == "throttled" and elsewhere.status == 429


def test_an_attacker_elsewhere_does_not_lock_the_user_out_of_their_usual_address(server, make_user):
    make_user("zhaomin", dept="客服部")
    assert login(server, "zhaomin", PASSWORD, "10.1.0.5").outcome == "in"  # her desk
    counts = {}
    for _ in range(5):
        for outcome, n in burst([Attempt(server.port, "zhaomin", f"guess-{n}", "10.66.0.9")
                                 for n in range(10)]).items():
            counts[outcome] = counts.get(outcome, 0) + n
    print(f"\nattacker's 50 wrong passwords from another address: {counts}")
    assert counts.get("checked", 0) <= LIMIT and counts.get("in", 0) == 0, counts
    assert login(server, "zhaomin", PASSWORD, "10.66.0.9").outcome == "throttled"
    assert login(server, "zhaomin", PASSWORD, "10.66.0.10").outcome == "throttled"  # unfamiliar address
    assert login(server, "zhaomin", PASSWORD, "10.1.0.5").outcome == "in"  # the real user, from her desk
    assert login(server, "zhaomin", "mistyped", "10.1.0.5").outcome == "checked"  # her own typo is checked


def test_an_office_behind_one_address_logs_in(server, make_user):
    office = "10.2.0.1"
    staff = [make_user(f"staff{n:02d}", dept="销售部").username for n in range(30)]
    first = burst([Attempt(server.port, username, PASSWORD, office) for username in staff])
    assert first == {"in": 30}, first
    # someone in the office sprays wrong passwords over many accounts: more than the address allows
    spray = burst([Attempt(server.port, f"guess{n:02d}", "wrong-password", office) for n in range(40)])
    print(f"\nspray of 40 wrong passwords over 40 accounts from the office: {spray}")
    assert spray.get("checked", 0) <= 30 and spray.get("throttled", 0) >= 10, spray
    again = burst([Attempt(server.port, username, PASSWORD, office) for username in staff])
    assert again == {"in": 30}, again  # everybody who logged in here before still does
