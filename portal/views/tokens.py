"""The API tokens page: list your tokens, create one (its secret shown exactly once), revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal import tokens
from portal.models import ApiToken, TokenScope


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “CI deploy job”.")
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[TokenScope.CATALOG_READ],
        error_messages={"required": "Choose at least one scope."},
    )
    expiry = forms.ChoiceField(
        choices=[(value, label) for value, label, _ in tokens.EXPIRY_CHOICES], initial=tokens.DEFAULT_EXPIRY
    )
    owner = forms.ModelChoiceField(queryset=None, empty_label=None, label="For")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        owners = tokens.token_owners(user)
        self.fields["owner"].queryset = owners
        self.fields["owner"].initial = user.pk
        self.fields["owner"].label_from_instance = lambda u: (
            f"{u.get_username()} (service account)" if u.pk != user.pk else f"{u.get_username()} (me)"
        )
        if not tokens.manages_service_accounts(user):
            self.fields["owner"].widget = forms.HiddenInput()


def _page(request, form: TokenForm, *, created: ApiToken | None = None, secret: str = "", status: int = 200):
    context = {
        "form": form,
        "tokens": tokens.visible_tokens(request.user),
        "created": created,
        "secret": secret,
        "manages_service_accounts": tokens.manages_service_accounts(request.user),
    }
    template = "portal/tokens/_panel.html" if request.htmx else "portal/tokens/list.html"
    return render(request, template, context, status=status)


@never_cache  # the response may carry a new token's secret: no cache may keep it
@require_http_methods(["GET", "POST"])
def token_list(request):
    if request.method == "GET":
        return _page(request, TokenForm(user=request.user))
    form = TokenForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    token, secret = ApiToken.issue(
        data["owner"],
        name=data["name"],
        scopes=data["scopes"],
        expires_at=tokens.expiry_from_choice(data["expiry"]),
    )
    return _page(request, TokenForm(user=request.user), created=token, secret=secret)


@require_http_methods(["GET", "POST"])
def token_revoke(request, pk: int):
    """GET (or a POST without ``confirm``) asks first; a confirmed POST revokes. htmx confirms in the browser."""
    token = get_object_or_404(ApiToken.objects.select_related("user", "user__service_account"), pk=pk)
    if not tokens.may_manage(request.user, token):
        raise Http404("No such token")
    if request.method == "POST" and (request.POST.get("confirm") == "yes" or request.htmx):
        token.revoke()
        if request.htmx:
            context = {"token": token, "manages_service_accounts": tokens.manages_service_accounts(request.user)}
            return render(request, "portal/tokens/_row.html", context)
        messages.success(request, f"Revoked token “{token.name or token.hint}”.")
        return redirect("portal:tokens")
    return render(request, "portal/tokens/confirm_revoke.html", {"token": token})
