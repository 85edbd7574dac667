"""The inbox (``/notifications/``), its top-bar badge and the per-category mute settings. Thin: the logic is
in portal.notifications.service."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.notifications import service


@require_GET
def inbox(request):
    unread_only = request.GET.get("show") == "unread"
    context = {
        "notifications": service.inbox(request.user, unread_only=unread_only),
        "unread": service.unread_count(request.user),
        "unread_only": unread_only,
    }
    return render(request, "portal/notifications/inbox.html", context)


@require_GET
def badge(request):
    """The top bar's unread count, loaded by htmx after the page (pages themselves cost no extra query)."""
    return render(request, "portal/notifications/_badge.html", {"unread": service.unread_count(request.user)})


@require_POST
def mark_read(request, pk: int):
    row = service.mark_read(request.user, pk)
    if row is None:
        raise Http404("No such notification")
    if request.htmx:
        context = {"n": row, "unread": service.unread_count(request.user)}
        return render(request, "portal/notifications/_row.html", context)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:inbox")


@require_POST
def mark_all_read(request):
    count = service.mark_all_read(request.user)
    if request.htmx:
        context = {"notifications": service.inbox(request.user), "unread": 0, "unread_only": False}
        return render(request, "portal/notifications/_list.html", context)
    messages.success(request, f"Marked {count} notification(s) read.")
    return redirect("notifications:inbox")


@require_http_methods(["GET", "POST"])
def mute_settings(request):
    if request.method == "POST":
        muted = service.set_mutes(request.user, request.POST.getlist("muted"))
        messages.success(request, f"Saved: {len(muted)} categor{'y' if len(muted) == 1 else 'ies'} muted.")
        return redirect("notifications:settings")
    muted = service.muted_categories(request.user)
    rows = [(category, category.name in muted) for category in service.categories()]
    return render(request, "portal/notifications/settings.html", {"rows": rows})
