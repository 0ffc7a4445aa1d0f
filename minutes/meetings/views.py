"""Pages for planning meetings: dashboard, meeting form, agenda, invitations, sending."""
from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user

from minutes.audit.service import can_view_history
from minutes.core.errors import DomainError, ValidationFailed
from minutes.dashboard import dashboard_panels
from minutes.dbtypes import parse_id
from minutes.meetings import files, listing, materials, sending, series, service
from minutes.meetings.forms import meeting_input
from minutes.meetings.models import SCENARIO_LABELS, Role
from minutes.people.service import enabled_users_by_ids, find_people, list_departments, users_of_department
from minutes.webutil import is_htmx

bp = Blueprint("meetings", __name__)


def _series_links(meeting) -> dict:
    """Where the meeting's series and its 上次会议待办回顾 live (the actions domain keeps them)."""
    review = series.review_of(meeting)
    return {"series_url": url_for("actions.start_series", meeting_id=meeting.id),
            "review_url": url_for("actions.review", meeting_id=meeting.id) if review is not None else None}


def _page_context(meeting, **extra):
    context = dict(
        history_url=url_for("audit.meeting_history", meeting_id=meeting.id)
        if can_view_history(current_user, meeting) else None,
        **_series_links(meeting),
        meeting=meeting,
        can_edit=service.can_edit(current_user, meeting),
        can_change_people=service.can_change(current_user, meeting),
        budget=service.agenda_budget(meeting),
        timing=sending.agenda_timing(meeting),
        groups=service.participants_by_department(meeting),
        departments=list_departments(),
        roles=list(Role),
        role_problems=service.roles_problems(meeting),
        errors={}, values={},
    )
    if context["can_edit"]:
        context["delivery"] = sending.agenda_delivery(current_user, meeting)
    context.update(extra)
    return context


@bp.get("/")
def dashboard():
    """Show the meetings I host, record or attend, upcoming first."""
    data = listing.dashboard(current_user)
    # Other domains' panels (minutes due, actions to coordinate...): see minutes.dashboard.
    return render_template("meetings/dashboard.html", panels=dashboard_panels(current_user), **data)


@bp.get("/meetings")
def index():
    """List meetings visible to me."""
    scope = "past" if request.args.get("scope") == "past" else "upcoming"
    meetings = listing.list_meetings(current_user, scope)
    return render_template("meetings/index.html", meetings=meetings, scope=scope)


def _form_page(meeting=None, values=None, errors=None, status=200):
    return render_template("meetings/form.html", meeting=meeting, values=values or {}, errors=errors or {},
                           departments=list_departments(), scenarios=SCENARIO_LABELS,
                           limits=service.MEETING_TEXT_LIMITS), status


@bp.route("/meetings/new", methods=["GET", "POST"])
def new():
    """Plan a new meeting."""
    if request.method == "GET":
        values = {"organizer_department_id": str(current_user.department_id), "scenario": "kickoff"}
        return _form_page(values=values)
    data, errors = meeting_input(request.form)
    try:
        meeting = service.create_meeting(current_user, data, errors)
    except ValidationFailed as exc:
        return _form_page(values=request.form, errors=exc.fields, status=422)
    flash(gettext("会议已创建，请继续安排议程和参会人员"), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id), 303)


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
def edit(meeting_id):
    """Change a meeting's basics."""
    meeting = service.get_meeting(current_user, meeting_id, for_edit=True)
    if request.method == "GET":
        return _form_page(meeting=meeting)
    data, errors = meeting_input(request.form)
    version = request.form.get("version", "")
    try:
        sending.change_meeting(current_user, meeting, data, parse_id(version), errors)
    except DomainError as exc:
        return _form_page(meeting=meeting, values=request.form, errors=exc.fields or {"_": exc.message}, status=exc.status)
    flash(gettext("会议信息已保存"), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id), 303)


