"""Action items (待办): who does what with whom by when, agreed in a meeting."""
import enum
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import UTCDateTime, str_enum, utcnow
from minutes.extensions import db
from minutes.meetings.models import AgendaItem, Meeting
from minutes.people.models import Department, User


class ActionStatus(enum.StrEnum):
    """Where an action item stands (the tracking table's 状态 column)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DELAYED = "delayed"
    NEED_SUPPORT = "need_support"

    @property
    def label(self) -> str:
        return ACTION_STATUS_LABELS[self]


ACTION_STATUS_LABELS = {
    ActionStatus.NOT_STARTED: "未开始",
    ActionStatus.IN_PROGRESS: "进行中",
    ActionStatus.DONE: "已完成",
    ActionStatus.DELAYED: "延期",
    ActionStatus.NEED_SUPPORT: "需支持",
}

#: 配合部门 of an action item.
action_cooperator = Table(
    "action_cooperator",
    db.metadata,
    Column("action_id", ForeignKey("action_item.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True),
)


class ActionItem(db.Model):
    """An action item (待办): a task with an owner (department and person) and a concrete due date."""

    __tablename__ = "action_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    #: The agenda item it came out of (None only for items added outside a meeting's agenda).
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    due_date: Mapped[date] = mapped_column()
    #: The deadline as typed ("3个工作日内"), kept beside the date it was read as.
    due_text: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus), default=ActionStatus.NOT_STARTED)
    #: Order within the agenda item, 1-based, in the order they were recorded.
    position: Mapped[int] = mapped_column(Integer, default=1)
    #: Set when the item was confirmed aloud in the end-of-meeting review (会末逐项确认).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: True when the wording was changed during the review before being confirmed.
    reworded: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: Soft delete: a removed item stays for the audit trail but is shown nowhere.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: Bumped on every change; an edit based on an older version is refused (StaleEdit).
    version: Mapped[int] = mapped_column(Integer, default=1)

    meeting: Mapped[Meeting] = relationship()
    agenda_item: Mapped[AgendaItem | None] = relationship()
    owner_department: Mapped[Department] = relationship(foreign_keys=[owner_department_id])
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    cooperating_departments: Mapped[list[Department]] = relationship(
        secondary=action_cooperator, order_by=Department.id
    )
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def review_key(self) -> str:
        """Identify the item in the end-of-meeting review walk."""
        return f"action:{self.id}"
