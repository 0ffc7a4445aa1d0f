"""Unbound Flask extensions, bound to the app in create_app."""
import contextvars

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base shared by every domain's models."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = Htmx()

#: Set by jobs that write outside a request (tick, CLI) so SQLite transactions start with BEGIN IMMEDIATE.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
