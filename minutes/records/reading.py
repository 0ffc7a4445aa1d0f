"""Reading the formal minutes: the state of a meeting's minutes for one user, the archive copy, diffs,
exports, the dashboard panel, the link on a meeting page and the API's JSON."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from minutes.core.errors import NotFound, RuleViolation
from minutes.core.timefmt import to_local, utcnow
from minutes.extensions import db
from minutes.meetings.models import Meeting, MeetingStatus, Participant, Role
from minutes.meetings.service import can_record, can_view, visible_filter
from minutes.people.models import User
from minutes.records import render
from minutes.records.models import (Minutes, MinutesRecipient, MinutesRequest, MinutesResponse, MinutesStatus,
                                    MinutesVersion)
from minutes.records.service import (AFTER_MEETING, current_version, final_version, get_version, is_current_version,
                                     is_host, minutes_of, verify, version_by_number, versions)
from minutes.records.signoff import (RecipientState, SignoffRecord, recipient_of, recipient_states, recipient_states_of,
                                     signoff_record)
from minutes.room import service as room_service


# --- reading ---------------------------------------------------------------------------------

@dataclass
class MinutesState:
    """Everything the minutes page (and the API) needs about one meeting's minutes, for one user."""

    meeting: Meeting
    minutes: Minutes | None
    current: MinutesVersion | None
    final: MinutesVersion | None
    versions: list[MinutesVersion]
    #: False when a final version's stored content no longer matches its hash (shown as a warning).
    final_intact: bool | None
    due_at: datetime | None
    overdue: bool
    distributed_late: bool
    can_write: bool
    is_host: bool
    recipient: MinutesRecipient | None
    #: Filled for the recorder and the host: who answered, who has not.
    states: list[RecipientState]
    my_state: RecipientState | None
    #: Every answer and ask so far (None before the first version): the page reads its comments from it.
    record: SignoffRecord | None = None

    @property
    def status_label(self) -> str:
        if self.minutes is None:
            return gettext("待整理") if self.meeting.status == MeetingStatus.MINUTES_DUE else gettext("尚无纪要")
        return self.minutes.status.label


