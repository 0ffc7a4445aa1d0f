"""The transactional outbox: messages written with the change that causes them."""
import enum
from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from minutes.dbtypes import UTCDateTime, str_enum, utcnow
from minutes.extensions import db


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  #: claimed by one deliverer; others leave it alone
    SENT = "sent"
    DEAD = "dead"  #: gave up after the last retry; shown to the admin

    @property
    def label(self) -> str:
        return {"pending": "待发送", "sending": "发送中", "sent": "已发送", "dead": "发送失败"}[self.value]


class OutboxMessage(db.Model):
    """One message to one recipient through one channel, delivered at most once."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), default="email")  #: email, dingtalk, wecom, feishu
    recipient: Mapped[str] = mapped_column(String(500))  #: email address or webhook URL
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    #: Unique per logical message (e.g. agenda:42:user:7:v3); a second enqueue is a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A claim expires so a deliverer that died mid-send does not strand the message forever.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
