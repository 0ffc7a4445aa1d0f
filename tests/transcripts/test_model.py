"""Suggestions from the company's own model, against a real loopback server speaking the OpenAI chat-completions
protocol (streamed as `data: {...}` chunks and `data: [DONE]`): a good answer becomes suggestions checked by the
rules, a malformed one is refused whole, an unreachable or slow model leaves the rule-based suggestions, a
confidential meeting is not sent unless allowed, and progress arrives in the stream."""
import html
import json
import re
import socket
import time

import pytest
from sqlalchemy import select

from minutes.extensions import db
from minutes.room.models import Point
from minutes.transcripts import model
from minutes.transcripts.models import Suggestion, SuggestionOrigin, Transcript
from tests.conftest import PASSWORD
from tests.transcripts.model_server import GOOD, ChatServer
from tests.transcripts.test_views import _imported

@pytest.fixture
def chat_server(app):
    server = ChatServer()
    app.config.update(ASSIST_MODEL_URL=server.url, ASSIST_MODEL="qwen-test", ASSIST_MODEL_KEY="k-123",
                      ASSIST_TIMEOUT=5, ASSIST_RETRIES=0, ASSIST_ALLOW_CONFIDENTIAL=False)
    yield server
    server.stop()


def _events(body: str) -> list[tuple[str, str]]:
    """The SSE events of a stream, as (event name, data joined by newlines)."""
    events = []
    for block in body.split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: ") or line == "data:":
                data.append(line[6:])
        if block.strip():
            events.append((name, "\n".join(data)))
    return events


def _ask(client, meeting, status=200):
    """Press 用模型生成建议, then read the stream the panel connects to."""
    response = client.post(f"/meetings/{meeting.id}/transcript/assist", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:500]
    if status != 200:
        return page, None
    url = html.unescape(re.search(r'sse-connect="([^"]+)"', page).group(1))
    stream = client.get(url)
    assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
    return page, _events(stream.get_data(as_text=True))


def _model_suggestions():
    db.session.rollback()
    return list(db.session.scalars(select(Suggestion).where(Suggestion.origin == SuggestionOrigin.MODEL)
                                   .order_by(Suggestion.id)))


def _rule_count():
    return len(list(db.session.scalars(select(Suggestion).where(Suggestion.origin == SuggestionOrigin.RULES))))


def test_good_answer_becomes_model_suggestions_checked_by_the_rules(started, client, login_as, chat_server):
    _imported(started, client, login_as)
    rules = _rule_count()
    page = client.get(f"/meetings/{started.meeting.id}/transcript").get_data(as_text=True)
    assert "用模型生成建议" in page and "规则建议" in page

    _, events = _ask(client, started.meeting)

    sent = chat_server.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["body"]["stream"] is True
    assert sent["body"]["model"] == "qwen-test" and sent["authorization"] == "Bearer k-123"
    assert sent["body"]["response_format"] == {"type": "json_object"}
    assert "14 刘洋：" in sent["body"]["messages"][1]["content"]  # numbered lines, speakers matched
    suggestions = _model_suggestions()
    assert [s.kind.value for s in suggestions] == ["decision", "action", "action", "dispute", "viewpoint"]
    decision, knowledge, vague, dispute, point = suggestions
    assert decision.department_id == started.tech.department_id and decision.problem == ""
    assert knowledge.owner_id == started.product.id and knowledge.due == "6月30日" and knowledge.problem == ""
    assert knowledge.lines == [12, 13] and knowledge.agenda_item_id == started.items[0].id
    assert vague.owner_id == started.tech.id and vague.problem == "vague:尽快"  # the room's vague-wording check
    assert set(dispute.parties) == {started.tech.department_id, started.host.department_id}
    assert point.department_id == started.product.department_id and point.agenda_item_id == started.items[0].id
    assert _rule_count() == rules  # the rule-based suggestions stay beside them
    assert db.session.get(Transcript, knowledge.transcript_id).model_summary.startswith("会议确定工作日升级投诉")

    result = dict(events)["result"]
    assert 'id="tr-suggestions"' in result and "模型建议5条已加入" in result
    assert "模型建议" in result and "含模糊表述“尽快”，请改为具体时限" in result and "纪要摘要初稿" in result
    assert events[-1][0] == "done"


