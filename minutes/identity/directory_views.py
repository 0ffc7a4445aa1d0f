"""Administration of the company directory: the org-chart sync's settings, and a button that runs it."""
from flask import Blueprint, current_app, request
from flask_babel import gettext
from flask_login import current_user

from minutes.admin import views as admin_views
from minutes.core.errors import DomainError
from minutes.identity import ldap, sync
from minutes.people import service as people
from minutes.webutil import render

bp = Blueprint("directory", __name__, url_prefix="/admin/directory")


@bp.before_request
def admins_only():
    people.require_admin(current_user)


@bp.context_processor
def admin_tabs():
    """The admin pages' tabs (this page extends their layout)."""
    return admin_views.admin_tabs()


def _page(status: int = 200, **context):
    sources = sync.sources()
    context.setdefault("report", None)
    context.setdefault("error", None)
    return render("identity/directory.html", "identity/_directory.html", status, sources=sources,
                  last_runs={s: sync.last_run(s) for s in sources}, ldap_settings=ldap.Settings.from_config()
                  if ldap.configured() else None, scheduled=[p.strip() for p in str(current_app.config.get("DIRECTORY_SYNC") or "").split(",")],
                  interval=current_app.config.get("DIRECTORY_SYNC_MINUTES"), lines=sync.report_lines, **context)


@bp.get("")
def directory():
    """The directory's settings (read from the environment) and when each source was last synced."""
    return _page()


@bp.post("/sync")
def run():
    """Synchronize now and show what changed."""
    provider = request.form.get("source", "")
    if provider not in sync.sources():
        return _page(422, error=gettext("未配置的目录来源：%(provider)s", provider=provider[:40]))
    try:
        report = sync.sync_from(provider)
    except DomainError as exc:
        return _page(exc.status, error=exc.message)
    return _page(report=report)

