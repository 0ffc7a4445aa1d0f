"""Meeting planning: the meeting, its agenda, materials and invitations."""
import enum
from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import UTCDateTime, str_enum, utcnow
from minutes.extensions import db
from minutes.people.models import Department, User


class Scenario(enum.StrEnum):
    """The four working scenarios of the source process (一、适用工作场景)."""

    KICKOFF = "kickoff"
    RESOURCES = "resources"
    PROBLEM = "problem"
    ALIGNMENT = "alignment"

    @property
    def label(self) -> str:
        return str(SCENARIO_LABELS[self])


SCENARIO_LABELS = {
    Scenario.KICKOFF: lazy_gettext("项目启动与规划"),
    Scenario.RESOURCES: lazy_gettext("资源协调与分配"),
    Scenario.PROBLEM: lazy_gettext("问题解决与冲突处理"),
    Scenario.ALIGNMENT: lazy_gettext("目标对齐与进度同步"),
}


class MeetingStatus(enum.StrEnum):
    """Where a meeting is in its life, before, during and after."""

    DRAFT = "draft"
    AGENDA_SENT = "agenda_sent"
    IN_PROGRESS = "in_progress"
    REVIEW = "review"
    MINUTES_DUE = "minutes_due"
    DISTRIBUTED = "distributed"
    FINAL = "final"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    MeetingStatus.DRAFT: lazy_gettext("筹备中"),
    MeetingStatus.AGENDA_SENT: lazy_gettext("议程已发送"),
    MeetingStatus.IN_PROGRESS: lazy_gettext("进行中"),
    MeetingStatus.REVIEW: lazy_gettext("会末确认"),
    MeetingStatus.MINUTES_DUE: lazy_gettext("待出纪要"),
    MeetingStatus.DISTRIBUTED: lazy_gettext("纪要待确认"),
    MeetingStatus.FINAL: lazy_gettext("已定稿"),
    MeetingStatus.CANCELLED: lazy_gettext("已取消"),
}
#: The groups of states the rules ask about (Meeting.is_planning, .is_recording, .is_closed; SQL filters use these).
PLANNING_STATUSES = (MeetingStatus.DRAFT, MeetingStatus.AGENDA_SENT)
RECORDING_STATUSES = (MeetingStatus.IN_PROGRESS, MeetingStatus.REVIEW)
CLOSED_STATUSES = (MeetingStatus.FINAL, MeetingStatus.CANCELLED)


class Role(enum.StrEnum):
    """A person's role in one meeting."""

    HOST = "host"
    RECORDER = "recorder"
    PARTICIPANT = "participant"
    CC = "cc"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.HOST: lazy_gettext("主持人"),
    Role.RECORDER: lazy_gettext("记录人"),
    Role.PARTICIPANT: lazy_gettext("参会人"),
    Role.CC: lazy_gettext("抄送"),
}


class SeriesCadence(enum.StrEnum):
    """How often a periodic meeting recurs (例会、季度协调会)."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    IRREGULAR = "irregular"

    @property
    def label(self) -> str:
        return str(CADENCE_LABELS[self])


CADENCE_LABELS = {
    SeriesCadence.WEEKLY: lazy_gettext("每周"),
    SeriesCadence.BIWEEKLY: lazy_gettext("每两周"),
    SeriesCadence.MONTHLY: lazy_gettext("每月"),
    SeriesCadence.QUARTERLY: lazy_gettext("每季度"),
    SeriesCadence.IRREGULAR: lazy_gettext("不定期"),
}


class MeetingSeries(db.Model):
    """A periodic meeting: each meeting of the series opens by reviewing the previous one's open actions."""

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cadence: Mapped[SeriesCadence] = mapped_column(str_enum(SeriesCadence), default=SeriesCadence.MONTHLY)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User] = relationship()


