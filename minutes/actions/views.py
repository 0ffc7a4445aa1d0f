"""Pages for action tracking: my actions, the tracker, an action's page with its history, coordination
and follow-up meetings, series reviews, reminder settings, and the personal calendar feed."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from minutes.actions import feeds, forms, ics, reminders, service
from minutes.actions.models import ActionItem, ActionStatus
from minutes.calendar.service import work_calendar
from minutes.core.links import external_url
from minutes.core import ical
from minutes.core.errors import DomainError, NotFound, ValidationFailed
from minutes.core.timefmt import local_today, utcnow
from minutes.dbtypes import get_by_id
from minutes.extensions import db
from minutes.meetings import series
from minutes.meetings import service as meetings
from minutes.meetings.models import CADENCE_LABELS, MeetingSeries
from minutes.people.service import list_departments, require_admin, user_by_id
from minutes.webutil import is_htmx, record_use_after_request, render

bp = Blueprint("actions", __name__)


@bp.app_context_processor
def action_topics():
    """meeting_topic(action): the source meeting's topic, hidden from an owner who may not see the meeting."""
    return {"meeting_topic": lambda action: service.meeting_topic(current_user, action)}


# --- dashboard panels (registered by create_app, see minutes.dashboard) ------------------------------------------------------------------------

def coordination_panel(user):
    """For hosts: actions of their meetings that need coordination (需协调)."""
    items = service.coordination(user, limit=20)
    if not items:
        return None
    return "actions/_panel_coordination.html", {"items": items, "escalated": service.escalated_ids(items),
                                                "today": local_today()}


def due_panel(user):
    """For owners: their actions that are overdue or due within 5 working days."""
    items = service.due_soon(user)
    if not items:
        return None
    return "actions/_panel_due.html", {"items": items, "today": local_today()}


# --- the tracker and my actions --------------------------------------------------------------

@bp.get("/actions")
def index():
    """The tracking table: every action I may see, filtered, sorted, with counts per department."""
    filters, errors = forms.tracker_filters(request.args)
    today = local_today()
    result = service.list_actions(current_user, filters, today)
    context = dict(filters=filters, errors=errors, result=result, today=today,
                   counts=service.department_counts(current_user, filters, today),
                   departments=list_departments(), statuses=service.STATUS_FILTERS,
                   meeting=_filter_meeting(filters), owner=_filter_owner(filters))
    return render("actions/index.html", "actions/_tracker.html", **context)


def _filter_meeting(filters):
    if not filters.meeting_id:
        return None
    try:
        return meetings.get_meeting(current_user, filters.meeting_id)
    except NotFound:
        return None


def _filter_owner(filters):
    if not filters.owner_id:
        return None
    try:
        return user_by_id(filters.owner_id)
    except NotFound:
        return None


@bp.get("/actions/mine")
def mine():
    """My actions: overdue, due soon, later, recently done, each with its status form."""
    groups = service.my_actions(current_user)
    everything = [a for key in ("overdue", "soon", "later", "done") for a in groups[key]]
    return render_template("actions/mine.html", groups=groups, today=local_today(),
                           last=service.last_updates(everything), departments=list_departments(),
                           rules=reminders.current_rules())


@bp.get("/actions/<int:action_id>")
def show(action_id):
    """One action: what, who, by when, its status form, history and the reminders sent."""
    action = service.get_action(current_user, action_id)
    return render_template("actions/show.html", **_show_context(action))


def _show_context(action, **extra):
    context = dict(action=action, history=service.history(action), today=local_today(),
                   can_update=service.can_update(current_user, action), departments=list_departments(),
                   original_due=service.original_due(action),
                   escalated=action.status != ActionStatus.DONE and reminders.is_escalated(action),
                   reminders=[r for r in reminders.reminders_of(action)], stage_label=reminders.stage_label,
                   follow_ups=service.follow_ups_of([action]).get(action.id, []), values={}, errors={})
    context.update(extra)
    return context


@bp.post("/actions/<int:action_id>/status")
def update_status(action_id):
    """Record a status report; answers with the card (lists), the panel (action page) or a redirect."""
    action = service.get_action(current_user, action_id)
    shape = request.form.get("shape", "page")
    source = "review" if shape == "review" else "tracker"
    values = forms.status_input(request.form)
    try:
        service.update_status(current_user, action, source=source, **values)
    except DomainError as exc:
        db_rollback()
        action = service.get_action(current_user, action_id)
        errors = exc.fields or {"status": exc.message}
        return _status_response(action, shape, exc.status, values=request.form, errors=errors, message=exc.message)
    return _status_response(action, shape, 200, saved=True)


def db_rollback():
    db.session.rollback()


