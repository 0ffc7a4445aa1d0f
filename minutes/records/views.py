"""Pages for the formal minutes: the editor with live preview, distribution, answers, versions,
diff, final lock, corrections, print view and downloads."""
import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user

from minutes.core.errors import DomainError
from minutes.meetings import service as meetings_service
from minutes.people.service import all_users
from minutes.records import drafting, exports, reading, render, service, signoff
from minutes.room import carry
from minutes.room import service as room_service
from minutes.transcripts import service as transcripts
from minutes.webutil import is_htmx, render as render_page

bp = Blueprint("records", __name__)

EXPORTS = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "ics": ("text/calendar; charset=utf-8", "ics"),
}


@bp.context_processor
def _records_tools():
    """Give this blueprint's templates the table columns and cell formatting of the minutes."""
    return {"render": render}


@bp.app_template_global()
def minutes_link(meeting):
    """The minutes button on a meeting page, or None (see service.minutes_link)."""
    link = reading.minutes_link(current_user, meeting)
    if link is not None:
        link["url"] = url_for("records.show", meeting_id=meeting.id)
    return link


@bp.app_template_global()
def minutes_deadline(due_at):
    """The minutes' 24-hour deadline placed in the working calendar (see service.minutes_deadline)."""
    return service.minutes_deadline(due_at)


def dashboard_panel(user):
    """The dashboard card: minutes due and overdue, sign-offs waiting (None when there is nothing)."""
    panel = reading.dashboard(user)
    return ("records/_dashboard_panel.html", panel) if panel else None


def _pickable_people(meeting, exclude_ids):
    """People the recorder may add: everyone who may see the meeting, by department."""
    groups = {}
    for user in all_users():
        if user.id in exclude_ids or not user.is_enabled or not meetings_service.can_view(user, meeting):
            continue
        groups.setdefault(user.department.name, []).append(user)
    return sorted(groups.items())


def _page_context(meeting, **extra):
    state = reading.get_current(current_user, meeting)
    context = dict(state=state, meeting=meeting, errors={}, values={}, render=render)
    minutes = state.minutes
    if state.can_write and minutes is not None:
        draft = extra.get("values", {}).get("markdown", minutes.draft_body)
        context["preview"] = drafting.preview(current_user, meeting, draft)
        if minutes.status.value == "draft":
            context["candidates"] = signoff.default_recipients(meeting)
        elif minutes.status.value == "distributed":
            context["open_comments"] = signoff.open_comments(minutes, states=state.states)
        if minutes.status.value != "final":
            taken = {c.user.id for c in context.get("candidates", [])} | {r.user_id for r in minutes.recipients}
            recorder = meeting.recorder
            taken |= {recorder.id} if recorder else set()
            context["people"] = _pickable_people(meeting, taken)
    if minutes is not None and (state.can_write or state.is_host):
        context["delivery"] = signoff.version_delivery(current_user, meeting, minutes, state.record)
        context["comments"] = signoff.all_comments(minutes, state.record)
        context["answered_by"] = signoff.answered_by(minutes, state.record)
    if state.can_write:
        context["undiscussed"] = carry.carry_overview(meeting)
        context["transcripts"] = transcripts.transcripts_of(current_user, meeting)
    if state.current is not None and state.recipient is not None and not state.current.is_final:
        context["item_options"] = signoff.item_options(state.current)
    context.update(extra)
    return context


def _page(meeting, status=200, **extra):
    return render_page("records/page.html", None, status, **_page_context(meeting, **extra))


@bp.get("/minutes")
def index():
    """My minutes: to write, waiting for answers, to answer."""
    return render_page("records/index.html", None, panel=reading.dashboard(current_user))


@bp.get("/meetings/<int:meeting_id>/minutes")
def show(meeting_id):
    """The minutes of a meeting: the editor for its writers, the current version for everyone."""
    meeting = meetings_service.get_meeting(current_user, meeting_id, options=[room_service.with_room()])
    return _page(meeting)


@bp.get("/meetings/<int:meeting_id>/minutes/delivery")
def delivery(meeting_id):
    """What became of the latest version's emails, per recipient (a fragment that polls itself while any is queued)."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    report = signoff.version_delivery(current_user, meeting)
    if report is None:
        return "", 204
    return render_template("records/_delivery.html", meeting=meeting, delivery=report)


@bp.post("/meetings/<int:meeting_id>/minutes")
def create(meeting_id):
    """Write the first draft from what was recorded in the room."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    drafting.draft_from_record(current_user, meeting)
    return redirect(url_for("records.show", meeting_id=meeting.id), 303)


