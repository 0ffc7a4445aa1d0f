"""Sign-off of the formal minutes: recipients, distribution, answers, revisions, the final lock, corrections
and the overdue reminders (see the life of the minutes in service.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext
from sqlalchemy import select

from minutes.core.links import external_url
from minutes.actions.models import ActionItem
from minutes.calendar.service import work_calendar
from minutes.chat import service as chat
from minutes.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from minutes.core.timefmt import cn_date, cn_datetime, to_local, utcnow
from minutes.dbtypes import get_by_id, parse_id
from minutes.extensions import db
from minutes.meetings.models import Meeting, MeetingStatus, Role
from minutes.meetings.service import can_record, can_view
from minutes.notify import service as notify
from minutes.people.models import Department, User
from minutes.records import mail, render
from minutes.records.drafting import _clean_body, draft_from_record, record_tables, save_draft
from minutes.records.models import (Minutes, MinutesRecipient, MinutesRequest, MinutesResponse, MinutesStatus,
                                    MinutesVersion, RecipientReason, ResponseKind, VersionKind)
from minutes.records.service import (ANSWER_WORKDAYS, MAX_COMMENT, SECTION_TITLES, _refuse_if_final,
                                     _require_minutes, _require_write, cn_number, current_version,
                                     final_version, get_version, is_host, minutes_of, verify, version_link, versions)
from minutes.room.models import Decision, RoomState


# --- recipients ------------------------------------------------------------------------------

def involved_departments(meeting: Meeting) -> list[Department]:
    """The organizer, invited and presenting departments, and those owning or helping with outcomes."""
    seen = {d.id: d for d in meeting.departments}
    for model in (Decision, ActionItem):
        for row in db.session.scalars(select(model).where(model.meeting_id == meeting.id,
                                                          model.deleted_at.is_(None))):
            for dept in [row.owner_department, *row.cooperating_departments]:
                if dept is not None:
                    seen.setdefault(dept.id, dept)
    return list(seen.values())


@dataclass
class Candidate:
    """Someone the minutes go to by default, and why."""

    user: User
    reason: RecipientReason


def default_recipients(meeting: Meeting) -> list[Candidate]:
    """Participants (the recorder excepted), heads of the involved departments, and cc."""
    recorder = meeting.recorder
    result: dict[int, Candidate] = {}
    order = {Role.HOST: 0, Role.PARTICIPANT: 1, Role.CC: 3}
    for p in sorted(meeting.participants, key=lambda p: (order.get(p.role, 9), p.user.department_id, p.user.name)):
        if p.role == Role.RECORDER or (recorder is not None and p.user_id == recorder.id) or not p.user.is_enabled:
            continue
        if p.role != Role.CC:
            result[p.user_id] = Candidate(p.user, RecipientReason.PARTICIPANT)
    for dept in involved_departments(meeting):
        for head in dept.heads:
            if head.id in result or (recorder is not None and head.id == recorder.id):
                continue
            if can_view(head, meeting):  # a confidential meeting stays with its invitees
                result[head.id] = Candidate(head, RecipientReason.HEAD)
    for p in meeting.participants:
        if p.role == Role.CC and p.user.is_enabled and p.user_id not in result:
            result[p.user_id] = Candidate(p.user, RecipientReason.CC)
    return list(result.values())


def _add_recipient(minutes: Minutes, user: User, reason: RecipientReason, actor: User, now: datetime) -> MinutesRecipient:
    for r in minutes.recipients:
        if r.user_id == user.id:
            return r
    recipient = MinutesRecipient(minutes=minutes, user=user, reason=reason, added_at=now, added_by_id=actor.id)
    db.session.add(recipient)  # the backref put it in minutes.recipients; the session needs telling
    return recipient


def _check_person(user: User | None, meeting: Meeting, field_name: str) -> User:
    if user is None:
        raise ValidationFailed(gettext("人员不存在"), field=field_name)
    if not user.is_enabled:
        raise ValidationFailed(gettext("%(user)s的账号已停用", user=user.name), field=field_name)
    if not can_view(user, meeting):
        raise ValidationFailed(gettext("本次会议仅限参会人员查看，%(user)s不在邀请名单中，不能接收纪要", user=user.name), field=field_name)
    return user


def answer_due_on(now: datetime, calendar=None) -> date:
    """The working day by the end of which an answer is due: the first working day after today."""
    calendar = calendar or work_calendar()
    return calendar.add_workdays(to_local(now).date(), ANSWER_WORKDAYS)


def _new_version(actor: User, minutes: Minutes, body: str, now: datetime, kind=VersionKind.REGULAR,
                 corrects: MinutesVersion | None = None, note: str = "") -> MinutesVersion:
    decisions, actions = record_tables(minutes.meeting)
    digest = render.content_hash(body, decisions, actions)
    previous = current_version(minutes)
    if previous is not None and previous.content_hash == digest:
        raise RuleViolation(gettext("内容与%(previous)s完全相同，无需发布新版本", previous=previous.label), field="markdown")
    version = MinutesVersion(minutes=minutes, meeting_id=minutes.meeting_id,
                             number=(previous.number + 1) if previous else 1, kind=kind, corrects=corrects,
                             body=body, decisions_json=render.canonical_json(decisions),
                             actions_json=render.canonical_json(actions), content_hash=digest, note=note,
                             created_at=now, created_by=actor)
    db.session.add(version)
    db.session.flush()
    return version


def _ask(version: MinutesVersion, user: User, now: datetime, due_on: date, because: MinutesResponse | None,
         revised: bool) -> MinutesRequest:
    request = MinutesRequest(version=version, user=user, asked_at=now, due_on=due_on, because=because)
    db.session.add(request)
    meeting = version.meeting
    key = f"minutes:v{version.id}:ask:{user.id}"
    chat_id = chat.chat_subjects([user.id]).get(user.id)
    if chat_id:  # a card with 确认无误 / 提出修改意见 through the company's chat app, instead of the e-mail
        card = chat.minutes_card(meeting.topic, version.label, due_on, version_link(version))
        chat.enqueue_card(user, chat_id, card, key, version_id=version.id, confidential=meeting.confidential)
    elif user.email:
        subject, text, html = mail.ask_email(meeting, version, user, due_on, version_link(version), because, revised)
        notify.enqueue_email(user.email, subject, text, html, dedupe_key=key, confidential=meeting.confidential)
    return request


def version_delivery(actor: User, meeting: Meeting, minutes: Minutes | None = None,
                     record: SignoffRecord | None = None) -> notify.DeliveryReport | None:
    """What became of the emails of the latest version (the asks to confirm, or the final/correction notices),
    per recipient, for the recorder and the host; None when nothing was sent. `minutes` and their sign-off
    `record`: the meeting's, when the caller has them."""
    if not (can_record(actor, meeting) or is_host(actor, meeting)):
        raise PermissionDenied(gettext("只有记录人和主持人可以查看纪要的发送情况"))
    minutes = minutes if minutes is not None else minutes_of(meeting)
    version = current_version(minutes)
    if version is None:
        return None
    record = signoff_record(minutes) if record is None else record
    asked = sorted((r for r in record.requests if r.version_id == version.id), key=lambda r: r.id)
    recipients = {f"minutes:v{version.id}:ask:{r.user_id}": r.user for r in asked}
    if version.is_final or version.corrects is not None:
        what = "final" if version.corrects is None else "correction"
        people = [r.user for r in minutes.recipients] + [u for u in (meeting.recorder, meeting.host) if u]
        recipients.update({f"minutes:v{version.id}:{what}:{u.id}": u for u in people})
    return notify.delivery_report(recipients) if recipients else None


