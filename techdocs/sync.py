"""When docs builds start: after a catalog refresh read new sources (or by hand), never on a page view.

A refresh that read new files sends ``catalog.events.location_refreshed``; this module checks each
documented entity of that location cheaply (for git sources, the docs commit against the one last built;
one fetch per repository) and queues a build only where it may have changed. The build itself compares
the hash of the docs' sources and publishes only when they changed.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from catalog.ingestion.readers import ReadError, SourceReader
from catalog.ingestion.sources import GitSource
from catalog.models import Entity
from techdocs.models import DocSite
from techdocs.sources import TECHDOCS_REF, DocsSourceError, resolve

SETTLED = (DocSite.Status.OK, DocSite.Status.FAILED, DocSite.Status.REFUSED)


def documented(*, location_id: str | None = None) -> list[tuple[str, dict]]:
    """(ref, body) of entities with ``backstage.io/techdocs-ref``, of one location or all."""
    query = Entity.objects.filter(Q(body__metadata__annotations__has_key=TECHDOCS_REF))
    if location_id is not None:
        query = query.filter(location_id=location_id)
    return list(query.order_by("ref").values_list("ref", "body"))


def stale_refs(entities: list[tuple[str, dict]]) -> list[str]:
    """The refs whose docs may have changed since their last build."""
    sites = {s.entity_ref: s for s in DocSite.objects.filter(entity_ref__in=[ref for ref, _ in entities])}
    stale = []
    with SourceReader() as reader:
        for ref, body in entities:
            site = sites.get(ref)
            if site is None or site.status not in SETTLED or not site.etag:
                stale.append(ref)
                continue
            try:
                location = resolve(body)
            except DocsSourceError:
                stale.append(ref)  # the build records why
                continue
            if not isinstance(location.source, GitSource):
                stale.append(ref)  # files have no commit: the build compares their hash
                continue
            try:
                if reader.commit_for(location.source) != site.etag:
                    stale.append(ref)
            except ReadError:
                stale.append(ref)
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