@bp.post("/meetings/<int:meeting_id>/minutes/preview")
def preview(meeting_id):
    """Render the Markdown being typed, with the tables from the record (nothing is saved)."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    result = drafting.preview(current_user, meeting, request.form.get("markdown", ""))
    return render_page("records/_preview.html", "records/_preview.html", preview=result, meeting=meeting)


@bp.post("/meetings/<int:meeting_id>/minutes/draft")
def save_draft(meeting_id):
    """Save the draft text; a save based on an older revision is refused with the text kept."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    form = request.form
    try:
        minutes = drafting.save_draft(current_user, meeting, form.get("markdown", ""), form.get("revision"))
    except DomainError as exc:
        if is_htmx():
            minutes = service.minutes_of(meeting)
            return render_page("records/_draft_status.html", "records/_draft_status.html", exc.status,
                               error=exc.message, revision=minutes.draft_revision if minutes else "")
        return _page(meeting, exc.status, values=form, errors=exc.fields or {"markdown": exc.message})
    if is_htmx():
        return render_page("records/_draft_status.html", "records/_draft_status.html", minutes=minutes,
                           revision=minutes.draft_revision, saved=True)
    flash(gettext("草稿已保存"), "success")
    return redirect(url_for("records.show", meeting_id=meeting.id), 303)


@bp.post("/meetings/<int:meeting_id>/minutes/regenerate")
def regenerate(meeting_id):
    """Write the draft again from the record (edits are discarded)."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    drafting.regenerate(current_user, meeting)
    flash(gettext("已根据会中记录重新生成草稿"), "info")
    target = url_for("records.show", meeting_id=meeting.id)
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.post("/meetings/<int:meeting_id>/minutes/summary")
def insert_summary(meeting_id):
    """Put the company model's summary draft into the draft as typed, and save it."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    form = request.form
    try:
        transcripts.insert_model_summary(current_user, meeting, form.get("markdown"), form.get("revision"))
    except DomainError as exc:
        if is_htmx():
            minutes = service.minutes_of(meeting)
            return render_page("records/_draft_status.html", "records/_draft_status.html", exc.status,
                               error=exc.message, revision=minutes.draft_revision if minutes else "")
        return _page(meeting, exc.status, values=form, errors=exc.fields or {"markdown": exc.message},
                     error=exc.message)
    flash(gettext("已插入模型生成的摘要，请核对后再分发"), "success")
    target = url_for("records.show", meeting_id=meeting.id)
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.post("/meetings/<int:meeting_id>/minutes/distribute")
def distribute(meeting_id):
    """Send version 1 to the chosen recipients for sign-off."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    form = request.form
    try:
        version = signoff.distribute(current_user, meeting, recipient_ids=form.getlist("recipient"),
                                     extra_ids=form.getlist("extra"), markdown=form.get("markdown"),
                                     revision=form.get("revision"))
    except DomainError as exc:
        return _page(meeting, exc.status, values=form, errors=exc.fields or {"_": exc.message}, error=exc.message)
    flash(gettext("纪要%(version)s已交给邮件发送（%(count)s位收件人），请其在1个工作日内确认；各人的送达情况见下方",
                  version=version.label, count=len(version.minutes.recipients)), "success")
    return redirect(url_for("records.show", meeting_id=meeting.id), 303)


@bp.post("/meetings/<int:meeting_id>/minutes/revise")
def revise(meeting_id):
    """Publish a revision that answers comments and asks the chosen people again."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    form = request.form
    try:
        version = signoff.revise(current_user, meeting, markdown=form.get("markdown"), answers=form.getlist("answer"),
                                 reask=form.getlist("reask") + form.getlist("extra"), note=form.get("note", ""),
                                 revision=form.get("revision"))
    except DomainError as exc:
        return _page(meeting, exc.status, values=form, errors=exc.fields or {"_": exc.message}, error=exc.message)
    flash(gettext("已发布%(version)s，并请相关人员重新确认", version=version.label), "success")
    return redirect(url_for("records.show", meeting_id=meeting.id), 303)