def distribute(actor: User, meeting: Meeting, recipient_ids=None, extra_ids=(), markdown: str | None = None,
               revision=None, now: datetime | None = None) -> MinutesVersion:
    """Send version 1 to the recipients for sign-off: each answers within 1 working day.

    `recipient_ids` picks among the default recipients (None: all of them); `extra_ids` adds anyone
    else who may see the meeting (a superior in cc, say). `markdown`, when given, is saved first.
    """
    _require_write(actor, meeting)
    now = now or utcnow()
    minutes = minutes_of(meeting) or draft_from_record(actor, meeting, now)
    _refuse_if_final(minutes)
    if not minutes.is_draft:
        raise RuleViolation(gettext("纪要已发出：如需修改，请发布修订版"))
    if markdown is not None:
        save_draft(actor, meeting, markdown, revision, now)
    body = _clean_body(minutes.draft_body)
    defaults = default_recipients(meeting)
    chosen_ids = None if recipient_ids is None else {parse_id(i) for i in recipient_ids} - {None}
    chosen = [c for c in defaults if chosen_ids is None or c.user.id in chosen_ids]
    known = {c.user.id for c in chosen}
    recorder = meeting.recorder
    for raw in extra_ids or ():
        user = _check_person(get_by_id(User, raw), meeting, "extra_ids")
        if user.id in known or (recorder is not None and user.id == recorder.id):
            continue
        default = next((c for c in defaults if c.user.id == user.id), None)
        chosen.append(Candidate(user, default.reason if default else RecipientReason.ADDED))
        known.add(user.id)
    if not chosen:
        raise ValidationFailed(gettext("请至少选择一位收件人"), field="recipient_ids")
    version = _new_version(actor, minutes, body, now)
    due_on = answer_due_on(now)
    for candidate in chosen:
        _add_recipient(minutes, candidate.user, candidate.reason, actor, now)
        _ask(version, candidate.user, now, due_on, None, revised=False)
    minutes.status = MinutesStatus.DISTRIBUTED
    minutes.first_distributed_at = now
    meeting.status = MeetingStatus.DISTRIBUTED
    db.session.flush()
    return version


