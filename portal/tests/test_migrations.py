"""The test database is built by the migrations: what their raw SQL and data steps create is there.

pytest-django runs every ``db`` test before any ``transactional_db`` one (whose flush would empty the
seeded tables), so these see the database exactly as ``migrate`` left it.
"""

import re

import pytest
from django.db import connection

from portal.models.access import BUILTIN_ROLES, Role

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL-only migration steps")


def index_definitions(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table])
        return {name: sql or "" for name, sql in cursor.fetchall()}


def test_the_migrations_ran():
    from django.db.migrations.recorder import MigrationRecorder

    applied = set(MigrationRecorder(connection).applied_migrations())
    assert ("catalog", "0010_case_insensitive_filter_statistics") in applied
    assert ("portal", "0004_access") in applied


def test_the_builtin_roles_are_seeded():
    """portal 0004 seeds the built-in roles, with the actions they had then (the ones still current)."""
    seeded = {role.slug: role for role in Role.objects.filter(builtin=True)}
    assert set(seeded) == set(BUILTIN_ROLES)
    for slug, (name, actions, _) in BUILTIN_ROLES.items():
        assert seeded[slug].name == name
        assert set(seeded[slug].actions) == set(actions), slug


@postgres_only
def test_trigram_indexes_serve_text_search():
    """catalog 0004: pg_trgm GIN indexes on the upper-cased name, title and description."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone(), "pg_trgm is not installed in the test database"
    indexes = index_definitions("catalog_entity")
    for column in ("name", "title", "description"):
        definition = indexes.get(f"catalog_entity_{column}_trgm", "")
        assert re.search(rf"USING gin \(upper\(\(?{column}\b.*gin_trgm_ops", definition), (column, definition)
    assert "catalog_searchrow_key_value" in index_definitions("catalog_searchrow")


def test_sqlite_keeps_the_covering_search_index():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's search-row index")
    assert "catalog_searchrow_key_value_entity" in index_definitions("catalog_searchrow")


@postgres_only
def test_planner_statistics_exist():
    """catalog 0002 (search-row key and value) and 0010 (upper-cased filter columns) extended statistics."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.stxname, c.relname, pg_get_statisticsobjdef_expressions(s.oid)::text "
            "FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid"
        )
        statistics = {name: (table, expressions or "") for name, table, expressions in cursor.fetchall()}
    assert statistics["catalog_searchrow_key_value"][0] == "catalog_searchrow"
    table, expressions = statistics["entity_upper_columns"]
    assert table == "catalog_entity"
    for column in ("spec_type", "lifecycle", "namespace"):
        assert f"upper(({column})" in expressions, expressions
