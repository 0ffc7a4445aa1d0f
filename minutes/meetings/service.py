"""Meeting planning rules: who sees what, the agenda, invitations and the 2-working-day send rule."""
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from minutes.calendar.service import work_calendar
from minutes.core.errors import NotFound, PermissionDenied, RuleViolation, StaleEdit, ValidationFailed
from minutes.dbtypes import get_by_id, parse_id
from minutes.extensions import db
from minutes.meetings import files
from minutes.meetings.models import AgendaItem, Meeting, MeetingStatus, Participant, Role, Scenario
from minutes.people.models import Department, User
from minutes.people.service import department_by_id, user_by_id

#: Minimum working days between sending the agenda and the meeting (source: 至少提前2个工作日).
AGENDA_LEAD_WORKDAYS = 2
URL_RE = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


# --- permissions -----------------------------------------------------------------------------

def can_view(user, meeting: Meeting) -> bool:
    """Public meetings are visible to every employee; confidential ones only to invitees and the creator."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return visible_to(meeting, user.id, invited=meeting.role_of(user) is not None)


def visible_to(meeting: Meeting, user_id: int, *, invited: bool) -> bool:
    """The rule of can_view for one person by id, when who is invited is already known (bulk jobs ask this)."""
    return not meeting.confidential or invited or meeting.created_by_id == user_id


def can_edit(user, meeting: Meeting) -> bool:
    """The creator, host and recorder plan the meeting; an admin may step in on a public one."""
    if not can_view(user, meeting):
        return False
    if meeting.created_by_id == user.id or meeting.role_of(user) in (Role.HOST, Role.RECORDER):
        return True
    return bool(user.is_admin) and not meeting.confidential


def visible_filter(user):
    """A WHERE clause that keeps only meetings `user` may see (used by lists and search)."""
    invited = select(Participant.meeting_id).where(Participant.user_id == user.id)
    return or_(Meeting.confidential.is_(False), Meeting.created_by_id == user.id, Meeting.id.in_(invited))


def can_record(user, meeting: Meeting) -> bool:
    """The recorder and the host write the record: in the room, the transcript's suggestions and the minutes."""
    return can_view(user, meeting) and meeting.role_of(user) in (Role.HOST, Role.RECORDER)


