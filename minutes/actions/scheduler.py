"""The embedded scheduler: in single-process mode the app runs `flask minutes tick` itself, every minute.

Production runs the tick from cron or a systemd timer instead (set EMBEDDED_TICK=0); running both
is harmless, because the tick is idempotent and safe to run concurrently.
"""
from __future__ import annotations

import logging
import os
import threading

from flask import Flask

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60


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
            from minutes.actions.reminders import tick
            from minutes.extensions import db
            from minutes.identity.sync import tick_sync

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
