"""The live meeting room over HTTP: console, attendee view, shared screen, the event stream."""
from datetime import datetime

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from minutes.core.errors import DomainError, NotFound, ValidationFailed
from minutes.core.timefmt import cn_date, local_to_utc, to_local, utcnow
from minutes.dbtypes import parse_id
from minutes.extensions import db
from minutes.meetings import service as meetings_service
from minutes.people.service import all_users, users_of_department
from minutes.room import attendance, carry, live, recording, review, service, wording
from minutes.room.broker import DirectWriter
from minutes.room.stream import RoomStream
from minutes.webutil import commit_early, is_htmx

bp = Blueprint("room", __name__)


@bp.app_context_processor
def room_links():
    """Let the meeting page show the way into the room for the right people and states."""
    return {"room_entry": _room_entry}


def _room_entry(meeting) -> dict | None:
    """Where the meeting page's room button leads, or None when there is no room to enter."""
    if meeting.is_recording:
        return {"label": gettext("进入会议室"), "url": url_for("room.room", meeting_id=meeting.id),
                "screen": url_for("room.screen", meeting_id=meeting.id), "live": True}
    if meeting.is_planning:
        # Before the start: host and recorder start it there; everyone else can wait there (it turns live).
        screen = url_for("room.screen", meeting_id=meeting.id) if service.can_start(current_user, meeting) else None
        return {"label": gettext("进入会议室"), "url": url_for("room.room", meeting_id=meeting.id), "screen": screen,
                "live": False}
    if meeting.status.value in ("minutes_due", "distributed", "final"):
        return {"label": gettext("会中记录"), "url": url_for("room.room", meeting_id=meeting.id), "screen": None,
                "live": False}
    return None


def _audience(meeting) -> str:
    return "write" if meetings_service.can_record(current_user, meeting) else "read"


def _page_context(meeting, audience: str, **extra) -> dict:
    context = live.room_context(meeting, audience)
    context.update(
        can_start=service.can_start(current_user, meeting),
        stream_url=url_for("room.events", meeting_id=meeting.id),
    )
    context.update(extra)
    return context


# --- pages -----------------------------------------------------------------------------------

@bp.get("/meetings/<int:meeting_id>/room")
def room(meeting_id):
    """The recorder's console (host and recorder) or the attendees' read-only live view."""
    meeting = meetings_service.get_meeting(current_user, meeting_id, options=[service.with_room()])
    audience = _audience(meeting)
    if is_htmx():  # the same URL gives the live part alone (what a resync swaps in)
        return render_template("room/_live.html", **_page_context(meeting, audience))
    return render_template("room/page.html", **_page_context(meeting, audience))


@bp.get("/meetings/<int:meeting_id>/screen")
def screen(meeting_id):
    """The shared screen: big type, the current item and its clock, points as they come, the review."""
    meeting = meetings_service.get_meeting(current_user, meeting_id, options=[service.with_room()])
    context = live.room_context(meeting, "screen", live.base_context(meeting, screen_only=True))
    context["stream_url"] = url_for("room.events", meeting_id=meeting.id)
    return render_template("room/screen.html", **context)


@bp.get("/meetings/<int:meeting_id>/events")
def events(meeting_id):
    """The room's Server-Sent Events stream; one per tab."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    audience = "screen" if request.args.get("view") == "screen" else _audience(meeting)
    last_seen = live.parse_revision(request.headers.get("Last-Event-ID"), request.args.get("rev"))
    stream = RoomStream(current_app._get_current_object(), meeting.id, current_user.id, audience, last_seen,
                        base_url=request.host_url.rstrip("/") + request.script_root + "/",
                        writer=DirectWriter.for_request(request.environ))
    response = Response(stream, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache, no-transform"
    response.headers["X-Accel-Buffering"] = "no"
    return response


# --- lifecycle -------------------------------------------------------------------------------

def _done(meeting, status: int = 200, message: str = ""):
    """Answer a room command: htmx gets the message line (the page itself updates live); a form a redirect."""
    if is_htmx():
        return render_template("room/_message.html", message=message, error=status >= 400), status
    if status >= 400:
        return render_template("error.html", message=message, status=status), status
    return redirect(url_for("room.room", meeting_id=meeting.id), 303)


def _command(meeting_id, action, *args):
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    try:
        action(current_user, meeting, *args)
    except DomainError as exc:
        return _done(meeting, exc.status, exc.message)
    return _done(meeting)


@bp.post("/meetings/<int:meeting_id>/room/start")
def start(meeting_id):
    """Start the meeting."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    try:
        service.start_meeting(current_user, meeting, confirmed=request.form.get("confirm") == "1")
    except service.StartNeedsConfirmation as exc:
        page = "room/_start_confirm.html" if is_htmx() else "room/start_confirm.html"
        return render_template(page, meeting=meeting, question=exc.message), exc.status
    except DomainError as exc:
        return _done(meeting, exc.status, exc.message)
    if is_htmx():
        return Response("", 200, headers={"HX-Redirect": url_for("room.room", meeting_id=meeting.id)})
    return redirect(url_for("room.room", meeting_id=meeting.id), 303)


