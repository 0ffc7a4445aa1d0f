"""API tokens: only a signed-in person makes them, read-only ones only read, and their use is noted apart."""
import re
import threading
import time

from sqlalchemy import func, select

from minutes.actions import feeds
from minutes.actions.models import CalendarFeed
from minutes.api.models import ApiToken
from minutes.extensions import db, write_intent
from minutes.meetings.models import Meeting
from tests.api.conftest import ApiClient
from tests.api.test_api import new_meeting_body


def _token_count():
    return db.session.scalar(select(func.count()).select_from(ApiToken))


def test_a_bearer_token_cannot_create_tokens(client, make_user, api_as):
    api = api_as(make_user("zhaomin", dept="客服部"))
    status, body = api.post("/tokens", {"name": "后门"})
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert "不能用 API 令牌创建新令牌" in body["error"]["message"] and "个人设置" in body["error"]["message"]
    status, body = api.post("/tokens", {"name": 5})  # refused as a token before the body is even read
    assert status == 403
    assert _token_count() == 1


def test_a_signed_in_browser_creates_tokens_through_the_api(app, client, login_as, make_user):
    assert client.post("/api/v1/tokens", json={"name": "脚本"}).status_code == 401  # neither token nor session
    login_as(make_user("zhaomin", dept="客服部"))
    r = client.post("/api/v1/tokens", json={"name": "报表", "read_only": True})
    assert r.status_code == 201, r.get_data(as_text=True)
    created = r.get_json()
    assert created["read_only"] is True and created["token"].startswith("mnt_")
    assert db.session.get(ApiToken, created["id"]).read_only
    r = client.post("/api/v1/tokens", json={"name": "同步"})
    assert r.status_code == 201 and r.get_json()["read_only"] is False
    # the session still authenticates nothing else
    assert client.get("/api/v1/me").status_code == 401


