"""Collect facts about entities (every registered ``FactCollector``) and store those that changed.

Only entities some scorecard applies to are read (``appliesTo``), so Users and Groups cost nothing.

A collector that reads the repository runs again for an entity only when the commit changed (or, for
``files``, when the rules name other paths); the others run at every collection. Nothing a repository holds
stops a collection: a collector's failure is stored as its ``error`` fact. No Celery code here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalog.models import Entity, Location
from catalog.shapes import SHAPE_FIELDS, entities_to_backstage
from plugins.api import FactCollector, registry
from scorecards import cel, collectors
from scorecards.models import Fact, Scorecard
from scorecards.repository import Checkout, Repositories, RepositoryError, source_directory

logger = logging.getLogger(__name__)

BATCH = 500
ERROR_KEY = "error"


@dataclass
class CollectSummary:
    entities: int = 0
    collected: int = 0  # collector runs
    written: int = 0
    deleted: int = 0
    errors: int = 0
    changed: list[str] = field(default_factory=list)  # refs whose facts changed

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "changed"} | {
            "changed": len(self.changed)}  # fmt: skip


@dataclass(frozen=True)
class Wanted:
    """The paths scorecard rules name, and those whose text they read (``file_matches``)."""

    paths: tuple[str, ...] = ()
    text: frozenset[str] = frozenset()


def wanted_paths() -> Wanted:
    paths: set[str] = set()
    text: set[str] = set()
    for spec in Scorecard.objects.values_list("spec", flat=True):
        for rule in (spec or {}).get("rules") or ():
            for path, needs_text in cel.named_paths(str(rule.get("expression", ""))):
                paths.add(path)
                if needs_text:
                    text.add(path)
    return Wanted(tuple(sorted(paths)), frozenset(text))


def registered_collectors() -> list[FactCollector]:
    assert collectors.BUILT_IN  # imported: the built-ins are registered
    return sorted(registry["fact_collectors"].values(), key=lambda c: c.name)


def collect(refs: Iterable[str] | None = None, *, now: datetime | None = None) -> CollectSummary:
    """Collect facts for ``refs`` (every valid entity when None) and store what changed."""
    now = now or timezone.now()
    from scorecards.definitions import compiled_scorecards, sync_from_catalog
    from scorecards.evaluator import catalog_facts

    summary = CollectSummary()
    sync_from_catalog()
    cards = [card for card in compiled_scorecards() if card.applies_to is not None]
    if not cards:
        return summary
    paths = wanted_paths()
    runners = registered_collectors()
    scope = catalog_facts(now=now)
    fields = {*SHAPE_FIELDS, "body", "location_id"}
    queryset = Entity.objects.filter(valid=True).order_by("ref").only(*fields).with_relations_json()
    wanted = None if refs is None else sorted({ref.lower() for ref in refs})
    with Repositories() as repos:
        for start in range(0, len(wanted) if wanted is not None else 1 << 62, BATCH):
            if wanted is not None:
                batch = list(queryset.filter(ref__in=wanted[start : start + BATCH]))
            else:
                batch = list(queryset[start : start + BATCH])
            if not batch:
                break
            batch = _scored(batch, cards, scope)
            if batch:
                _collect_batch(batch, repos, runners, paths, now, summary)
    if wanted is None:
        _forget(runners, summary)
    return summary


def _forget(runners: list[FactCollector], summary: CollectSummary) -> None:
    """After a full collection: facts of entities that left the catalog, and of collectors no longer
    registered, go (a read first, so a collection that changes nothing writes nothing)."""
    live = Entity.objects.filter(valid=True).values("ref")
    names = [runner.name for runner in runners]
    for stale in (Fact.objects.exclude(entity_ref__in=live), Fact.objects.exclude(collector__in=names)):
        if stale.exists():
            summary.deleted += stale.delete()[0]


def _scored(batch: list[Entity], cards, scope: cel.CatalogFacts) -> list[Entity]:
    """The entities of ``batch`` at least one scorecard applies to."""
    out = []
    with cel.using_facts(scope):
        for entity, document in zip(batch, entities_to_backstage(batch), strict=True):
            converted = cel.activation(document)
            if any(cel.evaluate(card.applies_to, converted, scope).passed for card in cards):
                out.append(entity)
    return out


def _collect_batch(batch: list[Entity], repos: Repositories, runners, paths, now, summary: CollectSummary) -> None:
    manifests = dict(Location.objects.filter(id__in={e.location_id for e in batch if e.location_id})
                     .values_list("id", "manifest"))  # fmt: skip
    stored: dict[str, dict[tuple[str, str], Fact]] = defaultdict(dict)
    for fact in Fact.objects.filter(entity_ref__in=[e.ref for e in batch]):
        stored[fact.entity_ref][fact.collector, fact.key] = fact
    new, changed, gone = [], [], []
    for entity in batch:
        summary.entities += 1
        checkout, repo_error = _checkout(entity, repos, manifests.get(entity.location_id) or {}, paths)
        before = stored.get(entity.ref, {})
        touched = False
        for runner in runners:
            old = {key: fact for (name, key), fact in before.items() if name == runner.name}
            values, commit = _run(runner, entity, checkout, repo_error, old, paths, summary)
            if values is None:
                continue
            for key, value in values.items():
                fact = old.pop(key, None)
                if fact is None:
                    new.append(Fact(entity_ref=entity.ref, collector=runner.name, key=key, value=value,
                                    commit=commit, collected_at=now))  # fmt: skip
                    touched = True
                elif fact.value != value or fact.commit != commit:
                    touched |= fact.value != value
                    fact.value, fact.commit, fact.collected_at = value, commit, now
                    changed.append(fact)
            gone += [fact.pk for fact in old.values()]
            touched |= bool(old)
        if touched:
            summary.changed.append(entity.ref)
    if new or changed or gone:
        with transaction.atomic():
            if gone:
                summary.deleted += Fact.objects.filter(pk__in=gone).delete()[0]
            Fact.objects.bulk_create(new, ignore_conflicts=True)  # a concurrent collection wrote it first
            Fact.objects.bulk_update(changed, ["value", "commit", "collected_at"])
        summary.written += len(new) + len(changed)


def _checkout(entity: Entity, repos: Repositories, manifest: dict, paths: Wanted) -> tuple[Checkout | None, str]:
    try:
        source = source_directory(entity.body)
        commit = repos.commit(source, manifest.get(f"git:{source.repo_url}@{source.ref}", ""))
        repo = repos.repo(source.repo_url)
        when = repos.committed_at(source.repo_url, commit)
        return Checkout(entity.ref, entity.body, repo, source.path, commit, when, paths.paths, paths.text), ""
    except RepositoryError as exc:
        return None, str(exc)
    except Exception as exc:  # a broken mirror, a bad commit: this entity only
        logger.warning("Cannot read the repository of %s: %s", entity.ref, exc)
        return None, f"cannot read the repository: {exc}"


def _run(runner: FactCollector, entity: Entity, checkout: Checkout | None, repo_error: str, old: dict, paths,
         summary: CollectSummary) -> tuple[dict | None, str]:  # fmt: skip
    """The collector's facts and the commit they were read at; None when the stored ones are still current."""
    if not runner.needs_repository:
        source = Checkout(entity.ref, entity.body, None, ".", "", 0, paths.paths, paths.text)
        commit = ""
    elif checkout is None:
        summary.errors += 1
        return {ERROR_KEY: {"message": repo_error}}, ""
    else:
        source, commit = checkout, checkout.commit
        current = old and all(fact.commit == commit for fact in old.values()) and ERROR_KEY not in old
        if current and runner.name == "files":
            current = _files_current(old, paths)
        if current:
            return None, commit
    summary.collected += 1
    try:
        values = dict(runner.collect(source))
    except Exception as exc:
        logger.info("Fact collector %s failed for %s: %s", runner.name, entity.ref, exc)
        summary.errors += 1
        return {ERROR_KEY: {"message": f"{runner.name}: {exc}"}}, commit
    return values, commit


def _files_current(old: dict[str, Fact], paths: Wanted) -> bool:
    """The stored ``files`` facts answer every path rules name, with the text of those ``file_matches`` reads."""
    if set(old) != {f"{collectors.FILE_KEY}{path}" for path in paths.paths}:
        return False
    for path in paths.text:
        value = old[f"{collectors.FILE_KEY}{path}"].value or {}
        if value.get("kind") == "file" and "text" not in value and "error" not in value:
            return False
    return True


def load(refs: list[str]) -> dict[str, dict[tuple[str, str], cel.StoredFact]]:
    """The stored facts of ``refs`` for the helpers: ref -> (collector, key) -> (value, collected_at)."""
    found: dict[str, dict[tuple[str, str], cel.StoredFact]] = defaultdict(dict)
    rows = Fact.objects.filter(entity_ref__in=refs).values_list("entity_ref", "collector", "key", "value",
                                                                "collected_at")  # fmt: skip
    for ref, collector, key, value, collected_at in rows:
        found[ref][collector, key] = (value, collected_at)
    return dict(found)
