"""Links that leave the app — in e-mails, chat cards, calendar feeds and robot posts.

Built by the URL map (`url_for`'s rules), never by hand, on BASE_URL: the address people reach the site at, which
is not the address a request came in on (a tick, a worker, a proxy). Works inside and outside a request.
"""
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter


def _adapter() -> MapAdapter:
    app = current_app._get_current_object()
    base = app.config["BASE_URL"]
    cached = app.extensions.get("minutes.links")
    if cached is None or cached[0] != base:
        parts = urlsplit(base.rstrip("/"))
        adapter = app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http")
        cached = app.extensions["minutes.links"] = (base, adapter)
    return cached[1]


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` on BASE_URL; values the rule does not take become the query string."""
    return _adapter().build(endpoint, values, force_external=True)