def test_model_suggestion_is_accepted_through_the_rooms_rules(started, client, login_as, chat_server):
    _imported(started, client, login_as)
    _ask(client, started.meeting)
    vague = _model_suggestions()[2]
    form = {"agenda_item_id": started.items[0].id, "text": vague.text, "owner_id": started.tech.id, "due": "尽快"}
    refused = client.post(f"/meetings/{started.meeting.id}/transcript/suggestions/{vague.id}/accept", data=form,
                          headers={"HX-Request": "true"})
    assert refused.status_code in (409, 422) and "尽快" in refused.get_data(as_text=True)
    form["due"] = "6月30日"
    accepted = client.post(f"/meetings/{started.meeting.id}/transcript/suggestions/{vague.id}/accept", data=form,
                           headers={"HX-Request": "true"})
    assert accepted.status_code == 200, accepted.get_data(as_text=True)[:500]
    assert _model_suggestions()[2].entry_key.startswith("action:")
    point = _model_suggestions()[4]
    accepted = client.post(f"/meetings/{started.meeting.id}/transcript/suggestions/{point.id}/accept",
                           data={"agenda_item_id": started.items[0].id, "text": point.text,
                                 "department_id": point.department_id}, headers={"HX-Request": "true"})
    assert accepted.status_code == 200, accepted.get_data(as_text=True)[:500]
    viewpoint = db.session.scalars(select(Point)).one()
    assert viewpoint.kind.value == "viewpoint" and viewpoint.department_id == started.product.department_id


def test_asking_again_replaces_the_open_model_suggestions_only(started, client, login_as, chat_server):
    _imported(started, client, login_as)
    _ask(client, started.meeting)
    first = _model_suggestions()[0]
    client.post(f"/meetings/{started.meeting.id}/transcript/suggestions/{first.id}/drop", headers={"HX-Request": "true"})
    _ask(client, started.meeting)
    again = _model_suggestions()
    assert len(again) == 6 and again[0].id == first.id and again[0].status.value == "dropped"


@pytest.mark.parametrize("answer, finish_reason", [
    ('{"summary": "会议讨论了投诉时效", "entries": [{"kind": "action", "text": "刘洋整理口径", "lines": [1', "stop"),
    ("好的，以下是会议纪要：决议一……", "stop"),
    (json.dumps({"summary": "x", "entries": [{"kind": "task", "text": "刘洋整理口径", "lines": [1]}]}), "stop"),
    (json.dumps({"summary": "x", "entries": [{"kind": "action", "text": "刘洋整理口径", "lines": [99]}]}), "stop"),
    (json.dumps({"summary": "x", "entries": [{"kind": "action", "text": "刘洋整理口径", "lines": [1],
                                              "confidence": 0.9}]}), "stop"),
    (json.dumps(GOOD, ensure_ascii=False), "length"),
])
def test_malformed_or_cut_off_answer_is_refused_and_nothing_saved(started, client, login_as, chat_server, answer,
                                                                  finish_reason):
    _imported(started, client, login_as)
    rules = _rule_count()
    chat_server.answer, chat_server.finish_reason = answer, finish_reason
    _, events = _ask(client, started.meeting)
    result = dict(events)["result"]
    assert "未采用，已保留规则建议" in result and 'class="alert error"' in result
    assert _model_suggestions() == [] and _rule_count() == rules
    assert db.session.scalars(select(Transcript)).one().model_summary == ""
    assert "规则建议" in result  # the rule-based suggestions are shown again


def test_answer_in_a_code_fence_after_thinking_is_read():
    text = "<think>先找决议……</think>\n```json\n" + json.dumps(GOOD, ensure_ascii=False) + "\n```"
    answer = model.read_answer(text, "stop", line_count=31, item_count=2)
    assert len(answer.entries) == 5 and answer.entries[1].lines == [13, 14]
    with pytest.raises(model.AnswerRefused):
        model.read_answer(text, "stop", line_count=13, item_count=2)  # line 14 does not exist


def test_unreachable_model_keeps_the_rule_suggestions_with_a_message(started, client, login_as, app, chat_server):
    _imported(started, client, login_as)
    rules = _rule_count()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config["ASSIST_MODEL_URL"] = f"http://127.0.0.1:{port}/v1"
    _, events = _ask(client, started.meeting)
    result = dict(events)["result"]
    assert "模型服务无法连接，已保留规则建议" in result and "规则建议" in result
    assert _model_suggestions() == [] and _rule_count() == rules


