"""Administration: departments, accounts, CSV import, calendar overrides, outbox."""
from flask import Blueprint, render_template
from flask_login import current_user

from minutes.people import service as people

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    people.require_admin(current_user)


@bp.get("/users")
def users():
    """List accounts by department."""
    return render_template("admin/users.html", users=people.all_users(), departments=people.list_departments())
