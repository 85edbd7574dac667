"""When docs builds start: after a catalog refresh read new sources (or by hand), never on a page view.

A refresh that read new files sends ``catalog.events.location_refreshed``; this module checks each
documented entity of that location (for git sources first the docs commit against the one last built,
then the hash of the docs' sources; one fetch per repository, one read per docs folder and commit) and
queues a build only where the docs changed.
"""

from __future__ import annotations

from django.db import transaction

from catalog.ingestion.readers import ReadError, SourceReader
from catalog.models import Entity
from techdocs.builder import sources_hash
from techdocs.config import ConfigError
from techdocs.models import DocSite
from techdocs.sources import DocsSourceError, docs_title, open_tree, resolve
from techdocs.sources import documented as documented_entities

SETTLED = (DocSite.Status.OK, DocSite.Status.FAILED, DocSite.Status.REFUSED)


def documented(*, location_id: str | None = None) -> list[tuple[str, dict]]:
    """(ref, body) of entities with ``backstage.io/techdocs-ref``, of one location or all."""
    query = documented_entities(Entity.objects.all())
    if location_id is not None:
        query = query.filter(location_id=location_id)
    return list(query.order_by("ref").values_list("ref", "body"))


def stale_refs(entities: list[tuple[str, dict]]) -> list[str]:
    """The refs whose docs changed since their last build (or that were never built).

    One reader for all of them: each repository is fetched once, each docs folder read once per commit.
    An entity whose docs commit moved but whose docs hash the same only has its recorded commit updated.
    """
    sites = {s.entity_ref: s for s in DocSite.objects.filter(entity_ref__in=[ref for ref, _ in entities])}
    stale: list[str] = []
    moved: dict[str, list[str]] = {}  # new commit -> refs whose docs did not change
    digests: dict = {}
    with SourceReader() as reader:
        for ref, body in entities:
            site = sites.get(ref)
            if site is None or site.status not in SETTLED:
                stale.append(ref)
                continue
            try:
                tree = open_tree(resolve(body), reader)
                if tree.sha and tree.sha == site.etag:
                    continue
                if sources_hash(tree, docs_title(body), digests) in (site.source_hash, site.attempted_hash):
                    moved.setdefault(tree.sha, []).append(ref)
                    continue
            except (DocsSourceError, ConfigError, ReadError):
                pass  # the build records why
            stale.append(ref)
    for sha, refs in moved.items():
        DocSite.objects.filter(entity_ref__in=refs).update(etag=sha)
    return stale


def queue_builds(refs: list[str], *, force: bool = False) -> int:
    from techdocs.tasks import build_docs

    for ref in refs:
        build_docs.delay(ref, force)
    return len(refs)


def on_location_refreshed(sender, location_id, **kwargs) -> None:
    """Receiver of ``catalog.events.location_refreshed``: check the location's docs once it committed."""
    from django.conf import settings

    from techdocs.tasks import sync_location

    if not settings.TECHDOCS_BUILD_ON_REFRESH or settings.TECHDOCS_BUILDER == "external":
        return
    transaction.on_commit(lambda: sync_location.delay(str(location_id)))
