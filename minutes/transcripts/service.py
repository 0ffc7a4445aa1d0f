"""Rules of transcripts (会议转写稿): who may import one into a meeting, reading it, matching speakers to the
invited people, the suggestions the rules propose, and accepting or dropping them.

A suggestion reaches the record only through the room's own recording functions
(`minutes.room.recording`), so an accepted decision or action passes the same checks as a typed one:
vague wording is refused, an action needs an owner and a concrete date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from minutes.calendar.service import work_calendar
from minutes.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from minutes.core.timefmt import local_today, utcnow
from minutes.dbtypes import get_by_id
from minutes.extensions import db
from minutes.meetings.models import Meeting, MeetingStatus
from minutes.people.models import User
from minutes.records import drafting
from minutes.room import recording, wording
from minutes.meetings.service import can_record, can_view
from minutes.room.service import room_of
from minutes.transcripts import model, parse, suggest
from minutes.transcripts.models import (Suggestion, SuggestionKind, SuggestionOrigin, SuggestionStatus, Transcript,
                                        TranscriptLine)


def _unreadable_message(reason: str) -> str:
    limit = parse.MAX_BYTES // (1024 * 1024)
    return {
        parse.TranscriptUnreadable.EMPTY: gettext("记录稿是空的，请选择导出的转写文件"),
        parse.TranscriptUnreadable.TOO_LARGE: gettext("记录稿超过%(limit)s MB，请分段导出后再导入", limit=limit),
        parse.TranscriptUnreadable.TOO_MANY: gettext("记录稿超过%(count)s段发言，请分段导入", count=parse.MAX_LINES),
        parse.TranscriptUnreadable.BINARY: gettext("无法识别该文件：请导入飞书妙记、腾讯会议、钉钉闪记导出的文本（.txt）、字幕（.srt/.vtt）或Word（.docx）文件"),
        parse.TranscriptUnreadable.BAD_DOCX: gettext("该文件不是有效的Word（.docx）文件"),
        parse.TranscriptUnreadable.NO_TURNS: gettext("未识别到发言人：每段发言应以“姓名 00:01:23”或“姓名：内容”开头"),
    }[reason]


# --- permissions -----------------------------------------------------------------------------

def can_import(user, meeting: Meeting) -> bool:
    """The recorder and the host import a transcript and decide its suggestions, from the start of the meeting
    until its minutes are distributed (Meeting.takes_transcripts)."""
    return can_record(user, meeting) and meeting.takes_transcripts


def _require_import(actor, meeting: Meeting) -> None:
    if not can_view(actor, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    if not can_record(actor, meeting):
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以导入记录稿"))
    if not meeting.takes_transcripts:
        if meeting.is_planning or meeting.status == MeetingStatus.CANCELLED:
            raise RuleViolation(gettext("会议%(status)s，不能导入记录稿（请在会议开始后、纪要分发前导入）",
                                        status=meeting.status.label))
        raise RuleViolation(gettext("纪要已分发（%(status)s），不能再导入记录稿或采纳建议；如需修改，请在纪要修订版中修改正文",
                                    status=meeting.status.label))


# --- people ----------------------------------------------------------------------------------

def meeting_people(meeting: Meeting) -> list[suggest.Person]:
    """The invited people (and those added in the room) the speakers and owners are matched against."""
    seen: dict[int, suggest.Person] = {}
    for p in meeting.participants:
        user = p.user
        seen.setdefault(user.id, suggest.Person(user.id, user.name, user.department_id, user.department.name))
    return list(seen.values())


def due_reader(calendar, today):
    """Read deadlines and vague words in transcript sentences with the room's own check (cached per text)."""
    cache: dict[str, suggest.DueReading] = {}

    def read_due(text: str) -> suggest.DueReading:
        if text not in cache:
            check = wording.check_wording(text, "", today=today, calendar=calendar)
            deadline = check.clarity.deadline
            cache[text] = suggest.DueReading(deadline.phrase if deadline and check.due_date else "", check.due_date,
                                             [f.term for f in check.findings])
        return cache[text]

    return read_due


def _problem_codes(proposal: suggest.Proposal) -> str:
    """What the recorder must fix, as codes: "no_owner,vague:尽快|抓紧,no_due" (the words are shown by
    `problem_message`, in the language of whoever reads it)."""
    codes = [f"vague:{'|'.join(proposal.vague)}" if code == "vague" else code for code in proposal.problems]
    return ",".join(codes)


