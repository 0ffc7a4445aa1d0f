"""The periodic jobs, above the domains they coordinate: the tick (action reminders, the minutes' overdue notices,
then the outbox) and the embedded scheduler that runs it every minute in single-process mode.

The tick runs from `flask minutes tick` (cron or a systemd timer). Production runs it that way and sets
EMBEDDED_TICK=0; running both is harmless, because the tick is idempotent and safe to run concurrently.
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime

from flask import Flask, current_app
from flask_babel import gettext

from minutes.actions.reminders import RunResult, run_reminders
from minutes.extensions import db
from minutes.identity.sync import tick_sync
from minutes.notify import delivery
from minutes.notify import service as notify
from minutes.records.signoff import send_reminders as minutes_overdue

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60


def tick(now: datetime | None = None) -> dict:
    """Run the periodic job: queue due action reminders and the minutes' overdue notices
    (records.signoff.send_reminders), then deliver the outbox. Idempotent.

    A failure while computing reminders (rolled back: nothing of it is queued) does not hold up the
    delivery of what is already queued; it is logged and reported in the result's `error`.
    """
    error = None
    try:
        result = run_reminders(now)
    except Exception as exc:  # deliver anyway; the next tick computes the reminders again
        db.session.rollback()
        log.exception("computing reminders failed")
        result, error = RunResult(skipped=gettext("计算提醒时出错")), f"{type(exc).__name__}: {exc}"
    overdue = 0
    try:  # minutes not sent within 24 hours, answers past their working day: any day, once each
        overdue = minutes_overdue(now)
        notify.keep_delivery_for_caller()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("computing minutes reminders failed")
        error = error or f"{type(exc).__name__}: {exc}"
    counts = delivery.deliver_pending(now)
    return {"reminders": result, "minutes_overdue": overdue, "error": error, **counts}


# --- the embedded scheduler ------------------------------------------------------------------

def wanted(app: Flask) -> bool:
    """On unless turned off; off under TESTING and when the outbox is not delivered in-process."""
    setting = app.config.get("EMBEDDED_TICK", os.environ.get("EMBEDDED_TICK"))
    if setting is not None:
        return str(setting).lower() in ("1", "true", "yes")
    return bool(app.config.get("OUTBOX_DELIVER_ON_COMMIT")) and not app.testing


def start(app: Flask) -> threading.Thread | None:
    """Start the ticking thread once per process (called on the first request, never by CLI commands)."""
    state = app.extensions.setdefault("embedded_tick", {"lock": threading.Lock(), "thread": None})
    with state["lock"]:
        if state["thread"] is not None or not wanted(app):
            return state["thread"]
        stop = threading.Event()

        def run():
            while not stop.wait(INTERVAL_SECONDS):
                with app.app_context():
                    try:
                        tick()
                    except Exception:  # logged; the next minute tries again
                        log.exception("embedded tick failed")
                    try:
                        tick_sync()  # the org chart from the directory, when DIRECTORY_SYNC is set and due
                    except Exception:
                        db.session.rollback()
                        log.exception("directory sync failed")
                    finally:
                        db.session.remove()

        thread = threading.Thread(target=run, name="minutes-tick", daemon=True)
        thread.stop = stop
        thread.start()
        state["thread"] = thread
        return thread


def init_app(app: Flask) -> None:
    """Start the embedded scheduler with the first request (never in CLI commands)."""
    app.before_request(_start_scheduler)


def _start_scheduler():
    start(current_app._get_current_object())
