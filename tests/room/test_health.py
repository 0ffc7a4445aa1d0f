"""/healthz: 200 when the database and the room broker answer, 503 naming what failed, and fast either way."""
import time

import pytest

from minutes.room import live
from tests.server import free_port


@pytest.fixture
def use_broker(app):
    """use_broker(redis_url or None): the app's room broker for this test."""
    saved = app.extensions[live.EXTENSION_KEY]
    made = []

    def install(url):
        hub = live.make_room_broker(app, url)
        made.append(hub)
        app.extensions[live.EXTENSION_KEY] = hub
        return hub

    yield install
    for hub in made:
        hub.close()
    app.extensions[live.EXTENSION_KEY] = saved


def test_health_with_the_in_process_broker_needs_no_login(client, use_broker):
    use_broker(None)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "failed": [], "database": "ok", "broker": "ok",
                             "broker_kind": "in-process"}
    assert response.headers["Cache-Control"] == "no-store"


def test_health_pings_redis_when_it_is_the_broker(client, use_broker, redis_url):
    use_broker(redis_url)
    response = client.get("/healthz")
    assert response.status_code == 200, response.json
    assert response.json["broker"] == "ok" and response.json["broker_kind"] == "redis"


def test_health_is_503_and_names_the_broker_when_redis_is_unreachable(client, use_broker):
    use_broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json["status"] == "unavailable" and response.json["failed"] == ["broker"]
    assert response.json["database"] == "ok"
    assert response.json["broker"].startswith("Redis 无法连接")
    assert elapsed < 2.0, f"/healthz took {elapsed:.1f}s with Redis down"


def test_health_answers_fast_when_redis_does_not_answer_at_all(client, use_broker):
    """A Redis that accepts the connection but never replies: the short socket timeout ends the wait."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        use_broker(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503 and response.json["failed"] == ["broker"]
    assert elapsed < 3.0, f"/healthz took {elapsed:.1f}s with a silent Redis"


def test_health_is_503_and_names_the_database_when_it_is_unreachable(tmp_path):
    from minutes import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "health-test", "REDIS_URL": None,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing-directory/minutes.sqlite3"})
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.extensions[live.EXTENSION_KEY].close()
    assert response.status_code == 503
    assert response.json["failed"] == ["database"] and response.json["broker"] == "ok"
    assert response.json["database"].startswith("数据库无法连接")
