"""Administration: departments, accounts, CSV import, calendar overrides, outbox."""

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from minutes.admin import service
from minutes.calendar import service as company_calendar
from minutes.core import dates
from minutes.core.errors import DomainError
from minutes.core.timefmt import local_today
from minutes.meetings.service import AGENDA_LEAD_WORKDAYS, earliest_compliant_date
from minutes.notify import service as notify
from minutes.people import service as people
from minutes.webutil import is_htmx, render

bp = Blueprint("admin", __name__, url_prefix="/admin")

CHECKED = ("1", "on", "true", "yes")


@bp.before_request
def admins_only():
    people.require_admin(current_user)


@bp.context_processor
def admin_tabs():
    """Links to admin pages that other domains serve (the audit log), when those domains are installed."""
    extra = [(gettext("操作日志"), "audit.admin_log"), (gettext("目录同步"), "directory.directory")]
    return {"admin_extra_tabs": [(label, url_for(endpoint)) for label, endpoint in extra
                                 if endpoint in current_app.view_functions]}


def _flag(form, name: str) -> bool:
    return form.get(name, "") in CHECKED


# --- users -----------------------------------------------------------------------------------

def _filters(args) -> dict:
    return {"department": args.get("department", ""), "q": args.get("q", "").strip(),
            "status": args.get("status", "") if args.get("status") in ("enabled", "disabled") else ""}


@bp.get("/users")
def users():
    """List accounts by department, filtered by department, name or status."""
    filters = _filters(request.args)
    groups = people.list_users(filters["department"], filters["q"], filters["status"])
    return render("admin/users.html", "admin/_users.html", groups=groups, filters=filters,
                  total=sum(len(members) for _dept, members in groups), departments=people.list_departments())


def _user_form(template: str, status: int = 200, **context):
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render_template(template, departments=people.list_departments(), **context), status


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    """Create an account."""
    if request.method == "GET":
        return _user_form("admin/user_new.html", values={"department_id": request.args.get("department", "")})
    form = request.form
    try:
        user = people.create_account(
            current_user, username=form.get("username", ""), name=form.get("name", ""),
            department_id=form.get("department_id", ""), password=form.get("password", ""),
            email=form.get("email", ""), title=form.get("title", ""), is_admin=_flag(form, "is_admin"),
            is_department_head=_flag(form, "is_department_head"))
    except DomainError as exc:
        return _user_form("admin/user_new.html", exc.status, values=form, errors=exc.fields or {"_": exc.message})
    flash(gettext("已创建账号 %(username)s（%(user)s），请将用户名和初始密码告知本人", username=user.username, user=user.label), "success")
    return redirect(url_for("admin.users", department=user.department_id), 303)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id):
    """Change an account's details; disabling ends its sessions."""
    user = people.user_by_id(user_id)
    if request.method == "GET":
        return _user_form("admin/user_edit.html", user=user)
    form = request.form
    was_enabled = user.is_enabled
    try:
        people.update_user(current_user, user, name=form.get("name", ""), email=form.get("email", ""),
                           department_id=form.get("department_id", ""), title=form.get("title", ""),
                           is_admin=_flag(form, "is_admin"), is_enabled=_flag(form, "is_enabled"),
                           is_department_head=_flag(form, "is_department_head"))
    except DomainError as exc:
        return _user_form("admin/user_edit.html", exc.status, user=user, values=form,
                          errors=exc.fields or {"_": exc.message})
    if was_enabled and not user.is_enabled:
        flash(gettext("已停用 %(user)s 的账号，其所有登录已失效", user=user.name), "success")
    else:
        flash(gettext("已保存 %(user)s 的信息", user=user.name), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id):
    """Set a new password for someone who forgot theirs."""
    user = people.user_by_id(user_id)
    password = request.form.get("password", "")
    try:
        people.reset_password(current_user, user, password)
    except DomainError as exc:
        return _user_form("admin/user_edit.html", exc.status, user=user, password_value=password,
                          password_errors=exc.fields or {"password": exc.message})
    flash(gettext("已重置 %(user)s 的密码，其所有登录已失效；请将新密码告知本人", user=user.name), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id), 303)


# --- CSV import ------------------------------------------------------------------------------

def _import_page(status: int = 200, **context):
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render_template("admin/import.html", departments=people.list_departments(), **context), status


@bp.route("/users/import", methods=["GET", "POST"])
def import_users():
    """Create many accounts at once from a CSV file or pasted rows; all or nothing."""
    if request.method == "GET":
        return _import_page()
    upload = request.files.get("file")
    password = request.form.get("password", "")
    pasted = request.form.get("text", "")
    values = {"password": password, "text": pasted}
    if upload and upload.filename:
        data = upload.read()
        try:  # the admin can fix a rejected file right on the page: its text goes into the box
            values["text"] = people.decode_csv(data)
        except DomainError:
            pass
    elif pasted.strip():
        data = pasted
    else:
        return _import_page(422, values=values, errors={"file": gettext("请选择要上传的 CSV 文件，或把内容粘贴到下方文本框")})
    try:
        created = people.import_users_csv(current_user, data, password)
    except DomainError as exc:
        return _import_page(exc.status, values=values, errors=exc.fields or {"file": exc.message},
                            lines=getattr(exc, "lines", []), total=getattr(exc, "total", 0),
                            from_file=bool(upload and upload.filename))
    flash(gettext("已导入 %(count)s 个账号，请将用户名和初始密码告知本人", count=len(created)), "success")
    return _import_page(created=created)


