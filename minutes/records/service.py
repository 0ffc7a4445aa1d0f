"""Rules of the formal minutes (会后总结): generation from the record, distribution and sign-off,
revisions, the final lock, corrections.

Every function takes the acting user and plain values, checks permission, changes state, flushes
and returns the object; the caller commits. Emails go through the outbox in the same transaction.

The life of the minutes of one meeting:
  meeting MINUTES_DUE ── draft_from_record ──> Minutes(DRAFT): the recorder edits the Markdown
  ── distribute ──> version 1, meeting DISTRIBUTED: each recipient answers 确认无误 / 提出修改意见
  ── revise ──> version 2 … (asks again only those whose comment it answers, plus people picked)
  ── everyone settled (or the host closes with a reason) ──> the version is final, meeting FINAL
  ── correct ──> a 更正 version pointing at the final one, final at once, everyone told.

This module holds what the jobs share (permissions, loading, versions, links, the deadline); the jobs
live in drafting.py (the draft), signoff.py (distribution to the final lock and corrections) and
reading.py (the page's state, diffs, exports, dashboards, the API's JSON); mail.py composes the e-mails.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from minutes.calendar.service import work_calendar
from minutes.core.links import external_url
from minutes.core.errors import NotFound, PermissionDenied, RuleViolation
from minutes.core.timefmt import to_local
from minutes.dbtypes import get_by_id, parse_id
from minutes.extensions import db
from minutes.meetings.models import Meeting, MeetingStatus, Role
from minutes.meetings.service import can_record, can_view
from minutes.records import render
from minutes.records.models import Minutes, MinutesVersion

#: Recipients answer within this many working days (收件人在1个工作日内反馈).
ANSWER_WORKDAYS = 1
MAX_BODY = 100_000
MAX_COMMENT = 2000
AFTER_MEETING = (MeetingStatus.MINUTES_DUE, MeetingStatus.DISTRIBUTED, MeetingStatus.FINAL)
CN_DIGITS = "零一二三四五六七八九"
SECTION_TITLES = (lazy_gettext("一、会议基本信息"), lazy_gettext("二、会议目标与议程回顾"), lazy_gettext("三、各议题讨论要点"),
                  render.DECISIONS_HEADING, render.ACTIONS_HEADING)


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 25 → 二十五 (for 议题 numbering)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    if n < 100:
        return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")
    return str(n)


# --- permissions and loading -----------------------------------------------------------------

def is_host(user, meeting: Meeting) -> bool:
    return can_view(user, meeting) and meeting.role_of(user) == Role.HOST


def minutes_of(meeting: Meeting, with_versions: bool = False) -> Minutes | None:
    """The minutes of a meeting, or None before the recorder opens them; `with_versions`: their versions come in
    the same statement (a page that shows them)."""
    query = select(Minutes).where(Minutes.meeting_id == meeting.id)
    if with_versions:
        query = query.options(joinedload(Minutes.versions))
    return db.session.scalars(query).unique().one_or_none()


def get_version(user, version_id) -> MinutesVersion:
    """Load a distributed version the user may see (the minutes of a meeting they can view)."""
    version = get_by_id(MinutesVersion, version_id)
    if version is None or not can_view(user, version.meeting):
        raise NotFound(gettext("该纪要版本不存在或您无权查看"))
    return version


def version_by_number(user, meeting: Meeting, number) -> MinutesVersion:
    """A version of the meeting's minutes by its number (第N版)."""
    minutes = minutes_of(meeting)
    number = parse_id(number)
    if not can_view(user, meeting) or minutes is None or number is None:
        raise NotFound(gettext("该纪要版本不存在"))
    version = db.session.scalar(select(MinutesVersion).where(MinutesVersion.minutes_id == minutes.id,
                                                             MinutesVersion.number == number))
    if version is None:
        raise NotFound(gettext("该纪要版本不存在"))
    return version


def _require_write(actor, meeting: Meeting) -> None:
    if not can_record(actor, meeting):
        if not can_view(actor, meeting):
            raise NotFound(gettext("会议不存在或您无权查看"))
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以整理会议纪要"))
    if meeting.status not in AFTER_MEETING:
        raise RuleViolation(gettext("会议结束后才能整理会议纪要") if meeting.status != MeetingStatus.CANCELLED
                            else gettext("会议已取消，没有会议纪要"))


def _require_minutes(meeting: Meeting) -> Minutes:
    minutes = minutes_of(meeting)
    if minutes is None:
        raise RuleViolation(gettext("请先生成纪要初稿"))
    return minutes


def _refuse_if_final(minutes: Minutes) -> None:
    if minutes.is_final:
        raise RuleViolation(gettext("纪要已定稿并锁定，不能修改；如需更正，请发布更正版"))


# --- versions --------------------------------------------------------------------------------

def current_version(minutes: Minutes | None) -> MinutesVersion | None:
    """The newest version, or None before distribution."""
    if minutes is None:
        return None
    return minutes.versions[-1] if minutes.versions else None


def is_current_version(version=MinutesVersion):
    """current_version as a WHERE clause, for a list of versions of many minutes: no newer version of the same
    minutes (`version`: MinutesVersion or an alias of it)."""
    newer = aliased(MinutesVersion)
    return ~select(newer.id).where(newer.minutes_id == version.minutes_id, newer.number > version.number).exists()


def final_version(minutes: Minutes | None) -> MinutesVersion | None:
    """The newest final version (a correction supersedes what it corrects), or None."""
    if minutes is None:
        return None
    return next((v for v in reversed(minutes.versions) if v.finalized_at is not None), None)


def versions(minutes: Minutes | None) -> list[MinutesVersion]:
    """The versions in order (Minutes.versions: loaded once, a new version joins it; a page asks several times)."""
    if minutes is None:
        return []
    return list(minutes.versions)


def verify(version: MinutesVersion) -> bool:
    """Recompute a version's hash from what is stored; a final one must also match the minutes' copy."""
    try:
        digest = render.content_hash(version.body, version.decisions, version.actions)
    except (ValueError, TypeError):
        return False
    if digest != version.content_hash:
        return False
    minutes = version.minutes
    if version.is_final and minutes.final_number == version.number and minutes.final_hash != version.content_hash:
        return False
    return True


def version_link(version: MinutesVersion) -> str:
    """The page where a recipient reads a version and answers (the link in the emails)."""
    return external_url("records.version", version_id=version.id)


@dataclass(frozen=True)
class MinutesDeadline:
    """The minutes' deadline as the process sets it (24 hours after the end), and how it lies in the
    working calendar: the rule stays 24 hours; a deadline on a day off is told, with the working day
    it would move to if the recorder does not work on days off."""

    due_at: datetime
    #: The deadline's local day is a day off (weekend or holiday, after the company's overrides).
    day_off: bool
    #: The next working day at the same time, when `day_off`.
    working_due_at: datetime | None


def minutes_deadline(due_at: datetime | None) -> MinutesDeadline | None:
    """Place the minutes' 24-hour deadline in the working calendar (see MinutesDeadline)."""
    if due_at is None:
        return None
    local = to_local(due_at)
    calendar = work_calendar()
    if calendar.is_workday(local.date()):
        return MinutesDeadline(due_at, False, None)
    workday = calendar.next_workday_on_or_after(local.date())
    return MinutesDeadline(due_at, True, local.replace(year=workday.year, month=workday.month, day=workday.day))
