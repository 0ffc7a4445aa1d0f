"""Periodic meetings (周期性跨部门会议, e.g. 季度协调会, 每周例会).

A meeting can start a series; the next meeting of the series copies the previous one's basics and
invitations and opens its agenda with 上次会议待办回顾: the open actions of the earlier meetings of
the series, listed with their current status (updatable during the meeting, see
`minutes.actions.service.update_status` with source="review").
"""
from __future__ import annotations

import calendar as month_calendar
from datetime import datetime, timedelta

from flask_babel import gettext, lazy_gettext
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from minutes.actions.models import ActionItem, ActionReview, ActionStatus, action_review_entry
from minutes.calendar.service import work_calendar
from minutes.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from minutes.core.timefmt import LOCAL_TZ, cn_date, to_local, utcnow
from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.meetings.models import Meeting, MeetingSeries, MeetingStatus, SeriesCadence
from minutes.people.models import User

REVIEW_TITLE = lazy_gettext("上次会议待办回顾")


def series_meetings(series: MeetingSeries) -> list[Meeting]:
    """The meetings of a series, in date order (cancelled ones included)."""
    return list(db.session.scalars(select(Meeting).where(Meeting.series_id == series.id)
                                   .order_by(Meeting.starts_at, Meeting.id)))


def start_series(actor: User, meeting: Meeting, name: str = "", cadence: str = SeriesCadence.MONTHLY.value) -> MeetingSeries:
    """Make a meeting the first of a periodic series."""
    if not meetings.can_edit(actor, meeting):
        raise PermissionDenied(gettext("只有发起人、主持人或记录人可以设置周期会议"))
    if meeting.series_id is not None:
        raise RuleViolation(gettext("该会议已属于一个周期会议系列"))
    try:
        cadence = SeriesCadence(cadence)
    except ValueError:
        raise ValidationFailed(gettext("请选择召开频率"), field="cadence") from None
    name = (name or "").strip() or meeting.topic
    if len(name) > 200:
        raise ValidationFailed(gettext("系列名称不超过200个字"), field="name")
    series = MeetingSeries(name=name, cadence=cadence, created_by=actor)
    db.session.add(series)
    db.session.flush()
    meeting.series_id = series.id
    db.session.flush()
    return series


def _add_months(dt: datetime, months: int) -> datetime:
    month = dt.month - 1 + months
    year, month = dt.year + month // 12, month % 12 + 1
    day = min(dt.day, month_calendar.monthrange(year, month)[1])
    return dt.replace(year=year, month=month, day=day)


def suggested_next_start(meeting: Meeting) -> datetime:
    """The next meeting's start by the series' cadence, moved to a working day, same local time."""
    local = to_local(meeting.starts_at)
    cadence = meeting.series.cadence if meeting.series else SeriesCadence.IRREGULAR
    if cadence == SeriesCadence.WEEKLY:
        nxt = local + timedelta(days=7)
    elif cadence == SeriesCadence.BIWEEKLY:
        nxt = local + timedelta(days=14)
    elif cadence == SeriesCadence.QUARTERLY:
        nxt = _add_months(local, 3)
    else:
        nxt = _add_months(local, 1)
    day = work_calendar().next_workday_on_or_after(nxt.date())
    return datetime(day.year, day.month, day.day, local.hour, local.minute, tzinfo=LOCAL_TZ)


def open_actions_for_review(meeting: Meeting) -> list[ActionItem]:
    """Open actions of this meeting and of the earlier meetings of its series (carried over)."""
    if meeting.series_id is None:
        ids = [meeting.id]
    else:
        ids = list(db.session.scalars(select(Meeting.id).where(Meeting.series_id == meeting.series_id,
                                                               Meeting.starts_at <= meeting.starts_at)))
    return list(db.session.scalars(
        select(ActionItem).where(ActionItem.meeting_id.in_(ids), ActionItem.deleted_at.is_(None),
                                 ActionItem.status != ActionStatus.DONE)
        .order_by(ActionItem.meeting_id != meeting.id, ActionItem.due_date, ActionItem.id)
        .options(selectinload(ActionItem.owner), selectinload(ActionItem.owner_department),
                 selectinload(ActionItem.meeting))))