@bp.post("/meetings/<int:meeting_id>/room/current")
def set_current(meeting_id):
    """Move the discussion (and the clock) to an agenda item."""
    return _command(meeting_id, service.set_current_item, request.form.get("agenda_item_id", ""))


@bp.post("/meetings/<int:meeting_id>/room/review")
def enter_review(meeting_id):
    """Switch the screen to the end-of-meeting review."""
    return _command(meeting_id, review.enter_review)


@bp.post("/meetings/<int:meeting_id>/room/live")
def leave_review(meeting_id):
    """Go back from the review to recording."""
    return _command(meeting_id, review.leave_review)


@bp.post("/meetings/<int:meeting_id>/room/review/goto")
def review_goto(meeting_id):
    """Show one decision or action on the screen."""
    return _command(meeting_id, review.review_goto, request.form.get("key", ""))


@bp.post("/meetings/<int:meeting_id>/room/review/step")
def review_step(meeting_id):
    """Show the next or previous decision or action."""
    return _command(meeting_id, review.review_step, -1 if request.form.get("direction") == "prev" else 1)


@bp.post("/meetings/<int:meeting_id>/room/review/confirm")
def review_confirm(meeting_id):
    """Mark the shown decision or action 已确认."""
    return _command(meeting_id, review.confirm_entry, request.form.get("key", ""), request.form.get("version"))


@bp.route("/meetings/<int:meeting_id>/room/review/reword", methods=["GET", "POST"])
def review_reword(meeting_id):
    """Reword a decision or action on the spot (and confirm it)."""
    meeting = service.get_meeting_to_write(current_user, meeting_id)
    key = request.values.get("key", "")
    try:
        entry = review.review_entry(meeting, key)
    except DomainError as exc:
        return _done(meeting, exc.status, exc.message)
    if request.method == "GET":
        values = {"text": entry.text, "due": entry.due_text or (entry.due_date.isoformat() if entry.due_date else "")}
        return render_template("room/_reword.html", meeting=meeting, entry=entry, values=values, errors={},
                               version=entry.version)
    form = request.form
    try:
        review.reword_entry(current_user, meeting, key, form.get("text", ""), form.get("due", ""), form.get("version"),
                            due_confirmed=form.get("due_confirmed", ""))
    except DomainError as exc:
        return render_template("room/_reword.html", meeting=meeting, entry=entry, values=form, version=form.get("version"),
                               errors=exc.fields or {"_": exc.message}, message=exc.message,
                               check=wording.check_wording(form.get("text", ""), form.get("due", ""),
                                                           confirmed=form.get("due_confirmed", ""))), exc.status
    return "", 200


@bp.post("/meetings/<int:meeting_id>/room/finish")
def finish(meeting_id):
    """End the meeting: the formal minutes are due within 24 hours."""
    return _command(meeting_id, review.finish_meeting)


