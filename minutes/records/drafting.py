"""The draft of the formal minutes: generated from the meeting's record (basic facts, agenda, discussion,
decisions and actions), edited by the recorder, regenerated, previewed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from minutes.actions.models import ActionItem
from minutes.core.errors import RuleViolation, StaleEdit, ValidationFailed
from minutes.core.timefmt import cn_time, utcnow
from minutes.dbtypes import parse_id
from minutes.extensions import db
from minutes.meetings.models import Meeting
from minutes.people.models import User
from minutes.records import document, render
from minutes.records.models import Minutes, MinutesStatus
from minutes.records.service import (MAX_BODY, SECTION_TITLES, _refuse_if_final, _require_minutes, _require_write,
                                     minutes_of)
from minutes.room import attendance, recording
from minutes.room import service as room_service
from minutes.room.models import Decision


# --- generation from the record --------------------------------------------------------------

def record_tables(meeting: Meeting) -> tuple[list[dict], list[dict]]:
    """The decision and action tables as recorded now, numbered in agenda order."""
    order = {item.id: item.position for item in meeting.agenda_items}
    titles = {item.id: item.title for item in meeting.agenda_items}
    key = lambda row: (order.get(row.agenda_item_id, 10**6), row.position, row.id)  # noqa: E731
    # Owners, departments and 配合部门 joined: one statement per table (a row has a few helping departments).
    decisions = sorted(db.session.scalars(
        select(Decision).where(Decision.meeting_id == meeting.id, Decision.deleted_at.is_(None))
        .options(joinedload(Decision.owner), joinedload(Decision.owner_department),
                 joinedload(Decision.cooperating_departments))).unique(), key=key)
    actions = sorted(db.session.scalars(
        select(ActionItem).where(ActionItem.meeting_id == meeting.id, ActionItem.deleted_at.is_(None))
        .options(joinedload(ActionItem.owner), joinedload(ActionItem.owner_department),
                 joinedload(ActionItem.cooperating_departments))).unique(), key=key)
    decision_rows = [{
        "no": no, "id": d.id, "item": titles.get(d.agenda_item_id, ""), "item_no": order.get(d.agenda_item_id),
        "text": d.text, "owner_department": d.owner_department.name if d.owner_department else "",
        "owner": d.owner.name if d.owner else "", "cooperating": [c.name for c in d.cooperating_departments],
        "due": d.due_date.isoformat() if d.due_date else None, "due_text": d.due_text or "",
    } for no, d in enumerate(decisions, 1)]
    action_rows = [{
        "no": no, "id": a.id, "item": titles.get(a.agenda_item_id, ""), "item_no": order.get(a.agenda_item_id),
        "text": a.text, "owner_department": a.owner_department.name, "owner": a.owner.name,
        "cooperating": [c.name for c in a.cooperating_departments], "due": a.due_date.isoformat(),
        "status": a.status.label,
    } for no, a in enumerate(actions, 1)]
    return decision_rows, action_rows


def _reference_lines(item_no: int, decisions: list[dict], actions: list[dict]) -> list[str]:
    """An item's references to the tables, each after a blank line."""
    return [line for text in document.reference_lines(item_no, decisions, actions) for line in ("", text)]


def generate_body(meeting: Meeting) -> str:
    """Sections 一 to 三 of the minutes, written from what was recorded in the room."""
    decisions, actions = record_tables(meeting)
    items = room_service.room_items(meeting)
    references = {view.item.position: document.reference_lines(view.item.position, decisions, actions)
                  for view in items}
    return render.normalize_body(document.markdown(meeting, attendance.attendance(meeting), items, references))


def draft_from_record(actor: User, meeting: Meeting, now: datetime | None = None) -> Minutes:
    """Open the minutes of a finished meeting with a draft written from the record (idempotent)."""
    _require_write(actor, meeting)
    existing = minutes_of(meeting)
    if existing is not None:
        return existing
    now = now or utcnow()
    minutes = Minutes(meeting=meeting, status=MinutesStatus.DRAFT, draft_body=generate_body(meeting),
                      draft_revision=1, draft_updated_at=now, draft_updated_by=actor, created_by=actor,
                      created_at=now)
    db.session.add(minutes)
    db.session.flush()
    return minutes