@bp.post("/meetings/<int:meeting_id>/minutes/finalize")
def finalize(meeting_id):
    """Make the current version final (the host may close with a reason for missing answers)."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    try:
        version = signoff.finalize(current_user, meeting, request.form.get("reason"))
    except DomainError as exc:
        return _page(meeting, exc.status, values=request.form, errors=exc.fields or {"reason": exc.message},
                     error=exc.message)
    flash(gettext("%(version)s已定稿并锁定", version=version.label), "success")
    return redirect(url_for("records.show", meeting_id=meeting.id), 303)


@bp.post("/meetings/<int:meeting_id>/minutes/correct")
def correct(meeting_id):
    """Publish a correction (更正) of the final minutes."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    form = request.form
    try:
        version = signoff.correct(current_user, meeting, form.get("markdown", ""), form.get("reason", ""))
    except DomainError as exc:
        return _page(meeting, exc.status, values=form, errors=exc.fields or {"reason": exc.message},
                     error=exc.message, open_correction=True)
    flash(gettext("已发布更正（%(version)s），并已通知全部收件人", version=version.label), "success")
    return redirect(url_for("records.show", meeting_id=meeting.id), 303)


@bp.get("/meetings/<int:meeting_id>/minutes/diff")
def diff(meeting_id):
    """Compare two versions, word by word."""
    meeting = meetings_service.get_meeting(current_user, meeting_id)
    full = request.args.get("full") == "1"
    result = reading.diff(current_user, meeting, request.args.get("a"), request.args.get("b"), full=full)
    state = reading.get_current(current_user, meeting)
    return render_page("records/diff.html", None, meeting=meeting, diff=result, state=state, full=full)


@bp.get("/minutes/versions/<int:version_id>")
def version(version_id):
    """One version; a recipient answers it here (the link in the emails)."""
    v = service.get_version(current_user, version_id)
    return _version_page(v)


def _version_page(v, status=200, **extra):
    state = reading.get_current(current_user, v.meeting)
    context = dict(version=v, meeting=v.meeting, state=state, errors={}, values={}, render=render,
                   intact=service.verify(v), answerable=(state.recipient is not None and state.current is not None
                                                         and state.current.id == v.id and not v.is_final))
    if context["answerable"]:
        context["item_options"] = signoff.item_options(v)
    context.update(extra)
    return render_page("records/version.html", None, status, **context)


@bp.post("/minutes/versions/<int:version_id>/respond")
def respond(version_id):
    """Answer for yourself: 确认无误 or 提出修改意见."""
    v = service.get_version(current_user, version_id)
    form = request.form
    try:
        answer = signoff.respond(current_user, v.id, form.get("response", ""), form.get("comment", ""),
                                 form.get("item_ref") or None)
    except DomainError as exc:
        return _version_page(v, exc.status, values=form, errors=exc.fields or {"_": exc.message}, error=exc.message)
    if answer.version.is_final:
        flash(gettext("感谢确认。全部收件人均已确认，纪要已定稿"), "success")
    elif answer.kind.value == "confirm":
        flash(gettext("已确认%(label)s无误", label=v.label), "success")
    else:
        flash(gettext("修改意见已提交，记录人修订后会请您重新确认"), "success")
    return redirect(url_for("records.version", version_id=v.id), 303)


@bp.get("/minutes/versions/<int:version_id>/print")
def print_view(version_id):
    """The print view: A4, clean, Chinese fonts."""
    v = reading.version_for_export(current_user, version_id)
    return render_page("records/print.html", None, version=v, meeting=v.meeting, render=render,
                       status_line=exports.status_line(v), title=exports.document_title(v))


@bp.get("/minutes/versions/<int:version_id>/export.<fmt>")
def download(version_id, fmt):
    """Download a version as Markdown, Word, Excel (action table) or iCalendar."""
    if fmt not in EXPORTS:
        abort(404)
    v = reading.version_for_export(current_user, version_id)
    mimetype, ext = EXPORTS[fmt]
    if fmt == "md":
        data, name = exports.markdown_bytes(v), exports.file_name(v, ext)
    elif fmt == "docx":
        data, name = exports.docx_bytes(v), exports.file_name(v, ext)
    elif fmt == "xlsx":
        data, name = exports.xlsx_bytes(v), exports.file_name(v, ext, exports.ACTION_SHEET)
    else:
        data, name = exports.ics_bytes(v, service.version_link(v)), exports.file_name(v, ext, gettext("日程"))
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["X-Minutes-Content-SHA256"] = v.content_hash
    return response
