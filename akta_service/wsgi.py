"""WSGI entry point for production servers: `gunicorn akta_service.wsgi:app`."""

from akta_service.app import create_app

app = create_app()
