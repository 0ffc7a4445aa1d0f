"""Login throttling (OWASP ASVS V2.2): slow a password guesser down without letting anyone lock a user out.

Every attempt is counted BEFORE its password is checked, atomically, in the database that every worker
and host shares, in a transaction of its own (it commits whatever the request's outcome). So a burst
gets no more checks than the limit. The counts:

- per account and address: LOGIN_MAX_FAILURES_PER_ACCOUNT failures within LOGIN_WINDOW_MINUTES, then
  that address waits for that account until the window ends;
- per account, over every address the user never logged in from: the same number of failures, then
  such addresses wait LOGIN_WINDOW_MINUTES, and each further round of failures doubles the wait (up to
  a day). Addresses the user logged in from within LOGIN_KNOWN_ADDRESS_DAYS pass this back-off: an
  attacker elsewhere cannot lock the user out;
- per address, over every account not familiar with it: LOGIN_MAX_FAILURES_PER_ADDRESS failures within
  the window (password spraying). Colleagues behind the same NAT who logged in from it before pass.

A right password takes only its own count back: failures counted in the window stay counted, so a
burst that holds the right password still gets no more than the limit of wrong ones checked. A
refused attempt is not counted (it cannot prolong a wait) but is audited.
"""
import contextlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from minutes.audit.service import record_event
from minutes.core.errors import DomainError
from minutes.core.timefmt import utcnow
from minutes.dbtypes import UTCDateTime
from minutes.extensions import db, write_intent
from minutes.people import service
from minutes.people.models import LoginAddress, LoginCounter, User

#: The longest an account's back-off grows to; its failures are remembered this long after the last one.
BACKOFF_CAP = timedelta(hours=24)
#: Expired counters deleted per attempt (cleaning on write: no job needed).
CLEAN_BATCH = 100


class TooManyAttempts(DomainError):
    """Attempts are refused for a while; the message says for how long."""

    status = 429
    code = "too_many_attempts"


@dataclass(frozen=True)
class _Rule:
    kind: str  #: pair / account / address (recorded in the audit entry)
    key: str
    limit: int
    window: timedelta
    growing: bool = False  #: each further round of `limit` failures doubles the wait


