"""What is recorded during a meeting (会中记录): room state, attendance, points and decisions."""
import enum
from datetime import date, datetime

from flask_babel import gettext, lazy_gettext
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from minutes.dbtypes import RecordedEntry, UTCDateTime, str_enum
from minutes.extensions import db
from minutes.meetings.models import AgendaItem, Meeting
from minutes.people.models import Department, User


class ScreenMode(enum.StrEnum):
    """What the shared screen shows: the minutes growing, or the end-of-meeting review walk."""

    LIVE = "live"
    REVIEW = "review"

    @property
    def label(self) -> str:
        return {ScreenMode.LIVE: gettext("实时记录"), ScreenMode.REVIEW: gettext("逐项确认")}[self]


class RoomState(db.Model):
    """The live state of one meeting's room; exists from the moment the meeting starts."""

    __tablename__ = "room_state"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    #: Bumped (UPDATE ... SET revision = revision + 1) in the transaction of every change viewers
    #: must see; it is the SSE event id, so a tab knows exactly what it missed.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: The formal minutes are due 24 hours after the end (会后24小时内).
    minutes_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The agenda item under discussion now, shown on the screen with its clock.
    current_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id", ondelete="SET NULL"))
    #: When the current item's clock last started; its elapsed time adds the item's ItemClock.spent_seconds.
    item_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    screen_mode: Mapped[ScreenMode] = mapped_column(str_enum(ScreenMode), default=ScreenMode.LIVE)
    #: The review cursor: "decision:<id>" or "action:<id>" shown on the screen during review.
    review_key: Mapped[str | None] = mapped_column(String(40))

    meeting: Mapped[Meeting] = relationship(backref=backref("room", uselist=False, cascade="all, delete-orphan"))
    current_item: Mapped[AgendaItem | None] = relationship()
    started_by: Mapped[User] = relationship(foreign_keys=[started_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])


class ItemClock(db.Model):
    """Time spent on one agenda item, accumulated across the times it was the current item."""

    __tablename__ = "room_item_clock"
    __table_args__ = (UniqueConstraint("agenda_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id", ondelete="CASCADE"))
    #: Seconds spent before the current run (the running part is now - RoomState.item_started_at).
    spent_seconds: Mapped[int] = mapped_column(Integer, default=0)
    first_started_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agenda_item: Mapped[AgendaItem] = relationship()


class AttendanceStatus(enum.StrEnum):
    """Attendance as checked against the invite list (实际到会与议程名单核对)."""

    PENDING = "pending"
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"

    @property
    def label(self) -> str:
        return str(ATTENDANCE_LABELS[self])


ATTENDANCE_LABELS = {
    AttendanceStatus.PENDING: lazy_gettext("待核对"),
    AttendanceStatus.PRESENT: lazy_gettext("出席"),
    AttendanceStatus.LATE: lazy_gettext("迟到"),
    AttendanceStatus.ABSENT: lazy_gettext("缺席"),
}


class Attendance(db.Model):
    """One person's attendance: invited (from the invite list) or added because they came uninvited."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[AttendanceStatus] = mapped_column(str_enum(AttendanceStatus), default=AttendanceStatus.PENDING)
    #: When a late arrival came in.
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why an absentee is absent (缺席人员需注明原因).
    absence_reason: Mapped[str] = mapped_column(String(200), default="")
    #: False for people who came without being on the invite list.
    invited: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    meeting: Mapped[Meeting] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class PointKind(enum.StrEnum):
    """The structure 议题 → 观点 → 争议 → 共识 of the process document."""

    VIEWPOINT = "viewpoint"
    DISPUTE = "dispute"
    CONSENSUS = "consensus"

    @property
    def label(self) -> str:
        return str(POINT_KIND_LABELS[self])


POINT_KIND_LABELS = {
    PointKind.VIEWPOINT: lazy_gettext("观点"),
    PointKind.DISPUTE: lazy_gettext("争议"),
    PointKind.CONSENSUS: lazy_gettext("共识"),
}

#: The departments in disagreement on a dispute (争议: between whom).
point_party = Table(
    "point_party",
    db.metadata,
    Column("point_id", ForeignKey("point.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True),
)

#: 配合部门 of a decision.
decision_cooperator = Table(
    "decision_cooperator",
    db.metadata,
    Column("decision_id", ForeignKey("decision.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True),
)


class Point(RecordedEntry, db.Model):
    """A discussion point under an agenda item: a viewpoint, a dispute or a consensus."""

    __tablename__ = "point"
    __table_args__ = (Index("uq_point_submission", "meeting_id", "submission", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PointKind] = mapped_column(str_enum(PointKind), default=PointKind.VIEWPOINT)
    #: The department whose position this is (观点: 客服部认为…); optional for a consensus.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    speaker_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text)
    #: Order within the agenda item, 1-based, in the order recorded.
    position: Mapped[int] = mapped_column(Integer, default=1)

    meeting: Mapped[Meeting] = relationship()
    agenda_item: Mapped[AgendaItem] = relationship()
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    speaker: Mapped[User | None] = relationship(foreign_keys=[speaker_id])
    #: For a dispute: the departments that disagree.
    parties: Mapped[list[Department]] = relationship(secondary=point_party, order_by=Department.id)


class Decision(RecordedEntry, db.Model):
    """A decision (决议) reached on an agenda item: a clear conclusion, optionally owned and dated."""

    __tablename__ = "decision"
    __table_args__ = (Index("uq_decision_submission", "meeting_id", "submission", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    due_date: Mapped[date | None] = mapped_column()
    #: The deadline as typed ("3个工作日内"), kept beside the date it was read as.
    due_text: Mapped[str] = mapped_column(String(100), default="")
    #: Order within the agenda item, 1-based, in the order recorded.
    position: Mapped[int] = mapped_column(Integer, default=1)
    #: Set when the decision was confirmed aloud in the end-of-meeting review (会末逐项确认).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: True when the wording was changed during the review before being confirmed.
    reworded: Mapped[bool] = mapped_column(default=False)

    meeting: Mapped[Meeting] = relationship()
    agenda_item: Mapped[AgendaItem] = relationship()
    owner_department: Mapped[Department | None] = relationship(foreign_keys=[owner_department_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    cooperating_departments: Mapped[list[Department]] = relationship(
        secondary=decision_cooperator, order_by=Department.id
    )
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def review_key(self) -> str:
        """Identify the decision in the end-of-meeting review walk."""
        return f"decision:{self.id}"
