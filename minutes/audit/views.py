"""Change history pages: a meeting's for its host, the whole log for administrators."""
from flask import Blueprint, render_template
from flask_login import current_user

from minutes.audit import service
from minutes.meetings.service import get_meeting

bp = Blueprint("audit", __name__)


@bp.get("/meetings/<int:meeting_id>/history")
def meeting_history(meeting_id):
    """Show who changed what in a meeting, newest first."""
    meeting = get_meeting(current_user, meeting_id)
    entries = service.meeting_history(current_user, meeting)
    return render_template("audit/history.html", meeting=meeting, entries=entries, label=service.label)


@bp.get("/admin/audit")
def admin_log():
    """Show the whole audit log (administrators)."""
    entries = service.recent(current_user)
    return render_template("audit/admin_log.html", entries=entries, label=service.label,
                           hidden=service.hidden_meetings(current_user, entries))
