"""Structured logs: one JSON object per line when LOG_FORMAT=json (for journald / ELK)."""
import json
import logging
import time

from flask import Flask, g, request


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line with the fields a log pipeline indexes."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": round(record.created, 3), "level": record.levelname, "logger": record.name,
                "msg": record.getMessage()}
        for key in ("method", "path", "status", "ms", "user_id", "remote"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def init_app(app: Flask) -> None:
    """Configure logging from LOG_FORMAT / LOG_LEVEL and log one line per request."""
    import os

    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    if os.environ.get("LOG_FORMAT") == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(level)
    request_log = logging.getLogger("minutes.request")

    @app.before_request
    def _start_timer():
        g._started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        if request.endpoint == "static":
            return response
        elapsed = (time.perf_counter() - g.get("_started", time.perf_counter())) * 1000
        request_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.path, "status": response.status_code, "ms": round(elapsed, 1),
            "user_id": _user_id(), "remote": request.remote_addr})
        return response


def _user_id():
    """The id of the request's user, read without loading anything: this runs after the commit, when the
    user object is expired (reading `.id` would query the database again, and on SQLite take the write lock)."""
    from flask_login import current_user
    from sqlalchemy import inspect

    user = current_user._get_current_object()
    state = inspect(user, raiseerr=False)
    if state is not None:
        return state.identity[0] if state.identity else None
    return getattr(user, "id", None)