def problem_message(suggestion: Suggestion) -> str:
    """The suggestion's problems as the recorder reads them, or "" when it can be accepted as it stands."""
    messages = []
    for code in filter(None, suggestion.problem.split(",")):
        if code == "no_owner":
            messages.append(gettext("未识别到负责人，请选择"))
        elif code.startswith("vague:"):
            terms = "、".join(f"“{t}”" for t in code[len("vague:"):].split("|") if t)
            messages.append(gettext("含模糊表述%(terms)s，请改为具体时限", terms=terms))
        elif code == "no_due":
            messages.append(gettext("未说明完成时限，请填写具体日期"))
    return "；".join(messages)


# --- import ----------------------------------------------------------------------------------

def import_transcript(actor: User, meeting: Meeting, file_name: str, data: bytes,
                      now: datetime | None = None) -> Transcript:
    """Read an exported transcript into the meeting: its lines with matched speakers and agenda items, and the
    suggestions the rules propose. Nothing enters the record."""
    _require_import(actor, meeting)
    file_name = (file_name or "").strip()[:255] or gettext("记录稿")
    try:
        fmt, turns = parse.read_transcript(file_name, data)
    except parse.TranscriptUnreadable as exc:
        raise ValidationFailed(_unreadable_message(exc.reason), field="file") from None
    people = meeting_people(meeting)
    said = [suggest.Said(i, turn.speaker[:80], suggest.match_person(turn.speaker, people), turn.text)
            for i, turn in enumerate(turns)]
    room = room_of(meeting)
    suggest.assign_agenda(said, [(item.id, item.title) for item in meeting.agenda_items],
                          room.current_item_id if room else None)
    transcript = Transcript(meeting_id=meeting.id, file_name=file_name, format=fmt, imported_by=actor,
                            imported_at=now or utcnow())
    db.session.add(transcript)
    db.session.flush()
    db.session.add_all([
        TranscriptLine(transcript_id=transcript.id, meeting_id=meeting.id, index=s.index, seconds=turn.seconds, speaker=s.speaker,
                       user_id=s.person.id if s.person else None, agenda_item_id=s.agenda_item_id, text=s.text)
        for s, turn in zip(said, turns)
    ])
    proposals = suggest.propose(said, people, due_reader(work_calendar(), local_today()))
    departments = {d.name: d.id for d in meeting.departments}
    for p in proposals:
        if p.department_id is None and p.department_name in departments:
            p.department_id = departments[p.department_name]
    db.session.add_all([
        Suggestion(transcript_id=transcript.id, agenda_item_id=p.agenda_item_id, kind=SuggestionKind(p.kind),
                   text=p.text[:2000], owner_id=p.owner.id if p.owner else None, department_id=p.department_id,
                   party_ids=",".join(str(i) for i in p.party_ids), due=p.due[:100], problem=_problem_codes(p)[:1000],
                   line_indexes=",".join(str(i) for i in p.lines[:30]))
        for p in proposals
    ])
    db.session.flush()
    return transcript


