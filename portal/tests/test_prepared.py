"""Fixed statements prepared by PostgreSQL once per connection (portal/prepared.py)."""

import pytest
from django.db import connection

from portal.prepared import PreparedCursor, prepared_cursor

pytestmark = pytest.mark.django_db


def _prepared(statement: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement = %s", [statement])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("enabled", [True, False])
def test_fixed_statements_are_prepared_unless_switched_off(settings, enabled, django_assert_num_queries):
    settings.DATABASE_PREPARED_STATEMENTS = enabled
    statement = f"SELECT %s + {int(enabled)}"
    with django_assert_num_queries(2):  # seen by Django's query log like any other statement
        for value in (1, 2):
            with prepared_cursor() as cursor:
                cursor.execute(statement, [value])
                assert cursor.fetchone() == (value + int(enabled),)
                prepares = isinstance(cursor.cursor, PreparedCursor)
    if connection.vendor == "postgresql":
        assert prepares == enabled
        assert _prepared(statement.replace("%s", "$1")) == int(enabled)
        with connection.cursor() as cursor:  # every other statement stays unprepared
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%catalog_%%'")
            assert cursor.fetchone() == (0,)
    else:
        assert not prepares  # SQLite: the plain cursor
