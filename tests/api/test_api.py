"""The JSON API: every endpoint's success, its error classes and the same permissions as the pages."""
from minutes.extensions import db
from minutes.meetings.models import Meeting
from minutes.notify.models import OutboxMessage

from sqlalchemy import func, select


def new_meeting_body(**overrides):
    body = {"topic": "解决客户投诉处理流程卡点", "goal": "明确各环节时限", "expected_outcome": "行动方案",
            "scenario": "problem", "starts_at": "2026-06-15T14:00:00+08:00", "ends_at": "2026-06-15T15:30:00+08:00",
            "location": "301会议室"}
    body.update(overrides)
    return body


def test_me_needs_a_valid_token(client, make_user, api_as):
    api = api_as(make_user("zhaomin", "赵敏", dept="客服部"))
    status, body = api.get("/me")
    assert status == 200 and body["username"] == "zhaomin" and body["department"] == "客服部"
    r = client.get("/api/v1/me")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    status, body = api.get("/me", token="mnt_not-a-real-token")
    assert status == 401 and "令牌" in body["error"]["message"]


def test_session_cookie_does_not_authenticate_the_api(client, login_as, make_user):
    login_as(make_user("zhaomin", dept="客服部"))
    assert client.get("/api/v1/me").status_code == 401


def test_revoked_token_is_refused(client, make_user, token_for):
    from minutes.api.models import ApiToken
    from tests.api.conftest import ApiClient

    user = make_user("zhaomin", dept="客服部")
    api = ApiClient(client, token_for(user))
    second = ApiClient(client, token_for(user, "OA 集成"))
    second_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "OA 集成"))
    assert second.get("/me")[0] == 200
    assert api.delete(f"/tokens/{second_id}")[0] == 200
    assert second.get("/me")[0] == 401


def test_token_is_stored_hashed(app, make_user, token_for):
    from minutes.api.models import ApiToken

    plaintext = token_for(make_user("zhaomin", dept="客服部"))
    row = db.session.scalar(select(ApiToken))
    assert plaintext not in (row.token_hash, row.prefix) and len(row.token_hash) == 64


def test_create_meeting_with_roles_and_participants(make_user, api_as):
    api = api_as(make_user("zhaomin", "赵敏", dept="客服部"))
    make_user("chenjing", "陈静", dept="产品部")
    make_user("lihua", "李华", dept="技术部")
    make_user("boss", "领导", dept="总经办")
    status, body = api.post("/meetings", new_meeting_body(recorder="chenjing", organizer_department="客服部",
                                                          participants=[{"username": "lihua"},
                                                                        {"username": "boss", "role": "cc"}]))
    assert status == 201, body
    assert body["id"] and body["host"] == "zhaomin" and body["recorder"] == "chenjing"
    assert body["starts_at"] == "2026-06-15T14:00:00+08:00"
    roles = {p["username"]: p["role"] for p in body["participants"]}
    assert roles == {"zhaomin": "host", "chenjing": "recorder", "lihua": "participant", "boss": "cc"}
    status, fetched = api.get(f"/meetings/{body['id']}")
    assert status == 200 and fetched["topic"] == "解决客户投诉处理流程卡点"


def test_create_meeting_validation_errors_are_422_with_fields(make_user, api_as):
    api = api_as(make_user("zhaomin", dept="客服部"))
    status, body = api.post("/meetings", new_meeting_body(topic=""))  # the schema states it (minLength)
    assert status == 422
    assert body["error"]["code"] == "validation_failed"
    assert body["error"]["fields"]["topic"] == "字段 topic 不能为空"
    status, body = api.post("/meetings", new_meeting_body(ends_at="2026-06-15T13:00:00+08:00"))
    assert status == 422
    assert body["error"]["fields"]["ends_at"] == "结束时间须晚于开始时间"
    status, body = api.post("/meetings", {"topic": "x"})
    assert status == 422 and "缺少必填字段" in body["error"]["message"]
    status, body = api.post("/meetings", new_meeting_body(organizer_department="不存在部"))
    assert status == 422 and "不存在" in body["error"]["fields"]["organizer_department"]
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_malformed_json_is_rejected(client, make_user, token_for):
    token = token_for(make_user("zhaomin", dept="客服部"))
    r = client.post("/api/v1/meetings", data="{not json", headers={"Authorization": f"Bearer {token}",
                                                                   "Content-Type": "application/json"})
    assert r.status_code == 422 and r.get_json()["error"]["fields"]["body"]


def test_patch_meeting_refuses_stale_version(make_user, api_as):
    api = api_as(make_user("zhaomin", dept="客服部"))
    _, m = api.post("/meetings", new_meeting_body())
    status, body = api.patch(f"/meetings/{m['id']}", {"topic": "新主题", "version": m["version"]})
    assert status == 200 and body["topic"] == "新主题" and body["version"] == m["version"] + 1
    status, body = api.patch(f"/meetings/{m['id']}", {"topic": "旧版本上的修改", "version": m["version"]})
    assert status == 409 and body["error"]["code"] == "stale"
    assert api.get(f"/meetings/{m['id']}")[1]["topic"] == "新主题"