def get_current(actor: User, meeting: Meeting, now: datetime | None = None) -> MinutesState:
    """The state of a meeting's minutes as `actor` may see it (the draft only for its writers)."""
    if not can_view(actor, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    now = now or utcnow()
    minutes = minutes_of(meeting, with_versions=True)
    all_versions = versions(minutes)
    current = all_versions[-1] if all_versions else None
    final = final_version(minutes)
    room = room_service.room_of(meeting)
    due_at = room.minutes_due_at if room else None
    first_out = minutes.first_distributed_at if minutes else None
    overdue = due_at is not None and first_out is None and now > due_at
    writer = can_record(actor, meeting)
    host = is_host(actor, meeting)
    record = signoff_record(minutes) if current is not None else None
    states = recipient_states(minutes, now, record) if record is not None else []
    mine = next((s for s in states if s.user.id == actor.id), None)
    return MinutesState(
        meeting=meeting, minutes=minutes, current=current, final=final, versions=all_versions,
        final_intact=verify(final) if final is not None else None, due_at=due_at, overdue=overdue,
        distributed_late=bool(due_at and first_out and first_out > due_at), can_write=writer, is_host=host,
        recipient=recipient_of(minutes, actor) if minutes else None,
        states=states if (writer or host) else [], my_state=mine, record=record,
    )


def archive_copy(actor: User, meeting: Meeting) -> tuple[MinutesVersion | None, bool]:
    """The official (latest final) version and whether it passes the hash check; read it through here."""
    if not can_view(actor, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    final = final_version(minutes_of(meeting))
    return final, (verify(final) if final is not None else False)


@dataclass
class Diff:
    old: MinutesVersion
    new: MinutesVersion
    html: object
    stats: dict


def diff(actor: User, meeting: Meeting, old_number, new_number, full: bool = False) -> Diff:
    """Compare two versions word by word (CJK per character, Latin words whole); unchanged stretches
    fold away unless `full`."""
    old = version_by_number(actor, meeting, old_number)
    new = version_by_number(actor, meeting, new_number)
    html, stats = render.word_diff(render.diff_text(old.body, old.decisions, old.actions),
                                   render.diff_text(new.body, new.decisions, new.actions),
                                   context=None if full else 2)
    return Diff(old, new, html, stats)


def version_for_export(actor: User, version_id) -> MinutesVersion:
    """A version to print or download; a final version that fails the hash check is not handed out."""
    version = get_version(actor, version_id)
    if version.is_final and not verify(version):
        raise RuleViolation(gettext("完整性校验失败：%(version)s的存档内容与定稿哈希不符，已停止导出。请联系系统管理员核查", version=version.label))
    return version


# --- dashboards ------------------------------------------------------------------------------

@dataclass
class DuePanel:
    """The minutes a user must write, is waiting on, or must answer."""

    to_write: list[dict]
    awaiting: list[dict]
    to_answer: list[dict]

    def __bool__(self) -> bool:
        return bool(self.to_write or self.awaiting or self.to_answer)


def dashboard(user: User, now: datetime | None = None) -> DuePanel:
    """Minutes due and overdue for their recorder and host; sign-offs waiting for the user."""
    now = now or utcnow()
    today = to_local(now).date()
    led = db.session.scalars(
        select(Meeting).join(Participant, Participant.meeting_id == Meeting.id)
        .where(Participant.user_id == user.id, Participant.role.in_([Role.RECORDER, Role.HOST]),
               Meeting.status.in_([MeetingStatus.MINUTES_DUE, MeetingStatus.DISTRIBUTED]))
        .options(room_service.with_room()).order_by(Meeting.ends_at)).all()
    # Their rooms came with them; their minutes, with the versions (joined) and recipients, come in two
    # statements for all of them (not several per meeting).
    minutes_by_meeting = {m.meeting_id: m for m in db.session.scalars(
        select(Minutes).where(Minutes.meeting_id.in_([meeting.id for meeting in led]))
        .options(joinedload(Minutes.versions), selectinload(Minutes.recipients))).unique()} if led else {}
    states_of = recipient_states_of([minutes_by_meeting[m.id] for m in led
                                     if m.status == MeetingStatus.DISTRIBUTED and m.id in minutes_by_meeting], now)
    to_write, awaiting = [], []
    for meeting in led:
        role = meeting.role_of(user)
        if meeting.status == MeetingStatus.MINUTES_DUE:
            room = room_service.room_of(meeting)
            due_at = room.minutes_due_at if room else None
            to_write.append({"meeting": meeting, "role": role, "due_at": due_at,
                             "minutes": minutes_by_meeting.get(meeting.id), "overdue": bool(due_at and now > due_at)})
        else:
            minutes = minutes_by_meeting.get(meeting.id)
            states = states_of.get(minutes.id, []) if minutes else []
            awaiting.append({"meeting": meeting, "role": role, "version": current_version(minutes),
                             "settled": sum(s.settled for s in states), "total": len(states),
                             "changes": sum(s.state in ("change", "change_open") for s in states),
                             "overdue": sum(s.overdue for s in states)})
    to_answer = []
    answered = select(MinutesResponse.id).where(MinutesResponse.version_id == MinutesRequest.version_id,
                                                MinutesResponse.user_id == user.id).exists()
    # The current versions of meetings the user may see, with their meetings, in one statement (not the versions
    # and the invitations of each meeting one by one).
    rows = db.session.execute(
        select(MinutesRequest, MinutesVersion)
        .join(MinutesVersion, MinutesVersion.id == MinutesRequest.version_id)
        .join(Minutes, Minutes.id == MinutesVersion.minutes_id)
        .join(Meeting, Meeting.id == MinutesVersion.meeting_id)
        .where(MinutesRequest.user_id == user.id, Minutes.status == MinutesStatus.DISTRIBUTED, ~answered,
               is_current_version(MinutesVersion), visible_filter(user))
        .options(contains_eager(MinutesVersion.meeting))
        .order_by(MinutesRequest.due_on)).all()
    for request, version in rows:
        to_answer.append({"version": version, "meeting": version.meeting, "due_on": request.due_on,
                          "overdue": today > request.due_on})
    return DuePanel(to_write, awaiting, to_answer)


def minutes_link(user, meeting: Meeting) -> dict | None:
    """The button to the minutes on a meeting page: what it says depends on the user and the state."""
    if meeting.status not in AFTER_MEETING or not can_view(user, meeting):
        return None
    minutes = minutes_of(meeting)
    writer = can_record(user, meeting)
    if meeting.status == MeetingStatus.MINUTES_DUE:
        if not writer:
            return None
        return {"label": gettext("编辑会议纪要") if minutes else gettext("整理会议纪要"), "primary": True}
    if meeting.status == MeetingStatus.DISTRIBUTED:
        return {"label": gettext("会议纪要（待确认）"),
                "primary": writer or (minutes and recipient_of(minutes, user) is not None)}
    return {"label": gettext("会议纪要（已定稿）"), "primary": False}
