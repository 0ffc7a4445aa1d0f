"""API tokens: personal, hashed at rest, shown once, revocable."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import UTCDateTime, utcnow
from minutes.extensions import db
from minutes.people.models import User


class ApiToken(db.Model):
    """A bearer token that acts as its user and sees no more than the user does."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))  #: what the token is for, e.g. "OA 集成"
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  #: first characters, to recognise it in the list
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Read-only tokens may only read (GET, HEAD, OPTIONS): an integration that reports need not be able to change.
    read_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None