# --- answers ---------------------------------------------------------------------------------

def item_options(version: MinutesVersion) -> list[tuple[str, str]]:
    """What a comment can be about in this version: the whole, a section, an agenda item, a table row."""
    options = [("", gettext("整体"))]
    options += [(f"section:{i}", str(title)) for i, title in enumerate(SECTION_TITLES[:3], 1)]
    for item in version.meeting.agenda_items:
        options.append((f"agenda:{item.id}", gettext("议题%(number)s：%(title)s", number=cn_number(item.position),
                                                     title=_short(item.title))))
    options.append(("section:4", str(SECTION_TITLES[3])))
    options += [(f"decision:{d['id']}", gettext("决议%(no)s：%(text)s", no=d["no"], text=_short(d["text"])))
                for d in version.decisions]
    options.append(("section:5", str(SECTION_TITLES[4])))
    options += [(f"action:{a['id']}", gettext("待办%(no)s：%(text)s", no=a["no"], text=_short(a["text"])))
                for a in version.actions]
    return options


def _short(text: str, limit: int = 24) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def recipient_of(minutes: Minutes, user) -> MinutesRecipient | None:
    return next((r for r in minutes.recipients if r.user_id == getattr(user, "id", None)), None)


def respond(actor: User, version_id, response: str, comment: str = "", item_ref: str | None = None,
            now: datetime | None = None, source: str = "web") -> MinutesResponse:
    """Answer a version for yourself: 'confirm' (确认无误) or 'change' (提出修改意见, with a comment).

    Only a recipient answers, and only for themselves: there is no way to name another person.
    When this answer settles everyone, the version becomes final. `source`: "web", or "chat" when given on a chat
    card (or in a reply to one).
    """
    version = get_version(actor, version_id)
    minutes = version.minutes
    if minutes.is_final or version.is_final:
        raise RuleViolation(gettext("纪要已定稿，不能再回复；如发现错误，请联系记录人发布更正"))
    if recipient_of(minutes, actor) is None:
        raise PermissionDenied(gettext("您不是本纪要的收件人：只有收件人本人可以确认或提出修改意见"))
    current = current_version(minutes)
    if current.id != version.id:
        raise RuleViolation(gettext("%(version)s已被%(current)s取代，请阅读最新版本后再回复",
                                    version=version.label, current=current.label))
    try:
        kind = ResponseKind(response)
    except ValueError:
        raise ValidationFailed(gettext("请选择“确认无误”或“提出修改意见”"), field="response") from None
    comment = (comment or "").strip()
    if kind == ResponseKind.CHANGE and not comment:
        raise ValidationFailed(gettext("请写明修改意见"), field="comment")
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(gettext("意见不超过%(MAX_COMMENT)s个字", MAX_COMMENT=MAX_COMMENT), field="comment")
    labels = dict(item_options(version))
    item_ref = (item_ref or "").strip()
    if item_ref not in labels:
        raise ValidationFailed(gettext("所选条目不在该版本中"), field="item_ref")
    previous = db.session.scalar(select(MinutesResponse).where(MinutesResponse.version_id == version.id,
                                                               MinutesResponse.user_id == actor.id)
                                 .order_by(MinutesResponse.created_at.desc(), MinutesResponse.id.desc()).limit(1))
    if previous is not None and (previous.kind, previous.comment, previous.item_ref or "") == (kind, comment, item_ref):
        return previous  # sent twice (a double click, the card and the page): one answer, one mail to the recorder
    now = now or utcnow()
    answer = MinutesResponse(version=version, content_hash=version.content_hash, user=actor, kind=kind,
                             comment=comment, item_ref=item_ref or None,
                             item_label=labels[item_ref] if item_ref else "", source=source, created_at=now)
    db.session.add(answer)
    db.session.flush()
    if kind == ResponseKind.CHANGE:
        _tell_writer_about_change(version, answer)
    if all(state.settled for state in recipient_states(minutes, now)):
        _make_final(minutes, version, None, None, [], now)
    return answer


