"""The dashboard's panels: each domain adds its own card, the meetings dashboard shows them in order.

A provider is `provider(user) -> (template, context) or None`; `create_app` registers them (after the
blueprints), so a domain adding a panel does not import the meetings' views.
"""
from flask import Flask, current_app

EXTENSION_KEY = "dashboard_panels"


def register_dashboard_panel(app: Flask, provider) -> None:
    """Let a domain add a dashboard panel: provider(user) -> (template, context) or None."""
    app.extensions.setdefault(EXTENSION_KEY, []).append(provider)


def dashboard_panels(user) -> list:
    """The panels `user` has something in, in the order they were registered."""
    return [panel for provider in current_app.extensions.get(EXTENSION_KEY, []) if (panel := provider(user))]
