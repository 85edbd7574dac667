"""Database connections are kept between requests, on SQLite as on PostgreSQL: opening one (and running
SQLite's pragmas) on every request was most of a by-name read served by gunicorn."""

from django.conf import settings
from django.db import connection


def test_connections_are_kept_between_requests():
    assert connection.settings_dict["CONN_MAX_AGE"] == settings.DATABASE_CONN_MAX_AGE > 0
