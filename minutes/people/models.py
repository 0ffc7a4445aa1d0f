"""People: departments and user accounts."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import UTCDateTime, utcnow
from minutes.extensions import db


class Department(db.Model):
    """A department (部门) that organizes, presents at and owns work from meetings."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list["User"]] = relationship(back_populates="department", order_by="User.name")

    @property
    def heads(self) -> list["User"]:
        """The department's heads (部门负责人): they receive minutes and escalations."""
        return [m for m in self.members if m.is_department_head and m.is_enabled]

    @property
    def head(self) -> "User | None":
        heads = self.heads
        return heads[0] if heads else None

    def __repr__(self) -> str:
        return f"<Department {self.name}>"


class User(UserMixin, db.Model):
    """A local account; every employee who takes part in meetings has one."""

    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    title: Mapped[str | None] = mapped_column(String(64))  #: job title, e.g. 经理
    password_hash: Mapped[str] = mapped_column(String(256))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    is_admin: Mapped[bool] = mapped_column(default=False)
    #: 部门负责人: invited by department, receives minutes for sign-off and action escalations.
    is_department_head: Mapped[bool] = mapped_column(default=False)
    #: Disabled accounts cannot log in and lose their sessions.
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: Bumped on logout-everywhere, password change or disabling: old session cookies stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    #: Created by `flask minutes demo`; the demo refuses to touch a database with real accounts.
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department] = relationship(back_populates="members")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def label(self) -> str:
        """Name with department, as shown in lists: 张伟（产品部）."""
        return f"{self.name}（{self.department.name}）"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class LoginCounter(db.Model):
    """Failed logins counted under one key (an account and address pair, an account, an address).

    Shared by every worker and host through the database; `people.throttle` counts an attempt here
    before the password is checked, so a burst cannot get more checks than the limit.
    """

    __tablename__ = "login_counter"

    #: e.g. "pair:zhaomin|10.1.0.5", "account:zhaomin", "address:10.1.0.5"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    #: Attempts under this key are refused until then.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The count is forgotten (and the row deleted) after this.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoginAddress(db.Model):
    """An address a user logged in from successfully: attempts from it pass the account's back-off."""

    __tablename__ = "login_address"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime)
