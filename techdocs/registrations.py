"""What TechDocs adds to the portal through the plugin registry: the Docs tab and the docs home."""

from __future__ import annotations

from plugins.api import (
    EntityTab,
    FactCollector,
    FactSource,
    HomePanel,
    MenuItem,
    register_entity_tab,
    register_fact_collector,
    register_home_panel,
    register_menu_item,
)


def register() -> None:
    from techdocs import reader

    register_entity_tab(
        EntityTab("docs", "Docs", "techdocs/tab.html", reader.docs_tab, weight=15, visible=reader.tab_visible)
    )
    register_menu_item(MenuItem("Docs", "techdocs:home", weight=20))
    register_home_panel(HomePanel("techdocs", "techdocs/home_panel.html", docs_needing_attention, weight=20))
    register_fact_collector(FactCollector("techdocs", site_facts, "The TechDocs site's status and publication time",
                                          needs_repository=False), replace=True)  # fmt: skip


def site_facts(source: FactSource) -> dict:
    """Scorecards' ``techdocs_fresh``: the entity's site status and when it was published (seconds since the
    epoch, None if never). Entities without docs: no facts, no query."""
    from techdocs.models import DocSite
    from techdocs.sources import TECHDOCS_REF

    if not ((source.entity.get("metadata") or {}).get("annotations") or {}).get(TECHDOCS_REF):
        return {}
    site = DocSite.objects.filter(entity_ref=source.entity_ref).only("status", "published_at").first()
    if site is None:
        return {"site": {"status": "pending", "published_at": None}}
    published = site.published_at.timestamp() if site.published_at else None
    return {"site": {"status": site.status, "published_at": published}}


def docs_needing_attention(request, owner_refs: set[str]) -> dict | None:
    """Home panel: the person's entities whose docs failed, were refused, or were never built."""
    if not owner_refs:
        return None
    from catalog.models import Entity
    from catalog.permissions import readable
    from techdocs.models import DocSite
    from techdocs.sources import documented

    owned = readable(Entity.objects.owned_by(owner_refs), request.user)
    entities = list(documented(owned).order_by("ref")[:500])
    sites = {s.entity_ref: s for s in DocSite.objects.filter(entity_ref__in=[e.ref for e in entities])}
    rows = [(e, sites.get(e.ref)) for e in entities]
    rows = [(e, s) for e, s in rows if s is None or s.status in (DocSite.Status.FAILED, DocSite.Status.REFUSED)]
    return {"rows": rows[:20]} if rows else None