def _status_response(action, shape, status, **extra):
    if shape in ("card", "review") and is_htmx():
        context = dict(action=action, today=local_today(), departments=list_departments(), shape=shape,
                       last=service.last_updates([action]), escalated=service.escalated_ids([action]),
                       can_update=service.can_update(current_user, action), open_form=status >= 400, **extra)
        return render_template("actions/_card.html", **context), status
    if is_htmx():
        return render_template("actions/_status_panel.html", **_show_context(action, **extra)), status
    if status >= 400:
        return render_template("actions/show.html", **_show_context(action, **extra)), status
    flash(gettext("状态已更新"), "success")
    return redirect(request.form.get("next") or url_for("actions.show", action_id=action.id), 303)


# --- coordination and follow-up meetings -----------------------------------------------------

@bp.route("/actions/follow-up", methods=["GET", "POST"])
def follow_up():
    """Overdue actions of the meetings I lead; pick some and plan a follow-up meeting (二次沟通会议)."""
    today = local_today()
    candidates = service.follow_up_candidates(current_user, today)
    suggested = service.suggested_follow_up_start(today)
    values = {"date": suggested.date().isoformat(), "time": "10:00", "minutes": "",
              "location": candidates[0].meeting.location if candidates else "",
              "selected": {str(a.id) for a in candidates}}
    status, errors = 200, {}
    if request.method == "POST":
        form = request.form
        values = {**form.to_dict(), "selected": set(form.getlist("action_ids"))}
        starts_at, problem = forms.local_datetime(form.get("date", ""), form.get("time", ""))
        try:
            meeting = service.create_follow_up(current_user, form.getlist("action_ids"), starts_at, form.get("minutes"),
                                               form.get("location", ""), form.get("online_link", ""),
                                               form.get("topic", ""))
        except DomainError as exc:
            db_rollback()
            errors = dict(exc.fields or {"_": exc.message})
            if problem:
                errors["starts_at"] = problem
            status = exc.status
            candidates = service.follow_up_candidates(current_user, today)
        else:
            flash(gettext("已创建二次沟通会议，%(count)s项逾期待办已列入议程，负责人已受邀。请确认时间地点后发送议程。",
                          count=len(form.getlist('action_ids'))), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id), 303)
    return render_template("actions/follow_up.html", candidates=candidates, values=values, errors=errors,
                           today=today, escalated=service.escalated_ids(candidates),
                           last=service.last_updates(candidates), follow_ups=service.follow_ups_of(candidates)), status


# --- periodic series -------------------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/series", methods=["GET", "POST"])
def start_series(meeting_id):
    """Make a meeting the first of a periodic series, or show its series."""
    meeting = meetings.get_meeting(current_user, meeting_id)
    if meeting.series_id and request.method == "GET":
        return redirect(url_for("actions.series_page", series_id=meeting.series_id), 303)
    values, errors, status = {"name": meeting.topic, "cadence": "monthly"}, {}, 200
    if request.method == "POST":
        values = request.form
        try:
            created = series.start_series(current_user, meeting, request.form.get("name", ""),
                                          request.form.get("cadence", ""))
        except DomainError as exc:
            db_rollback()
            errors, status = exc.fields or {"_": exc.message}, exc.status
        else:
            flash(gettext("已设为周期会议（%(cadence)s）。下一次会议可从本页一键创建。", cadence=created.cadence.label), "success")
            return redirect(url_for("actions.series_page", series_id=created.id), 303)
    return render_template("actions/series_new.html", meeting=meeting, values=values, errors=errors,
                           cadences=CADENCE_LABELS, can_edit=meetings.can_edit(current_user, meeting)), status


def _series_or_404(series_id) -> tuple[MeetingSeries, list]:
    found = get_by_id(MeetingSeries, series_id)
    if found is None:
        raise NotFound(gettext("该周期会议不存在"))
    visible = [m for m in series.series_meetings(found) if meetings.can_view(current_user, m)]
    if not visible:
        raise NotFound(gettext("该周期会议不存在或您无权查看"))
    return found, visible


@bp.get("/series/<int:series_id>")
def series_page(series_id):
    """A series: its meetings with how their actions stand, and the button for the next meeting."""
    found, visible = _series_or_404(series_id)
    return render_template("actions/series.html", **_series_context(found, visible))


def _series_context(found, visible, **extra):
    from sqlalchemy import func, select

    stats = {}
    for meeting_id, status, n in db.session.execute(
            select(ActionItem.meeting_id, ActionItem.status, func.count())
            .where(ActionItem.meeting_id.in_([m.id for m in visible]), ActionItem.deleted_at.is_(None))
            .group_by(ActionItem.meeting_id, ActionItem.status)):
        row = stats.setdefault(meeting_id, {"total": 0, "done": 0})
        row["total"] += n
        if status == ActionStatus.DONE:
            row["done"] += n
    latest = [m for m in visible if m.status.value != "cancelled"]
    latest = latest[-1] if latest else visible[-1]
    suggested = series.suggested_next_start(latest)
    context = dict(series=found, meetings=visible, stats=stats, latest=latest,
                   can_edit=meetings.can_edit(current_user, latest),
                   values={"date": suggested.date().isoformat(), "time": suggested.strftime("%H:%M")}, errors={})
    context.update(extra)
    return context


