"""Action items (待办): who does what with whom by when, agreed in a meeting."""
import enum
from datetime import date, datetime

from flask_babel import lazy_gettext
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import RecordedEntry, UTCDateTime, str_enum, utcnow
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
        return str(ACTION_STATUS_LABELS[self])


ACTION_STATUS_LABELS = {
    ActionStatus.NOT_STARTED: lazy_gettext("未开始"),
    ActionStatus.IN_PROGRESS: lazy_gettext("进行中"),
    ActionStatus.DONE: lazy_gettext("已完成"),
    ActionStatus.DELAYED: lazy_gettext("延期"),
    ActionStatus.NEED_SUPPORT: lazy_gettext("需支持"),
}

#: 配合部门 of an action item.
action_cooperator = Table(
    "action_cooperator",
    db.metadata,
    Column("action_id", ForeignKey("action_item.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True),
)


class ActionItem(RecordedEntry, db.Model):
    """An action item (待办): a task with an owner (department and person) and a concrete due date."""

    __tablename__ = "action_item"
    __table_args__ = (Index("uq_action_item_submission", "meeting_id", "submission", unique=True),)

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

    meeting: Mapped[Meeting] = relationship()
    agenda_item: Mapped[AgendaItem | None] = relationship()
    owner_department: Mapped[Department] = relationship(foreign_keys=[owner_department_id])
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    cooperating_departments: Mapped[list[Department]] = relationship(
        secondary=action_cooperator, order_by=Department.id
    )
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def is_done(self) -> bool:
        return self.status == ActionStatus.DONE

    def is_overdue(self, today: date) -> bool:
        """Not done and past its date (the date itself is still in time)."""
        return not self.is_done and self.due_date is not None and self.due_date < today

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def review_key(self) -> str:
        """Identify the item in the end-of-meeting review walk."""
        return f"action:{self.id}"


# --- tracking (跟踪待办事项执行) ---------------------------------------------------------------

class ActionUpdate(db.Model):
    """One status report on an action item: the history the tracking table keeps (每次更新都留痕)."""

    __tablename__ = "action_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action_item.id", ondelete="CASCADE"), index=True)
    old_status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus))
    new_status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus))
    #: Progress note; for 延期 the reason, for 需支持 what support is needed.
    note: Mapped[str] = mapped_column(Text, default="")
    #: For 延期: the deadline before and after the proposal (the action's due date moves to new_due).
    old_due: Mapped[date | None] = mapped_column()
    new_due: Mapped[date | None] = mapped_column()
    #: For 需支持: the department asked for support (from whom).
    support_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    #: Where the update was made: tracker, review (上次会议待办回顾 in the next meeting), api or chat (a button
    #: on the person's message card, minutes.chat).
    source: Mapped[str] = mapped_column(String(20), default="tracker")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    action: Mapped[ActionItem] = relationship()
    support_department: Mapped[Department | None] = relationship()
    created_by: Mapped[User] = relationship()


class ReminderLog(db.Model):
    """A reminder or escalation handed to the outbox: at most one per action × due date × stage × recipient.

    The unique key is what makes the tick idempotent: however often (and from however many hosts)
    it runs, a second attempt to log the same reminder fails instead of sending it again.
    """

    __tablename__ = "action_reminder"
    __table_args__ = (UniqueConstraint("action_id", "due_date", "stage", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action_item.id", ondelete="CASCADE"))
    #: The deadline the reminder was about: a 延期 moves the due date and starts a fresh schedule.
    due_date: Mapped[date] = mapped_column()
    #: before, due, overdue_1 … overdue_N, escalate (see minutes.actions.reminders.Stage).
    stage: Mapped[str] = mapped_column(String(20))
    #: "user:<id>" (email) or "bot:<id>" (IM group robot).
    recipient: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))  #: email, dingtalk, wecom, feishu
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id", ondelete="SET NULL"))
    #: The working day (company-local) the reminder belongs to.
    sent_on: Mapped[date] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recipient_user: Mapped[User | None] = relationship()


class ReminderSettings(db.Model):
    """The reminder rules an administrator sets (one row; defaults follow the process document)."""

    __tablename__ = "reminder_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 截止日期前N天提醒负责人 (0 turns it off).
    before_days: Mapped[int] = mapped_column(Integer, default=2)
    #: Count those days as working days (default) or calendar days.
    before_in_workdays: Mapped[bool] = mapped_column(default=True)
    #: Remind the owner on the deadline itself.
    on_due: Mapped[bool] = mapped_column(default=True)
    #: After the deadline: one status request per working day, this many times (截止日期后3天内收集完成情况).
    overdue_requests: Mapped[int] = mapped_column(Integer, default=3)
    #: Then escalate to the meeting's host and the owner's department head.
    escalate: Mapped[bool] = mapped_column(default=True)
    #: Reminders of a working day go out from this local hour on (no messages at midnight).
    send_hour: Mapped[int] = mapped_column(Integer, default=9)
    by_email: Mapped[bool] = mapped_column(default=True)
    #: Also post to the owner's department group robots (钉钉/企业微信/飞书).
    by_im: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    updated_by: Mapped[User | None] = relationship()


#: Actions taken up by a follow-up meeting (二次沟通会议).
action_follow_up = Table(
    "action_follow_up",
    db.metadata,
    Column("action_id", ForeignKey("action_item.id", ondelete="CASCADE"), primary_key=True),
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
)

#: Actions listed in a review (上次会议待办回顾), as they were open when the next meeting was created.
action_review_entry = Table(
    "action_review_entry",
    db.metadata,
    Column("review_id", ForeignKey("action_review.id", ondelete="CASCADE"), primary_key=True),
    Column("action_id", ForeignKey("action_item.id", ondelete="CASCADE"), primary_key=True),
)


class ActionReview(db.Model):
    """The 上次会议待办回顾 agenda item of a series meeting and the open actions it reviews."""

    __tablename__ = "action_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), unique=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id", ondelete="SET NULL"))
    previous_meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(foreign_keys=[meeting_id])
    previous_meeting: Mapped[Meeting] = relationship(foreign_keys=[previous_meeting_id])
    agenda_item: Mapped[AgendaItem | None] = relationship()
    actions: Mapped[list[ActionItem]] = relationship(secondary=action_review_entry,
                                                     order_by=lambda: (ActionItem.due_date, ActionItem.id))


class CalendarFeed(db.Model):
    """A personal iCalendar feed URL (deadlines and meetings); the token is shown once, stored hashed."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    #: SHA-256 of the URL token; revoking deletes the row, so the old URL stops working at once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


#: The tick selects open actions by deadline; the tracker sorts and filters by it.
Index("ix_action_item_due_date", ActionItem.due_date)
