"""Undiscussed agenda items of an ended meeting and carrying them over (待议事项) to a follow-up meeting or the
next meeting of its series."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select

from minutes.actions.models import ActionItem
from minutes.core.errors import PermissionDenied, RuleViolation
from minutes.core.timefmt import LOCAL_TZ, cn_date, to_local, utcnow
from minutes.extensions import db
from minutes.meetings.models import AgendaItem, Meeting, MeetingStatus
from minutes.meetings import series
from minutes.meetings import service as meetings_service
from minutes.people.models import User
from minutes.meetings.service import can_record
from minutes.room.models import Decision, Point
from minutes.room.service import ItemView


def undiscussed(items: list[ItemView]) -> list[AgendaItem]:
    """The agenda items the meeting never discussed: nothing recorded on them (no point, decision or action)."""
    return [view.item for view in items if not view.count]


def undiscussed_items(meeting: Meeting) -> list[AgendaItem]:
    """The agenda items of `meeting` never discussed (see `undiscussed`), in agenda order: asked of the database in
    one statement, not by reading the whole record (the minutes page asks on every view)."""
    def recorded(model):
        return select(model.id).where(model.agenda_item_id == AgendaItem.id, model.meeting_id == meeting.id,
                                      model.deleted_at.is_(None)).exists()

    return list(db.session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id, ~recorded(Point), ~recorded(Decision),
                                 ~recorded(ActionItem)).order_by(AgendaItem.position)))


@dataclass
class Carried:
    """Where `carry_over` put the undiscussed items: `count` items now, or none when `already` carried."""

    meeting: Meeting
    count: int
    already: bool = False


def carried_into(item: AgendaItem) -> Meeting | None:
    """The meeting an undiscussed item was carried to, unless that meeting was cancelled (it may go again)."""
    target = item.carried_to
    return target if target is not None and target.status != MeetingStatus.CANCELLED else None


def carry_overview(meeting: Meeting) -> list[tuple[AgendaItem, Meeting | None]]:
    """Each undiscussed item of `meeting` with the meeting it was carried to (None: still to carry)."""
    return [(item, carried_into(item)) for item in undiscussed_items(meeting)]


def carry_over(actor: User, meeting: Meeting, into: str = "follow_up", now: datetime | None = None) -> Carried:
    """Put the agenda items an ended meeting never discussed on another meeting's agenda (待议事项), once.

    `into`="follow_up": a new meeting with the same goal, place, people and roles, at 10:00 on the first day
    that leaves the agenda its working days. `into`="series": the next meeting of its series (planned now if
    there is none yet). The host or recorder of the ended meeting does it and can change everything after.
    Each item records where it went: carrying again (a second click, a second person, a resubmitted form)
    finds that meeting and plans nothing. The meeting's row lock makes simultaneous requests take turns.
    """
    if not can_record(actor, meeting):
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以安排待议事项"))
    if meeting.status not in (MeetingStatus.MINUTES_DUE, MeetingStatus.DISTRIBUTED, MeetingStatus.FINAL):
        raise RuleViolation(gettext("会议结束后才能将未讨论的议题转入后续会议"))
    _lock_for_carrying(meeting)
    overview = carry_overview(meeting)
    if not overview:
        raise RuleViolation(gettext("本次会议的议题都已讨论，没有待议事项"))
    items = [item for item, target in overview if target is None]
    if not items:
        return Carried(next(target for _, target in overview if target is not None), 0, already=True)
    source = gettext("上次会议（%(date)s）未及讨论的议题。", date=cn_date(meeting.starts_at))
    if into == "series":
        if meeting.series_id is None:
            raise RuleViolation(gettext("该会议不属于周期会议系列"))
        target = series.next_in_series(meeting) or series.create_next_in_series(actor, meeting)
    else:
        today = to_local(now or utcnow()).date()
        day = meetings_service.earliest_compliant_date(today)
        starts_at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=LOCAL_TZ)
        length = timedelta(minutes=sum(item.minutes for item in items) + 10)
        target = meetings_service.plan_like(actor, meeting, starts_at, length,
                                            gettext("%(topic)s（待议事项）", topic=meeting.topic)[:200])
    _add_items(actor, target, items, source)
    for item in items:
        item.carried_to = target
    db.session.flush()
    return Carried(target, len(items))


def _lock_for_carrying(meeting: Meeting) -> None:
    """Hold the meeting's row until the commit (PostgreSQL; SQLite writes are serial anyway) and read its
    agenda items afresh, so a second carry waits for the first and then sees where the items went."""
    db.session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())
    db.session.expire(meeting, ["agenda_items"])
    db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
                       .execution_options(populate_existing=True)).all()


def _add_items(actor: User, meeting: Meeting, items: list[AgendaItem], source: str) -> None:
    """Append the items to `meeting`'s agenda, but not twice (carrying again adds nothing)."""
    present = {i.title for i in meeting.agenda_items}
    for item in items:
        if item.title in present:
            continue
        meetings_service.add_agenda_item(actor, meeting, item.title, item.minutes, item.department_id,
                                         "\n".join(filter(None, (source, item.description))))
    db.session.expire(meeting, ["agenda_items"])