def _check_revision(minutes: Minutes, revision) -> None:
    if revision in (None, ""):
        return
    if parse_id(revision) != minutes.draft_revision:
        who = minutes.draft_updated_by.name if minutes.draft_updated_by else gettext("他人")
        when = gettext("于%(time)s", time=cn_time(minutes.draft_updated_at)) if minutes.draft_updated_at else ""
        raise StaleEdit(gettext("纪要草稿已被%(who)s%(when)s修改，您的修改未保存。您输入的内容仍在编辑框中：请核对后再次保存（将覆盖对方的修改），或刷新页面查看对方的版本",
                                who=who, when=when))


def _clean_body(markdown: str) -> str:
    body = render.normalize_body(markdown)
    if not body.strip():
        raise ValidationFailed(gettext("纪要正文不能为空"), field="markdown")
    if len(body) > MAX_BODY:
        raise ValidationFailed(gettext("纪要正文不超过%(MAX_BODY)s个字", MAX_BODY=MAX_BODY), field="markdown")
    return body


def save_draft(actor: User, meeting: Meeting, markdown: str, revision=None, now: datetime | None = None) -> Minutes:
    """Save the recorder's Markdown; a save based on an older revision is refused, never merged."""
    _require_write(actor, meeting)
    minutes = _require_minutes(meeting)
    _refuse_if_final(minutes)
    _check_revision(minutes, revision)
    body = _clean_body(markdown)
    if body != minutes.draft_body:
        minutes.store_draft(body, actor, now or utcnow())
    db.session.flush()
    return minutes


def regenerate(actor: User, meeting: Meeting, revision=None, now: datetime | None = None) -> Minutes:
    """Replace the draft text with a fresh one written from the record (the edits are discarded)."""
    _require_write(actor, meeting)
    minutes = _require_minutes(meeting)
    _refuse_if_final(minutes)
    _check_revision(minutes, revision)
    minutes.store_draft(generate_body(meeting), actor, now or utcnow())
    db.session.flush()
    return minutes


# --- the summary -----------------------------------------------------------------------------

def _squeezed(text: str) -> str:
    return "".join(text.split())


def insert_summary(actor: User, meeting: Meeting, summary: str, markdown: str | None = None, revision=None,
                   now: datetime | None = None) -> Minutes:
    """Put a summary (the company model's first draft) into the draft as typed (`markdown`, else as saved): a
    paragraph of section 二 before the agenda review, then save. Refused when that text is already in it."""
    _require_write(actor, meeting)
    minutes = _require_minutes(meeting)
    _refuse_if_final(minutes)
    _check_revision(minutes, revision)
    body = render.normalize_body(minutes.draft_body if markdown is None else markdown)
    summary = " ".join(summary.split())
    if not summary:
        raise RuleViolation(gettext("还没有可插入的摘要初稿（请先在记录稿页面用模型生成建议）"))
    if _squeezed(summary) in _squeezed(body):
        raise RuleViolation(gettext("该摘要已在纪要正文中，未重复插入"))
    lines = body.rstrip("\n").split("\n") if body else []
    at = next((i for i, line in enumerate(lines) if line.startswith(document.agenda_review())), None)
    if at is None:
        at = next((i for i, line in enumerate(lines) if line.startswith(f"## {SECTION_TITLES[2]}")), len(lines))
    lines[at:at] = [document.summary_label() + summary, ""]
    body = _clean_body("\n".join(lines))
    minutes.store_draft(body, actor, now or utcnow())
    db.session.flush()
    return minutes


# --- entries added after the meeting ---------------------------------------------------------

