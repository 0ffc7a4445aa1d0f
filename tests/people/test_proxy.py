"""Behind nginx (TRUSTED_PROXIES=1) the client's address comes from X-Forwarded-For; without it the header is ignored.

The login throttle counts failures per address: behind a proxy that did not pass the client's address
on, every user would share the proxy's address and 30 mistyped passwords anywhere would lock the whole
company out; believing the header without a proxy would let anyone dodge the limit.
"""
import pytest

from minutes import create_app
from tests.conftest import PASSWORD


@pytest.fixture
def app_behind(app):
    """app_behind(proxies): another app on the same database, with its own limits."""
    made = []

    def make(proxies):
        other = create_app({"TESTING": True, "SECRET_KEY": "proxy-test", "REDIS_URL": None,
                            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                            "WTF_CSRF_ENABLED": False, "TRUSTED_PROXIES": proxies,
                            "LOGIN_MAX_FAILURES_PER_ADDRESS": 2, "LOGIN_MAX_FAILURES_PER_ACCOUNT": 100})
        made.append(other)
        return other.test_client()

    yield make
    from minutes.extensions import db
    from minutes.room.live import broker

    for other in made:
        broker(other).close()
        with other.app_context():
            db.engine.dispose()


def _login(client, username, password, address):
    return client.post("/login", data={"username": username, "password": password},
                       headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "https"})


def test_behind_a_proxy_each_client_address_has_its_own_limit(app_behind, make_user):
    make_user("zhangsan")
    client = app_behind(1)
    for _ in range(2):
        assert _login(client, "zhangsan", "wrong", "10.1.0.7").status_code == 400
    refused = _login(client, "zhangsan", PASSWORD, "10.1.0.7")
    assert refused.status_code == 429 and "尝试次数过多" in refused.get_data(as_text=True)
    elsewhere = _login(client, "zhangsan", PASSWORD, "10.1.0.8")  # a colleague's machine
    assert elsewhere.status_code == 302


def test_without_a_proxy_a_forged_forwarded_for_does_not_escape_the_limit(app_behind, make_user):
    make_user("zhangsan")
    client = app_behind(0)
    assert _login(client, "zhangsan", "wrong", "10.1.0.7").status_code == 400
    assert _login(client, "zhangsan", "wrong", "10.1.0.8").status_code == 400
    refused = _login(client, "zhangsan", PASSWORD, "10.1.0.9")
    assert refused.status_code == 429 and "尝试次数过多" in refused.get_data(as_text=True)