@bp.post("/meetings/<int:meeting_id>/carry-over")
def carry_over(meeting_id):
    """Plan a follow-up meeting with the agenda items the ended meeting never discussed (once)."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    into = request.form.get("into", "follow_up")
    # a refusal (not the recorder or host, nothing left to carry) is answered with its status and changes nothing
    carried = carry.carry_over(current_user, meeting, into)
    target = carried.meeting
    if carried.already:
        flash(gettext("这些未讨论的议题已转入“%(topic)s”（%(date)s），没有再创建会议。",
                      topic=target.topic, date=cn_date(target.starts_at)), "info")
    elif into == "series":
        flash(gettext("%(count)s个未讨论的议题已列入本系列下一次会议的议程。", count=carried.count), "success")
    else:
        flash(gettext("已创建后续会议，%(count)s个未讨论的议题已列入议程，参会人员和角色沿用本次会议。请确认时间地点后发送议程。",
                      count=carried.count), "success")
    return redirect(url_for("meetings.show", meeting_id=target.id), 303)


# --- attendance ------------------------------------------------------------------------------

def _arrival(value: str) -> datetime | None:
    """Read a time of day typed as HH:MM (today, company time)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        hour, minute = (int(p) for p in value.replace("：", ":").split(":", 1))
        local_now = to_local(utcnow())
        return local_to_utc(local_now.replace(hour=hour, minute=minute, second=0, microsecond=0, tzinfo=None))
    except (ValueError, TypeError):
        raise ValidationFailed(gettext("到达时间格式应为 时:分，如 09:12"), field="arrived_at") from None


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["GET", "POST"])
def mark_attendance(meeting_id):
    """Mark someone present, late or absent (GET: the small form for late/absent)."""
    meeting = service.get_meeting_to_write(current_user, meeting_id)
    values = request.values
    if request.method == "GET":
        row = attendance.attendance_row(meeting, values.get("user_id", ""))
        return render_template("room/_attendance_form.html", meeting=meeting, row=row, status=values.get("status"),
                               values={"arrived_at": to_local(utcnow()).strftime("%H:%M")}, errors={})
    try:
        attendance.mark_attendance(current_user, meeting, values.get("user_id", ""), values.get("status", ""),
                                   _arrival(values.get("arrived_at", "")), values.get("reason", ""))
    except DomainError as exc:
        if values.get("status") in ("late", "absent") and values.get("from_dialog"):
            try:
                row = attendance.attendance_row(meeting, values.get("user_id", ""))
            except DomainError:
                return _done(meeting, exc.status, exc.message)
            return render_template("room/_attendance_form.html", meeting=meeting, row=row, status=values.get("status"),
                                   values=values, errors=exc.fields or {"_": exc.message}), exc.status
        return _done(meeting, exc.status, exc.message)
    return "", 200


@bp.route("/meetings/<int:meeting_id>/attendance/add", methods=["GET", "POST"])
def add_attendee(meeting_id):
    """Add someone who came without an invitation."""
    meeting = service.get_meeting_to_write(current_user, meeting_id)
    if request.method == "GET":
        return render_template("room/_attendee_form.html", meeting=meeting, people=all_users(), errors={}, values={})
    try:
        attendance.add_attendee(current_user, meeting, request.form.get("user_id", ""))
    except DomainError as exc:
        return render_template("room/_attendee_form.html", meeting=meeting, people=all_users(), values=request.form,
                               errors=exc.fields or {"_": exc.message}), exc.status
    return "", 200


# --- points, decisions, actions --------------------------------------------------------------

def _entry_form(meeting, name: str, status: int = 200, values=None, errors=None, message: str = "", saved=None,
                check=None):
    context = live.entry_context(meeting)
    forms = live.entry_forms(meeting, context["current"], **({name: values} if values else {}))
    context.update(form=forms[name], errors=errors or {}, message=message, saved=saved, check=check)
    return render_template(f"room/_{name}_form.html", **context), status


def _point_values(form) -> dict:
    return {"agenda_item_id": form.get("agenda_item_id", ""), "kind": form.get("kind", "viewpoint"),
            "department_id": form.get("department_id", ""), "speaker_id": form.get("speaker_id", ""),
            "party_ids": form.getlist("party_ids"), "text": form.get("text", ""),
            "submission": form.get("submission", "")}


def _owned_values(form) -> dict:
    return {"agenda_item_id": form.get("agenda_item_id", ""), "text": form.get("text", ""),
            "owner_department_id": form.get("owner_department_id", ""), "owner_id": form.get("owner_id", ""),
            "cooperating_department_ids": form.getlist("cooperating_department_ids"), "due": form.get("due", ""),
            "due_confirmed": form.get("due_confirmed", ""), "submission": form.get("submission", "")}


