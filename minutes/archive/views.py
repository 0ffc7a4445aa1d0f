"""Pages of the knowledge base: the archive by topic and by date, topic pages, search."""
from flask import Blueprint, current_app, request
from flask_login import current_user

from minutes.archive import search as archive_search
from minutes.archive import service
from minutes.core.errors import ValidationFailed
from minutes.webutil import render

bp = Blueprint("archive", __name__, url_prefix="/archive")


@bp.get("")
def index():
    """Browse the archive by topic (default) or by year and month."""
    view = "date" if request.args.get("view") == "date" else "topic"
    if view == "date":
        data = service.browse_by_date(current_user, request.args.get("year"), request.args.get("month"))
    else:
        data = service.browse_by_topic(current_user, request.args.get("page"))
    return render("archive/index.html", "archive/_browse.html", view=view, data=data)


@bp.get("/topics/<path:key>")
def topic(key):
    """Show every meeting on one topic over time, with its decisions and actions."""
    return render("archive/topic.html", view=service.topic_view(current_user, key))


@bp.get("/search")
def search():
    """Search the archive; htmx asks for the results fragment as the user types."""
    errors = {}
    try:
        query = archive_search.parse_search_args(request.args)
    except ValidationFailed as exc:
        errors = exc.fields
        query = archive_search.SearchQuery(q=(request.args.get("q") or "").strip()[:archive_search.MAX_QUERY_CHARS])
    results = (archive_search.search(current_user, query) if not errors
               else archive_search.SearchResults(query=query, terms=()))
    return render("archive/search.html", "archive/_results.html", status=422 if errors else 200,
                  results=results, query=query, values=request.args, errors=errors,
                  has_minutes_page="records.show" in current_app.view_functions, **archive_search.search_form_choices())
