"""Choosing and filling in a template: the gallery, the template page and the multi-step form.

A template the person may not read is a 404; running one needs ``scaffolder.template.run`` (403 with the
reason otherwise). The form's logic is in ``scaffolder.wizard`` and ``scaffolder.forms``.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from catalog import permissions
from catalog.models import Entity
from scaffolder import census, service, wizard
from scaffolder import gallery as listing
from scaffolder.models import Task


def _template(request, namespace: str, name: str) -> Entity:
    try:
        return service.find_template(request.user, f"template:{namespace}/{name}")
    except service.TemplateNotFound:
        raise Http404("No such template, or you may not read it.") from None


def task_url(task: Task) -> str:
    return reverse("scaffolder:task", args=[task.pk])


def gallery(request):
    context = {"gallery": listing.gallery(request.user, request.GET)}
    if request.htmx and request.htmx.target == "results":
        return render(request, "scaffolder/_gallery_results.html", context)
    return render(request, "scaffolder/gallery.html", context)


def template_detail(request, namespace: str, name: str):
    entity = _template(request, namespace, name)
    decision = permissions.decide(request.user, permissions.TEMPLATE_RUN, entity)
    context = {
        "entity": entity,
        "may_run": decision.allowed,
        "run_reason": decision.reason or "You may not run this template.",
        "owner_url": listing.owner_link(entity.owner_ref),
        "stats": listing.run_stats(entity),
        "pages": listing.parameter_summary(entity),
        "census": census.template_census(entity, user=request.user),
    }
    return render(request, "scaffolder/template_detail.html", context)


def run(request, namespace: str, name: str):
    entity = _template(request, namespace, name)
    decision = permissions.decide(request.user, permissions.TEMPLATE_RUN, entity)
    if not decision.allowed:
        context = {"entity": entity, "reason": decision.reason or "You may not run this template."}
        return render(request, "scaffolder/forbidden.html", context, status=403)
    if request.method == "POST":
        current = wizard.advance(entity, request.user, request.POST)
        if current.task is not None:
            url = task_url(current.task)
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    else:
        current = wizard.start(entity, request.user)
    spec = entity.body.get("spec") if isinstance(entity.body.get("spec"), dict) else {}
    presentation = spec.get("presentation") if isinstance(spec.get("presentation"), dict) else {}
    labels = presentation.get("buttonLabels") if isinstance(presentation.get("buttonLabels"), dict) else {}
    context = {"entity": entity, "wizard": current, "labels": labels}
    if request.htmx:
        return render(request, "scaffolder/_wizard.html", context)
    return render(request, "scaffolder/run.html", context)