def _tell_writer_about_change(version: MinutesVersion, answer: MinutesResponse) -> None:
    meeting = version.meeting
    recorder = meeting.recorder
    if recorder is None or not recorder.email:
        return
    subject, text = mail.change_email(meeting, version, answer, recorder, external_url("records.show", meeting_id=meeting.id))
    notify.enqueue_email(recorder.email, subject, text,
                         dedupe_key=f"minutes:response:{answer.id}:recorder", confidential=meeting.confidential)


@dataclass
class RecipientState:
    """Where one recipient stands on the current version."""

    recipient: MinutesRecipient
    #: confirmed, change (both for the current version), confirmed_old, change_open (for an older one),
    #: pending (asked for the current version, no answer yet), no_answer (asked before, never answered)
    state: str
    latest: MinutesResponse | None = None
    request: MinutesRequest | None = None
    overdue: bool = False
    responses: list[MinutesResponse] = field(default_factory=list)

    @property
    def user(self) -> User:
        return self.recipient.user

    @property
    def settled(self) -> bool:
        return self.state in ("confirmed", "confirmed_old")

    @property
    def label(self) -> str:
        old = self.latest.version.label if self.latest else ""
        if self.state in ("pending", "no_answer") and self.overdue:
            return gettext("已逾期未回复")
        return {"confirmed": gettext("已确认"), "change": gettext("提出修改意见"),
                "confirmed_old": gettext("已确认（%(version)s）", version=old),
                "change_open": gettext("修改意见待处理（%(version)s）", version=old), "pending": gettext("待回复"),
                "no_answer": gettext("未回复")}[self.state]

    @property
    def tone(self) -> str:
        """The badge colour: ok, warn, bad or neutral."""
        if self.state == "confirmed":
            return "ok"
        if self.state in ("change", "change_open") or self.overdue:
            return "bad"
        return "warn" if self.state in ("pending", "no_answer", "confirmed_old") else ""


@dataclass
class SignoffRecord:
    """Every answer to and every ask for the versions of one meeting's minutes, oldest first: loaded once, read
    by every part of a page (the recipients' states, the comments, what a revision answered, the e-mails sent)."""

    answers: list[MinutesResponse] = field(default_factory=list)
    requests: list[MinutesRequest] = field(default_factory=list)


def signoff_records(minutes_list: list[Minutes]) -> dict[int, SignoffRecord]:
    """The sign-off records of several minutes (minutes id → record): two statements for all of them (the
    dashboard lists every meeting out for sign-off), none when no version was sent."""
    minutes_of_version = {v.id: m.id for m in minutes_list for v in versions(m)}
    records = {m.id: SignoffRecord() for m in minutes_list}
    if minutes_of_version:
        for answer in db.session.scalars(
                select(MinutesResponse).where(MinutesResponse.version_id.in_(list(minutes_of_version)))
                .order_by(MinutesResponse.created_at, MinutesResponse.id)):
            records[minutes_of_version[answer.version_id]].answers.append(answer)
        for request in db.session.scalars(
                select(MinutesRequest).where(MinutesRequest.version_id.in_(list(minutes_of_version)))
                .order_by(MinutesRequest.asked_at, MinutesRequest.id)):
            records[minutes_of_version[request.version_id]].requests.append(request)
    return records


