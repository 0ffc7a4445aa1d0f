"""Transcripts over HTTP: import a transcript into a meeting, review the suggestions beside it."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from minutes.core.errors import DomainError
from minutes.meetings import service as meetings_service
from minutes.people.service import all_users
from minutes.room import wording
from minutes.transcripts import service
from minutes.webutil import is_htmx

bp = Blueprint("transcripts", __name__)


@bp.app_context_processor
def transcript_helpers():
    """Let the suggestion cards say what is missing."""
    return {"problem_message": service.problem_message}


def _page(meeting, status: int = 200, errors=None, values=None):
    transcript = service.latest_transcript(current_user, meeting)
    return render_template(
        "transcripts/page.html", meeting=meeting, transcript=transcript,
        groups=service.by_agenda_item(transcript) if transcript else [],
        can_import=service.can_import(current_user, meeting), errors=errors or {}, values=values or {},
        people=_people(meeting)), status


def _people(meeting):
    invited = [p.user for p in meeting.participants]
    ids = {u.id for u in invited}
    return invited + [u for u in all_users() if u.id not in ids]


@bp.get("/meetings/<int:meeting_id>/transcript")
def show(meeting_id):
    """The transcript beside the suggestions, per agenda item; the import form for the recorder and host."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    return _page(meeting)


@bp.post("/meetings/<int:meeting_id>/transcript")
def upload(meeting_id):
    """Import an exported transcript (a file, or text pasted): lines and suggestions, nothing in the record."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    sent = request.files.get("file")
    pasted = request.form.get("text", "")
    if sent is not None and sent.filename:
        name, data = sent.filename, sent.read()
    else:
        name, data = gettext("粘贴的记录稿") + ".txt", pasted.encode("utf-8")
    try:
        service.import_transcript(current_user, meeting, name, data)
    except DomainError as exc:
        values = {"text": pasted} if not (sent and sent.filename) else {}
        return _page(meeting, exc.status, errors=exc.fields or {"file": exc.message}, values=values)
    return redirect(url_for("transcripts.show", meeting_id=meeting.id), 303)


def _card(meeting, suggestion, status: int = 200, errors=None, values=None, message: str = ""):
    values = values or {}
    check = None
    if suggestion.kind.value in ("action", "decision"):
        check = wording.check_wording(values.get("text", suggestion.text), values.get("due", suggestion.due),
                                      confirmed=values.get("due_confirmed", ""))
    return render_template("transcripts/_suggestion.html", meeting=meeting, s=suggestion, errors=errors or {},
                           values=values, message=message, check=check, people=_people(meeting),
                           transcript=suggestion.transcript, can_import=service.can_import(current_user, meeting)), status


@bp.post("/meetings/<int:meeting_id>/transcript/suggestions/<int:suggestion_id>/accept")
def accept(meeting_id, suggestion_id):
    """Put a suggestion, as edited, into the record; refused (and kept open) as a typed entry would be."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    suggestion = service.get_suggestion(current_user, meeting, suggestion_id)
    form = request.form
    values = {"agenda_item_id": form.get("agenda_item_id", ""), "text": form.get("text", ""),
              "owner_id": form.get("owner_id", ""), "department_id": form.get("department_id", ""),
              "party_ids": form.getlist("party_ids"), "due": form.get("due", ""),
              "due_confirmed": form.get("due_confirmed", "")}
    try:
        service.accept_suggestion(current_user, suggestion, values["agenda_item_id"], values["text"],
                                  values["owner_id"], values["department_id"], values["party_ids"], values["due"],
                                  values["due_confirmed"])
    except DomainError as exc:
        return _card(meeting, suggestion, exc.status, exc.fields or {"text": exc.message}, values, exc.message)
    if not is_htmx():
        return redirect(url_for("transcripts.show", meeting_id=meeting.id), 303)
    return _card(meeting, suggestion)


@bp.post("/meetings/<int:meeting_id>/transcript/suggestions/<int:suggestion_id>/drop")
def drop(meeting_id, suggestion_id):
    """Set a suggestion aside."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    suggestion = service.get_suggestion(current_user, meeting, suggestion_id)
    try:
        service.drop_suggestion(current_user, suggestion)
    except DomainError as exc:
        return _card(meeting, suggestion, exc.status, {"_": exc.message}, message=exc.message)
    if not is_htmx():
        return redirect(url_for("transcripts.show", meeting_id=meeting.id), 303)
    return _card(meeting, suggestion)
