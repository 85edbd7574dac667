"""The home page: what I own, what is broken, what I starred."""

from __future__ import annotations

from django.db.models import Count
from django.shortcuts import render

from catalog.models import Entity, Location, ProcessingError, Star
from catalog.models.visits import recent_visits
from catalog.owners import owned_by_q
from catalog.ownership import person
from catalog.permissions import REGISTER, can, readable, readable_errors, readable_locations
from plugins.home import panels_for


def home(request):
    entity_ref, refs = person(request.user)
    entities = readable(Entity.objects.all(), request.user)
    owned = entities.owned_by(refs).order_by("kind", "name") if refs else Entity.objects.none()
    owned_errors = readable_errors(ProcessingError.objects.filter(owned_by_q(refs, "entity__")), request.user)
    starred_refs = list(Star.objects.filter(user=request.user).values_list("entity_ref", flat=True)[:50])
    failing = readable_locations(Location.objects.filter(status=Location.Status.ERROR), request.user)
    context = {
        "identity": sorted(refs),
        "entity_ref": entity_ref,
        "owned": owned[:50],
        "owned_count": owned.count() if refs else 0,
        "owned_errors": owned_errors.select_related("entity")[:20] if refs else [],
        "starred": entities.filter(ref__in=starred_refs),
        "kinds": entities.values("kind").annotate(n=Count("id")).order_by("-n"),
        "entities_with_errors": entities.with_errors().count(),
        "failing_locations": failing[:10],
        "recent": entities.order_by("-updated_at")[:8],
        "may_register": can(request.user, REGISTER),
        "visited": recent_visits(request.user, entities),
        "panels": panels_for(request, refs),
    }
    return render(request, "catalog/home.html", context)
