"""Exemption requests in the UI: the form under a failing rule on the entity's Scorecards tab, and the
approvers' page ``/scorecards/exemptions/``. Thin: the rules are in scorecards.exemptions."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import Entity
from catalog.permissions import readable
from scorecards import exemptions
from scorecards.models import Exemption, Scorecard


class RequestForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             help_text="Why the rule should not apply, and what you will do instead.")  # fmt: skip
    expires_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Until",
                                 help_text="Blank: the longest allowed.")  # fmt: skip


def _target(request, ref: str, card_pk: int, rule_id: str) -> tuple[Entity, Scorecard]:
    entity = readable(Entity.objects.filter(ref=ref.lower()), request.user).first()
    if entity is None:
        raise Http404("No such entity")
    return entity, get_object_or_404(Scorecard, pk=card_pk)


@require_http_methods(["GET", "POST"])
def request_exemption(request, card_pk: int, rule_id: str):
    """htmx: GET the form for one rule of one entity (``?entity=ref``), POST it; answers the fragment."""
    ref = request.GET.get("entity") or request.POST.get("entity") or ""
    entity, card = _target(request, ref, card_pk, rule_id)
    if not exemptions.may_request(request.user, entity):
        raise PermissionDenied("Only the entity's owners may request an exemption for it.")
    context = {"entity": entity, "card": card, "rule_id": rule_id, "max_day": exemptions.max_expiry().date()}
    if request.method == "GET":
        return render(request, "scorecards/_exemption_form.html", {**context, "form": RequestForm()})
    form = RequestForm(request.POST)
    if form.is_valid():
        day = form.cleaned_data["expires_on"]
        until = timezone.make_aware(datetime.combine(day, time(23, 59))) if day else None
        try:
            row = exemptions.request_exemption(request.user, entity, card, rule_id, form.cleaned_data["reason"], until)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error("expires_on" if field == "expires_at" else "reason" if field == "reason" else None,
                               errors)  # fmt: skip
        else:
            return render(request, "scorecards/_exemption_state.html", {"exemption": row})
    return render(request, "scorecards/_exemption_form.html", {**context, "form": form}, status=400)


@require_GET
def exemption_list(request):
    decidable = exemptions.decidable(request.user)
    context = {
        "pending": [e for e in decidable.filter(approved_at=None, denied_at=None).order_by("requested_at")],
        "decided": list(decidable.exclude(approved_at=None, denied_at=None).order_by("-requested_at")[:30]),
    }
    mine = Exemption.objects.filter(requested_by=request.user.get_username()).select_related("scorecard")
    context["mine"] = list(mine.order_by("-requested_at")[:30])
    return render(request, "scorecards/exemptions.html", context)


@require_POST
def decide_exemption(request, pk: int, verdict: str):
    row = get_object_or_404(Exemption.objects.select_related("scorecard"), pk=pk)
    if not exemptions.may_decide(request.user, row.scorecard):
        raise Http404("No such exemption request")
    decide = exemptions.approve if verdict == "approve" else exemptions.deny
    error = ""
    try:
        row = decide(request.user, row, request.POST.get("note", ""))
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    if request.htmx:
        return render(request, "scorecards/_exemption_item.html", {"e": row, "error": error})
    return redirect("scorecards:exemptions")