def test_model_slower_than_the_timeout_is_given_up_after_the_retries(started, client, login_as, app, chat_server):
    _imported(started, client, login_as)
    rules = _rule_count()
    app.config.update(ASSIST_TIMEOUT=0.3, ASSIST_RETRIES=1)
    chat_server.delay = 1.0
    started_at = time.monotonic()
    _, events = _ask(client, started.meeting)
    assert time.monotonic() - started_at < 5
    assert "模型服务响应超时，已保留规则建议" in dict(events)["result"]
    assert len(chat_server.requests) == 2  # one retry
    assert _model_suggestions() == [] and _rule_count() == rules


def test_model_answering_with_an_http_error_keeps_the_rule_suggestions(started, client, login_as, app, chat_server):
    _imported(started, client, login_as)
    app.config["ASSIST_MODEL_URL"] = chat_server.url.replace("/v1", "/nowhere")
    _, events = _ask(client, started.meeting)
    assert "模型服务返回错误（HTTP 404），已保留规则建议" in dict(events)["result"]
    assert _model_suggestions() == []


def test_confidential_meeting_is_not_sent_unless_allowed(started, client, login_as, app, chat_server):
    started.meeting.confidential = True
    db.session.commit()
    _imported(started, client, login_as)
    page = client.get(f"/meetings/{started.meeting.id}/transcript").get_data(as_text=True)
    assert "用模型生成建议" not in page and "管理员未允许将保密会议的记录稿发送给模型" in page
    refused, _ = _ask(client, started.meeting, status=409)
    assert "管理员未允许将保密会议的记录稿发送给模型" in refused
    assert chat_server.requests == []

    app.config["ASSIST_ALLOW_CONFIDENTIAL"] = True
    _, events = _ask(client, started.meeting)
    assert len(chat_server.requests) == 1 and len(_model_suggestions()) == 5


def test_stream_ticket_of_another_user_is_refused_without_asking(started, client, login_as, app, chat_server):
    _imported(started, client, login_as)
    page = client.post(f"/meetings/{started.meeting.id}/transcript/assist",
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    url = html.unescape(re.search(r'sse-connect="([^"]+)"', page).group(1))
    host = app.test_client()
    assert host.post("/login", data={"username": started.host.username, "password": PASSWORD}).status_code == 302
    events = _events(host.get(url).get_data(as_text=True))
    assert "请求已过期" in dict(events)["result"] and chat_server.requests == []
    forged = _events(client.get(url.replace("ticket=", "ticket=x")).get_data(as_text=True))
    assert "请求已过期" in dict(forged)["result"] and chat_server.requests == []


def test_progress_events_arrive_before_the_result(started, client, login_as, chat_server):
    _imported(started, client, login_as)
    chat_server.chunk = 10
    _, events = _ask(client, started.meeting)
    names = [name for name, _ in events]
    assert names[0] == "progress" and "正在请求模型 qwen-test" in events[0][1]
    received = [data for name, data in events if name == "progress" and "已接收" in data]
    total = len(json.dumps(GOOD, ensure_ascii=False))
    assert received and f"已接收 {total} 字，正在按规则检查" in received[-1]
    assert names[-2:] == ["result", "done"]


def test_without_a_configured_model_there_is_no_button(started, client, login_as):
    _imported(started, client, login_as)
    page = client.get(f"/meetings/{started.meeting.id}/transcript").get_data(as_text=True)
    assert "用模型生成建议" not in page and 'id="tr-assist"' not in page
    refused = client.post(f"/meetings/{started.meeting.id}/transcript/assist", headers={"HX-Request": "true"})
    assert refused.status_code == 409 and "未配置模型服务" in refused.get_data(as_text=True)


def test_transcript_longer_than_the_model_takes_is_not_sent(started, client, login_as, app, chat_server):
    _imported(started, client, login_as)
    app.config["ASSIST_MAX_CHARS"] = 1000
    refused, _ = _ask(client, started.meeting, status=409)
    assert re.search(r"记录稿过长（\d+字），超过模型服务可接收的1000字，仅提供规则建议", refused)
    assert chat_server.requests == []
