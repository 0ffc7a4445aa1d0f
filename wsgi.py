"""WSGI entry point: `flask --app wsgi ...`, `gunicorn wsgi:app`."""
from minutes import create_app

app = create_app()