@bp.post("/meetings/<int:meeting_id>/cancel")
def cancel(meeting_id):
    """Cancel a meeting that has not started (those who got the agenda are told, their calendars updated)."""
    meeting = service.get_meeting(current_user, meeting_id)
    sending.cancel_meeting(current_user, meeting)
    flash(gettext("会议已取消") if meeting.agenda_sent_at is None else
          gettext("会议已取消，已通知收到议程的参会人员（日历中的会议随之撤销）"), "info")
    target = url_for("meetings.show", meeting_id=meeting.id)
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.get("/meetings/<int:meeting_id>")
def show(meeting_id):
    """The meeting page: basics, agenda, people, sending."""
    meeting = service.get_meeting(current_user, meeting_id, options=[service.with_agenda()])
    return render_template("meetings/page.html", **_page_context(meeting))


# --- agenda ----------------------------------------------------------------------------------

def _agenda(meeting, status=200, **extra):
    if is_htmx():
        return render_template("meetings/_agenda.html", **_page_context(meeting, **extra)), status
    if status >= 400:
        return render_template("meetings/page.html", **_page_context(meeting, **extra)), status
    return redirect(url_for("meetings.show", meeting_id=meeting.id, _anchor="agenda"), 303)


@bp.post("/meetings/<int:meeting_id>/agenda")
def add_item(meeting_id):
    """Add an agenda item."""
    meeting = service.get_meeting(current_user, meeting_id)
    form = request.form
    try:
        service.add_agenda_item(current_user, meeting, form.get("title", ""), form.get("minutes", ""),
                                form.get("department_id") or None, form.get("description", ""))
    except DomainError as exc:
        return _agenda(meeting, exc.status, errors=exc.fields or {"title": exc.message}, values=form)
    return _agenda(meeting, values={"department_id": form.get("department_id", "")}, focus_new=True)


@bp.post("/agenda/<int:item_id>/edit")
def edit_item(item_id):
    """Change an agenda item."""
    item = service.get_agenda_item(current_user, item_id)
    form = request.form
    try:
        service.update_agenda_item(current_user, item, form.get("title", ""), form.get("minutes", ""),
                                   form.get("department_id") or None, form.get("description", ""))
    except DomainError as exc:
        return _agenda(item.meeting, exc.status, item_errors={item.id: exc.fields or {"title": exc.message}},
                       item_values={item.id: form})
    return _agenda(item.meeting)


@bp.post("/agenda/<int:item_id>/delete")
def delete_item(item_id):
    """Remove an agenda item."""
    item = service.get_agenda_item(current_user, item_id)
    meeting = service.delete_agenda_item(current_user, item)
    return _agenda(meeting)


@bp.post("/agenda/<int:item_id>/move")
def move_item(item_id):
    """Raise or lower an item's priority by one place."""
    item = service.get_agenda_item(current_user, item_id)
    delta = -1 if request.form.get("direction") == "up" else 1
    meeting = service.move_agenda_item(current_user, item, delta)
    return _agenda(meeting)


@bp.post("/meetings/<int:meeting_id>/agenda/order")
def order_agenda(meeting_id):
    """Save a new priority order (drag and drop posts the ids in order)."""
    meeting = service.get_meeting(current_user, meeting_id)
    try:
        service.reorder_agenda(current_user, meeting, request.form.getlist("item"))
    except DomainError as exc:
        return _agenda(meeting, exc.status, agenda_error=exc.message)
    return _agenda(meeting)


@bp.post("/agenda/<int:item_id>/materials")
def add_material(item_id):
    """Attach a file or a link to an agenda item."""
    item = service.get_agenda_item(current_user, item_id)
    upload = request.files.get("file")
    try:
        if upload and upload.filename:
            materials.add_material_file(current_user, item, upload.filename, upload.stream, upload.mimetype,
                                      request.form.get("title", ""))
        elif request.form.get("url", "").strip():
            materials.add_material_link(current_user, item, request.form["url"], request.form.get("title", ""))
        else:
            raise ValidationFailed(gettext("请选择文件或填写链接"), field="file")
    except DomainError as exc:
        return _agenda(item.meeting, exc.status, material_errors={item.id: exc.message}, item_values={item.id: request.form},
                       open_material=item.id)
    return _agenda(item.meeting)


