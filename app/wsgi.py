"""WSGI entry point for gunicorn: ``gunicorn 'app.wsgi:app'`` (configured by environment)."""
from app import create_app

app = create_app()