def test_agenda_endpoints(make_user, api_as):
    api = api_as(make_user("zhaomin", dept="客服部"))
    make_user("lihua", dept="技术部")
    _, m = api.post("/meetings", new_meeting_body())
    ids = []
    for title, minutes in (("投诉时效", 30), ("模板优化", 20), ("法务介入", 10)):
        status, item = api.post(f"/meetings/{m['id']}/agenda", {"title": title, "minutes": minutes,
                                                                  "department": "技术部",
                                                                  "materials": [{"url": "https://wiki.intranet/a", "title": "报表"}]})
        assert status == 201 and item["id"] and item["department"] == "技术部"
        assert item["materials"][0]["kind"] == "link"
        ids.append(item["id"])
    status, body = api.post(f"/meetings/{m['id']}/agenda/order", [ids[2], ids[0], ids[1]])
    assert status == 200 and [a["title"] for a in body["agenda"]] == ["法务介入", "投诉时效", "模板优化"]
    status, body = api.post(f"/meetings/{m['id']}/agenda/order", [ids[0], ids[1]])
    assert status == 409
    status, item = api.patch(f"/agenda/{ids[1]}", {"minutes": 25})
    assert status == 200 and item["minutes"] == 25 and item["title"] == "模板优化"
    status, body = api.patch(f"/agenda/{ids[1]}", {"minutes": 0})
    assert status == 422 and "minutes" in body["error"]["fields"]
    assert api.delete(f"/agenda/{ids[1]}")[0] == 200
    _, meeting = api.get(f"/meetings/{m['id']}")
    assert [a["position"] for a in meeting["agenda"]] == [1, 2] and meeting["agenda_minutes"] == 40


def test_send_agenda_on_the_deadline_day_needs_no_reason(make_user, api_as, clock):
    clock(2026, 6, 11, 18, 0)  # Thursday evening; Monday 6-15 meeting: Fri and Mon remain, exactly 2 working days
    api = api_as(make_user("zhaomin", dept="客服部"))
    make_user("chenjing", dept="产品部")
    _, m = api.post("/meetings", new_meeting_body(recorder="chenjing"))
    assert m["agenda_send_deadline"] == "2026-06-11"
    api.post(f"/meetings/{m['id']}/agenda", {"title": "投诉时效", "minutes": 30})
    status, body = api.post(f"/meetings/{m['id']}/send-agenda", {})
    assert status == 200 and body["agenda_late_reason"] is None and body["agenda_sent_by"] == "zhaomin"
    assert body["status"] == "agenda_sent"


def test_send_agenda_late_needs_reason_and_records_it(make_user, api_as, clock):
    clock(2026, 6, 12, 9, 0)  # Friday before a Monday meeting: 1 working day
    api = api_as(make_user("zhaomin", dept="客服部"))
    make_user("chenjing", dept="产品部")
    _, m = api.post("/meetings", new_meeting_body(recorder="chenjing"))
    api.post(f"/meetings/{m['id']}/agenda", {"title": "投诉时效", "minutes": 30})
    status, body = api.post(f"/meetings/{m['id']}/send-agenda", {})
    assert status == 409
    assert body["error"]["fields"]["earliest_meeting_date"] == "2026-06-16"
    status, body = api.post(f"/meetings/{m['id']}/send-agenda", {"reason": "客户投诉升级"})
    assert status == 200 and body["agenda_late_reason"] == "客户投诉升级"
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_non_invitee_gets_404_on_confidential_meeting_like_a_missing_one(make_user, api_as):
    owner = api_as(make_user("wufang", dept="财务部"))
    outsider = api_as(make_user("zhoujie", dept="市场部"))
    _, m = owner.post("/meetings", new_meeting_body(topic="预算调整", confidential=True))
    status, body = outsider.get(f"/meetings/{m['id']}")
    missing_status, missing = outsider.get("/meetings/99999")
    assert status == missing_status == 404 and body == missing
    assert outsider.patch(f"/meetings/{m['id']}", {"topic": "改名"})[0] == 404
    assert outsider.post(f"/meetings/{m['id']}/agenda", {"title": "x", "minutes": 5})[0] == 404
    assert all(x["id"] != m["id"] for x in outsider.get("/meetings")[1]["meetings"])
    _, public = owner.post("/meetings", new_meeting_body(topic="公开会议"))
    assert outsider.get(f"/meetings/{public['id']}")[0] == 200
    status, body = outsider.patch(f"/meetings/{public['id']}", {"topic": "改名"})
    assert status == 403 and body["error"]["code"] == "forbidden"


def test_unknown_route_and_method_give_json_errors(client, make_user, token_for):
    token = token_for(make_user("zhaomin", dept="客服部"))
    headers = {"Authorization": f"Bearer {token}"}
    r = client.get("/api/v1/nothing-here", headers=headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.put("/api/v1/me", headers=headers)
    assert r.status_code == 405 and r.get_json()["error"]["message"]


def test_openapi_describes_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    import re

    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routed.add((path, method.lower()))
    assert routed == described


def test_cli_issues_a_token(runner, make_user, client):
    make_user("zhaomin", dept="客服部")
    result = runner.invoke(args=["minutes", "token", "zhaomin", "--name", "脚本"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    bad = runner.invoke(args=["minutes", "token", "nobody"])
    assert bad.exit_code != 0 and "不存在" in bad.output


def test_profile_page_creates_and_revokes_tokens(client, login_as, make_user):
    login_as(make_user("zhaomin", dept="客服部"))
    page = client.post("/profile/tokens", data={"name": "OA 集成"}).get_data(as_text=True)
    import re

    token = re.search(r'id="new-token">(mnt_[^<]+)<', page).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/profile").get_data(as_text=True).count(token) == 0  # shown once
    from minutes.api.models import ApiToken

    row = db.session.scalar(select(ApiToken))
    assert client.post(f"/profile/tokens/{row.id}/revoke").status_code == 303
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    bad = client.post("/profile/tokens", data={"name": "  "})
    assert bad.status_code == 422 and "请填写令牌用途" in bad.get_data(as_text=True)
