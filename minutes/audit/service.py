"""Record changes to audited objects in the same transaction, and read them back for hosts and admins."""
import enum
from datetime import date, datetime

from flask import g, has_request_context
from flask_babel import gettext, lazy_gettext
from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Mapper

from minutes.audit.models import AuditEntry
from minutes.core.errors import PermissionDenied
from minutes.core.timefmt import utcnow
from minutes.extensions import db
from minutes.meetings.models import Meeting, Role
from minutes.meetings.service import can_view, visible_filter
from minutes.people.service import require_admin

#: Audited tables and how they are named to a reader.
AUDITED = {
    "meeting": lazy_gettext("会议"), "agenda_item": lazy_gettext("议题"), "material": lazy_gettext("资料"),
    "participant": lazy_gettext("参会人员"), "attendance": lazy_gettext("考勤"), "point": lazy_gettext("讨论记录"),
    "decision": lazy_gettext("决议"), "action_item": lazy_gettext("待办"), "minutes": lazy_gettext("会议纪要"),
    "minutes_version": lazy_gettext("纪要版本"), "minutes_response": lazy_gettext("纪要反馈"),
    "user": lazy_gettext("账号"), "department": lazy_gettext("部门"), "calendar_override": lazy_gettext("日历例外"),
    "api_token": lazy_gettext("API 令牌"),
}
#: Events that change no row but are recorded (action and entity as shown).
EVENTS = {"login": lazy_gettext("登录")}
#: Bookkeeping columns that say nothing a reader needs.
SKIPPED = {"version", "updated_at", "updated_by_id", "created_at", "last_used_at", "position_hint"}
#: Secrets: the change is recorded, the value never.
REDACTED = {"password_hash", "token_hash", "session_version", "ics_token", "secret"}


def _plain(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _actor():
    if not has_request_context():
        return None, gettext("系统")
    user = getattr(g, "api_user", None)
    if user is not None:
        return user.id, gettext("%(name)s（API）", name=user.name)
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False):
        return current_user.id, current_user.name
    return None, gettext("匿名")


#: How to find the meeting of a row that has no meeting_id column: (fk column, parent table).
PARENTS = {"material": ("agenda_item_id", "agenda_item"), "minutes_response": ("version_id", "minutes_version")}


def _meeting_id(connection, table: str, row: dict):
    if table == "meeting":
        return row.get("id")
    if row.get("meeting_id"):
        return row["meeting_id"]
    hop = PARENTS.get(table)
    if hop and row.get(hop[0]):
        # bandit B608: the table name comes from the PARENTS constant, the id is a bound parameter
        query = text(f"SELECT meeting_id FROM {hop[1]} WHERE id = :id")  # nosec B608
        return connection.execute(query, {"id": row[hop[0]]}).scalar()
    return None


def _changes(target, action: str) -> tuple[dict, dict]:
    """Return (changes to record, the row's current column values)."""
    state = inspect(target)
    row, changes = {}, {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        value = state.attrs[key].loaded_value if action == "delete" else getattr(target, key, None)
        row[key] = value
        if key in SKIPPED or key == "id":
            continue
        if action == "create":
            if value is not None and value != "":
                changes[key] = "***" if key in REDACTED else _plain(value)
        elif action == "update":
            history = state.attrs[key].history
            if history.has_changes():
                old = history.deleted[0] if history.deleted else None
                new = history.added[0] if history.added else None
                changes[key] = ["***", "***"] if key in REDACTED else [_plain(old), _plain(new)]
    return changes, row


def _record(action: str):
    def listener(mapper, connection, target):
        table = getattr(target, "__tablename__", None)
        if table not in AUDITED:
            return
        changes, row = _changes(target, action)
        if action == "update" and not changes:
            return
        actor_id, actor_label = _actor()
        connection.execute(insert(AuditEntry.__table__), {
            "at": utcnow(), "actor_id": actor_id, "actor_label": actor_label, "action": action, "entity": table,
            "entity_id": row.get("id"), "meeting_id": _meeting_id(connection, table, row),
            "changes": changes if action != "delete" else {"id": row.get("id")},
        })
    return listener


_LISTENERS = (("after_insert", _record("create")), ("after_update", _record("update")),
              ("after_delete", _record("delete")))


def init_app(app) -> None:
    """Write an audit entry for each audited row a flush inserts, updates or deletes (once per process).

    Mapper events fire inside the flush for every row, cascaded orphans included, with ids known.
    """
    for name, listener in _LISTENERS:
        if not event.contains(Mapper, name, listener):
            event.listen(Mapper, name, listener)


def record_event(connection, action: str, entity: str, entity_id: int | None, actor_label: str,
                 details: dict) -> None:
    """Append an entry for something that changed no audited row (a refused login), on `connection`:
    the caller's own transaction, which commits even when the request's is rolled back."""
    connection.execute(insert(AuditEntry.__table__), {
        "at": utcnow(), "actor_id": None, "actor_label": actor_label[:100], "action": action, "entity": entity,
        "entity_id": entity_id, "meeting_id": None, "changes": details,
    })


def can_view_history(user, meeting) -> bool:
    """A meeting's change history is for its host, its creator and administrators."""
    return can_view(user, meeting) and (user.is_admin or meeting.created_by_id == user.id
                                        or meeting.role_of(user) == Role.HOST)


def meeting_history(actor, meeting, limit: int = 500) -> list[AuditEntry]:
    """A meeting's change history: for its host, its creator and administrators."""
    if not can_view_history(actor, meeting):
        raise PermissionDenied(gettext("只有主持人、发起人和系统管理员可以查看修改记录"))
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.meeting_id == meeting.id)
                                   .order_by(AuditEntry.id.desc()).limit(limit)))


def recent(actor, limit: int = 300) -> list[AuditEntry]:
    """The whole log, newest first: administrators only."""
    require_admin(actor)
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


def hidden_meetings(actor, entries: list[AuditEntry]) -> set[int]:
    """The meetings among `entries` the actor may not see (confidential, not invited): what changed in
    them stays hidden from the whole log, only who and when show."""
    ids = {e.meeting_id for e in entries if e.meeting_id is not None}
    if not ids:
        return set()
    return ids - set(db.session.scalars(select(Meeting.id).where(Meeting.id.in_(ids), visible_filter(actor))))


def label(entity: str) -> str:
    return str(AUDITED.get(entity) or EVENTS.get(entity, entity))
