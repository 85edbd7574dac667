"""The home page: what I own, what is broken, what I starred."""

from __future__ import annotations

from django.db.models import Count
from django.shortcuts import render

from catalog.models import Entity, Location, ProcessingError, Star
from catalog.models.visits import recent_visits
from catalog.ownership import person


def home(request):
    entity_ref, refs = person(request.user)
    owned = Entity.objects.owned_by(refs).order_by("kind", "name") if refs else Entity.objects.none()
    owned_errors = ProcessingError.objects.filter(entity__owner_ref__in=refs).select_related("entity")[:20]
    starred_refs = list(Star.objects.filter(user=request.user).values_list("entity_ref", flat=True)[:50])
    context = {
        "identity": sorted(refs),
        "entity_ref": entity_ref,
        "owned": owned[:50],
        "owned_count": owned.count() if refs else 0,
        "owned_errors": owned_errors if refs else [],
        "starred": Entity.objects.filter(ref__in=starred_refs),
        "kinds": Entity.objects.values("kind").annotate(n=Count("id")).order_by("-n"),
        "entities_with_errors": Entity.objects.with_errors().count(),
        "failing_locations": Location.objects.filter(status=Location.Status.ERROR)[:10],
        "recent": Entity.objects.order_by("-updated_at")[:8],
        "visited": recent_visits(request.user),
    }
    return render(request, "catalog/home.html", context)
