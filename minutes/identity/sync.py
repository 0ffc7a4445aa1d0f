"""The org-chart sync: one engine for every source (LDAP, and the vendors' contacts APIs).

A source gives lists of `DirectoryDepartment` and `DirectoryPerson` (fetched before any transaction: network
first, then the database). `apply_directory` makes the local departments and accounts match:

- a department is linked by its stable id (ExternalDepartment), so a rename changes one row's name and the
  department keeps its members, meetings and actions; an unlinked local department of the same name (one
  typed in or imported from CSV before) is adopted rather than duplicated;
- a person is linked by stable id (ExternalIdentity), else matched by username or e-mail like a sign-in
  (`service.link`), else created with an unusable password (they sign in through the directory);
- name, e-mail, title, department and 部门负责人 follow the directory; the username is never changed;
- an account linked to this provider that the directory no longer lists, or lists as disabled, is
  deactivated (its sessions end; nothing is deleted: minutes, sign-offs and actions keep the name) and
  reactivated when it comes back. Administrators are never deactivated by a sync (reported instead), so a
  directory mistake cannot lock the company out; an empty directory deactivates nobody (refused).

`run_sync` takes a job lock for the provider, so two hosts (or the tick and the button) never apply at once;
the second finds nothing left to change. The same input twice: the second run reports 0 changes.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import func, select, update

from minutes.core.errors import RuleViolation
from minutes.dbtypes import utcnow
from minutes.extensions import db
from minutes.identity import ldap, vendors
from minutes.identity.models import ExternalDepartment, ExternalIdentity
from minutes.identity.service import DirectoryDepartment, DirectoryPerson, unusable_password_hash
from minutes.notify import locks
from minutes.notify.models import JobLock
from minutes.people.models import Department, User

log = logging.getLogger(__name__)

DEFAULT_DEPARTMENT = "未分配部门"
CHUNK = 500


@dataclass
class SyncReport:
    """What one sync changed, in words an administrator reads (lists of names)."""

    provider: str
    departments_created: list[str] = field(default_factory=list)
    departments_renamed: list[tuple[str, str]] = field(default_factory=list)
    people_created: list[str] = field(default_factory=list)
    people_linked: list[str] = field(default_factory=list)  #: existing accounts now linked to the directory
    people_updated: list[tuple[str, list[str]]] = field(default_factory=list)  #: (label, changed fields)
    people_moved: list[tuple[str, str, str]] = field(default_factory=list)  #: (name, from, to)
    people_deactivated: list[str] = field(default_factory=list)
    people_reactivated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  #: what the sync would not do, and why
    departments_seen: int = 0
    people_seen: int = 0
    seconds: float = 0.0
    locked_out: bool = False  #: another run held the lock: nothing was applied by this one

    @property
    def changes(self) -> int:
        return (len(self.departments_created) + len(self.departments_renamed) + len(self.people_created)
                + len(self.people_linked) + len(self.people_updated) + len(self.people_moved)
                + len(self.people_deactivated) + len(self.people_reactivated))

    def summary(self) -> str:
        """One line in Chinese, for the CLI, the log and the tick."""
        if self.locked_out:
            return gettext("另一进程正在同步 %(provider)s，本次未执行", provider=self.provider)
        return gettext(
            "目录同步（%(provider)s）：部门 %(depts)s 个、人员 %(people)s 人；新建部门 %(dc)s，改名 %(dr)s；"
            "新建人员 %(pc)s，关联已有账号 %(pl)s，更新 %(pu)s，调动 %(pm)s，停用 %(pd)s，恢复 %(pr)s；共 %(n)s 项变更，用时 %(s)s 秒",
            provider=self.provider, depts=self.departments_seen, people=self.people_seen,
            dc=len(self.departments_created), dr=len(self.departments_renamed), pc=len(self.people_created),
            pl=len(self.people_linked), pu=len(self.people_updated), pm=len(self.people_moved),
            pd=len(self.people_deactivated), pr=len(self.people_reactivated), n=self.changes, s=f"{self.seconds:.2f}")


def report_lines(report: SyncReport) -> list[str]:
    """Each change on a line, in Chinese (the CLI's --verbose and the admin page)."""
    lines = [gettext("新建部门：%(name)s", name=name) for name in report.departments_created]
    lines += [gettext("部门改名：%(old)s → %(new)s", old=old, new=new) for old, new in report.departments_renamed]
    lines += [gettext("新建人员：%(name)s", name=name) for name in report.people_created]
    lines += [gettext("关联已有账号：%(name)s", name=name) for name in report.people_linked]
    lines += [gettext("更新：%(name)s（%(fields)s）", name=name, fields="、".join(fields)) for name, fields in report.people_updated]
    lines += [gettext("调动：%(name)s，%(old)s → %(new)s", name=name, old=old, new=new) for name, old, new in report.people_moved]
    lines += [gettext("停用：%(name)s", name=name) for name in report.people_deactivated]
    lines += [gettext("恢复：%(name)s", name=name) for name in report.people_reactivated]
    return lines


def lock_name(provider: str) -> str:
    return f"directory-sync:{provider}"


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_sync(provider: str, departments: list[DirectoryDepartment], people: list[DirectoryPerson]) -> SyncReport:
    """Apply a fetched directory under the provider's job lock, and commit (a job, like the tick)."""
    started = time.perf_counter()
    db.session.commit()  # the lock must be the transaction's first statement
    if not locks.lock_job(lock_name(provider), _holder()):
        return SyncReport(provider=provider, locked_out=True)
    try:
        report = apply_directory(provider, departments, people)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    report.seconds = time.perf_counter() - started
    log.info("%s", report.summary())
    return report


# --- departments -----------------------------------------------------------------------------

def _free_name(wanted: str, taken: dict[str, Department], parent_name: str | None, subject: str) -> str:
    """A department name not used by another department (names are unique locally)."""
    wanted = (wanted or "").strip()[:80] or subject[:80]
    if wanted not in taken:
        return wanted
    if parent_name:
        candidate = f"{wanted}（{parent_name}）"[:80]
        if candidate not in taken:
            return candidate
    return f"{wanted}（{subject[:8]}）"[:80]


def _sync_departments(provider: str, entries: list[DirectoryDepartment], report: SyncReport,
                      now: datetime) -> dict[str, Department]:
    links = {row.subject: row for row in db.session.scalars(select(ExternalDepartment).filter_by(provider=provider))}
    by_id = {d.id: d for d in db.session.scalars(select(Department))}
    by_name = {d.name: d for d in by_id.values()}
    linked_ids = {row.department_id for row in links.values()}
    names = {e.subject: e.name for e in entries}
    result: dict[str, Department] = {}
    # renames first, so a department taking another's old name finds it free
    for entry in entries:
        link = links.get(entry.subject)
        if link is None:
            continue
        dept = by_id[link.department_id]
        wanted = (entry.name or "").strip()[:80]
        if dept.name != wanted:
            others = {name: d for name, d in by_name.items() if d.id != dept.id}
            new = _free_name(wanted, others, names.get(entry.parent), entry.subject)
            if new != dept.name:
                report.departments_renamed.append((dept.name, new))
                by_name.pop(dept.name, None)
                dept.name = new
                by_name[new] = dept
        result[entry.subject] = dept
    if report.departments_renamed:
        db.session.flush()
    for entry in entries:
        if entry.subject in result:
            continue
        wanted = (entry.name or "").strip()[:80] or entry.subject[:80]
        dept = by_name.get(wanted)
        if dept is None or dept.id in linked_ids:
            dept = Department(name=_free_name(wanted, by_name, names.get(entry.parent), entry.subject))
            db.session.add(dept)
            db.session.flush()
            by_name[dept.name] = dept
            by_id[dept.id] = dept
            report.departments_created.append(dept.name)
        linked_ids.add(dept.id)
        db.session.add(ExternalDepartment(department_id=dept.id, provider=provider, subject=entry.subject,
                                          last_synced_at=now))
        result[entry.subject] = dept
    return result


# --- people ----------------------------------------------------------------------------------

def _end_sessions(user: User) -> None:
    user.session_version = (user.session_version or 1) + 1


def _default_department(cache: dict) -> Department:
    if "default" not in cache:
        dept = db.session.scalar(select(Department).where(Department.name == DEFAULT_DEPARTMENT))
        if dept is None:
            dept = Department(name=DEFAULT_DEPARTMENT)
            db.session.add(dept)
            db.session.flush()
        cache["default"] = dept
    return cache["default"]


def apply_directory(provider: str, departments: list[DirectoryDepartment], people: list[DirectoryPerson],
                    now: datetime | None = None) -> SyncReport:
    """Make departments and accounts match the directory (flushes, never commits); the report of changes."""
    now = now or utcnow()
    report = SyncReport(provider=provider, departments_seen=len(departments), people_seen=len(people))
    linked_count = db.session.scalar(select(func.count()).select_from(ExternalIdentity).filter_by(provider=provider))
    if not people and linked_count:
        raise RuleViolation(gettext("目录中一个人员也没有找到，可能是配置有误；为免停用全部账号，本次同步未执行"))
    depts = _sync_departments(provider, departments, report, now)
    cache: dict = {}

    identities = {i.subject: i for i in db.session.scalars(select(ExternalIdentity).filter_by(provider=provider))}
    users = {u.id: u for u in db.session.scalars(select(User))}
    by_username = {u.username.lower(): u for u in users.values()}
    by_email: dict[str, User] = {}
    for u in users.values():
        if u.email:
            by_email.setdefault(u.email.lower(), u)
    linked_users = {users[i.user_id]: i for i in identities.values() if i.user_id in users}
    current = {person.profile.subject for person in people}
    seen: set[str] = set()

    for person in people:
        p = person.profile
        if not p.subject or p.subject in seen:
            continue
        seen.add(p.subject)
        dept = depts.get(person.department) if person.department else None
        ident = identities.get(p.subject)
        created = False
        if ident is not None:
            user = users[ident.user_id]
        else:
            user = by_username.get((p.username or "").lower()) or (by_email.get(p.email.lower()) if p.email else None)
            if user is not None and user in linked_users:
                old = linked_users[user]
                if old.subject in current:
                    report.skipped.append(gettext("%(user)s：该账号已关联目录中的另一人员，未自动关联", user=user.label))
                    continue
                # the entry the account was linked to is gone and a new one has its name (re-created, rehired)
                identities.pop(old.subject, None)
                old.subject = p.subject
                identities[p.subject] = old
                report.people_linked.append(user.label)
                _update_person(user, person, dept, report)
                continue
            if user is None:
                if not person.enabled:
                    continue  # a disabled person the app never knew: nothing to create
                username = (p.username or p.subject)[:64]
                if username.lower() in by_username:
                    report.skipped.append(gettext("%(username)s：用户名已被其他账号使用，未创建", username=username))
                    continue
                if "password" not in cache:  # one per run: hashing is slow on purpose, and no password matches it
                    cache["password"] = unusable_password_hash()
                user = User(username=username, name=(p.name or username)[:64], email=(p.email or None),
                            title=(p.title or None), password_hash=cache["password"],
                            department=dept or _default_department(cache),
                            is_department_head=bool(p.is_department_head), is_enabled=True)
                db.session.add(user)  # flushed with the rest: one round trip per batch, not per person
                by_username[user.username.lower()] = user
                if user.email:
                    by_email.setdefault(user.email.lower(), user)
                report.people_created.append(user.label)
                created = True
            else:
                report.people_linked.append(user.label)
            ident = ExternalIdentity(user=user, provider=provider, subject=p.subject, last_synced_at=now)
            db.session.add(ident)
            identities[p.subject] = ident
            linked_users[user] = ident
        if not created:
            _update_person(user, person, dept, report)
    db.session.flush()
    # the directory's list is complete: anyone linked here and not in it has left
    for subject, ident in identities.items():
        if subject in seen:
            continue
        user = users.get(ident.user_id)
        if user is None or not user.is_enabled:
            continue
        if user.is_admin:
            report.skipped.append(gettext("%(user)s：已不在目录中，但是管理员账号，未自动停用", user=user.label))
            continue
        user.is_enabled = False
        _end_sessions(user)
        report.people_deactivated.append(user.label)
    seen_list = sorted(seen)
    for start in range(0, len(seen_list), CHUNK):
        db.session.execute(update(ExternalIdentity).where(ExternalIdentity.provider == provider,
                                                          ExternalIdentity.subject.in_(seen_list[start:start + CHUNK]))
                           .values(last_synced_at=now), execution_options={"synchronize_session": False})
    db.session.flush()
    return report


def _update_person(user: User, person: DirectoryPerson, dept: Department | None, report: SyncReport) -> None:
    p = person.profile
    changed = []
    name = (p.name or user.name)[:64]
    if user.name != name:
        user.name = name
        changed.append(gettext("姓名"))
    email = (p.email or None)
    if email is not None and user.email != email:
        user.email = email
        changed.append(gettext("邮箱"))
    title = (p.title or None)
    if user.title != title:
        user.title = title
        changed.append(gettext("职位"))
    if p.is_department_head is not None and user.is_department_head != bool(p.is_department_head):
        user.is_department_head = bool(p.is_department_head)
        changed.append(gettext("部门负责人"))
    if dept is not None and user.department_id != dept.id:
        old = user.department.name
        user.department = dept
        report.people_moved.append((user.name, old, dept.name))
    if not person.enabled and user.is_enabled:
        if user.is_admin:
            report.skipped.append(gettext("%(user)s：目录中已停用，但是管理员账号，未自动停用", user=user.label))
        else:
            user.is_enabled = False
            _end_sessions(user)
            report.people_deactivated.append(user.label)
    elif person.enabled and not user.is_enabled:
        user.is_enabled = True
        report.people_reactivated.append(user.label)
    if changed:
        report.people_updated.append((user.label, changed))


# --- sources and scheduling ------------------------------------------------------------------

#: The settings each vendor's contacts API needs (its sign-in settings): named in the message when one is missing.
VENDOR_SETTINGS = {"feishu": "FEISHU_APP_ID、FEISHU_APP_SECRET", "dingtalk": "DINGTALK_CLIENT_ID、DINGTALK_CLIENT_SECRET",
                   "wecom": "WECOM_CORP_ID、WECOM_AGENT_ID、WECOM_SECRET"}


def sources() -> list[str]:
    """The directory sources whose settings are given: LDAP, then the vendors' contacts APIs."""
    return (["ldap"] if ldap.configured() else []) + vendors.configured_directories(current_app.config)


def fetch(provider: str):
    """Departments and people from a configured source (network I/O: call outside a transaction)."""
    if provider == "ldap":
        if not ldap.configured():
            raise RuleViolation(gettext("未配置 LDAP（LDAP_URL），无法同步"))
        return ldap.fetch_directory()
    if provider not in vendors.DIRECTORIES:
        raise RuleViolation(gettext("未知的目录来源：%(provider)s（可用：ldap、feishu、dingtalk、wecom）",
                                    provider=provider[:40]))
    if provider not in vendors.configured_directories(current_app.config):
        raise RuleViolation(gettext("未配置 %(provider)s 的通讯录（%(settings)s），无法同步",
                                    provider=provider, settings=VENDOR_SETTINGS[provider]))
    return vendors.fetch_directory(provider, current_app.config)


def sync_from(provider: str) -> SyncReport:
    """Fetch from the source, then apply under the lock (commits)."""
    db.session.rollback()  # nothing open while the network is read
    departments, people = fetch(provider)
    return run_sync(provider, departments, people)


def last_run(provider: str) -> datetime | None:
    return db.session.scalar(select(JobLock.locked_at).where(JobLock.name == lock_name(provider)))


def tick_sync(now: datetime | None = None) -> list[SyncReport]:
    """The tick's part: sync each source of DIRECTORY_SYNC ("ldap", or several: "ldap,wecom") whose interval
    (DIRECTORY_SYNC_MINUTES) has passed; the reports of those that ran. A failing source does not stop the
    others; the first failure is raised after them."""
    providers = [p.strip() for p in str(current_app.config.get("DIRECTORY_SYNC") or "").split(",") if p.strip()]
    now = now or utcnow()
    interval = timedelta(minutes=current_app.config.get("DIRECTORY_SYNC_MINUTES", 60))
    reports, failure = [], None
    for provider in providers:
        last = last_run(provider)
        db.session.rollback()
        if last is not None and now - last < interval:
            continue
        try:
            reports.append(sync_from(provider))
        except Exception as exc:  # the next source still runs
            db.session.rollback()
            log.exception("directory sync from %s failed", provider)
            failure = failure or exc
    if failure is not None:
        raise failure
    return reports