@bp.get("/materials/<int:material_id>")
def download_material(material_id):
    """Download an uploaded file (always as an attachment, never rendered inline)."""
    material = materials.get_material(current_user, material_id)
    if material.is_link:
        return redirect(material.url)
    return send_file(files.material_path(material), mimetype=material.content_type, as_attachment=True,
                     download_name=material.name)


@bp.post("/materials/<int:material_id>/delete")
def delete_material(material_id):
    """Remove a material."""
    material = materials.get_material(current_user, material_id)
    item = materials.delete_material(current_user, material)
    return _agenda(item.meeting)


# --- invitations -----------------------------------------------------------------------------

def _people(meeting, status=200, **extra):
    if is_htmx():
        return render_template("meetings/_participants.html", **_page_context(meeting, **extra)), status
    if status >= 400:
        return render_template("meetings/page.html", **_page_context(meeting, **extra)), status
    return redirect(url_for("meetings.show", meeting_id=meeting.id, _anchor="people"), 303)


@bp.get("/meetings/<int:meeting_id>/department-people")
def department_people(meeting_id):
    """People to pick: those matching what was typed, or one department's; the ticked stay ticked (htmx fragment)."""
    meeting = service.get_meeting(current_user, meeting_id)
    query, dept_id = request.args.get("q", "").strip(), parse_id(request.args.get("department_id"))
    ticked = enabled_users_by_ids(request.args.getlist("user_ids"))
    if query:
        people = find_people(query)
    else:
        people = users_of_department(dept_id) if dept_id is not None else []
    invited = {p.user_id for p in meeting.participants}
    return render_template("meetings/_people_picker.html", meeting=meeting, people=people, invited=invited,
                           ticked=ticked, query=query)


@bp.post("/meetings/<int:meeting_id>/participants")
def add_participants(meeting_id):
    """Invite the picked people with a role."""
    meeting = service.get_meeting(current_user, meeting_id)
    try:
        service.invite(current_user, meeting, request.form.getlist("user_ids"), request.form.get("role", "participant"))
    except DomainError as exc:
        return _people(meeting, exc.status, people_error=exc.message)
    return _people(meeting)


@bp.post("/participants/<int:participant_id>/role")
def set_role(participant_id):
    """Change someone's role."""
    participant = service.get_participant(current_user, participant_id)
    try:
        service.set_role(current_user, participant, request.form.get("role", ""))
    except DomainError as exc:
        return _people(participant.meeting, exc.status, people_error=exc.message)
    return _people(participant.meeting)


@bp.post("/participants/<int:participant_id>/delete")
def remove_participant(participant_id):
    """Withdraw an invitation."""
    participant = service.get_participant(current_user, participant_id)
    meeting = sending.withdraw_invitation(current_user, participant)
    return _people(meeting)


# --- sending ---------------------------------------------------------------------------------

@bp.get("/meetings/<int:meeting_id>/agenda-delivery")
def agenda_delivery(meeting_id):
    """What became of the agenda emails, per person (a fragment that polls itself while any is queued)."""
    meeting = service.get_meeting(current_user, meeting_id)
    delivery = sending.agenda_delivery(current_user, meeting)
    if delivery is None:
        return "", 204
    return render_template("meetings/_delivery.html", meeting=meeting, delivery=delivery)

@bp.post("/meetings/<int:meeting_id>/send-agenda")
def send_agenda(meeting_id):
    """Send the agenda by email to everyone invited."""
    meeting = service.get_meeting(current_user, meeting_id)
    reason = request.form.get("reason", "")
    try:
        sending.send_agenda(current_user, meeting, reason)
    except DomainError as exc:
        context = _page_context(meeting, send_error=exc.message, values={"reason": reason})
        if is_htmx():
            return render_template("meetings/_send.html", **context), exc.status
        return render_template("meetings/page.html", **context), exc.status
    flash(gettext("议程已交给邮件发送（%(count)s位参会人员），各人的送达情况见下方", count=sum(1 for p in meeting.participants if p.user.email)), "success")
    if is_htmx():
        response = render_template("meetings/_send.html", **_page_context(meeting, just_sent=True))
        return response
    return redirect(url_for("meetings.show", meeting_id=meeting.id), 303)
