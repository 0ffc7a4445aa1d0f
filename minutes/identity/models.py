"""Identity: the company's directory and sign-in providers, linked to local accounts."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import UTCDateTime, utcnow
from minutes.extensions import db
from minutes.people.models import User


class ExternalIdentity(db.Model):
    """One account's identity at one provider, matched by the provider's stable id, never by a name.

    provider: "ldap", "oidc", "feishu", "dingtalk", "wecom". subject: LDAP entryUUID (or the configured
    id attribute), the OIDC `sub`, the vendor's user id within the company (Feishu user_id/union_id,
    DingTalk userid, WeCom UserId). A person who signs in through two providers has two rows, one account.
    """

    __tablename__ = "external_identity"
    __table_args__ = (UniqueConstraint("provider", "subject"), UniqueConstraint("user_id", "provider"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set by an org sync that found this identity; a later sync that no longer finds it deactivates the account.
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ExternalDepartment(db.Model):
    """A department as the directory knows it (by its stable id), so a rename or move keeps one department."""

    __tablename__ = "external_department"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