@bp.post("/meetings/<int:meeting_id>/points")
def add_point(meeting_id):
    """Add a viewpoint, dispute or consensus; the form comes back empty, keeping item, kind and department."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    v = _point_values(request.form)
    try:
        point = recording.add_point(current_user, meeting, v["agenda_item_id"], v["kind"], v["text"],
                                    v["department_id"], v["speaker_id"], v["party_ids"], submission=v["submission"])
    except DomainError as exc:
        return _entry_form(meeting, "point", exc.status, v, exc.fields or {"text": exc.message}, exc.message)
    commit_early()  # the open tabs get the point now; the form is rendered after
    keep = {k: v[k] for k in ("agenda_item_id", "kind", "department_id")}
    keep["party_ids"] = v["party_ids"] if v["kind"] == "dispute" else []
    return _entry_form(meeting, "point", values=keep, saved=point)


@bp.post("/meetings/<int:meeting_id>/decisions")
def add_decision(meeting_id):
    """Add a decision; refused (422) while it contains vague wording."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    v = _owned_values(request.form)
    try:
        decision = recording.add_decision(current_user, meeting, v["agenda_item_id"], v["text"],
                                          v["owner_department_id"], v["owner_id"], v["cooperating_department_ids"],
                                          v["due"], submission=v["submission"], due_confirmed=v["due_confirmed"])
    except DomainError as exc:
        return _entry_form(meeting, "decision", exc.status, v, exc.fields or {"text": exc.message}, exc.message,
                           check=wording.check_wording(v["text"], v["due"], confirmed=v["due_confirmed"]))
    commit_early()
    return _entry_form(meeting, "decision", values={"agenda_item_id": v["agenda_item_id"]}, saved=decision)


@bp.post("/meetings/<int:meeting_id>/actions")
def add_action(meeting_id):
    """Add an action item; refused without owner and date, or with vague wording."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    v = _owned_values(request.form)
    try:
        action = recording.add_action(current_user, meeting, v["agenda_item_id"], v["text"], v["owner_department_id"],
                                      v["owner_id"], v["cooperating_department_ids"], v["due"],
                                      submission=v["submission"], due_confirmed=v["due_confirmed"])
    except DomainError as exc:
        return _entry_form(meeting, "action", exc.status, v, exc.fields or {"text": exc.message}, exc.message,
                           check=wording.check_wording(v["text"], v["due"], confirmed=v["due_confirmed"]))
    commit_early()
    return _entry_form(meeting, "action", values={"agenda_item_id": v["agenda_item_id"]}, saved=action)


def _agenda_form(meeting, values, errors=None, message: str = "", saved=None, status: int = 200):
    context = live.entry_context(meeting)
    context.update(values=values, errors=errors or {}, message=message, saved=saved)
    return render_template("room/_agenda_form.html", **context), status


@bp.post("/meetings/<int:meeting_id>/room/agenda")
def add_agenda_item(meeting_id):
    """Add a 临时议题 during the meeting: every tab gets it live; the form comes back empty."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    values = {name: request.form.get(name, "") for name in ("title", "minutes", "department_id")}
    try:
        item = service.add_agenda_item(current_user, meeting, values["title"], values["minutes"],
                                       values["department_id"])
    except DomainError as exc:
        return _agenda_form(meeting, values, exc.fields or {"title": exc.message}, exc.message, status=exc.status)
    commit_early()
    return _agenda_form(meeting, {}, saved=item)


@bp.post("/meetings/<int:meeting_id>/room/check")
def check(meeting_id):
    """Check a decision or action as it is typed: vague terms with fixes, the deadline as a date."""
    meetings_service.get_meeting(current_user, meeting_id)
    text, due = request.form.get("text", ""), request.form.get("due", "")
    check = wording.check_wording(text, due, confirmed=request.form.get("due_confirmed", ""))
    return render_template("room/_check.html", check=check, text=text, due=due,
                           required=request.form.get("kind") == "action")