class Meeting(db.Model):
    """A cross-department meeting from planning to archived minutes."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(200))  #: 会议主题
    goal: Mapped[str] = mapped_column(Text, default="")  #: 核心目标: the problem to solve
    expected_outcome: Mapped[str] = mapped_column(Text, default="")  #: 预期成果
    scenario: Mapped[Scenario] = mapped_column(str_enum(Scenario), default=Scenario.KICKOFF)
    #: When the meeting is or was: the plan until it starts, then the actual start (and, once it has ended, the
    #: actual end; while it runs, the start plus the planned length). Lists, archive, exports and minutes use these.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The planned start and end, kept when the meeting starts (None before: the plan is starts_at/ends_at).
    planned_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(200), default="")  #: room, or empty when online only
    online_link: Mapped[str] = mapped_column(String(500), default="")
    organizer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    #: 仅参会人员: invisible to everyone not invited, in lists and search too.
    confidential: Mapped[bool] = mapped_column(default=False)
    status: Mapped[MeetingStatus] = mapped_column(str_enum(MeetingStatus), default=MeetingStatus.DRAFT)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    agenda_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agenda_sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: Why the agenda went out later than 2 working days before the meeting (recorded, shown).
    agenda_late_reason: Mapped[str | None] = mapped_column(Text)
    #: Bumped on every change; a form posted with an older value is refused, not merged.
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The invitation's SEQUENCE (RFC 5545): 0 when the agenda went out, +1 for each change of time or place
    #: and for the cancellation sent after it, so calendars replace what they hold with the newer one.
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The periodic series this meeting belongs to (None for a one-off meeting).
    series_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_series.id"), index=True)

    organizer_department: Mapped[Department] = relationship()
    series: Mapped[MeetingSeries | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    agenda_sent_by: Mapped[User | None] = relationship(foreign_keys=[agenda_sent_by_id])
    agenda_items: Mapped[list["AgendaItem"]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position", cascade="all, delete-orphan",
        foreign_keys="AgendaItem.meeting_id",
    )
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    # --- where the meeting is (templates and services ask these, not the status's string) ----------------

    @property
    def is_planning(self) -> bool:
        """Before it starts: the agenda, invitations and time may still change (草稿, 已发议程)."""
        return self.status in PLANNING_STATUSES

    @property
    def is_live(self) -> bool:
        """The meeting is being held: the room is open for the recorder."""
        return self.status == MeetingStatus.IN_PROGRESS

    @property
    def is_in_review(self) -> bool:
        """The end-of-meeting review walk (会末确认): entries are confirmed one by one."""
        return self.status == MeetingStatus.REVIEW

    @property
    def is_recording(self) -> bool:
        """The room's record can be written: while the meeting is held and during its review."""
        return self.status in RECORDING_STATUSES

    @property
    def is_minutes_due(self) -> bool:
        return self.status == MeetingStatus.MINUTES_DUE

    @property
    def takes_late_entries(self) -> bool:
        """Ended, minutes not yet distributed: the recorder may still add to the record what the transcript shows
        was said (it goes into the minutes draft). Once the minutes are out, a change is a new version instead."""
        return self.status == MeetingStatus.MINUTES_DUE

    @property
    def takes_transcripts(self) -> bool:
        """A transcript may be imported and its suggestions accepted: while the meeting is recorded, and after it
        until the minutes are distributed."""
        return self.is_recording or self.takes_late_entries

    @property
    def is_closed(self) -> bool:
        """Final or cancelled: nothing about the meeting changes any more."""
        return self.status in CLOSED_STATUSES

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def planned_start(self) -> datetime:
        return self.planned_starts_at or self.starts_at

    @property
    def planned_end(self) -> datetime:
        return self.planned_ends_at or self.ends_at

    @property
    def held_off_plan(self) -> bool:
        """Started at another minute than planned (the plan is then worth showing beside the actual time)."""
        return self.planned_starts_at is not None and \
            abs((self.starts_at - self.planned_starts_at).total_seconds()) >= 60

    @property
    def agenda_minutes(self) -> int:
        return sum(item.minutes for item in self.agenda_items)

    def person_with_role(self, role: Role) -> User | None:
        for p in self.participants:
            if p.role == role:
                return p.user
        return None

    @property
    def host(self) -> User | None:
        return self.person_with_role(Role.HOST)

    @property
    def recorder(self) -> User | None:
        return self.person_with_role(Role.RECORDER)

    def role_of(self, user) -> Role | None:
        for p in self.participants:
            if p.user_id == getattr(user, "id", None):
                return p.role
        return None

    @property
    def departments(self) -> list[Department]:
        """Departments involved: the organizer first, then those invited or presenting."""
        seen: dict[int, Department] = {self.organizer_department.id: self.organizer_department}
        for p in self.participants:
            seen.setdefault(p.user.department.id, p.user.department)
        for item in self.agenda_items:
            if item.department:
                seen.setdefault(item.department.id, item.department)
        return list(seen.values())


class AgendaItem(db.Model):
    """An agenda item (议题), ordered by priority, with its time box."""

    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    #: 1-based priority order within the meeting.
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[int] = mapped_column(Integer)  #: estimated length in minutes
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  #: presenting department
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Never discussed and carried, after the meeting, onto this meeting's agenda (待议事项); set once.
    carried_to_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship(back_populates="agenda_items", foreign_keys=[meeting_id])
    carried_to: Mapped[Meeting | None] = relationship(foreign_keys=[carried_to_meeting_id])
    department: Mapped[Department | None] = relationship()
    materials: Mapped[list["Material"]] = relationship(
        back_populates="agenda_item", order_by="Material.id", cascade="all, delete-orphan"
    )


class Material(db.Model):
    """Material to prepare for an agenda item (需提前准备的资料): an uploaded file or a link."""

    __tablename__ = "material"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))  #: display name (sanitized file name or link title)
    url: Mapped[str | None] = mapped_column(String(1000))  #: set for links
    #: For files: the random name under the upload folder (never the user's name).
    stored_name: Mapped[str | None] = mapped_column(String(100))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agenda_item: Mapped[AgendaItem] = relationship(back_populates="materials")
    uploaded_by: Mapped[User] = relationship()

    @property
    def is_link(self) -> bool:
        return self.url is not None


class Participant(db.Model):
    """An invitation: one person, one role, in one meeting."""

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id"),
        # Exactly one host and one recorder: the service checks, the database insists.
        Index(
            "uq_participant_one_host",
            "meeting_id",
            unique=True,
            sqlite_where=text("role = 'host'"),
            postgresql_where=text("role = 'host'"),
        ),
        Index(
            "uq_participant_one_recorder",
            "meeting_id",
            unique=True,
            sqlite_where=text("role = 'recorder'"),
            postgresql_where=text("role = 'recorder'"),
        ),
        # "Which meetings is this person invited to" (visible_filter, in every list and every search) is
        # answered from the index alone.
        Index("ix_participant_user_meeting", "user_id", "meeting_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.PARTICIPANT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()
