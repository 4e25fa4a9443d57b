"""Brojol Aja Klalen: online birth registration, from report to signed akta."""

from akta_service.app import create_app

__all__ = ["create_app"]
