"""The audit log: who changed what and when. Append-only, down to the database."""
from datetime import datetime

from sqlalchemy import JSON, DDL, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import UTCDateTime, utcnow
from minutes.extensions import db
from minutes.people.models import User


class AuditEntry(db.Model):
    """One change to one audited object, written in the transaction that made it."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: Who acted, as shown: a person's name, "API:<name>" or "系统" for jobs.
    actor_label: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(10))  #: create / update / delete
    entity: Mapped[str] = mapped_column(String(40))  #: table name of the changed object
    entity_id: Mapped[int | None] = mapped_column(Integer)
    #: The meeting the change belongs to, so a host can read a meeting's history.
    meeting_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: {field: [old, new]} for updates; the new values for creates.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


_REFUSE = "audit log is append-only"
event.listen(AuditEntry.__table__, "after_create", DDL(
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END;").execute_if(dialect="sqlite"))
event.listen(AuditEntry.__table__, "after_create", DDL(
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END;").execute_if(dialect="sqlite"))
event.listen(AuditEntry.__table__, "after_create", DDL(
    "CREATE OR REPLACE FUNCTION audit_entry_refuse() RETURNS trigger AS $$ "
    f"BEGIN RAISE EXCEPTION '{_REFUSE}'; END; $$ LANGUAGE plpgsql; "
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse();").execute_if(dialect="postgresql"))
