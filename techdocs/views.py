"""The docs home (every documented entity) and deep links into one entity's docs."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse

from catalog.models import Entity
from catalog.permissions import readable
from catalog.views.entities import entity_tab
from techdocs import reader
from techdocs.models import DocSite
from techdocs.sources import documented


def docs_page(request, namespace: str, kind: str, name: str, page: str):
    """A page of an entity's docs, inside the entity page; files go to the static endpoint."""
    target = reader.page_file(page)
    if target is not None and not target.endswith((".html", ".htm")):
        return redirect(reverse("techdocs-static", args=[namespace.lower(), kind.lower(), name.lower(), target]))
    return entity_tab(request, namespace, kind, name, tab="docs")


def docs_home(request):
    """Every documented entity the person may read, with its docs' state; filter by owner and kind."""
    entities = readable(documented(Entity.objects.all()), request.user)
    kind = request.GET.get("kind", "").strip().lower()
    owner = request.GET.get("owner", "").strip().lower()
    status = request.GET.get("status", "").strip().lower()
    if kind:
        entities = entities.filter(kind__iexact=kind)
    if owner:
        entities = entities.filter(owner_ref=owner)
    rows = list(entities.order_by("ref").only("ref", "kind", "namespace", "name", "title", "owner_ref",
                                               "description")[:1000])  # fmt: skip
    sites = {s.entity_ref: s for s in DocSite.objects.filter(entity_ref__in=[e.ref for e in rows])}
    items = [{"entity": e, "site": sites.get(e.ref)} for e in rows]
    if status:
        items = [i for i in items if (i["site"].status if i["site"] else "none") == status]
    kinds = sorted({e.kind for e in rows})
    owners = sorted({e.owner_ref for e in rows if e.owner_ref})
    return render(request, "techdocs/home.html", {
        "items": items, "kinds": kinds, "owners": owners, "kind": kind, "owner": owner, "status": status,
    })  # fmt: skip