@bp.get("/users/import/sample.csv")
def import_sample():
    """A sample CSV to fill in: UTF-8 with a BOM so Excel shows the Chinese correctly."""
    body = "\ufeff" + people.sample_csv(people.list_departments())
    response = Response(body.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=users-sample.csv; filename*=UTF-8''%E4%BA%BA%E5%91%98%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.csv"
    return response


# --- departments -----------------------------------------------------------------------------

def _departments(status: int = 200, **context):
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render("admin/departments.html", "admin/_departments.html", status,
                  overview=people.department_overview(), **context)


@bp.get("/departments")
def departments():
    """Departments with their member counts and heads."""
    return _departments()


@bp.post("/departments")
def add_department():
    """Add a department."""
    name = request.form.get("name", "")
    try:
        dept = people.create_department(current_user, name)
    except DomainError as exc:
        return _departments(exc.status, values={"name": name}, errors=exc.fields or {"name": exc.message})
    if not is_htmx():
        flash(gettext("已添加部门“%(dept)s”", dept=dept.name), "success")
        return redirect(url_for("admin.departments"), 303)
    return _departments(notice=gettext("已添加部门“%(dept)s”", dept=dept.name), highlight=dept.id)


@bp.post("/departments/<int:dept_id>/rename")
def rename_department(dept_id):
    """Rename a department."""
    dept = people.department_by_id(dept_id)
    old, name = dept.name, request.form.get("name", "")
    try:
        people.rename_department(current_user, dept, name)
    except DomainError as exc:
        return _departments(exc.status, rename_id=dept.id, rename_value=name,
                            rename_error=exc.fields.get("name") or exc.message)
    notice = gettext("已将部门“%(old)s”改名为“%(new)s”", old=old, new=dept.name) if old != dept.name else None
    if not is_htmx():
        if notice:
            flash(notice, "success")
        return redirect(url_for("admin.departments"), 303)
    return _departments(notice=notice, highlight=dept.id)


# --- calendar --------------------------------------------------------------------------------

def _calendar(status: int = 200, **context):
    today = local_today()
    context.setdefault("values", {"kind": "off"})
    context.setdefault("errors", {})
    return render("admin/calendar.html", "admin/_calendar.html", status,
                  today=today, overrides=company_calendar.list_overrides(),
                  years=company_calendar.year_status([today.year, today.year + 1]),
                  months=company_calendar.month_grids(today.replace(day=1), 3),
                  upcoming=company_calendar.upcoming_special_days(today, 60),
                  lead_days=AGENDA_LEAD_WORKDAYS, earliest_meeting=earliest_compliant_date(today, company_calendar.work_calendar()),
                  **context)


@bp.get("/calendar")
def calendar():
    """Company holiday and working-day overrides, and what the calendar says ahead."""
    return _calendar()


@bp.post("/calendar")
def add_override():
    """Declare an extra day off or an extra working day."""
    form = request.form
    errors, day = {}, None
    raw = form.get("day", "").strip()
    if raw:
        try:
            day = dates.parse_day(raw)
        except ValueError:
            errors["day"] = gettext("日期格式不正确，例如 2026-12-31")
    try:
        override = company_calendar.set_override(current_user, day, form.get("kind") == "work", form.get("note", ""), errors)
    except DomainError as exc:
        return _calendar(exc.status, values=form, errors=exc.fields or {"day": exc.message})
    kind = gettext("工作日") if override.is_workday else gettext("休息日")
    notice = gettext("已将%(year)s年%(month)s月%(day)s日设为公司%(kind)s",
                     year=override.day.year, month=override.day.month, day=override.day.day, kind=kind)
    if not is_htmx():
        flash(notice, "success")
        return redirect(url_for("admin.calendar"), 303)
    return _calendar(notice=notice)


@bp.post("/calendar/<int:override_id>/delete")
def delete_override(override_id):
    """Remove an override: the statutory calendar applies to that day again."""
    company_calendar.delete_override(current_user, override_id)
    if not is_htmx():
        flash(gettext("已删除该例外，该日恢复法定安排"), "success")
        return redirect(url_for("admin.calendar"), 303)
    return _calendar(notice=gettext("已删除该例外，该日恢复法定安排"))


# --- outbox ----------------------------------------------------------------------------------

def _outbox(status: int = 200, **context):
    data = service.outbox_overview(request.values.get("status", ""))
    return render("admin/outbox.html", "admin/_outbox.html", status, **data, **context)


@bp.get("/outbox")
def outbox():
    """Recent notifications and their delivery state; failed ones first to the eye."""
    return _outbox()


@bp.post("/outbox/<int:message_id>/retry")
def retry_message(message_id):
    """Make a failed or waiting message due now."""
    try:
        msg = notify.retry(current_user, message_id)
    except DomainError as exc:
        return _outbox(exc.status, notice_error=exc.message)
    notice = gettext("消息 #%(msg)s（%(recipient)s）已重新排队，将立即尝试发送", msg=msg.id, recipient=msg.recipient)
    if not is_htmx():
        flash(notice, "success")
        return redirect(url_for("admin.outbox", status=request.values.get("status", "")), 303)
    return _outbox(notice=notice, retried=msg.id)
