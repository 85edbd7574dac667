"""PostgreSQL only: cheaper large refreshes.

- The trigram GIN indexes take new rows into a pending list (``fastupdate = on``, PostgreSQL's
  default) instead of inserting every trigram of every description one by one: at 10k components that
  was about a quarter of the database's ingest CPU. The list is folded into the index in bulk whenever
  it reaches 512 kB (a small limit keeps searches quick and the index compact: with the default 4 MB the
  database was 6% larger), and by the vacuum that follows a large write
  (``catalog.ingestion.refresh.tidy_after_large_write``).
- ``ANALYZE`` skips the entity's JSON ``body`` and ``tags``: nothing filters on those columns (filters
  use search rows), and sampling large JSON documents was half the cost of analysing the table.
"""

from django.db import migrations

TRIGRAM_INDEXES = ("catalog_entity_name_trgm", "catalog_entity_title_trgm", "catalog_entity_description_trgm")
NO_STATISTICS = ("body", "tags")


def _statements(fastupdate: str, statistics: int) -> list[str]:
    pending = "gin_pending_list_limit = 512" if fastupdate == "on" else "gin_pending_list_limit = 4096"
    return [
        *(f"ALTER INDEX IF EXISTS {index} SET (fastupdate = {fastupdate}, {pending})" for index in TRIGRAM_INDEXES),
        *(f"ALTER TABLE catalog_entity ALTER COLUMN {column} SET STATISTICS {statistics}" for column in NO_STATISTICS),
    ]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _statements("on", 0):
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _statements("off", -1):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_visits")]
    operations = [migrations.RunPython(forwards, backwards)]
