"""Register an existing component: paste a URL or path, preview what it holds, import it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from catalog.ingestion import refresh
from catalog.ingestion.sources import SourceError
from catalog.permissions import REGISTER, decide


class RegisterForm(forms.Form):
    target = forms.CharField(
        label="Repository URL or path",
        max_length=1000,
        widget=forms.TextInput(
            attrs={"placeholder": "https://github.com/org/repo/blob/main/catalog-info.yaml", "autofocus": True}
        ),
    )


def _type_of(target: str) -> str:
    return "url" if target.startswith(("git+", "http://", "https://")) else "file"


def register_location(request):
    decision = decide(request.user, REGISTER)
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
    form = RegisterForm(request.POST or request.GET or None)
    analysis = None
    error = ""
    if form.is_valid():
        target = form.cleaned_data["target"].strip()
        location_type = _type_of(target)
        if request.method == "POST" and request.POST.get("action") == "import":
            try:
                location = refresh.register_location(target, type=location_type, created_by=request.user.get_username())
            except SourceError as exc:
                error = str(exc)
            else:
                result = refresh.refresh_location(location.pk, force=True)
                s = result.summary
                messages.success(
                    request, f"Registered {target}: {s.added} added, {s.updated} updated, {s.errors} error(s)."
                )
                return redirect("catalog:entity_list")
        else:
            try:
                analysis = refresh.analyze(target, type=location_type)
            except SourceError as exc:
                error = str(exc)
    template = "catalog/_register_preview.html" if request.htmx else "catalog/register.html"
    return render(request, template, {"form": form, "analysis": analysis, "error": error})
