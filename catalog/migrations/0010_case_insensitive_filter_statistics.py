"""PostgreSQL only: planner statistics on the upper-cased columns the catalog page's filters compare.

The page's type, lifecycle and namespace filters ignore case (``UPPER(column) = UPPER(value)``).
PostgreSQL keeps no statistics on such an expression unless asked, guessed that one row matched, and at
100k entities chose a sequential scan and a sort over the ref index: 200 ms for a page of 50 filtered by
type and lifecycle, against 0.2 ms with these statistics. They cost no disk beyond a few catalog rows and
are gathered by every ``ANALYZE`` (``catalog.ingestion.refresh.tidy_after_large_write``, autovacuum).
"""

from django.db import migrations

# Together, so that their combinations are estimated too. (System refs are lower-cased: compared as such.)
STATISTICS = {"entity_upper_columns": "upper(spec_type::text), upper(lifecycle::text), upper(namespace::text)"}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, expressions in STATISTICS.items():
            schema_editor.execute(f"CREATE STATISTICS IF NOT EXISTS {name} ON {expressions} FROM catalog_entity")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in STATISTICS:
            schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0009_derived_rows_without_constraints")]
    operations = [migrations.RunPython(forwards, backwards)]
