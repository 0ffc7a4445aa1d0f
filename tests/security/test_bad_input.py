"""Input no person types (NUL, lone surrogates, runaway JSON, header injection) gets a 4xx with a message, not a 500."""
import pytest

from minutes.api import service as tokens
from minutes.extensions import db
from minutes.meetings.models import AgendaItem, Meeting
from minutes.people.models import User
from tests.conftest import PASSWORD

DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def token(app, make_user):
    user = make_user("zhangsan", "张三", dept="技术部")
    _token, plaintext = tokens.create_token(user, "测试")
    db.session.commit()
    return plaintext


def _api(client, method, path, token, body: str):
    return client.open("/api/v1" + path, method=method, data=body.encode("utf-8", "surrogatepass"),
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})


def test_deeply_nested_json_refused_by_the_api(client, token):
    response = _api(client, "POST", "/meetings", token, DEEP_JSON)
    assert response.status_code == 400
    assert "嵌套层数过多" in response.get_json()["error"]["message"]
    assert db.session.query(Meeting).count() == 0


def test_json_nested_past_the_limit_refused_before_the_schema_reads_it(client, token):
    response = _api(client, "POST", "/meetings", token, '{"topic": ' + "[" * 40 + "]" * 40 + "}")
    assert response.status_code == 400
    assert "嵌套层数过多" in response.get_json()["error"]["message"]


def test_deeply_nested_json_refused_by_a_page(client, make_user, login_as):
    login_as(make_user("lisi", "李四"))
    response = client.post("/meetings/new", data=DEEP_JSON, content_type="application/json")
    assert response.status_code == 400
    assert "嵌套层数过多" in response.get_data(as_text=True)


def test_lone_surrogate_in_a_json_title_refused(client, token, make_meeting):
    meeting = make_meeting(db.session.query(User).one())
    response = _api(client, "POST", f"/meetings/{meeting.id}/agenda", token, '{"title": "议题\\ud800", "minutes": 10}')
    assert response.status_code == 400
    assert "代理字符" in response.get_json()["error"]["message"]
    assert db.session.query(AgendaItem).count() == 0


def test_nul_in_the_query_string_refused(client, token, make_user, login_as):
    response = client.get("/api/v1/search?q=a%00b", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert "NUL" in response.get_json()["error"]["message"]
    login_as(make_user("lisi", "李四"))
    response = client.get("/archive/search?q=a%00b")
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_nul_in_a_read_header_refused(client, token):
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}\x00"})
    assert response.status_code == 400
    assert "NUL" in response.get_json()["error"]["message"]


def test_row_id_beyond_the_database_integer_is_not_found(client, token):
    response = client.get("/api/v1/meetings/99999999999999999999", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    assert response.get_json()["error"]["message"]


@pytest.mark.parametrize("target", ["/%0D%0ASet-Cookie%3Ax%3D1", "%2F%0D%0ASet-Cookie%3Ax%3D1",
                                    "/%09/evil.example", "//evil.example", "/%5Cevil.example",
                                    "https://evil.example/", "javascript:alert(1)"])
def test_login_with_an_unsafe_next_lands_on_the_dashboard(client, make_user, target):
    make_user("lisi", "李四")
    response = client.post(f"/login?next={target}", data={"username": "lisi", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Set-Cookie: x" not in str(response.headers)
    assert client.get("/").status_code == 200


def test_login_follows_a_local_next(client, make_user):
    make_user("lisi", "李四")
    response = client.post("/login?next=%2Factions%3Fstatus%3Dopen", data={"username": "lisi", "password": PASSWORD})
    assert response.headers["Location"] == "/actions?status=open"
