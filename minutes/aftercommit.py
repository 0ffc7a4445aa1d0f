"""Work a change leaves for the end of its transaction: noted on the session, done once, dropped on rollback.

A service notes what it changed with `note(session, key, item)`. The hook registered for `key` gets the noted
items at its moment: `before_commit` (the transaction still sees the change, nothing is taken),
`after_commit` (the change is durable) or `after_flush` (the flush has written it, the transaction is still
open). A rollback forgets every key: nothing is done for a change that did not happen.

Each domain registers its hooks in its own `init_app(app)`, and `create_app` calls them all, after
`init_app` here installs the session listeners; docs/DEVELOPING.md lists the hooks. The listeners are on
SQLAlchemy's `Session` class, so they see every session of the process, as the hooks always did.
"""
from collections.abc import Callable

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

#: A hook: hook(session, items) with the items noted under its key, oldest first.
Hook = Callable[[Session, list], None]

_BEFORE_COMMIT: dict[str, Hook] = {}
_AFTER_COMMIT: dict[str, Hook] = {}
_AFTER_FLUSH: dict[str, Hook] = {}


def note(session: Session, key: str, item=True) -> None:
    """Note `item` under `key` for the hooks of this transaction."""
    session.info.setdefault(key, []).append(item)


def noted(session: Session, key: str) -> list:
    """The items noted under `key` in this transaction (still there), oldest first."""
    return session.info.get(key, [])


def forget(session: Session, key: str) -> list:
    """Remove and return the items noted under `key`: its hook will not see them."""
    return session.info.pop(key, [])


def before_commit(key: str, hook: Hook) -> None:
    """Run hook(session, items) just before each commit that has items under `key` (they stay noted)."""
    _BEFORE_COMMIT[key] = hook


def after_commit(key: str, hook: Hook) -> None:
    """Run hook(session, items) after each commit that noted items under `key`, which it takes."""
    _AFTER_COMMIT[key] = hook


def after_flush(key: str, hook: Hook) -> None:
    """Run hook(session, items) at the end of each flush that noted items under `key`, which it takes."""
    _AFTER_FLUSH[key] = hook


def _run_before_commit(session: Session) -> None:
    for key, hook in list(_BEFORE_COMMIT.items()):
        items = session.info.get(key)
        if items:
            hook(session, items)


def _run_after_commit(session: Session) -> None:
    for key, hook in list(_AFTER_COMMIT.items()):
        items = session.info.pop(key, None)
        if items:
            hook(session, items)


def _run_after_flush(session: Session, flush_context) -> None:
    for key, hook in list(_AFTER_FLUSH.items()):
        items = session.info.pop(key, None)
        if items:
            hook(session, items)


def _forget_all(session: Session) -> None:
    for key in (*_BEFORE_COMMIT, *_AFTER_COMMIT, *_AFTER_FLUSH):
        session.info.pop(key, None)


_LISTENERS = (("before_commit", _run_before_commit), ("after_commit", _run_after_commit),
              ("after_flush_postexec", _run_after_flush), ("after_rollback", _forget_all))


def init_app(app: Flask) -> None:
    """Install the session listeners that run the hooks (once per process: every app shares `Session`)."""
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
