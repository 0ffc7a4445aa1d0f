"""Personal message cards (飞书消息卡片 / 企业微信模板卡片 / 钉钉工作通知) and the callbacks they answered."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import UTCDateTime, utcnow
from minutes.extensions import db
from minutes.people.models import User


class ChatCard(db.Model):
    """One card sent to one person through the company's chat app, and what pressing its buttons did.

    The card's `token` travels in every button (Feishu button value, WeCom task_id, DingTalk link); a press
    is taken only from the person the card was sent to (their ExternalIdentity on that platform).
    """

    __tablename__ = "chat_card"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unguessable, unique: names the card in the platform's callbacks.
    token: Mapped[str] = mapped_column(String(40), unique=True)
    platform: Mapped[str] = mapped_column(String(20))  #: feishu, dingtalk, wecom
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: The person's user id on the platform (ExternalIdentity.subject) the card was sent to.
    subject: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20))  #: action (a reminder), minutes (a sign-off request), agenda
    action_id: Mapped[int | None] = mapped_column(ForeignKey("action_item.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("minutes_version.id", ondelete="CASCADE"), index=True)
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id", ondelete="SET NULL"),
                                                          index=True)
    #: The platform's id of the sent message (Feishu message_id, WeCom msgid, DingTalk task_id).
    vendor_message_id: Mapped[str | None] = mapped_column(String(200))
    #: The last button that took effect and what it did, shown on the card ("已完成 · 12月5日 10:32").
    answered_choice: Mapped[str | None] = mapped_column(String(20))
    result: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The platform's one-use code for updating this card once more (WeCom response_code, 72 hours).
    response_code: Mapped[str | None] = mapped_column(String(200))
    #: 提出修改意见 pressed where the card has no text box (WeCom): the person's next text message to the app
    #: before this time is the comment.
    awaiting_comment_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class ChatCallback(db.Model):
    """A callback already taken: the same event (or the same signed nonce) again is a replay and is refused."""

    __tablename__ = "chat_callback"
    __table_args__ = (UniqueConstraint("platform", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    #: Feishu event_id; WeCom / DingTalk timestamp:nonce:signature.
    event_key: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ChatCalendarEvent(db.Model):
    """A meeting's event in the chat platform's own calendar (飞书日历 / 钉钉日程 / 企业微信日程), kept in step with it.

    One per meeting, created when the agenda is sent (CHAT_CALENDAR_EVENTS), updated on a change of time or place or
    of the people invited, deleted when the meeting is cancelled (minutes.chat.calendar_events)."""

    __tablename__ = "chat_calendar_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), unique=True)
    platform: Mapped[str] = mapped_column(String(20))  #: feishu, dingtalk, wecom
    #: The platform's id of the event (Feishu event_id, DingTalk event id, WeCom schedule_id); None until created.
    vendor_event_id: Mapped[str | None] = mapped_column(String(200))
    #: Whose calendar holds it: Feishu the app's calendar_id, DingTalk the organizer's unionId, WeCom empty.
    owner: Mapped[str] = mapped_column(String(255), default="")
    #: The people on the event, as a JSON list of their user ids on the platform.
    attendees: Mapped[str] = mapped_column(Text, default="[]")
    #: The outbox message that last brought the event in step (an older message, retried late, is skipped).
    synced_message_id: Mapped[int | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A deliverer is talking to the platform about this event until then; another one waits (two would make two).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