def add_late_entry(actor: User, meeting: Meeting, kind: str, agenda_item_id, text: str, department_id=None,
                   owner_id=None, party_ids=(), due: str = "", due_confirmed: str = "",
                   now: datetime | None = None) -> tuple[str, object]:
    """Add to the record after the meeting, until the minutes are distributed (Meeting.takes_late_entries): what a
    transcript shows was said and the room missed. The room's rules check it like a typed entry (vague wording,
    owner, date); a decision or action counts as confirmed by the recorder (the end-of-meeting review is over, and
    the recipients confirm the minutes it goes into); a draft already written gets it too: the point under its
    item, the references to the tables renumbered. Returns the entry's key and the entry."""
    _require_write(actor, meeting)
    if not meeting.takes_late_entries:
        raise RuleViolation(gettext("纪要已分发，会中记录不能再补充；如需修改，请在纪要修订版中修改正文"))
    now = now or utcnow()
    key, entry = recording.add_entry(actor, meeting, kind, agenda_item_id, text, department_id, owner_id, party_ids,
                                     due, due_confirmed, now=now, late=True)
    if kind in ("decision", "action"):
        entry.confirmed_at, entry.confirmed_by = now, actor
    minutes = minutes_of(meeting)
    if minutes is not None and minutes.is_draft:
        db.session.flush()
        body = _with_late_entry(minutes.draft_body, meeting, entry if kind not in ("decision", "action") else None)
        if body != minutes.draft_body:
            minutes.store_draft(body, actor, now)
    db.session.flush()
    return key, entry


def _item_sections(lines: list[str]) -> dict[int, tuple[int, int]]:
    """Where each agenda item's part of 三、各议题讨论要点 lies in the draft: {item number: (heading, end)}."""
    numbers = {document.item_heading(n, ""): n for n in range(1, 100)}
    starts = []
    for i, line in enumerate(lines):
        if line.startswith("### "):
            number = next((n for prefix, n in numbers.items() if line.startswith(prefix)), None)
            if number is not None:
                starts.append((number, i))
    sections = {}
    for number, start in starts:
        end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith(("## ", "### "))), len(lines))
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        sections.setdefault(number, (start, end))
    return sections


def _with_late_entry(body: str, meeting: Meeting, point) -> str:
    """The draft with a late point under its item (after the points of its kind), and every item's references to
    the decision and action tables as they now stand. Parts the recorder removed or renamed are left alone; an item
    whose heading is gone gets a new one at the end."""
    decisions, actions = record_tables(meeting)
    lines = body.rstrip("\n").split("\n")
    items = {item.position: item for item in meeting.agenda_items}
    if point is not None:
        number = point.agenda_item.position
        if number not in _item_sections(lines):
            lines += ["", document.item_heading(number, point.agenda_item.title)]
        start, end = _item_sections(lines)[number]
        section = lines[start + 1:end]
        heading = document.kind_heading(point.kind)
        if heading in section:
            at = start + 1 + section.index(heading) + 1
            while at < end and (not lines[at].strip() or lines[at].startswith(("- ", "  "))):
                at += 1
            while not lines[at - 1].strip():
                at -= 1
            lines[at:at] = [document.point_line(point)]
        else:
            later = [document.kind_heading(k) for k in document.KINDS]
            later = later[later.index(heading) + 1:] + list(document.references())
            at = next((start + 1 + i for i, line in enumerate(section) if line.startswith(tuple(later))), end)
            while at > start + 1 and not lines[at - 1].strip():
                at -= 1
            lines[at:at] = ["", heading, "", document.point_line(point)]
    nothing_recorded = document.nothing_recorded()
    for number, (start, end) in sorted(_item_sections(lines).items(), reverse=True):
        section = [line for line in lines[start + 1:end] if not line.startswith(document.references())]
        while section and not section[-1].strip():
            section.pop()
        references = _reference_lines(number, decisions, actions) if number in items else []
        if references or any(line.strip() and line != nothing_recorded for line in section):
            section = [line for line in section if line != nothing_recorded]
            section = [line for i, line in enumerate(section) if line.strip() or not i or section[i - 1].strip()]
            while section and not section[-1].strip():
                section.pop()
        lines[start + 1:end] = section + references
    return render.normalize_body("\n".join(lines))


@dataclass
class Preview:
    """What the minutes would look like with this text: the rendered text and the live tables."""

    body_html: object
    decisions: list[dict]
    actions: list[dict]


def preview(actor: User, meeting: Meeting, markdown: str) -> Preview:
    """Render typed Markdown with the tables from the record, without saving anything."""
    _require_write(actor, meeting)
    decisions, actions = record_tables(meeting)
    return Preview(render.markdown_html(markdown), decisions, actions)
