"""Owner actions on the entity page: refresh, unregister (with confirmation) and overrides.

Every view checks the same rules as the REST API and the admin (``catalog.permissions``): a person who may
not read the entity gets 404, one who may read but not act gets 403 with the reason.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog.cache import bump_catalog_version
from catalog.ingestion import refresh
from catalog.ingestion.refs import RefError, verified_owner_ref
from catalog.models import Entity, EntityOverride
from catalog.permissions import (
    OVERRIDE,
    REFRESH,
    UNREGISTER,
    allowed_override_fields,
    decide,
    location_decision,
    readable,
    require,
)
from catalog.tasks import schedule_refresh
from catalog.views.entities import get_entity

TAG = re.compile(r"^[a-z0-9:+#-]{1,63}$")


@require_POST
def refresh_entity(request, namespace: str, kind: str, name: str):
    entity = get_entity(request, kind, namespace, name)
    require(decide(request.user, REFRESH, entity))
    if entity.location_id:
        schedule_refresh(entity.location_id, force=True)
        messages.success(request, f"Refresh of {entity.location.target} scheduled.")
    return redirect(entity)


def unregister_entity(request, namespace: str, kind: str, name: str):
    """GET: what unregistering removes (the location and all its entities); POST: do it."""
    entity = get_entity(request, kind, namespace, name)
    location = entity.location
    if location is None:
        raise PermissionDenied("This entity has no registered location to unregister.")
    require(location_decision(request.user, UNREGISTER, location))
    if request.method == "POST":
        count = refresh.unregister_location(location.pk)
        removed = f"{count} entit{'y' if count == 1 else 'ies'} removed"
        messages.success(request, f"Unregistered {location.target}: {removed}.")
        return redirect("catalog:entity_list")
    entities = readable(Entity.objects.filter(location=location), request.user).order_by("ref")
    context = {"entity": entity, "location": location, "entities": entities[:200], "count": entities.count()}
    return render(request, "catalog/unregister.html", context)


class OverrideForm(forms.Form):
    deprecation_note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the entity page; empty when it is not deprecated.",
    )
    extra_tags = forms.CharField(required=False, max_length=1000, help_text="Comma-separated, e.g. pci, tier-1")
    verified_owner = forms.CharField(
        required=False,
        max_length=400,
        help_text="Replaces spec.owner for ownership (permissions, filters, My stuff): a Group or User ref; "
        "a bare name means a Group in this entity's namespace.",
    )
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, fields: list[str], entity_ref: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.entity_ref = entity_ref
        for name in list(self.fields):
            if name not in fields:
                del self.fields[name]

    def clean_extra_tags(self) -> list[str]:
        tags = [t.strip().lower() for t in self.cleaned_data["extra_tags"].split(",") if t.strip()]
        bad = [t for t in tags if not TAG.match(t)]
        if bad:
            raise forms.ValidationError(f"Tags are 1 to 63 of a-z 0-9 : + # -; not: {', '.join(bad)}")
        return list(dict.fromkeys(tags))

    def clean_verified_owner(self) -> str:
        try:
            return verified_owner_ref(self.cleaned_data["verified_owner"], of=self.entity_ref)
        except RefError as exc:
            raise forms.ValidationError(str(exc)) from exc


def edit_overrides(request, namespace: str, kind: str, name: str):
    entity = get_entity(request, kind, namespace, name)
    fields = allowed_override_fields(request.user, entity)
    if not fields:
        require(decide(request.user, OVERRIDE, entity))
    override = EntityOverride.objects.filter(entity_ref=entity.ref).first() or EntityOverride(entity_ref=entity.ref)
    initial = {f: getattr(override, f) for f in fields}
    if "extra_tags" in initial:
        initial["extra_tags"] = ", ".join(override.extra_tags or [])
    form = OverrideForm(request.POST or None, initial=initial, fields=fields, entity_ref=entity.ref)
    if request.method == "POST" and form.is_valid():
        for field in fields:
            setattr(override, field, form.cleaned_data[field])
        override.updated_by = request.user.get_username()
        override.save()
        bump_catalog_version()
        messages.success(request, "Overrides saved.")
        return redirect(entity)
    return render(request, "catalog/overrides.html", {"entity": entity, "form": form, "fields": fields})
