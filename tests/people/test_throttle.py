"""Login throttling rules (people/throttle.py) through the login form; the concurrency is in test_throttle_server.py."""
from datetime import timedelta

from sqlalchemy import func, select

from minutes.audit.models import AuditEntry
from minutes.core import timefmt
from minutes.extensions import db
from minutes.people.models import LoginCounter
from tests.conftest import PASSWORD


def attempt(client, username, password, address):
    response = client.post("/login", data={"username": username, "password": password},
                           environ_base={"REMOTE_ADDR": address})
    html = response.get_data(as_text=True)
    if response.status_code == 302:
        return "in"
    if "用户名或密码错误" in html:
        return "checked"
    assert response.status_code == 429, html[-500:]
    return html.split('role="alert">', 1)[1].split("<", 1)[0]


def test_the_account_backs_off_longer_each_round_for_unfamiliar_addresses(app, clock, make_user):
    make_user("zhaomin")
    start = clock(2026, 6, 1, 9, 0)
    client = app.test_client()
    for n in range(5):  # five different addresses: no pair reaches its limit, the account does
        assert attempt(client, "zhaomin", "wrong", f"10.9.0.{n}") == "checked"
    assert attempt(client, "zhaomin", PASSWORD, "10.9.1.1") == "尝试次数过多，请 15 分钟后再试"
    timefmt.freeze(start + timedelta(minutes=16))
    for n in range(5):
        assert attempt(client, "zhaomin", "wrong", f"10.9.2.{n}") == "checked"
    assert attempt(client, "zhaomin", PASSWORD, "10.9.1.1") == "尝试次数过多，请 30 分钟后再试"
    timefmt.freeze(start + timedelta(minutes=16 + 31))
    assert attempt(client, "zhaomin", PASSWORD, "10.9.1.1") == "in"


def test_the_users_familiar_address_passes_the_back_off(app, clock, make_user):
    make_user("zhaomin")
    clock(2026, 6, 1, 9, 0)
    client = app.test_client()
    assert attempt(client, "zhaomin", PASSWORD, "10.1.0.5") == "in"
    client.post("/logout")
    for n in range(12):
        attempt(client, "zhaomin", "wrong", f"10.9.0.{n}")
    assert attempt(client, "zhaomin", PASSWORD, "10.9.9.9").startswith("尝试次数过多")
    assert attempt(client, "zhaomin", PASSWORD, "10.1.0.5") == "in"


def test_a_right_password_takes_back_only_its_own_count(app, clock, make_user):
    make_user("zhaomin")
    clock(2026, 6, 1, 9, 0)
    client = app.test_client()
    for _ in range(4):
        assert attempt(client, "zhaomin", "wrong", "10.1.0.5") == "checked"
    assert attempt(client, "zhaomin", PASSWORD, "10.1.0.5") == "in"
    client.post("/logout")
    assert attempt(client, "zhaomin", "wrong", "10.1.0.5") == "checked"  # the fifth failure in the window
    assert attempt(client, "zhaomin", PASSWORD, "10.1.0.5") == "尝试次数过多，请 15 分钟后再试"


def test_refused_attempts_are_in_the_audit_log(app, client, clock, make_user, login_as):
    admin = make_user("admin", admin=True)
    victim = make_user("zhaomin")
    clock(2026, 6, 1, 9, 0)
    attacker = app.test_client()
    for _ in range(7):
        attempt(attacker, "zhaomin", "wrong", "10.66.0.9")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "throttled")).all()
    assert len(entries) == 2
    assert entries[0].entity == "login" and entries[0].entity_id == victim.id
    assert entries[0].actor_label == "10.66.0.9"
    assert entries[0].changes == {"username": "zhaomin", "address": "10.66.0.9", "rules": ["pair", "account"],
                                  "minutes": 15}
    login_as(admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "拒绝登录" in html and "用户名 zhaomin，地址 10.66.0.9，15 分钟内不再受理：" in html


def test_expired_counters_are_deleted_when_attempts_are_counted(app, clock, make_user):
    start = clock(2026, 6, 1, 9, 0)
    client = app.test_client()
    for n in range(20):
        attempt(client, f"guess{n}", "wrong", f"10.9.0.{n}")
    assert db.session.scalar(select(func.count()).select_from(LoginCounter)) == 60
    timefmt.freeze(start + timedelta(hours=25))  # past every window and the back-off's memory
    attempt(client, "someone", "wrong", "10.9.9.9")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LoginCounter)) == 3