def signoff_record(minutes: Minutes) -> SignoffRecord:
    """The sign-off record of one meeting's minutes (see SignoffRecord)."""
    return signoff_records([minutes])[minutes.id]


def recipient_states(minutes: Minutes, now: datetime | None = None,
                     record: SignoffRecord | None = None) -> list[RecipientState]:
    """Who has answered the current version, who answered an older one, who has not, with every comment.
    `record`: the minutes' sign-off record when the caller has it already (the minutes page)."""
    record = signoff_record(minutes) if record is None else record
    return _states(minutes, current_version(minutes), record, to_local(now or utcnow()).date())


def recipient_states_of(minutes_list: list[Minutes], now: datetime | None = None) -> dict[int, list[RecipientState]]:
    """recipient_states of several minutes at once (minutes id → states): the answers and requests of all
    their versions in two statements (the dashboard lists every meeting out for sign-off)."""
    today = to_local(now or utcnow()).date()
    records = signoff_records(minutes_list)
    return {m.id: _states(m, current_version(m), records[m.id], today) for m in minutes_list}


def _states(minutes: Minutes, current: MinutesVersion | None, record: SignoffRecord, today) -> list[RecipientState]:
    if current is None:
        return []
    states = []
    for recipient in minutes.recipients:
        mine = [a for a in record.answers if a.user_id == recipient.user_id]
        asked = [r for r in record.requests if r.user_id == recipient.user_id]
        latest = mine[-1] if mine else None
        request = next((r for r in asked if r.version_id == current.id), None)
        if latest is not None and latest.version_id == current.id:
            state = "confirmed" if latest.kind == ResponseKind.CONFIRM else "change"
        elif request is not None:
            state = "pending"
        elif latest is not None:
            state = "confirmed_old" if latest.kind == ResponseKind.CONFIRM else "change_open"
        else:
            state = "no_answer"
            request = asked[-1] if asked else None
        overdue = state in ("pending", "no_answer") and request is not None and today > request.due_on
        states.append(RecipientState(recipient, state, latest, request, overdue, list(reversed(mine))))
    order = {"change": 0, "change_open": 1, "pending": 2, "no_answer": 3, "confirmed_old": 4, "confirmed": 5}
    return sorted(states, key=lambda s: (order[s.state], s.user.department_id, s.user.name))


def open_comments(minutes: Minutes, now: datetime | None = None,
                  states: list[RecipientState] | None = None) -> list[MinutesResponse]:
    """Change requests a revision may answer: each recipient's latest answer when it asks for a change.
    `states`: the recipient states when the caller has them already (the minutes page)."""
    states = recipient_states(minutes, now) if states is None else states
    return [s.latest for s in states if s.state in ("change", "change_open")]


def all_comments(minutes: Minutes, record: SignoffRecord | None = None) -> list[MinutesResponse]:
    """Every comment ever made on the minutes, newest first (answers with text). `record`: the minutes' sign-off
    record when the caller has it already."""
    record = signoff_record(minutes) if record is None else record
    return [answer for answer in reversed(record.answers) if answer.comment != ""]


def answered_by(minutes: Minutes, record: SignoffRecord | None = None) -> dict[int, MinutesVersion]:
    """For each comment a later version answered: that version (response id → version). `record`: the minutes'
    sign-off record when the caller has it already."""
    record = signoff_record(minutes) if record is None else record
    return {r.because_response_id: r.version for r in record.requests if r.because_response_id is not None}


# --- revisions -------------------------------------------------------------------------------

