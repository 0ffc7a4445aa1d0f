"""Formal minutes: the working draft, append-only versions, recipients, requests and answers.

A version is written once and never changed; when it becomes final it is locked twice: the
service refuses every write, and database triggers (created with the tables, below) refuse any
UPDATE or DELETE of a final row, whoever issues it.
"""
import enum
import json
from datetime import date, datetime

from flask_babel import gettext
from sqlalchemy import DDL, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import UTCDateTime, str_enum, utcnow
from minutes.extensions import db
from minutes.meetings.models import Meeting
from minutes.people.models import User


class MinutesStatus(enum.StrEnum):
    """Where the minutes of one meeting stand."""

    DRAFT = "draft"
    DISTRIBUTED = "distributed"
    FINAL = "final"

    @property
    def label(self) -> str:
        return {MinutesStatus.DRAFT: gettext("草稿"), MinutesStatus.DISTRIBUTED: gettext("待确认"),
                MinutesStatus.FINAL: gettext("已定稿")}[self]


class VersionKind(enum.StrEnum):
    """A version sent for sign-off, or a correction (更正) of a final version."""

    REGULAR = "regular"
    CORRECTION = "correction"

    @property
    def label(self) -> str:
        return {VersionKind.REGULAR: gettext("版本"), VersionKind.CORRECTION: gettext("更正")}[self]


class ResponseKind(enum.StrEnum):
    """A recipient's answer: 确认无误 or 提出修改意见."""

    CONFIRM = "confirm"
    CHANGE = "change"

    @property
    def label(self) -> str:
        return {ResponseKind.CONFIRM: gettext("确认无误"), ResponseKind.CHANGE: gettext("提出修改意见")}[self]


class RecipientReason(enum.StrEnum):
    """Why someone receives the minutes for sign-off."""

    PARTICIPANT = "participant"
    HEAD = "head"
    CC = "cc"
    ADDED = "added"

    @property
    def label(self) -> str:
        return {RecipientReason.PARTICIPANT: gettext("参会人员"), RecipientReason.HEAD: gettext("部门负责人"),
                RecipientReason.CC: gettext("抄送"), RecipientReason.ADDED: gettext("记录人添加")}[self]


class Minutes(db.Model):
    """The formal minutes of one meeting: the recorder's working draft and the state of sign-off."""

    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), unique=True)
    status: Mapped[MinutesStatus] = mapped_column(str_enum(MinutesStatus), default=MinutesStatus.DRAFT)
    #: The recorder's working Markdown: sections 一 to 三. Sections 四 and 五 (the decision and action
    #: tables) are never typed: they are generated from the record whenever the minutes are shown.
    draft_body: Mapped[str] = mapped_column(Text, default="")
    #: Bumped on every save of the draft; a save based on an older revision is refused (StaleEdit).
    draft_revision: Mapped[int] = mapped_column(Integer, default=1)
    draft_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    draft_updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When version 1 went out: compared with the room's minutes_due_at for the 24-hour rule.
    first_distributed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A second copy of the latest final version's content hash, checked on every read of the archive copy.
    final_hash: Mapped[str | None] = mapped_column(String(64))
    final_number: Mapped[int | None] = mapped_column(Integer)

    meeting: Mapped[Meeting] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    draft_updated_by: Mapped[User | None] = relationship(foreign_keys=[draft_updated_by_id])
    versions: Mapped[list["MinutesVersion"]] = relationship(back_populates="minutes",
                                                            order_by="MinutesVersion.number",
                                                            passive_deletes=True)
    recipients: Mapped[list["MinutesRecipient"]] = relationship(back_populates="minutes",
                                                                order_by="MinutesRecipient.id",
                                                                cascade="all, delete-orphan")

    # --- where the minutes stand (templates and services ask these, not the status's string) -----------

    @property
    def is_draft(self) -> bool:
        """Not sent yet: the recorder writes the draft."""
        return self.status == MinutesStatus.DRAFT

    @property
    def is_out(self) -> bool:
        """A version is out for sign-off (已分发): recipients answer, the recorder may revise."""
        return self.status == MinutesStatus.DISTRIBUTED

    @property
    def is_final(self) -> bool:
        """A version is final (定稿); only a correction changes it now."""
        return self.status == MinutesStatus.FINAL

    def store_draft(self, body: str, actor: User, now: datetime) -> None:
        """The draft text becomes `body`: a new revision (an editor open on the old one is refused, never merged)."""
        self.draft_body = body
        self.draft_revision += 1
        self.draft_updated_at, self.draft_updated_by = now, actor


