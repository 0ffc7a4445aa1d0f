"""Small request helpers every view may import: fragment or page, commit early, writes after the request.

Nothing here registers anything on the app (that is `create_app`'s job, see `minutes.web`); this module
imports no view, so views import it without a cycle.
"""
import time
from collections.abc import Callable
from functools import partial

from flask import current_app, g, render_template, request, session

from minutes.dbtypes import use_record_due
from minutes.extensions import db


def is_htmx() -> bool:
    """True for an htmx request that wants a fragment (not a history restore)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def render(page: str, fragment: str | None = None, status: int = 200, **context):
    """Render the full page, or only its fragment for htmx; the page includes the fragment."""
    template = fragment if fragment and is_htmx() else page
    return render_template(template, **context), status


def commit_early() -> None:
    """Commit the request's change now, before its answer is rendered, instead of in `finish_request`.

    For changes open tabs are waiting for: the live layer publishes right after the commit, so the event
    leaves before the answer is built rather than after it. The objects are not expired (they hold what
    was just committed), so rendering the answer reads nothing again; reads after this point take no
    write lock (SQLite) and `finish_request` finds nothing left to commit. Call it only once the service
    has succeeded: what follows must not write.
    """
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.expire_on_commit = expire
    g.committed_early = True


def write_after_request(work: Callable[[], None]) -> None:
    """Run `work` once this request has committed or rolled back, in its own short write transaction.

    For the bookkeeping a read does (the last use of a token): written inside the read's transaction it
    would make a SQLite read a writer that cannot wait: a transaction that began as a read and then writes
    fails at once with "database is locked" when another connection holds the write lock or has committed
    since the read began (SQLite cannot wait there without risking a deadlock). Here the transaction
    begins as a write (BEGIN IMMEDIATE on SQLite) and waits for the lock like every other write. A failure
    is logged; the answer has been decided already and is never changed by it.
    """
    g.setdefault("writes_after_request", []).append(work)


def record_use_after_request(credential, record: Callable[[int], None]) -> None:
    """Have `record(credential.id)` note a token's use after the request, unless noted within the minute."""
    if use_record_due(credential.last_used_at):
        write_after_request(partial(record, credential.id))


def session_is_current() -> bool:
    """False when the browser session has been idle or alive too long (it must log in again)."""
    now = int(time.time())
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    return now - session.get("last_seen", 0) <= idle and now - session.get("login_at", 0) <= absolute