@bp.post("/series/<int:series_id>/next")
def series_next(series_id):
    """Create the next meeting of the series: participants copied, 上次会议待办回顾 first on the agenda."""
    found, visible = _series_or_404(series_id)
    context = _series_context(found, visible)
    starts_at, problem = forms.local_datetime(request.form.get("date", ""), request.form.get("time", ""))
    try:
        series.require_can_plan_next(current_user, context["latest"])
        if problem:
            raise ValidationFailed(problem, field="starts_at")
        nxt = series.create_next_in_series(current_user, context["latest"], starts_at)
    except DomainError as exc:
        db_rollback()
        found, visible = _series_or_404(series_id)
        return render_template("actions/series.html", **_series_context(
            found, visible, values=request.form, errors=exc.fields or {"_": exc.message})), exc.status
    flash(gettext("已创建下一次会议：参会人员已沿用，议程以“上次会议待办回顾”开始。"), "success")
    return redirect(url_for("meetings.show", meeting_id=nxt.id), 303)


@bp.get("/meetings/<int:meeting_id>/action-review")
def review(meeting_id):
    """上次会议待办回顾: the previous meetings' open actions with their current status, updatable here."""
    meeting = meetings.get_meeting(current_user, meeting_id)
    found = series.review_of(meeting)
    if found is None:
        raise NotFound(gettext("该会议没有“上次会议待办回顾”"))
    actions = [a for a in found.actions if not a.is_deleted]
    return render_template("actions/review.html", meeting=meeting, review=found, actions=actions,
                           today=local_today(), last=service.last_updates(actions),
                           escalated=service.escalated_ids(actions), departments=list_departments(),
                           can_update={a.id: service.can_update(current_user, a) for a in actions})


# --- reminder settings (admin) ---------------------------------------------------------------

@bp.route("/actions/settings", methods=["GET", "POST"])
def settings():
    """The reminder rules (admin only)."""
    require_admin(current_user)
    values, errors, status, saved = None, {}, 200, False
    if request.method == "POST":
        form = request.form
        try:
            reminders.update_rules(current_user, form.get("before_days"), form.get("before_unit") != "calendar",
                                   "on_due" in form, form.get("overdue_requests"), "escalate" in form,
                                   form.get("send_hour"), "by_email" in form, "by_im" in form)
        except DomainError as exc:
            db_rollback()
            values, errors, status = form, exc.fields or {"_": exc.message}, exc.status
        else:
            saved = True
    rules = reminders.current_rules()
    example = _example_schedule(rules)
    return render("actions/settings.html", "actions/_settings.html", status, rules=rules, values=values,
                  errors=errors, saved=saved, example=example, stage_label=reminders.stage_label)


def _example_schedule(rules):
    """The schedule of a deadline next Monday, to show what the rules mean."""
    from datetime import timedelta

    today = local_today()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return monday, reminders.schedule(monday, rules, work_calendar())


# --- the personal calendar feed --------------------------------------------------------------

@bp.route("/actions/calendar", methods=["GET", "POST"])
def calendar():
    """Manage my calendar subscription URL: create (shown once), replace or revoke it."""
    token = None
    if request.method == "POST":
        if request.form.get("revoke"):
            feeds.revoke_calendar_token(current_user)
            flash(gettext("订阅链接已停用，旧链接立即失效"), "info")
            return redirect(url_for("actions.calendar"), 303)
        token = feeds.issue_calendar_token(current_user)
    url = url_for("actions.calendar_feed", token=token, _external=True) if token else None
    return render_template("actions/calendar.html", feed=feeds.calendar_feed(current_user), url=url)


@bp.get("/calendar/<token>.ics")
def calendar_feed(token):
    """The iCalendar feed behind a token URL: no login (calendar apps cannot log in)."""
    feed = feeds.feed_for_token(token)
    if feed is None:
        abort(404)
    record_use_after_request(feed, feeds.record_feed_use)
    user = feed.user
    actions, meeting_rows = feeds.calendar_entries(user)
    host = ical.uid_host(current_app.config["BASE_URL"])
    body = ics.build_calendar(gettext("会议纪要 · %(name)s的待办与会议", name=user.name), actions, meeting_rows, host, utcnow(),
                              lambda action: external_url("actions.show", action_id=action.id),
                              lambda meeting: external_url("meetings.show", meeting_id=meeting.id),
                              topic=lambda action: service.meeting_topic(user, action))
    response = current_app.response_class(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="minutes.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