class MinutesVersion(db.Model):
    """One version as distributed (append-only): the text, the tables as they were, and its hash."""

    __tablename__ = "minutes_version"
    __table_args__ = (UniqueConstraint("minutes_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    #: 1, 2, 3 … within the meeting's minutes.
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[VersionKind] = mapped_column(str_enum(VersionKind), default=VersionKind.REGULAR)
    #: For a correction (更正): the final version it corrects.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("minutes_version.id"))
    #: The recorder's Markdown (sections 一 to 三).
    body: Mapped[str] = mapped_column(Text)
    #: The decision table (决议事项汇总) as it was when this version was made: canonical JSON.
    decisions_json: Mapped[str] = mapped_column(Text)
    #: The action table (待办事项跟踪表) as it was when this version was made: canonical JSON.
    actions_json: Mapped[str] = mapped_column(Text)
    #: sha256 of the canonical content (body and both tables); answers are tied to it.
    content_hash: Mapped[str] = mapped_column(String(64))
    #: 修订说明 for a revision, 更正原因 for a correction.
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: Set once, when the version becomes final; from then on the row is locked.
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: None when it became final by itself (everyone confirmed).
    finalized_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: The host's recorded reason for closing with answers missing.
    final_reason: Mapped[str | None] = mapped_column(Text)
    #: JSON list of who had not confirmed when it was closed: [{"name", "department", "state"}].
    final_missing: Mapped[str | None] = mapped_column(Text)

    minutes: Mapped[Minutes] = relationship(back_populates="versions")
    meeting: Mapped[Meeting] = relationship()
    corrects: Mapped["MinutesVersion | None"] = relationship(remote_side=[id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    finalized_by: Mapped[User | None] = relationship(foreign_keys=[finalized_by_id])

    @property
    def is_final(self) -> bool:
        return self.finalized_at is not None

    @property
    def is_correction(self) -> bool:
        return self.kind == VersionKind.CORRECTION

    @property
    def decisions(self) -> list[dict]:
        return json.loads(self.decisions_json or "[]")

    @property
    def actions(self) -> list[dict]:
        return json.loads(self.actions_json or "[]")

    @property
    def missing(self) -> list[dict]:
        return json.loads(self.final_missing or "[]")

    @property
    def label(self) -> str:
        """第2版, or 第3版（更正）."""
        if self.is_correction:
            return gettext("第%(number)s版（更正）", number=self.number)
        return gettext("第%(number)s版", number=self.number)


class MinutesRecipient(db.Model):
    """Someone the minutes are sent to for sign-off: a participant, a department head, or cc."""

    __tablename__ = "minutes_recipient"
    __table_args__ = (UniqueConstraint("minutes_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    reason: Mapped[RecipientReason] = mapped_column(str_enum(RecipientReason))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    minutes: Mapped[Minutes] = relationship(back_populates="recipients")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class MinutesRequest(db.Model):
    """A version asks one recipient to answer, by a working day."""

    __tablename__ = "minutes_request"
    __table_args__ = (UniqueConstraint("version_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("minutes_version.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The working day by the end of which the answer is due (1个工作日内).
    due_on: Mapped[date] = mapped_column()
    #: The comment this version answers, when that is why the recipient is asked again.
    because_response_id: Mapped[int | None] = mapped_column(ForeignKey("minutes_response.id"))

    version: Mapped[MinutesVersion] = relationship()
    user: Mapped[User] = relationship()
    because: Mapped["MinutesResponse | None"] = relationship()


class MinutesResponse(db.Model):
    """A recipient's answer to one version (append-only: a later answer supersedes, never overwrites)."""

    __tablename__ = "minutes_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("minutes_version.id", ondelete="CASCADE"), index=True)
    #: The content hash of the version answered: a confirmation is of this exact text.
    content_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[ResponseKind] = mapped_column(str_enum(ResponseKind))
    comment: Mapped[str] = mapped_column(Text, default="")
    #: What the comment is about: "section:3", "agenda:<id>", "decision:<id>", "action:<id>", or None (整体).
    item_ref: Mapped[str | None] = mapped_column(String(40))
    #: How that item was called in the version answered (议题二 / 决议3 …).
    item_label: Mapped[str] = mapped_column(String(200), default="")
    #: Where the answer was given: "web" (the minutes page) or "chat" (a chat card, or a reply to one).
    source: Mapped[str] = mapped_column(String(20), default="web", server_default="web")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[MinutesVersion] = relationship()
    user: Mapped[User] = relationship()


# --- the database-level lock -----------------------------------------------------------------
# Created with the tables by create_all; the Alembic migration must run the same statements.

_VERSION_CONTENT = ("minutes_id", "meeting_id", "number", "kind", "corrects_id", "body", "decisions_json",
                    "actions_json", "content_hash", "created_at", "created_by_id")

LOCK_SQL = {
    "sqlite": [
        "CREATE TRIGGER minutes_version_final_no_update BEFORE UPDATE ON minutes_version "
        "FOR EACH ROW WHEN OLD.finalized_at IS NOT NULL "
        "BEGIN SELECT RAISE(ABORT, 'final minutes version is locked: UPDATE refused'); END",
        "CREATE TRIGGER minutes_version_final_no_delete BEFORE DELETE ON minutes_version "
        "FOR EACH ROW WHEN OLD.finalized_at IS NOT NULL "
        "BEGIN SELECT RAISE(ABORT, 'final minutes version is locked: DELETE refused'); END",
        f"CREATE TRIGGER minutes_version_append_only BEFORE UPDATE OF {', '.join(_VERSION_CONTENT)} "
        "ON minutes_version FOR EACH ROW "
        "BEGIN SELECT RAISE(ABORT, 'minutes version content is append-only: UPDATE refused'); END",
        "CREATE TRIGGER minutes_response_no_update BEFORE UPDATE ON minutes_response FOR EACH ROW "
        "BEGIN SELECT RAISE(ABORT, 'minutes responses are append-only: UPDATE refused'); END",
        "CREATE TRIGGER minutes_response_final_no_delete BEFORE DELETE ON minutes_response FOR EACH ROW "
        "WHEN (SELECT finalized_at FROM minutes_version WHERE id = OLD.version_id) IS NOT NULL "
        "BEGIN SELECT RAISE(ABORT, 'answers to a final minutes version are locked: DELETE refused'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION minutes_version_guard() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF OLD.finalized_at IS NOT NULL THEN\n"
        "    RAISE EXCEPTION USING ERRCODE = 'restrict_violation',\n"
        "      MESSAGE = 'final minutes version is locked: ' || TG_OP || ' refused';\n"
        "  END IF;\n"
        "  IF TG_OP = 'DELETE' THEN\n"
        "    RETURN OLD;\n"
        "  END IF;\n"
        f"  IF ({', '.join('NEW.' + c for c in _VERSION_CONTENT)}) IS DISTINCT FROM\n"
        f"     ({', '.join('OLD.' + c for c in _VERSION_CONTENT)}) THEN\n"
        "    RAISE EXCEPTION USING ERRCODE = 'restrict_violation',\n"
        "      MESSAGE = 'minutes version content is append-only: UPDATE refused';\n"
        "  END IF;\n"
        "  RETURN NEW;\n"
        "END $$",
        "CREATE TRIGGER minutes_version_guard BEFORE UPDATE OR DELETE ON minutes_version "
        "FOR EACH ROW EXECUTE FUNCTION minutes_version_guard()",
        "CREATE OR REPLACE FUNCTION minutes_response_guard() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF TG_OP = 'UPDATE' THEN\n"
        "    RAISE EXCEPTION USING ERRCODE = 'restrict_violation',\n"
        "      MESSAGE = 'minutes responses are append-only: UPDATE refused';\n"
        "  END IF;\n"
        "  IF (SELECT finalized_at FROM minutes_version WHERE id = OLD.version_id) IS NOT NULL THEN\n"
        "    RAISE EXCEPTION USING ERRCODE = 'restrict_violation',\n"
        "      MESSAGE = 'answers to a final minutes version are locked: DELETE refused';\n"
        "  END IF;\n"
        "  RETURN OLD;\n"
        "END $$",
        "CREATE TRIGGER minutes_response_guard BEFORE UPDATE OR DELETE ON minutes_response "
        "FOR EACH ROW EXECUTE FUNCTION minutes_response_guard()",
    ],
}

UNLOCK_SQL = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS minutes_version_final_no_update",
        "DROP TRIGGER IF EXISTS minutes_version_final_no_delete",
        "DROP TRIGGER IF EXISTS minutes_version_append_only",
        "DROP TRIGGER IF EXISTS minutes_response_no_update",
        "DROP TRIGGER IF EXISTS minutes_response_final_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS minutes_version_guard ON minutes_version",
        "DROP TRIGGER IF EXISTS minutes_response_guard ON minutes_response",
        "DROP FUNCTION IF EXISTS minutes_version_guard()",
        "DROP FUNCTION IF EXISTS minutes_response_guard()",
    ],
}


def install_lock(connection) -> None:
    """Create the lock triggers on a connection (for migrations and maintenance; create_all does it itself)."""
    for statement in LOCK_SQL.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


def remove_lock(connection) -> None:
    """Drop the lock triggers (only for wiping a test database; never in the running application)."""
    for statement in UNLOCK_SQL.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


def _attach(table, statements: list[str], dialect: str) -> None:
    for statement in statements:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))


# Version triggers on the version table; the answer triggers after the answer table exists.
_attach(MinutesVersion.__table__, LOCK_SQL["sqlite"][:3], "sqlite")
_attach(MinutesResponse.__table__, LOCK_SQL["sqlite"][3:], "sqlite")
_attach(MinutesVersion.__table__, LOCK_SQL["postgresql"][:2], "postgresql")
_attach(MinutesResponse.__table__, LOCK_SQL["postgresql"][2:], "postgresql")
event.listen(MinutesVersion.__table__, "after_drop",
             DDL("DROP FUNCTION IF EXISTS minutes_version_guard()").execute_if(dialect="postgresql"))
event.listen(MinutesResponse.__table__, "after_drop",
             DDL("DROP FUNCTION IF EXISTS minutes_response_guard()").execute_if(dialect="postgresql"))
