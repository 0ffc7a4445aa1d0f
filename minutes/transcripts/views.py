"""Transcripts over HTTP: import a transcript into a meeting, review the suggestions beside it, ask the company's
model for more (streamed into the page)."""
import logging
import time
from contextlib import contextmanager

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from minutes.core.errors import DomainError, RuleViolation
from minutes.extensions import db
from minutes.meetings import service as meetings_service
from minutes.people.service import all_users
from minutes.room import wording
from minutes.transcripts import model, service
from minutes.webutil import is_htmx

log = logging.getLogger(__name__)

bp = Blueprint("transcripts", __name__)


@bp.app_context_processor
def transcript_helpers():
    """Let the suggestion cards say what is missing."""
    return {"problem_message": service.problem_message}


def _page(meeting, status: int = 200, errors=None, values=None):
    transcript = service.latest_transcript(current_user, meeting)
    return render_template(
        "transcripts/page.html", errors=errors or {}, values=values or {}, **_suggestions_context(meeting, transcript)), status


def _suggestions_context(meeting, transcript, **assist):
    """What transcripts/_suggestions.html needs (the page, and the model's stream when it is done)."""
    return dict(meeting=meeting, transcript=transcript, groups=service.by_agenda_item(transcript) if transcript else [],
                can_import=service.can_import(current_user, meeting), people=_people(meeting),
                assist=service.model_refusal(current_user, meeting), stream_url=None, **assist)


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


# --- the company's own model -----------------------------------------------------------------

#: A stream ticket is good this long: the button's POST (CSRF-checked) hands it to the EventSource's GET.
TICKET_SECONDS = 120


def _tickets():
    return URLSafeTimedSerializer(current_app.secret_key, salt="transcripts.assist")


@bp.post("/meetings/<int:meeting_id>/transcript/assist")
def assist(meeting_id):
    """Start asking the model: the panel comes back connected to the stream (a one-use-window ticket in its URL,
    since an EventSource sends no CSRF token)."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    transcript = service.latest_transcript(current_user, meeting)
    try:
        if transcript is None:
            raise RuleViolation(gettext("请先导入记录稿"))
        service.model_request(current_user, meeting, transcript)
    except DomainError as exc:
        return render_template("transcripts/_assist.html", meeting=meeting, assist="", assist_message=exc.message,
                               assist_ok=False, stream_url=None), exc.status
    ticket = _tickets().dumps([current_user.id, transcript.id])
    return render_template("transcripts/_assist.html", meeting=meeting, assist="", assist_message="",
                           stream_url=url_for("transcripts.assist_stream", meeting_id=meeting.id, ticket=ticket))


@contextmanager
def _fresh_context(app, environ):
    """This request again, in an app context of its own (a request context alone would join whatever app context
    is current on this thread, with its `g` and database session)."""
    with app.app_context(), app.request_context(environ):
        yield


def _event(name: str, html: str) -> str:
    """One SSE event; every line of a multi-line fragment is its own `data:` field."""
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in html.splitlines() or [""]) + "\n"


def _progress(text: str) -> str:
    return _event("progress", render_template("transcripts/_assist_progress.html", text=text))


@bp.get("/meetings/<int:meeting_id>/transcript/assist/stream")
def assist_stream(meeting_id):
    """Ask the model and stream what happens: progress events (已接收 N 字), then the suggestions section rendered
    again with the model's suggestions (or the message why there are none), then `done`.

    Everything the call needs is read here, before the response; the generator talks only to the model and,
    at the end, opens its own request context (this request's is gone by then) to save and render."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    transcript = service.latest_transcript(current_user, meeting)
    app = current_app._get_current_object()
    environ = {k: v for k, v in request.environ.items()
               if not k.startswith("wsgi.input") and k not in ("werkzeug.request", "werkzeug.debug.preserve_context")}
    try:
        user_id, transcript_id = _tickets().loads(request.args.get("ticket", ""), max_age=TICKET_SECONDS)
        if user_id != current_user.id or transcript is None or transcript.id != transcript_id:
            raise BadSignature("another user or transcript")
        asked = service.model_request(current_user, meeting, transcript)
        refused = None
    except BadSignature:
        asked, refused = None, gettext("请求已过期，请重新点击“用模型生成建议”")
    except DomainError as exc:
        asked, refused = None, exc.message
    meeting_id = meeting.id

    def progress(say) -> str:
        with _fresh_context(app, environ):  # this request's context is gone by now
            return _progress(say())

    def finish(message: str, ok: bool, answer=None) -> str:
        with _fresh_context(app, environ):
            meeting = meetings_service.get_meeting(current_user, meeting_id)
            transcript = service.latest_transcript(current_user, meeting)
            if asked is not None and transcript.id != asked.transcript_id:  # the answer is about the one asked
                transcript = service.get_transcript(current_user, meeting, asked.transcript_id)
            if answer is not None:
                try:
                    added = service.add_model_suggestions(current_user, transcript, answer)
                    db.session.commit()
                    message = gettext("模型建议%(count)s条已加入，请逐条采纳、修改或忽略", count=len(added))
                except DomainError as exc:
                    db.session.rollback()
                    message, ok = exc.message, False
            html = render_template("transcripts/_suggestions.html", assist_message=message, assist_ok=ok,
                                   **_suggestions_context(meeting, transcript))
            return _event("result", html)

    def events():
        if asked is None:
            yield finish(refused, False)
            yield _event("done", "")
            return
        yield progress(lambda: gettext("正在请求模型 %(name)s…", name=asked.settings.model))
        answer, message, last = None, "", 0.0
        try:
            for step in model.stream_answer(asked.settings, asked.messages):
                if isinstance(step, model.Progress):
                    now = time.monotonic()
                    if now - last >= 0.2:
                        last = now
                        yield progress(lambda: gettext("已接收 %(count)s 字", count=step.received))
                else:
                    yield progress(lambda: gettext("已接收 %(count)s 字，正在按规则检查…", count=len(step.text)))
                    answer = model.read_answer(step.text, step.finish_reason, asked.line_count, asked.item_count)
        except model.ModelUnavailable as exc:
            log.warning("assist model unavailable for meeting %s: %s %s", meeting_id, exc.reason, exc.status or "")
            with _fresh_context(app, environ):
                message = service.model_unavailable_message(exc)
        except model.AnswerRefused as exc:
            log.warning("assist model answer refused for meeting %s: %s", meeting_id, exc)
            with _fresh_context(app, environ):
                message = service.model_refused_message(exc)
        yield finish(message, answer is not None, answer)
        yield _event("done", "")

    response = Response(events(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response
