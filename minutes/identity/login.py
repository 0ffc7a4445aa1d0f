"""The login form's password check: the local password, then the company directory (LDAP/AD).

Every attempt is counted by the login throttle first (`people.throttle.begin`), whichever method then
accepts or refuses the password, so a guesser gets no more tries through LDAP than through local
passwords. LOCAL_LOGIN="admins" keeps local passwords for administrators only (the first administrator
always has one); everyone else signs in with the company login.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from minutes.core.errors import PermissionDenied
from minutes.extensions import db
from minutes.identity import ldap
from minutes.identity.models import ExternalDepartment
from minutes.identity.service import sign_in
from minutes.people import throttle
from minutes.people.service import get_department
from minutes.people.models import User

LOCAL_LOGIN_CHOICES = ("all", "admins")


def local_login_mode() -> str:
    """"all" (local passwords for everyone) or "admins" (only administrators)."""
    mode = str(current_app.config.get("LOCAL_LOGIN") or "all").strip().lower()
    return mode if mode in LOCAL_LOGIN_CHOICES else "all"


def local_password_allowed(is_admin: bool) -> bool:
    """May an account with this role sign in with its local password (LOCAL_LOGIN)?"""
    return local_login_mode() == "all" or bool(is_admin)


def password_login(username: str, password: str, address: str,
                   after_commit: Callable[[Callable[[], None]], None]) -> User | None:
    """The account when the password is right (locally or in the directory), None when it is wrong;
    TooManyAttempts over the throttle's limits; PermissionDenied with a clear message when the directory
    has disabled the account or does not let it sign in here; DirectoryUnavailable when it cannot be reached.

    `after_commit(fn)` runs fn after the request has committed (the throttle's bookkeeping of a success
    refers to the account, which a directory sign-in may just have created).
    """
    attempt = throttle.begin(username, address)
    found = attempt.found
    if throttle.local_password_ok(attempt, password):  # always checked: an unknown name takes as long
        if local_password_allowed(found.is_admin):
            throttle.succeeded(attempt, found.id)
            return db.session.get(User, found.id)
        if not ldap.configured():
            raise PermissionDenied(gettext("本系统已关闭本地密码登录，请使用公司统一账号登录"))
    if not ldap.configured():
        return None
    profile = ldap.authenticate(username, password)  # network, outside any transaction of ours
    if profile is None:
        return None
    user = sign_in(ldap.PROVIDER, profile)
    _refresh(user, profile)
    db.session.flush()
    after_commit(partial(throttle.succeeded, attempt, user.id))
    return user


def _refresh(user: User, profile) -> None:
    """What the directory says about the person now, kept on the account at each sign-in. The department
    follows by name only while the sync has not linked departments (then the sync moves people)."""
    if profile.name and user.name != profile.name[:64]:
        user.name = profile.name[:64]
    if profile.email and user.email != profile.email:
        user.email = profile.email
    if profile.title is not None and user.title != profile.title:
        user.title = profile.title or None
    if profile.is_department_head is not None:
        user.is_department_head = bool(profile.is_department_head)
    synced = db.session.scalar(select(ExternalDepartment.id).where(ExternalDepartment.provider == ldap.PROVIDER).limit(1))
    if profile.department and synced is None and user.department.name != profile.department[:80]:
        user.department = get_department(profile.department[:80], create=True)