def test_creating_a_token_with_the_session_needs_the_csrf_token(app, client, login_as, make_user):
    login_as(make_user("zhaomin", dept="客服部"))
    app.config["WTF_CSRF_ENABLED"] = True
    r = client.post("/api/v1/tokens", json={"name": "报表"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf"
    assert _token_count() == 0
    html = client.get("/profile").get_data(as_text=True)
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    assert client.post("/api/v1/tokens", json={"name": "报表"}, headers={"X-CSRFToken": csrf}).status_code == 201


def test_a_read_only_token_reads_and_is_refused_every_change(client, make_user, token_for):
    from minutes.api import service as tokens

    user = make_user("zhaomin", dept="客服部")
    _row, plaintext = tokens.create_token(user, "报表", read_only=True)
    db.session.commit()
    api = ApiClient(client, plaintext)
    assert api.get("/me")[0] == 200
    assert api.get("/meetings")[0] == 200
    assert client.head("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 200
    status, body = api.post("/meetings", new_meeting_body())
    assert status == 403 and "只读令牌" in body["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0
    writable = ApiClient(client, token_for(user))
    status, meeting = writable.post("/meetings", new_meeting_body())
    assert status == 201
    assert api.patch(f"/meetings/{meeting['id']}", {"topic": "改名"})[0] == 403
    assert api.delete(f"/tokens/{_row.id}")[0] == 403
    assert db.session.get(Meeting, meeting["id"]).topic == "解决客户投诉处理流程卡点"


def test_the_cli_issues_read_only_tokens(runner, make_user, client):
    make_user("zhaomin", dept="客服部")
    result = runner.invoke(args=["minutes", "token", "zhaomin", "--name", "报表", "--read-only"])
    assert result.exit_code == 0 and "只读令牌" in result.output, result.output
    token = result.output.strip().splitlines()[-1]
    assert db.session.scalar(select(ApiToken.read_only)) is True
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/meetings", json=new_meeting_body(), headers=headers).status_code == 403


def test_the_settings_page_creates_read_only_tokens_and_shows_the_scope(client, login_as, make_user):
    login_as(make_user("zhaomin", dept="客服部"))
    page = client.post("/profile/tokens", data={"name": "报表", "read_only": "1"}).get_data(as_text=True)
    token = re.search(r'id="new-token">(mnt_[^<]+)<', page).group(1)
    client.post("/profile/tokens", data={"name": "同步"})
    assert client.post("/api/v1/meetings", json=new_meeting_body(),
                       headers={"Authorization": f"Bearer {token}"}).status_code == 403
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>.*?</tr>", client.get("/profile").get_data(as_text=True), re.S)
    assert rows == ["同步", "报表"]
    listing = client.get("/profile").get_data(as_text=True)
    assert re.search(r"<td>报表</td>.*?只读", listing, re.S) and re.search(r"<td>同步</td>.*?读写", listing, re.S)
    # a refused form keeps what was typed, the read-only box too
    bad = client.post("/profile/tokens", data={"name": " ", "read_only": "1"})
    assert bad.status_code == 422
    assert re.search(r'name="read_only" value="1" checked', bad.get_data(as_text=True))


def test_the_openapi_document_describes_read_only_and_the_session(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    create = doc["paths"]["/tokens"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["read_only"]["type"] == "boolean"
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["properties"]["read_only"]
    assert create["security"] == [{"session": []}] and "session" in doc["components"]["securitySchemes"]
    assert doc["paths"]["/me"]["get"]["security"] == [{"bearer": []}]


def test_a_token_use_is_noted_at_most_once_a_minute(client, make_user, token_for, clock):
    clock(2026, 6, 15, 9, 0)
    api = ApiClient(client, token_for(make_user("zhaomin", dept="客服部")))
    assert db.session.scalar(select(ApiToken.last_used_at)) is None
    assert api.get("/me")[0] == 200
    first = db.session.scalar(select(ApiToken.last_used_at))
    assert first is not None
    clock(2026, 6, 15, 9, 0, 50)
    assert api.get("/me")[0] == 200
    assert db.session.scalar(select(ApiToken.last_used_at)) == first
    at = clock(2026, 6, 15, 9, 1, 1)
    assert api.get("/me")[0] == 200
    assert db.session.scalar(select(ApiToken.last_used_at)) == at


def test_a_calendar_feed_use_is_noted_at_most_once_a_minute(client, make_user, clock):
    clock(2026, 6, 15, 9, 0)
    user = make_user("zhaomin", dept="客服部")
    url = f"/calendar/{feeds.issue_calendar_token(user)}.ics"
    db.session.commit()
    assert client.get(url).status_code == 200
    first = db.session.scalar(select(CalendarFeed.last_used_at))
    assert first is not None
    clock(2026, 6, 15, 9, 0, 30)
    assert client.get(url).status_code == 200
    assert db.session.scalar(select(CalendarFeed.last_used_at)) == first
    at = clock(2026, 6, 15, 9, 2)
    assert client.get(url).status_code == 200
    assert db.session.scalar(select(CalendarFeed.last_used_at)) == at


def test_a_read_is_answered_while_another_connection_writes_and_its_use_is_noted_after(app, client, make_user,
                                                                                        token_for):
    api = ApiClient(client, token_for(make_user("zhaomin", dept="客服部")))
    held, done = threading.Event(), threading.Event()

    def hold_the_write_lock():
        write_intent.set(True)  # this thread's own context: SQLite begins with BEGIN IMMEDIATE
        with app.app_context(), db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("LOCK TABLE api_token IN EXCLUSIVE MODE")  # reads pass, writes wait
            else:
                conn.exec_driver_sql("UPDATE department SET name = name")
            held.set()
            time.sleep(0.5)
            done.set()
            conn.commit()

    holder = threading.Thread(target=hold_the_write_lock, daemon=True)
    holder.start()
    assert held.wait(10)
    status, body = api.get("/me")
    assert status == 200, body  # the read never fails for a writer (it did: 500 "database is locked")
    assert done.is_set()  # the use was noted after the read, waiting for the writer like any write
    holder.join(10)
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None
