"""The transactional outbox: messages written with the change that causes them; IM group robots."""
import enum
from datetime import datetime

from flask_babel import gettext, lazy_gettext
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import UTCDateTime, str_enum, utcnow
from minutes.extensions import db
from minutes.people.models import Department, User


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  #: claimed by one deliverer; others leave it alone
    SENT = "sent"
    DEAD = "dead"  #: gave up after the last retry; shown to the admin

    @property
    def label(self) -> str:
        return {"pending": gettext("待发送"), "sending": gettext("发送中"), "sent": gettext("已发送"),
                "dead": gettext("发送失败")}[self.value]


class OutboxMessage(db.Model):
    """One message to one recipient through one channel, delivered at most once."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: email, dingtalk, wecom, feishu (robots), chat (a person's card), calendar (an event in the chat platform's calendar)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    recipient: Mapped[str] = mapped_column(String(500))  #: email address, or the robot's name for IM
    #: For IM messages: the group robot that posts it (its URL and secret stay on the robot, not here).
    bot_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_bot.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    #: The page the message is about (IM messages end with it as a "查看详情" link).
    link: Mapped[str] = mapped_column(String(500), default="")
    #: Unique per logical message (e.g. agenda:42:user:7:v3); a second enqueue is a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A claim expires so a deliverer that died mid-send does not strand the message forever.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: When the last delivery attempt reached out to the server; robots' per-minute limits count these.
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: An e-mail's calendar invitation (iCalendar text with METHOD REQUEST or CANCEL): sent as the text/calendar
    #: alternative Outlook reads and as an .ics attachment for the other clients.
    calendar: Mapped[str | None] = mapped_column(Text)
    #: About a confidential meeting: the outbox page does not show its subject to administrators.
    confidential: Mapped[bool] = mapped_column(default=False)

    bot: Mapped["WebhookBot | None"] = relationship()

    @property
    def channel_label(self) -> str:
        return str(CHANNEL_LABELS.get(self.channel, self.channel))


#: Deliverers look for due work by status and time.
Index("ix_outbox_message_due", OutboxMessage.status, OutboxMessage.next_attempt_at)
#: A robot's per-minute budget counts its recent attempts among all it ever sent.
Index("ix_outbox_message_bot_attempt", OutboxMessage.bot_id, OutboxMessage.last_attempt_at)


class BotVendor(enum.StrEnum):
    """The IM platforms whose group robots we post to by webhook."""

    DINGTALK = "dingtalk"
    WECOM = "wecom"
    FEISHU = "feishu"

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self.value])


CHANNEL_LABELS = {"email": lazy_gettext("邮件"), "dingtalk": lazy_gettext("钉钉"), "wecom": lazy_gettext("企业微信"),
                  "feishu": lazy_gettext("飞书"), "chat": lazy_gettext("消息卡片"), "calendar": lazy_gettext("日历日程")}


class WebhookBot(db.Model):
    """A department's group robot (钉钉自定义机器人 / 企业微信群机器人 / 飞书自定义机器人)."""

    __tablename__ = "webhook_bot"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    vendor: Mapped[BotVendor] = mapped_column(str_enum(BotVendor))
    name: Mapped[str] = mapped_column(String(100))  #: e.g. 产品部工作群
    #: The robot's webhook URL (for 企业微信 it carries the key: treat it as a secret).
    webhook_url: Mapped[str] = mapped_column(String(500))
    #: 加签 secret (钉钉 "SEC…", 飞书 签名校验); empty when the robot does not check signatures.
    secret: Mapped[str] = mapped_column(String(200), default="")
    #: Messages per minute the platform accepts from one robot (钉钉 20, 企业微信 20, 飞书 100).
    per_minute: Mapped[int] = mapped_column(Integer, default=20)
    enabled: Mapped[bool] = mapped_column(default=True)
    #: Touched by a deliverer that plans this robot's next messages, so two deliverers take turns.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department] = relationship()
    created_by: Mapped[User] = relationship()

    @property
    def label(self) -> str:
        return f"{self.department.name} · {self.vendor.label} · {self.name}"


class JobLock(db.Model):
    """A named lock row: a job that must not run twice at once locks its row for its transaction."""

    __tablename__ = "job_lock"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    holder: Mapped[str] = mapped_column(String(100), default="")
