"""Reads never wait for a writer (issue 12, defect 5): bookkeeping writes on a read give up at once while
another connection holds the write lock, and a SQLite refresh commits whole files, so others get in."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from catalog.ingestion import writer
from catalog.ingestion.refresh import refresh_location, register_location
from catalog.models import Entity
from catalog.models.visits import Visit
from portal.models import ApiToken, Identity

GENEROUS = 60  # seconds: only a broken test waits this long

GROUP = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {{name: {name}}}\nspec: {{type: team}}\n"


class WriteLockHolder:
    """Another connection holding the write lock until released: SQLite ``BEGIN IMMEDIATE`` (the whole
    database, as a refresh's transaction does), PostgreSQL an exclusive lock on the entity table (every
    catalog write waits; plain reads do not)."""

    def __init__(self) -> None:
        self.locked, self.release, self.gave_up = threading.Event(), threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        try:
            with transaction.atomic():  # SQLite: BEGIN IMMEDIATE (transaction_mode in settings)
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("LOCK TABLE catalog_entity IN EXCLUSIVE MODE")
                self.locked.set()
                if not self.release.wait(GENEROUS):
                    self.gave_up.set()
        finally:
            connection.close()

    def __enter__(self) -> WriteLockHolder:
        self.thread.start()
        assert self.locked.wait(GENEROUS)
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.thread.join(GENEROUS)


@pytest.fixture
def catalog_entity(allow_tmp):
    (allow_tmp / "catalog-info.yaml").write_text(GROUP.format(name="team-a"))
    refresh_location(register_location(str(allow_tmp / "catalog-info.yaml"), type="file").pk)
    return Entity.objects.get(ref="group:default/team-a")


@pytest.mark.django_db(transaction=True)
def test_a_token_due_to_record_its_use_is_answered_while_another_connection_writes(user):
    token, raw = ApiToken.issue(user, name="reader", scopes=["catalog:read"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert token.last_used_at is None  # due: its first use is recorded
    with WriteLockHolder() as holder:
        response = client.get("/api/catalog/entities?limit=1")
        answered_while_locked = not holder.release.is_set()
    assert response.status_code == 200
    assert answered_while_locked and not holder.gave_up.is_set()
    assert client.get("/api/catalog/entities?limit=1").status_code == 200  # the lock is gone: recorded now
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db(transaction=True)
def test_an_entity_page_is_answered_while_another_connection_writes(user, catalog_entity):
    """A person's first page stores their identity, and every entity page records a visit: both give way."""
    client = Client()
    client.force_login(user)
    Identity.objects.filter(user=user).delete()
    with WriteLockHolder() as holder:
        response = client.get("/catalog/default/group/team-a/")
        answered_while_locked = not holder.release.is_set()
    assert response.status_code == 200
    assert answered_while_locked and not holder.gave_up.is_set()
    assert client.get("/catalog/default/group/team-a/").status_code == 200
    assert Visit.objects.filter(user=user, entity_ref=catalog_entity.ref).exists()
    assert Identity.objects.filter(user=user).exists()


@pytest.mark.django_db(transaction=True)
def test_a_sqlite_refresh_commits_whole_files_and_lets_other_writers_in(allow_tmp, monkeypatch, user):
    """Observed from a second connection each time the refresh begins a transaction: every file is there
    whole or not at all, and another writer gets in between."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refreshes in one transaction; its writers take row locks only")
    monkeypatch.setattr(writer, "BATCH", 20)  # groups of 20 entities (two files), for a small test catalog
    files = [f"file-{n}.yaml" for n in range(6)]
    for n, name in enumerate(files):
        (allow_tmp / name).write_text("---\n".join(GROUP.format(name=f"team-{n}-{i}") for i in range(10)))
    targets = ", ".join(f"./{name}" for name in files)
    location_file = allow_tmp / "catalog-info.yaml"
    location_file.write_text(f"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {{name: root}}\n"
                             f"spec: {{targets: [{targets}]}}\n")  # fmt: skip
    location = register_location(str(location_file), type="file")
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
    seen: list[dict[str, int]] = []
    writes_between: list[bool] = []

    def observe(statement: str) -> None:
        if not statement.startswith("BEGIN"):
            return
        rows = other.execute("SELECT source_file, COUNT(*) FROM catalog_entity GROUP BY source_file").fetchall()
        seen.append({source.rsplit("/", 1)[-1]: count for source, count in rows})
        try:  # another writer, not waiting at all
            other.execute("UPDATE portal_apitoken SET name = name")
            writes_between.append(True)
        except sqlite3.OperationalError:
            writes_between.append(False)

    connection.ensure_connection()
    connection.connection.set_trace_callback(observe)
    try:
        result = refresh_location(location.pk)
    finally:
        connection.connection.set_trace_callback(None)
        other.close()
    assert result.summary.added == 61
    assert len(seen) >= 3, seen  # several transactions, not one
    for counts in seen:
        assert all(counts.get(name, 0) in (0, 10) for name in files), counts  # whole files only
    assert any(0 < sum(counts.values()) < 61 for counts in seen)  # a reader saw a part of the refresh
    assert all(writes_between)
