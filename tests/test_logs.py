"""Structured request logs: one JSON object per request with method, path, status and timing."""
import json
import logging

from minutes.logs import JsonFormatter


def test_request_is_logged_as_json_fields(client, make_user, login_as, caplog):
    login_as(make_user("zhaomin", dept="客服部"))
    with caplog.at_level(logging.INFO, logger="minutes.request"):
        client.get("/meetings")
    record = next(r for r in caplog.records if getattr(r, "path", None) == "/meetings")
    line = json.loads(JsonFormatter().format(record))
    assert line["method"] == "GET" and line["status"] == 200 and line["user_id"] and line["ms"] >= 0
