"""Action tracking and search through the API, with the same permissions as the pages."""
import pytest

from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.room import service as room
from minutes.room import recording


@pytest.fixture
def recorded(make_user, make_meeting, api_as, clock):
    clock(2026, 6, 15, 14, 0)
    host = make_user("zhaomin", "赵敏", dept="客服部")
    recorder = make_user("chenjing", "陈静", dept="产品部")
    lihua = make_user("lihua", "李华", dept="技术部")
    public = make_meeting(host, topic="投诉处理流程协调会", starts=(2026, 6, 15, 14, 0))
    secret = make_meeting(host, topic="预算压缩专题会", starts=(2026, 6, 15, 16, 0), confidential=True)
    for m in (public, secret):
        meetings.invite(host, m, [recorder.id], "recorder")
        meetings.invite(host, m, [lihua.id])
    items = [meetings.add_agenda_item(host, m, "时效与预算", 30) for m in (public, secret)]
    db.session.commit()
    acts = []
    for m, item in zip((public, secret), items):
        room.start_meeting(recorder, m)
        recording.add_decision(recorder, m, item.id, f"{m.topic}：投诉处理总时效不超过72小时")
        acts.append(recording.add_action(recorder, m, item.id, "优化投诉提报模板", owner_id=lihua.id, due="2026-06-30"))
    db.session.commit()
    return {"lihua": api_as(lihua), "host": api_as(host), "actions": [a.id for a in acts],
            "public": public.id, "secret": secret.id}


def test_owner_updates_status_and_filters_work(recorded):
    api = recorded["lihua"]
    public_action = recorded["actions"][0]
    status, body = api.get("/actions?owner=lihua&status=open")
    assert status == 200 and body["total"] == 2
    status, body = api.patch(f"/actions/{public_action}", {"status": "in_progress", "note": "模板初稿已完成"})
    assert status == 200 and body["status"] == "in_progress"
    assert api.get("/actions?status=in_progress")[1]["total"] == 1
    status, body = api.patch(f"/actions/{public_action}", {"status": "delayed", "note": "等待法务意见"})
    assert status == 422 and "日期" in body["error"]["message"]
    status, body = api.patch(f"/actions/{public_action}", {"status": "delayed", "note": "等待法务意见",
                                                          "new_due": "2026-07-10"})
    assert status == 200 and body["due"] == "2026-07-10"
    assert api.get("/actions?due_before=2026-07-01")[1]["total"] == 1
    assert api.get("/actions?due_before=notadate")[0] == 422


def test_non_invitee_sees_no_confidential_actions_or_search_hits(recorded, make_user, api_as):
    outsider = api_as(make_user("zhoujie", dept="市场部"))
    status, body = outsider.get("/actions")
    assert status == 200 and [a["meeting_id"] for a in body["actions"]] == [recorded["public"]]
    assert outsider.patch(f"/actions/{recorded['actions'][1]}", {"status": "done"})[0] == 404
    status, body = outsider.get("/search?q=预算")
    assert status == 200 and all(r["meeting_id"] != recorded["secret"] for r in body["results"])
    status, body = outsider.get("/search?q=72小时")
    assert {r["meeting_id"] for r in body["results"]} == {recorded["public"]}


def test_search_finds_two_character_words_and_returns_snippets(recorded):
    status, body = recorded["lihua"].get("/search?q=预算")
    assert status == 200 and body["total"] >= 1
    hit = next(r for r in body["results"] if r["meeting_id"] == recorded["secret"])
    assert hit["date"] == "2026-06-15" and "预算" in hit["snippet"]
    assert recorded["lihua"].get("/search?q=投诉&from=bad")[0] == 422


def test_a_page_past_the_end_is_empty_and_says_which_page_it_is(recorded):
    """Every paged list of the API answers the page asked for; past the last one it is empty, not page 1 again."""
    api = recorded["host"]
    status, body = api.get("/actions")
    assert status == 200 and (body["total"], body["page"], body["pages"]) == (2, 1, 1) and len(body["actions"]) == 2
    status, body = api.get("/actions?page=2")
    assert status == 200 and (body["total"], body["page"], body["pages"], body["actions"]) == (2, 2, 1, [])
    status, body = api.get("/search?q=72小时")
    assert status == 200 and (body["page"], body["pages"]) == (1, 1) and body["total"] == len(body["results"]) > 0
    status, body = api.get("/search?q=72小时&page=3")
    assert status == 200 and (body["page"], body["pages"], body["results"]) == (3, 1, [])
    assert body["total"] > 0
    assert api.get("/actions?page=0")[0] == 422 and api.get("/search?q=72小时&page=x")[0] == 422


def test_the_openapi_document_describes_the_paging_of_every_paged_list(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/actions", "/search"):
        operation = document["paths"][path]["get"]
        assert any(p["name"] == "page" for p in operation["parameters"])
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert {"total", "page", "pages"} <= set(schema["required"]), path
        assert "超出末页" in schema["properties"]["page"]["description"]
