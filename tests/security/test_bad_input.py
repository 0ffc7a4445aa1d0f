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


def test_method_not_allowed_names_the_allowed_methods(client, token, make_user, login_as):
    response = client.open("/api/v1/me", method="TRACE", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.get_json()["error"]["message"] == "不支持该请求方法"
    login_as(make_user("lisi", "李四"))
    response = client.delete("/meetings/new")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_api_empty_optional_query_parameters_mean_absent(client, token):
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/actions?due_before=&due_after=&status=", headers=headers).status_code == 200
    assert client.get("/api/v1/search?q=x&from=&to=&kind=", headers=headers).status_code == 200
    assert client.get("/api/v1/meetings?scope=", headers=headers).status_code == 200


def test_api_unknown_scope_refused(client, token):
    response = client.get("/api/v1/meetings?scope=null", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["scope"] == "scope 须为 upcoming 或 past"


def test_api_blank_agenda_title_refused_by_the_schema(client, token, make_meeting):
    meeting = make_meeting(db.session.query(User).one())
    response = _api(client, "POST", f"/meetings/{meeting.id}/agenda", token, '{"title": "   ", "minutes": 10}')
    assert response.status_code == 422
    assert "不能为空白" in response.get_json()["error"]["fields"]["title"]


def test_api_unknown_query_parameter_refused(client, token):
    response = client.get("/api/v1/actions?due=2026-06-30", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "不认识的查询参数：due"