def get_meeting(user, meeting_id, for_edit: bool = False, options=()) -> Meeting:
    """Load a meeting the user may see; an invisible one is reported as missing, not forbidden.

    Its invitations and their people (with their departments) come in the same statement: whether the user
    may see it asks them, and every page names them. `options` are further loader options of the page
    (`with_agenda`; the room joins its room state)."""
    row_id = parse_id(meeting_id)
    meeting = None if row_id is None else db.session.get(
        Meeting, row_id,
        options=[joinedload(Meeting.participants).joinedload(Participant.user).joinedload(User.department), *options])
    if meeting is None or not can_view(user, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    if for_edit and not can_edit(user, meeting):
        raise PermissionDenied(gettext("只有发起人、主持人或记录人可以修改会议"))
    return meeting


def can_change(user, meeting: Meeting) -> bool:
    """May `user` still change the meeting's people and details (not once it is final or cancelled)?"""
    return can_edit(user, meeting) and not meeting.is_closed


def with_agenda():
    """The loader option of a page that shows the agenda with its materials: two statements for all items."""
    return selectinload(Meeting.agenda_items).selectinload(AgendaItem.materials)


def require_edit(user, meeting: Meeting) -> None:
    if not can_edit(user, meeting):
        raise PermissionDenied(gettext("只有发起人、主持人或记录人可以修改会议"))
    if meeting.is_closed:
        raise RuleViolation(gettext("会议%(status)s，不能再修改", status=meeting.status.label))


def require_planning(meeting: Meeting) -> None:
    if not meeting.is_planning:
        raise RuleViolation(gettext("会议%(status)s，会前安排已不能修改", status=meeting.status.label))


# --- the meeting -----------------------------------------------------------------------------

@dataclass
class MeetingInput:
    """What a user types to plan a meeting; times are aware datetimes."""

    topic: str = ""
    goal: str = ""
    expected_outcome: str = ""
    scenario: str = Scenario.KICKOFF.value
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: str = ""
    online_link: str = ""
    organizer_department_id: int | None = None
    confidential: bool = False


#: How many characters a meeting's texts take, (at least, at most); the form and the API schema state the same.
MEETING_TEXT_LIMITS = {"topic": (2, 200), "goal": (4, 5000), "expected_outcome": (0, 5000), "location": (0, 200),
                       "online_link": (0, 500)}


def _text_length_errors(data: MeetingInput) -> dict:
    labels = {"topic": gettext("会议主题"), "goal": gettext("核心目标"), "expected_outcome": gettext("预期成果"),
              "location": gettext("会议地点"), "online_link": gettext("线上会议链接")}
    errors = {}
    for name, (least, most) in MEETING_TEXT_LIMITS.items():
        count = len((getattr(data, name) or "").strip())
        if count > most:
            errors[name] = gettext("%(label)s不超过%(most)s个字（现为%(count)s个）", label=labels[name], most=most,
                                   count=count)
        elif 0 < count < least:
            errors[name] = gettext("%(label)s至少%(least)s个字，请写完整", label=labels[name], least=least)
    return errors


def _validate_meeting(data: MeetingInput, errors: dict | None = None) -> dict:
    errors = dict(errors or {})
    for name, message in _text_length_errors(data).items():
        errors.setdefault(name, message)
    if not (data.topic or "").strip():
        errors.setdefault("topic", gettext("请填写会议主题"))
    if not (data.goal or "").strip():
        errors.setdefault("goal", gettext("请写明本次会议要解决的核心问题"))
    if data.scenario not in {s.value for s in Scenario}:
        errors.setdefault("scenario", gettext("请选择会议场景"))
    if data.starts_at is None:
        errors.setdefault("starts_at", gettext("请填写开始时间"))
    if data.ends_at is None:
        errors.setdefault("ends_at", gettext("请填写结束时间"))
    for name in ("starts_at", "ends_at"):
        value = getattr(data, name)
        if value is not None and not 2000 <= value.year <= 2100:
            errors.setdefault(name, gettext("时间须在2000年至2100年之间"))
            setattr(data, name, None)
    if data.starts_at and data.ends_at:
        if data.ends_at <= data.starts_at:
            errors.setdefault("ends_at", gettext("结束时间须晚于开始时间"))
        elif data.ends_at - data.starts_at > timedelta(hours=12):
            errors.setdefault("ends_at", gettext("会议时长不能超过12小时"))
    if not (data.location or "").strip() and not (data.online_link or "").strip():
        errors.setdefault("location", gettext("请填写会议地点或线上会议链接"))
    link = (data.online_link or "").strip()
    if link and not URL_RE.match(link):
        errors.setdefault("online_link", gettext("线上会议链接须以 http:// 或 https:// 开头"))
    if not data.organizer_department_id or db.session.get(Department, int(data.organizer_department_id)) is None:
        errors.setdefault("organizer_department_id", gettext("请选择发起部门"))
    return errors


def create_meeting(actor: User, data: MeetingInput, errors: dict | None = None) -> Meeting:
    """Plan a new meeting; the creator becomes its host until roles are changed."""
    errors = _validate_meeting(data, errors)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    meeting = Meeting(created_by=actor)
    _apply(meeting, data)
    db.session.add(meeting)
    db.session.flush()
    db.session.add(Participant(meeting=meeting, user=actor, role=Role.HOST))
    db.session.flush()
    return meeting


def _apply(meeting: Meeting, data: MeetingInput) -> None:
    meeting.topic = data.topic.strip()
    meeting.goal = (data.goal or "").strip()
    meeting.expected_outcome = (data.expected_outcome or "").strip()
    meeting.scenario = Scenario(data.scenario)
    meeting.starts_at, meeting.ends_at = data.starts_at, data.ends_at
    meeting.location = (data.location or "").strip()
    meeting.online_link = (data.online_link or "").strip()
    meeting.organizer_department_id = int(data.organizer_department_id)
    meeting.confidential = bool(data.confidential)


def update_meeting(actor: User, meeting: Meeting, data: MeetingInput, version: int | None = None,
                   errors: dict | None = None) -> Meeting:
    """Change a meeting's basics; an edit based on an older version is refused."""
    require_edit(actor, meeting)
    require_planning(meeting)
    if version is not None and version != meeting.version:
        raise StaleEdit(gettext("会议信息已被他人修改，请刷新后重试（您填写的内容仍保留在表单中）"))
    errors = _validate_meeting(data, errors)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    _apply(meeting, data)
    db.session.flush()
    return meeting


def cancel_meeting(actor: User, meeting: Meeting) -> Meeting:
    """Cancel a meeting that has not started."""
    require_edit(actor, meeting)
    require_planning(meeting)
    meeting.status = MeetingStatus.CANCELLED
    db.session.flush()
    return meeting


# --- agenda ----------------------------------------------------------------------------------

def _validate_item(title: str, minutes, department_id) -> tuple[dict, int | None, Department | None]:
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = gettext("请填写议题")
    elif len(title) > 200:
        errors["title"] = gettext("议题不超过200个字")
    try:
        mins = int(str(minutes).strip())
        if not 1 <= mins <= 480:
            raise ValueError
    except (TypeError, ValueError):
        errors["minutes"] = gettext("预计时长须为1–480之间的整数（分钟）")
        mins = None
    dept = None
    if department_id not in (None, ""):
        try:
            dept = department_by_id(department_id)
        except NotFound:
            errors["department_id"] = gettext("汇报部门不存在")
    return errors, mins, dept


def add_agenda_item(actor: User, meeting: Meeting, title: str, minutes, department_id=None,
                    description: str = "") -> AgendaItem:
    """Append an agenda item at the lowest priority (before the meeting; during it see room.add_agenda_item)."""
    require_edit(actor, meeting)
    require_planning(meeting)
    return append_agenda_item(meeting, title, minutes, department_id, description)


def append_agenda_item(meeting: Meeting, title: str, minutes, department_id=None,
                       description: str = "") -> AgendaItem:
    """Check an agenda item's fields and append it last; the caller has checked who may, and when."""
    errors, mins, dept = _validate_item(title, minutes, department_id)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    position = max((i.position for i in meeting.agenda_items), default=0) + 1
    item = AgendaItem(meeting=meeting, position=position, title=title.strip(), minutes=mins, department=dept,
                      description=(description or "").strip())
    db.session.add(item)
    db.session.flush()
    return item


def get_agenda_item(user, item_id) -> AgendaItem:
    """Load an agenda item of a meeting the user may see."""
    item = get_by_id(AgendaItem, item_id)
    if item is None or not can_view(user, item.meeting):
        raise NotFound(gettext("议题不存在或您无权查看"))
    return item


def update_agenda_item(actor: User, item: AgendaItem, title: str, minutes, department_id=None,
                       description: str = "") -> AgendaItem:
    """Change an agenda item's title, time box, presenter or notes."""
    require_edit(actor, item.meeting)
    require_planning(item.meeting)
    errors, mins, dept = _validate_item(title, minutes, department_id)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    item.title, item.minutes, item.department = title.strip(), mins, dept
    item.description = (description or "").strip()
    db.session.flush()
    return item


def delete_agenda_item(actor: User, item: AgendaItem) -> Meeting:
    """Remove an agenda item and close the gap in the order."""
    meeting = item.meeting
    require_edit(actor, meeting)
    require_planning(meeting)
    for material in item.materials:
        files.remove_stored_file(material)
    meeting.agenda_items.remove(item)
    db.session.flush()
    for position, other in enumerate(meeting.agenda_items, start=1):
        other.position = position
    db.session.flush()
    return meeting


def reorder_agenda(actor: User, meeting: Meeting, item_ids: list) -> Meeting:
    """Put the agenda in the given priority order; the ids must be exactly the meeting's items."""
    require_edit(actor, meeting)
    require_planning(meeting)
    try:
        wanted = [int(i) for i in item_ids]
    except (TypeError, ValueError):
        raise ValidationFailed(gettext("议题顺序无效"), field="order") from None
    current = {item.id: item for item in meeting.agenda_items}
    if sorted(wanted) != sorted(current):
        raise StaleEdit(gettext("议程已被他人修改，请刷新后再调整顺序"))
    for position, item_id in enumerate(wanted, start=1):
        current[item_id].position = position
    db.session.flush()
    db.session.expire(meeting, ["agenda_items"])
    return meeting


def move_agenda_item(actor: User, item: AgendaItem, delta: int) -> Meeting:
    """Move an item up (delta=-1) or down (+1) in priority."""
    meeting = item.meeting
    ids = [i.id for i in meeting.agenda_items]
    index = ids.index(item.id)
    target = max(0, min(len(ids) - 1, index + delta))
    ids.insert(target, ids.pop(index))
    return reorder_agenda(actor, meeting, ids)


@dataclass
class AgendaBudget:
    """The agenda's total time against the meeting's length."""

    total: int
    available: int

    @property
    def over(self) -> int:
        return max(0, self.total - self.available)

    @property
    def overrun(self) -> bool:
        return self.total > self.available

    @property
    def percent(self) -> int:
        return 0 if not self.available else min(100, round(self.total * 100 / self.available))


def agenda_budget(meeting: Meeting) -> AgendaBudget:
    """Sum the time boxes and compare with the meeting's length."""
    return AgendaBudget(total=meeting.agenda_minutes, available=meeting.duration_minutes)


# --- invitations -----------------------------------------------------------------------------

def invite(actor: User, meeting: Meeting, user_ids: list, role: str = Role.PARTICIPANT.value) -> list[Participant]:
    """Invite people with a role; people already invited keep their role."""
    require_edit(actor, meeting)
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed(gettext("角色无效"), field="role") from None
    if not user_ids:
        raise ValidationFailed(gettext("请至少选择一位人员"), field="user_ids")
    users = [user_by_id(uid) for uid in user_ids]
    if role in (Role.HOST, Role.RECORDER) and len(users) > 1:
        raise ValidationFailed(gettext("%(role)s只能有一位", role=role.label), field="role")
    added = []
    existing = {p.user_id for p in meeting.participants}
    for user in users:
        if user.id in existing:
            continue
        if not user.is_enabled:
            raise ValidationFailed(gettext("%(user)s的账号已停用，不能邀请", user=user.name), field="user_ids")
        _check_single_role(meeting, role, None)
        participant = Participant(meeting=meeting, user=user, role=role)  # joins meeting.participants itself
        db.session.add(participant)
        added.append(participant)
    db.session.flush()
    return added


def _check_single_role(meeting: Meeting, role: Role, changing: Participant | None) -> None:
    if role not in (Role.HOST, Role.RECORDER):
        return
    holder = next((p for p in meeting.participants if p.role == role and p is not changing), None)
    if holder is not None:
        raise RuleViolation(gettext("本次会议已有%(role)s：%(user)s。每次会议只能有一位%(role)s，请先将其改为参会人",
                                    role=role.label, user=holder.user.name), field="role")


def set_role(actor: User, participant: Participant, role: str) -> Participant:
    """Change someone's role, keeping exactly one host and one recorder."""
    meeting = participant.meeting
    require_edit(actor, meeting)
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed(gettext("角色无效"), field="role") from None
    _check_single_role(meeting, role, participant)
    participant.role = role
    db.session.flush()
    return participant


def get_participant(user, participant_id) -> Participant:
    participant = get_by_id(Participant, participant_id)
    if participant is None or not can_view(user, participant.meeting):
        raise NotFound(gettext("参会人不存在"))
    return participant


def remove_participant(actor: User, participant: Participant) -> Meeting:
    """Withdraw an invitation."""
    meeting = participant.meeting
    require_edit(actor, meeting)
    meeting.participants.remove(participant)
    db.session.flush()
    return meeting


def roles_problems(meeting: Meeting) -> list[str]:
    """What is missing in the roles: exactly one host and one recorder are required."""
    problems = []
    for role in (Role.HOST, Role.RECORDER):
        count = sum(1 for p in meeting.participants if p.role == role)
        if count == 0:
            problems.append(gettext("尚未指定%(role)s", role=role.label))
    return problems


def participants_by_department(meeting: Meeting) -> list[tuple[Department, list[Participant]]]:
    """Invitations grouped by department, the organizer first."""
    groups: dict[int, tuple[Department, list[Participant]]] = {}
    order = {Role.HOST: 0, Role.RECORDER: 1, Role.PARTICIPANT: 2, Role.CC: 3}
    for p in sorted(meeting.participants, key=lambda p: (order[p.role], p.user.name)):
        groups.setdefault(p.user.department_id, (p.user.department, []))[1].append(p)
    organizer = meeting.organizer_department_id
    return sorted(groups.values(), key=lambda g: (g[0].id != organizer, g[0].id))


# --- planning from another meeting; the earliest compliant date ------------------------------

def plan_like(actor: User, meeting: Meeting, starts_at: datetime, length: timedelta, topic: str = "") -> Meeting:
    """Plan a new meeting with `meeting`'s basics (goal, place, department, confidentiality) and its people in
    their roles; `actor` plans it and stays on as a participant when the host or recorder is someone else."""
    new = create_meeting(actor, MeetingInput(
        topic=topic or meeting.topic, goal=meeting.goal, expected_outcome=meeting.expected_outcome,
        scenario=meeting.scenario.value, starts_at=starts_at, ends_at=starts_at + length, location=meeting.location,
        online_link=meeting.online_link, organizer_department_id=meeting.organizer_department_id,
        confidential=meeting.confidential))
    by_role: dict[Role, list[int]] = {}
    for participant in meeting.participants:
        if participant.user.is_enabled and participant.user_id != actor.id:
            by_role.setdefault(participant.role, []).append(participant.user_id)
    for role in (Role.PARTICIPANT, Role.CC):
        if by_role.get(role):
            invite(actor, new, by_role[role], role.value)
    host, recorder = meeting.host, meeting.recorder
    if host is not None and host.is_enabled and host.id != actor.id:
        assign_lead_role(actor, new, Role.HOST, host)
    if recorder is not None and recorder.is_enabled:
        assign_lead_role(actor, new, Role.RECORDER, recorder)
    return new


def earliest_compliant_date(today: date, calendar=None) -> date:
    """The earliest meeting date for which an agenda sent today is on time."""
    calendar = calendar or work_calendar()
    first = today if calendar.is_workday(today) else calendar.add_workdays(today, 1)
    return calendar.add_workdays(first, AGENDA_LEAD_WORKDAYS)


def assign_lead_role(actor: User, meeting: Meeting, role: Role, user: User) -> Participant:
    """Make `user` the meeting's host or recorder; the previous holder stays on as a participant."""
    require_edit(actor, meeting)
    if role not in (Role.HOST, Role.RECORDER):
        raise ValidationFailed(gettext("只能指定主持人或记录人"), field="role")
    if not user.is_enabled:
        raise ValidationFailed(gettext("%(user)s的账号已停用", user=user.name), field=role.value)
    holder = next((p for p in meeting.participants if p.role == role), None)
    if holder is not None and holder.user_id == user.id:
        return holder
    if holder is not None:
        holder.role = Role.PARTICIPANT
        db.session.flush()  # free the one-host/one-recorder slot before filling it
    target = next((p for p in meeting.participants if p.user_id == user.id), None)
    if target is None:
        target = Participant(meeting=meeting, user=user, role=role)
        db.session.add(target)
    else:
        target.role = role
    db.session.flush()
    return target