def _review_text(previous: Meeting, actions: list[ActionItem]) -> str:
    today = to_local(utcnow()).date()
    if not actions:
        return gettext("上次会议（%(day)s）的待办已全部完成。", day=cn_date(previous.starts_at))
    lines = [gettext("上次会议（%(day)s）未完成的待办共%(count)s项，状态截至%(today)s：", day=cn_date(previous.starts_at),
                     count=len(actions), today=cn_date(today))]
    for n, action in enumerate(actions, start=1):
        late = gettext("，已逾期") if action.due_date < today else ""
        carried = gettext("（往期：%(day)s）", day=cn_date(action.meeting.starts_at, weekday=False)) \
            if action.meeting_id != previous.id else ""
        lines.append(gettext("%(no)s. 【%(status)s】%(text)s — %(owner)s（%(department)s），截止%(due)s", no=n,
                             status=action.status.label, text=action.text, owner=action.owner.name,
                             department=action.owner_department.name, due=cn_date(action.due_date, weekday=False))
                     + late + carried)
    lines.append(gettext("会上请逐项确认完成情况，并在“上次会议待办回顾”页面直接更新状态。"))
    return "\n".join(lines)


def require_can_plan_next(actor: User, meeting: Meeting) -> None:
    """Only those who may edit the latest meeting plan the next one (checked before any input is read)."""
    if not meetings.can_edit(actor, meeting):
        raise PermissionDenied(gettext("只有发起人、主持人或记录人可以安排下一次会议"))


def next_in_series(meeting: Meeting) -> Meeting | None:
    """The meeting of the series after `meeting` (not cancelled), if one is planned."""
    if meeting.series_id is None:
        return None
    return db.session.scalar(select(Meeting).where(Meeting.series_id == meeting.series_id,
                                                   Meeting.starts_at > meeting.starts_at,
                                                   Meeting.status != MeetingStatus.CANCELLED)
                             .order_by(Meeting.starts_at).limit(1))


def create_next_in_series(actor: User, meeting: Meeting, starts_at: datetime | None = None) -> Meeting:
    """Plan the next meeting of `meeting`'s series: same basics and invitations, the review item first."""
    require_can_plan_next(actor, meeting)
    if meeting.series_id is None:
        raise RuleViolation(gettext("该会议不属于周期会议系列，请先设为周期会议"))
    later = next_in_series(meeting)
    if later is not None:
        raise RuleViolation(gettext("本系列已安排了下一次会议（%(starts_at)s）：请从最近一次会议继续", starts_at=cn_date(later.starts_at)))
    starts_at = starts_at or suggested_next_start(meeting)
    nxt = meetings.plan_like(actor, meeting, starts_at, meeting.planned_end - meeting.planned_start)  # as long as planned
    nxt.series_id = meeting.series_id
    actions = open_actions_for_review(meeting)
    item = meetings.add_agenda_item(actor, nxt, str(REVIEW_TITLE), min(30, 5 + 2 * len(actions)),
                                    meeting.organizer_department_id, _review_text(meeting, actions))
    review = ActionReview(meeting_id=nxt.id, agenda_item_id=item.id, previous_meeting_id=meeting.id, created_at=utcnow())
    db.session.add(review)
    db.session.flush()
    if actions:
        db.session.execute(insert(action_review_entry), [{"review_id": review.id, "action_id": a.id} for a in actions])
    db.session.flush()
    db.session.expire(nxt)
    return nxt


def review_of(meeting: Meeting) -> ActionReview | None:
    """The 上次会议待办回顾 of a series meeting, if it has one."""
    return db.session.scalar(select(ActionReview).where(ActionReview.meeting_id == meeting.id))