def revise(actor: User, meeting: Meeting, markdown: str | None = None, answers=(), reask=(), note: str = "",
           revision=None, now: datetime | None = None) -> MinutesVersion:
    """Publish a new version: it asks again only the authors of the comments it answers (`answers`,
    response ids) and the people the recorder picks (`reask`, user ids); other answers stand."""
    _require_write(actor, meeting)
    minutes = _require_minutes(meeting)
    _refuse_if_final(minutes)
    if not minutes.is_out:
        raise RuleViolation(gettext("纪要尚未发出：请先分发第1版"))
    now = now or utcnow()
    if markdown is not None:
        save_draft(actor, meeting, markdown, revision, now)
    body = _clean_body(minutes.draft_body)
    note = (note or "").strip()
    if len(note) > MAX_COMMENT:
        raise ValidationFailed(gettext("修订说明不超过%(MAX_COMMENT)s个字", MAX_COMMENT=MAX_COMMENT), field="note")
    version_ids = {v.id for v in versions(minutes)}
    answered: list[MinutesResponse] = []
    for raw in answers or ():
        answer = get_by_id(MinutesResponse, raw)
        if answer is None or answer.version_id not in version_ids or answer.kind != ResponseKind.CHANGE:
            raise ValidationFailed(gettext("所选意见不属于本纪要"), field="answers")
        if answer not in answered:
            answered.append(answer)
    people: dict[int, tuple[User, MinutesResponse | None]] = {a.user_id: (a.user, a) for a in answered}
    for raw in reask or ():
        user = _check_person(get_by_id(User, raw), meeting, "reask")
        people.setdefault(user.id, (user, None))
    if not people:
        raise ValidationFailed(gettext("请勾选本版回应的修改意见，或选择需要重新确认的人员（至少一位）"), field="reask")
    version = _new_version(actor, minutes, body, now, note=note)
    due_on = answer_due_on(now)
    for user, because in people.values():
        _add_recipient(minutes, user, RecipientReason.ADDED, actor, now)
        _ask(version, user, now, due_on, because, revised=True)
    db.session.flush()
    return version


# --- the final version -----------------------------------------------------------------------

def _make_final(minutes: Minutes, version: MinutesVersion, actor: User | None, reason: str | None,
                missing: list[dict], now: datetime) -> MinutesVersion:
    if not verify(version):
        raise RuleViolation(gettext("%(version)s的内容与其哈希不符，已拒绝定稿。请联系系统管理员核查", version=version.label))
    version.finalized_at = now
    version.finalized_by = actor
    version.final_reason = reason
    version.final_missing = render.canonical_json(missing) if missing else None
    minutes.status = MinutesStatus.FINAL
    minutes.final_hash, minutes.final_number = version.content_hash, version.number
    minutes.meeting.status = MeetingStatus.FINAL
    db.session.flush()
    _announce(minutes, version, "final")
    return version


def _announce(minutes: Minutes, version: MinutesVersion, what: str) -> None:
    """Tell every recipient, the recorder and the host that a version is final (or a correction is out)."""
    meeting = minutes.meeting
    people = {r.user_id: r.user for r in minutes.recipients}
    for lead in (meeting.recorder, meeting.host):
        if lead is not None:
            people.setdefault(lead.id, lead)
    for user in people.values():
        if not user.email:
            continue
        subject, text = mail.final_email(
            meeting, version, user, version_link(version), what,
            external_url("records.diff", meeting_id=meeting.id, a=version.corrects.number,
                                      b=version.number) if version.corrects else None)
        notify.enqueue_email(user.email, subject, text,
                             dedupe_key=f"minutes:v{version.id}:{what}:{user.id}", confidential=meeting.confidential)