def latest_transcript(user, meeting: Meeting) -> Transcript | None:
    """The meeting's most recent transcript, for someone who may see the meeting."""
    if not can_view(user, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    return db.session.scalars(select(Transcript).where(Transcript.meeting_id == meeting.id)
                              .order_by(Transcript.id.desc()).limit(1)).first()


def get_transcript(user, meeting: Meeting, transcript_id) -> Transcript:
    """A transcript of this meeting, for someone who may see the meeting."""
    transcript = get_by_id(Transcript, transcript_id)
    if transcript is None or transcript.meeting_id != meeting.id or not can_view(user, meeting):
        raise NotFound(gettext("记录稿不存在"))
    return transcript


def get_suggestion(user, meeting: Meeting, suggestion_id) -> Suggestion:
    """A suggestion of this meeting's transcripts, for its recorder or host."""
    suggestion = get_by_id(Suggestion, suggestion_id)
    if suggestion is None or suggestion.transcript.meeting_id != meeting.id or not can_view(user, meeting):
        raise NotFound(gettext("该建议不存在"))
    return suggestion


def by_agenda_item(transcript: Transcript) -> list[tuple[object, list[Suggestion]]]:
    """The suggestions grouped under the meeting's agenda items, in agenda order (items with none left out)."""
    groups = []
    for item in transcript.meeting.agenda_items:
        mine = [s for s in transcript.suggestions if s.agenda_item_id == item.id]
        if mine:
            groups.append((item, mine))
    rest = [s for s in transcript.suggestions if s.agenda_item_id is None]
    if rest:
        groups.append((None, rest))
    return groups


# --- accept, drop ----------------------------------------------------------------------------

def _require_open(actor, suggestion: Suggestion) -> Meeting:
    meeting = suggestion.transcript.meeting
    _require_import(actor, meeting)
    if suggestion.status != SuggestionStatus.OPEN:
        raise RuleViolation(gettext("该建议已%(status)s", status=suggestion.status.label))
    return meeting


def accept_suggestion(actor: User, suggestion: Suggestion, agenda_item_id, text: str, owner_id=None,
                      department_id=None, party_ids=(), due: str = "", due_confirmed: str = "",
                      now: datetime | None = None):
    """Put a suggestion, as the recorder left it, into the record through the room's recording rules; after the
    meeting, into the record and the minutes draft (records.drafting.add_late_entry).
    Returns the new point, decision or action; refused exactly as the typed entry would be."""
    meeting = _require_open(actor, suggestion)
    now = now or utcnow()
    add = recording.add_entry if meeting.is_recording else drafting.add_late_entry
    key, entry = add(actor, meeting, suggestion.kind.value, agenda_item_id, text, department_id, owner_id, party_ids,
                     due, due_confirmed, now=now)
    suggestion.status, suggestion.entry_key = SuggestionStatus.ACCEPTED, key
    suggestion.decided_by_id, suggestion.decided_at = actor.id, now
    # from now on the card shows what went into the record, as the recorder edited it
    suggestion.text, suggestion.agenda_item_id = entry.text, entry.agenda_item_id
    suggestion.owner_id = getattr(entry, "owner_id", None)
    db.session.flush()
    return entry


def drop_suggestion(actor: User, suggestion: Suggestion, now: datetime | None = None) -> Suggestion:
    """Set a suggestion aside; it stays listed as 已忽略 and never reaches the record."""
    _require_open(actor, suggestion)
    suggestion.status = SuggestionStatus.DROPPED
    suggestion.decided_by_id, suggestion.decided_at = actor.id, now or utcnow()
    db.session.flush()
    return suggestion


# --- the company's own model -----------------------------------------------------------------

def model_settings() -> model.ModelSettings | None:
    """The configured model, or None: then only the rule-based suggestions exist and no button is shown."""
    return model.ModelSettings.from_config(current_app.config)


def model_refusal(user, meeting: Meeting) -> str | None:
    """Why this user may not ask the model about this meeting now ("" when they may; None when no model is
    configured or the user may not import at all, so nothing is shown)."""
    settings = model_settings()
    if settings is None or not can_record(user, meeting):
        return None
    if not meeting.takes_transcripts:
        return gettext("会议%(status)s，不能生成建议", status=meeting.status.label)
    if meeting.confidential and not settings.allow_confidential:
        return gettext("本会议仅参会人可见（保密），管理员未允许将保密会议的记录稿发送给模型，仅提供规则建议")
    return ""


@dataclass(frozen=True)
class TranscriptsOf:
    """A meeting's transcripts as the minutes page needs them: are there any, and the model's summary draft."""

    count: int
    #: the company model's latest first draft of the minutes' summary ("" when the model was never asked)
    model_summary: str


def transcripts_of(user, meeting: Meeting) -> TranscriptsOf:
    """How many transcripts the meeting has and the model's latest summary draft, in one query."""
    if not can_view(user, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    summaries = db.session.scalars(select(Transcript.model_summary).where(Transcript.meeting_id == meeting.id)
                                   .order_by(Transcript.id.desc())).all()
    return TranscriptsOf(len(summaries), next((s for s in summaries if s), ""))


def insert_model_summary(actor: User, meeting: Meeting, markdown: str | None = None, revision=None,
                         now: datetime | None = None):
    """Put the model's summary draft into the minutes draft (records.drafting.insert_summary: refused when that
    text is already there, or when there is none)."""
    return drafting.insert_summary(actor, meeting, transcripts_of(actor, meeting).model_summary, markdown, revision,
                                   now)


@dataclass(frozen=True)
class ModelRequest:
    """Everything the model call needs, read from the database before the call (which holds no session)."""

    settings: model.ModelSettings
    messages: list
    meeting_id: int
    transcript_id: int
    actor_id: int
    line_count: int
    item_count: int


def model_request(actor: User, meeting: Meeting, transcript: Transcript) -> ModelRequest:
    """What to send the model about this transcript; refused when no model is configured, for someone who may not
    import, and for a confidential meeting unless the administrator allows it."""
    _require_import(actor, meeting)
    if transcript.meeting_id != meeting.id:
        raise NotFound(gettext("记录稿不存在"))
    refusal = model_refusal(actor, meeting)
    if refusal is None:
        raise RuleViolation(gettext("未配置模型服务，仅提供规则建议"))
    if refusal:
        raise RuleViolation(refusal)
    settings = model_settings()
    items = meeting.agenda_items
    people = [(p.name, p.department_name) for p in meeting_people(meeting)]
    lines = [(line.index + 1, line.user.name if line.user else (line.speaker or gettext("未知")), line.text)
             for line in transcript.lines]
    messages = model.build_messages(meeting.topic, [(n, item.title) for n, item in enumerate(items, 1)], people,
                                    lines)
    size = model.question_size(messages)
    if size > settings.max_chars:
        raise RuleViolation(gettext("记录稿过长（%(size)s字），超过模型服务可接收的%(most)s字，仅提供规则建议",
                                    size=size, most=settings.max_chars))
    return ModelRequest(settings, messages, meeting.id, transcript.id, actor.id, len(lines), len(items))


def model_unavailable_message(exc: model.ModelUnavailable) -> str:
    """The model could not answer: say so; the rule-based suggestions stay."""
    if exc.reason == model.ModelUnavailable.TIMEOUT:
        return gettext("模型服务响应超时，已保留规则建议")
    if exc.reason == model.ModelUnavailable.HTTP_ERROR:
        return gettext("模型服务返回错误（HTTP %(status)s），已保留规则建议", status=exc.status)
    return gettext("模型服务无法连接，已保留规则建议")


def model_refused_message(exc: model.AnswerRefused) -> str:
    """The model answered, but not with the JSON asked for: nothing of it is used."""
    if exc.reason == model.AnswerRefused.CUT_OFF:
        return gettext("模型的回答不完整（超出长度被截断），未采用，已保留规则建议")
    return gettext("模型的回答不是约定的JSON格式，未采用，已保留规则建议")


_KIND_OF_ENTRY = {"decision": SuggestionKind.DECISION, "action": SuggestionKind.ACTION,
                  "dispute": SuggestionKind.DISPUTE, "consensus": SuggestionKind.CONSENSUS,
                  "point": SuggestionKind.VIEWPOINT}


def add_model_suggestions(actor: User, transcript: Transcript, answer: model.Answer) -> list[Suggestion]:
    """Offer the model's entries as suggestions (marked 模型建议) after the rules have checked each one like their
    own: owner among the meeting's people, date read and vague wording flagged. The model's earlier suggestions
    still open are replaced; what the recorder already accepted or dropped stays. Nothing enters the record."""
    meeting = transcript.meeting
    _require_import(actor, meeting)
    # two answers arriving together (the button pressed in two tabs): the second waits, then replaces the first's
    db.session.refresh(transcript, with_for_update=True)
    settings = model_settings()
    if meeting.confidential and not (settings and settings.allow_confidential):
        raise RuleViolation(gettext("本会议仅参会人可见（保密），管理员未允许将保密会议的记录稿发送给模型，仅提供规则建议"))
    people = meeting_people(meeting)
    read_due = due_reader(work_calendar(), local_today())
    items = meeting.agenda_items
    line_items = {line.index: line.agenda_item_id for line in transcript.lines}
    departments = {d.name: d.id for d in meeting.departments}
    for old in [s for s in transcript.suggestions
                if s.origin == SuggestionOrigin.MODEL and s.status == SuggestionStatus.OPEN]:
        transcript.suggestions.remove(old)
    added = []
    for entry in answer.entries:
        lines = [i - 1 for i in entry.lines]
        if any(i not in line_items for i in lines):
            raise RuleViolation(gettext("模型的回答引用了记录稿中不存在的发言，未采用，已保留规则建议"))
        item_id = items[entry.agenda_item - 1].id if entry.agenda_item and entry.agenda_item <= len(items) \
            else line_items[lines[0]]
        kind = _KIND_OF_ENTRY[entry.kind]
        dept_ids = [departments[name] for name in entry.departments if name in departments]
        p = suggest.review(kind.value, entry.text, lines, item_id, entry.owner, dept_ids, entry.due, people, read_due)
        added.append(Suggestion(
            transcript=transcript, agenda_item_id=p.agenda_item_id, kind=kind, text=p.text[:2000],
            owner_id=p.owner.id if p.owner else None, department_id=p.department_id,
            party_ids=",".join(str(i) for i in p.party_ids), due=p.due[:100], problem=_problem_codes(p)[:1000],
            line_indexes=",".join(str(i) for i in p.lines[:30]), origin=SuggestionOrigin.MODEL))
    transcript.model_summary = answer.summary
    db.session.add_all(added)
    db.session.flush()
    return added