def _rules(account: str, address: str, familiar: bool) -> list[_Rule]:
    cfg = current_app.config
    window = timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    per_account = cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    rules = [_Rule("pair", f"pair:{account}|{address}", per_account, window)]
    if not familiar:
        rules.append(_Rule("account", f"account:{account}", per_account, window, growing=True))
        rules.append(_Rule("address", f"address:{address}", cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"], window))
    return rules


@contextlib.contextmanager
def _own_transaction():
    """A transaction beside the request's (which rolls back on a refused login), committed at the end."""
    token = write_intent.set(True)  # SQLite: take the write lock up front
    try:
        with db.engine.begin() as conn:
            yield conn
    finally:
        write_intent.reset(token)


def _insert(conn):
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _count(conn, rule: _Rule, now: datetime) -> datetime | None:
    """Count one attempt under `rule` (atomically: the row is locked until commit); when it is refused,
    return until when."""
    c = LoginCounter.__table__.c
    expired = c.expires_at <= now
    memory = BACKOFF_CAP if rule.growing else rule.window
    forget_at = literal(now + memory, UTCDateTime)
    stmt = _insert(conn)(LoginCounter.__table__).values(key=rule.key, failures=1, locked_until=None,
                                                        expires_at=now + memory)
    stmt = stmt.on_conflict_do_update(index_elements=[c.key], set_={
        "failures": case((expired, 1), else_=c.failures + 1),
        "locked_until": case((expired, literal(None, UTCDateTime)), else_=c.locked_until),
        "expires_at": case((expired, forget_at), else_=forget_at if rule.growing else c.expires_at),
    }).returning(c.failures, c.locked_until, c.expires_at)
    failures, locked_until, expires_at = conn.execute(stmt).one()
    if locked_until is not None and locked_until > now:
        return locked_until
    if failures % rule.limit == 0:  # this is the last check allowed: later attempts wait
        if rule.growing:
            wait = min(rule.window * 2 ** (failures // rule.limit - 1), BACKOFF_CAP)
            locked_until = now + wait
        else:
            locked_until = expires_at
        conn.execute(update(LoginCounter).where(LoginCounter.key == rule.key).values(locked_until=locked_until))
    return None


def _clean(conn, now: datetime) -> None:
    """Delete some expired counters (those another attempt holds are skipped, not waited for)."""
    c = LoginCounter.__table__.c
    stale = select(c.key).where(c.expires_at <= now).limit(CLEAN_BATCH).with_for_update(skip_locked=True)
    conn.execute(delete(LoginCounter).where(LoginCounter.key.in_(stale.scalar_subquery())))


class _Refused(Exception):
    """Leaves the counting transaction so that it rolls back."""


@dataclass
class Attempt:
    """A counted login attempt: what `begin` found, for `succeeded` once some method accepted the password."""

    account: str
    address: str
    found: object  #: (id, password_hash, is_enabled) of the local account with that username, or None
    rules: list
    now: datetime


def begin(username: str, address: str) -> Attempt:
    """Count one login attempt before any password is checked (committed on its own); TooManyAttempts,
    without counting, when over a limit. Then check the password (locally or with the directory) and call
    `succeeded` when it was right; a wrong one needs nothing more (the count stands as the failure)."""
    name = (username or "").strip()
    account, address = name.lower()[:64], (address or "-")[:64]
    refused: list[tuple[_Rule, datetime]] = []
    with contextlib.suppress(_Refused), _own_transaction() as conn:
        now = utcnow()  # once the connection is ours: a busy pool must not make it stale
        _clean(conn, now)
        found = conn.execute(select(User.id, User.password_hash, User.is_enabled, User.is_admin)
                             .where(User.username == name)).first()
        familiar = found is not None and _familiar(conn, found.id, address, now)
        rules = _rules(account, address, familiar)
        for rule in rules:
            until = _count(conn, rule, now)
            if until is not None:
                refused.append((rule, until))
        if refused:
            raise _Refused  # rolls the counts back: a refused attempt is not checked, so not counted
    if refused:
        # from the time of the answer: the lock may be a concurrent attempt's, taken after `now`
        wait = max(1, math.ceil((max(until for _rule, until in refused) - utcnow()).total_seconds() / 60))
        with _own_transaction() as conn:
            record_event(conn, "throttled", "login", found.id if found else None, address, {
                "username": account, "address": address, "rules": [rule.kind for rule, _until in refused],
                "minutes": wait})
        raise TooManyAttempts(gettext("尝试次数过多，请 %(minutes)s 分钟后再试", minutes=wait))
    return Attempt(account, address, found, rules, now)


def succeeded(attempt: Attempt, user_id: int) -> None:
    """The password was right: take back this attempt's counts and remember the address (own transaction;
    the account must be committed: call it after the request's commit for an account just created)."""
    with _own_transaction() as conn:
        _succeeded(conn, attempt.rules, user_id, attempt.address, attempt.now)


def local_password_ok(attempt: Attempt, password: str) -> bool:
    """The local account's password is right and the account enabled (an unknown name costs the same check)."""
    found = attempt.found
    right = service.check_password(found.password_hash if found else None, password)
    return right and found is not None and found.is_enabled


def login(username: str, password: str, address: str) -> User | None:
    """Check a login behind the throttle: the user when the password is right, None when it is wrong
    (or the account disabled); TooManyAttempts, without checking the password, when over a limit."""
    attempt = begin(username, address)
    if not local_password_ok(attempt, password):
        return None  # the counts stand as the failure
    succeeded(attempt, attempt.found.id)
    return db.session.get(User, attempt.found.id)


def _familiar(conn, user_id: int, address: str, now: datetime) -> bool:
    since = now - timedelta(days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"])
    return conn.scalar(select(LoginAddress.user_id).where(
        LoginAddress.user_id == user_id, LoginAddress.address == address, LoginAddress.last_login_at > since)) is not None


def _succeeded(conn, rules: list[_Rule], user_id: int, address: str, now: datetime) -> None:
    """A right password: take back its own counts (not the others': an attacker's failures stay counted)
    and remember the address as the user's."""
    c = LoginCounter.__table__.c
    for rule in rules:
        # the count drops below the limit that locked the key: the lock goes (attempts made in between
        # were refused, not counted, so this count was the last one before the lock)
        conn.execute(update(LoginCounter).where(c.key == rule.key, c.failures > 0).values(
            failures=c.failures - 1,
            locked_until=case((c.failures % rule.limit == 0, literal(None, UTCDateTime)), else_=c.locked_until)))
    a = LoginAddress.__table__.c
    remember = _insert(conn)(LoginAddress.__table__).values(user_id=user_id, address=address, last_login_at=now)
    conn.execute(remember.on_conflict_do_update(index_elements=[a.user_id, a.address],
                                                set_={"last_login_at": remember.excluded.last_login_at}))
    since = now - timedelta(days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"])
    conn.execute(delete(LoginAddress).where(LoginAddress.user_id == user_id, LoginAddress.last_login_at <= since))