def finalize(actor: User, meeting: Meeting, reason: str | None = None, now: datetime | None = None) -> MinutesVersion:
    """Make the current version final: when everyone has confirmed, or by the host with a recorded
    reason for the answers that are missing (or comments left open)."""
    if not can_view(actor, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    minutes = _require_minutes(meeting)
    _refuse_if_final(minutes)
    if not minutes.is_out:
        raise RuleViolation(gettext("纪要尚未发出，不能定稿"))
    now = now or utcnow()
    version = current_version(minutes)
    unsettled = [s for s in recipient_states(minutes, now) if not s.settled]
    if not unsettled:
        _require_write(actor, meeting)
        return _make_final(minutes, version, actor, None, [], now)
    names = "、".join(s.user.name for s in unsettled)
    if not is_host(actor, meeting):
        raise PermissionDenied(gettext("尚有%(count)s人未确认（%(names)s）：只有主持人可以在记录原因后定稿", count=len(unsettled), names=names))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(gettext("尚有%(count)s人未确认（%(names)s）。请填写在缺少这些确认的情况下定稿的原因",
                                       count=len(unsettled), names=names),
                               field="reason")
    if len(reason) > MAX_COMMENT:
        raise ValidationFailed(gettext("原因不超过%(MAX_COMMENT)s个字", MAX_COMMENT=MAX_COMMENT), field="reason")
    missing = [{"name": s.user.name, "department": s.user.department.name, "state": s.label} for s in unsettled]
    return _make_final(minutes, version, actor, reason, missing, now)


def correct(actor: User, meeting: Meeting, markdown: str, reason: str, now: datetime | None = None) -> MinutesVersion:
    """Publish a correction (更正) of the final minutes: a new version, final at once, that points to the
    version it corrects; the corrected version stays as it was, and everyone is told."""
    _require_write(actor, meeting)
    minutes = _require_minutes(meeting)
    if not minutes.is_final:
        raise RuleViolation(gettext("纪要尚未定稿：请直接修改草稿并发布修订版"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(gettext("请写明更正原因"), field="reason")
    if len(reason) > MAX_COMMENT:
        raise ValidationFailed(gettext("更正原因不超过%(MAX_COMMENT)s个字", MAX_COMMENT=MAX_COMMENT), field="reason")
    body = _clean_body(markdown)
    now = now or utcnow()
    corrected = final_version(minutes)
    version = _new_version(actor, minutes, body, now, kind=VersionKind.CORRECTION, corrects=corrected, note=reason)
    version.finalized_at, version.finalized_by = now, actor
    minutes.final_hash, minutes.final_number = version.content_hash, version.number
    minutes.store_draft(body, actor, now)
    db.session.flush()
    _announce(minutes, version, "correction")
    return version


def send_reminders(now: datetime | None = None) -> int:
    """Queue the overdue notices, once each (idempotent, for `flask minutes tick`): minutes not sent
    24 hours after the meeting (to the recorder and the host), and answers past their working day
    (to the recipient). Returns how many messages were queued."""
    now = now or utcnow()
    today = to_local(now).date()
    queued = 0
    late = db.session.execute(
        select(Meeting, RoomState).join(RoomState, RoomState.meeting_id == Meeting.id)
        .where(Meeting.status == MeetingStatus.MINUTES_DUE, RoomState.minutes_due_at < now)).all()
    for meeting, room in late:
        link = external_url("records.show", meeting_id=meeting.id)
        for lead in {u.id: u for u in (meeting.recorder, meeting.host) if u is not None}.values():
            subject, text = mail.minutes_overdue_email(meeting, lead, cn_datetime(room.minutes_due_at), link)
            if lead.email and notify.enqueue_email(lead.email, subject, text,
                                                   dedupe_key=f"minutes:m{meeting.id}:overdue:{lead.id}", link=link,
                                                   confidential=meeting.confidential):
                queued += 1
    waiting = db.session.execute(
        select(MinutesRequest, MinutesVersion, Minutes)
        .join(MinutesVersion, MinutesVersion.id == MinutesRequest.version_id)
        .join(Minutes, Minutes.id == MinutesVersion.minutes_id)
        .where(Minutes.status == MinutesStatus.DISTRIBUTED, MinutesRequest.due_on < today)).all()
    for request, version, minutes in waiting:
        user = request.user
        if not user.email or current_version(minutes).id != version.id:
            continue
        answered = db.session.scalar(select(MinutesResponse.id).where(MinutesResponse.version_id == version.id,
                                                                      MinutesResponse.user_id == user.id).limit(1))
        if answered is not None:
            continue
        link = version_link(version)
        subject, text = mail.answer_overdue_email(version, user, cn_date(request.due_on), link)
        if notify.enqueue_email(user.email, subject, text,
                                dedupe_key=f"minutes:v{version.id}:overdue:{user.id}", link=link,
                                confidential=version.meeting.confidential):
            queued += 1
    db.session.flush()
    return queued