@bp.get("/meetings/<int:meeting_id>/room/people")
def people_options(meeting_id):
    """The people of one department as <option>s for an owner or speaker select."""
    meetings_service.get_meeting(current_user, meeting_id)
    dept_id = parse_id(request.args.get("owner_department_id") or request.args.get("department_id"))
    people = users_of_department(dept_id) if dept_id is not None else []
    return render_template("room/_people_options.html", people=people, selected=request.args.get("selected", ""),
                           placeholder=gettext("— 选择人员 —") if dept_id is not None else gettext("— 先选部门 —"))


# --- editing (in the editor dialog, so live updates never destroy what is being typed) --------

_EDITABLE = {
    "points": (recording.get_point, "point"),
    "decisions": (recording.get_decision, "decision"),
    "actions": (recording.get_action, "action"),
}


def _load(kind: str, obj_id):
    if kind not in _EDITABLE:
        raise NotFound(gettext("页面不存在"))
    getter, name = _EDITABLE[kind]
    return getter(current_user, obj_id), name


def _edit_values(name: str, obj) -> dict:
    if name == "point":
        return {"agenda_item_id": str(obj.agenda_item_id), "kind": obj.kind.value,
                "department_id": str(obj.department_id or ""), "speaker_id": str(obj.speaker_id or ""),
                "party_ids": [str(d.id) for d in obj.parties], "text": obj.text}
    return {"agenda_item_id": str(obj.agenda_item_id), "text": obj.text,
            "owner_department_id": str(obj.owner_department_id or ""), "owner_id": str(obj.owner_id or ""),
            "cooperating_department_ids": [str(d.id) for d in obj.cooperating_departments],
            "due": obj.due_text or (obj.due_date.isoformat() if obj.due_date else "")}


def _edit_form(meeting, name, obj, values, version, status=200, errors=None, message="", check=None):
    context = live.entry_context(meeting)
    context.update(name=name, obj=obj, form=values, version=version, errors=errors or {}, message=message,
                   check=check)
    return render_template("room/_edit_form.html", **context), status


@bp.route("/meetings/<int:meeting_id>/room/<kind>/<int:obj_id>/edit", methods=["GET", "POST"])
def edit(meeting_id, kind, obj_id):
    """Edit a point, decision or action; an edit based on an older version is refused (409)."""
    meeting = service.get_meeting_to_write(current_user, meeting_id)
    obj, name = _load(kind, obj_id)
    if obj.meeting_id != meeting.id:
        raise NotFound(gettext("页面不存在"))
    if request.method == "GET":
        return _edit_form(meeting, name, obj, _edit_values(name, obj), obj.version)
    form = request.form
    version = form.get("overwrite_version") or form.get("version")
    try:
        if name == "point":
            v = _point_values(form)
            recording.update_point(current_user, obj, version, v["kind"], v["text"], v["department_id"],
                                   v["speaker_id"], v["party_ids"])
        else:
            v = _owned_values(form)
            update = recording.update_decision if name == "decision" else recording.update_action
            update(current_user, obj, version, v["text"], v["owner_department_id"], v["owner_id"],
                   v["cooperating_department_ids"], v["due"], due_confirmed=v["due_confirmed"])
    except DomainError as exc:
        check = None if name == "point" else wording.check_wording(v["text"], v["due"], confirmed=v["due_confirmed"])
        stale = exc.code == "stale"
        return _edit_form(meeting, name, obj if not stale else _fresh(kind, obj_id), v, version, exc.status,
                          exc.fields or {"_": exc.message}, exc.message, check)
    return "", 200


def _fresh(kind, obj_id):
    db.session.rollback()
    try:
        return _load(kind, obj_id)[0]
    except DomainError:
        return None


@bp.post("/meetings/<int:meeting_id>/room/<kind>/<int:obj_id>/delete")
def delete(meeting_id, kind, obj_id):
    """Remove a point, decision or action."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    obj, name = _load(kind, obj_id)
    remove = {"point": recording.delete_point, "decision": recording.delete_decision,
              "action": recording.delete_action}[name]
    try:
        remove(current_user, obj, request.form.get("version"))
    except DomainError as exc:
        return _done(meeting, exc.status, exc.message)
    return _done(meeting)


@bp.app_template_filter("clock")
def clock(seconds) -> str:
    """Format seconds as 12:05 (or 1:02:05 past an hour)."""
    seconds = max(0, int(seconds or 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


