"""What the form's pickers offer: catalog entities for OwnerPicker/EntityPicker, hosts for RepoUrlPicker,
existing tags for EntityTagsPicker, the person's groups for MyGroupsPicker.

Entities come from the catalog as the person may read them, filtered by Backstage's ``ui:options``
(``catalogFilter``: one filter object or a list of them, OR-ed; ``allowedKinds``, the older option).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode

from django.conf import settings
from django.db.models import Q

from catalog import facets, permissions
from catalog.ingestion.refs import RefError, parse_ref
from catalog.models import Entity, Relation
from catalog.ownership import user_entity_ref
from catalog.permissions import entity_filter

MAX_CHOICES = 500
# Catalog filter keys that are columns (matched ignoring case, as Backstage's catalog does).
COLUMNS = {
    "kind": "kind__iexact",
    "metadata.name": "name__iexact",
    "metadata.namespace": "namespace__iexact",
    "spec.type": "spec_type__iexact",
    "spec.lifecycle": "lifecycle__iexact",
    "spec.owner": "owner_ref__iexact",
    "spec.system": "system_ref__iexact",
}
OWNER_KINDS = ["Group", "User"]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def _filter_q(catalog_filter: dict[str, Any]) -> Q | None:
    """One filter object as a Q: every key must match (a list value: any of its values). None when a key
    cannot be applied here (``CURRENT_USER`` and ``{exists: …}`` are skipped, as the key is then unused)."""
    q = Q()
    for key, wanted in catalog_filter.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        values = [str(v) for v in values if isinstance(v, (str, int, float)) and v != "CURRENT_USER"]
        if not values:
            continue
        if key in COLUMNS:
            any_of = Q()
            for value in values:
                any_of |= Q(**{COLUMNS[key]: value})
        elif all(part.isidentifier() for part in key.split(".")):
            lookup = "body__" + "__".join(key.split("."))
            any_of = Q(**{f"{lookup}__in": values})
        else:
            return None
        q &= any_of
    return q


def catalog_filters(options: dict[str, Any], default_kinds: list[str] | None = None) -> Q:
    """The Q for a picker's ``ui:options``: ``catalogFilter`` first, else ``allowedKinds``, else the defaults."""
    raw = options.get("catalogFilter")
    filters = [f for f in (raw if isinstance(raw, list) else [raw]) if isinstance(f, dict)]
    kinds = options.get("allowedKinds") or default_kinds
    if not filters and isinstance(kinds, list) and kinds:
        filters = [{"kind": [str(k) for k in kinds]}]
    if not filters:
        return Q()
    q = Q(pk__in=[])
    for catalog_filter in filters:
        one = _filter_q(catalog_filter)
        if one is not None:
            q |= one
    return q


def entity_choices(user, options: dict[str, Any], default_kinds: list[str] | None = None) -> list[Choice]:
    """Readable entities matching the picker's filters: the ref as value, the title and ref as label."""
    rows = permissions.readable(Entity.objects.filter(catalog_filters(options, default_kinds)), user)
    rows = rows.order_by("kind", "namespace", "name").values_list("ref", "title")[:MAX_CHOICES]
    return [Choice(ref, f"{title} ({ref})" if title else ref) for ref, title in rows]


def entity_value(text: str, options: dict[str, Any]) -> str:
    """What the person typed, as a full ref with the picker's ``defaultKind``/``defaultNamespace``; kept as
    typed when it does not parse."""
    text = text.strip()
    if not text:
        return ""
    try:
        ref = parse_ref(
            text,
            default_kind=str(options.get("defaultKind") or "") or None,
            default_namespace=str(options.get("defaultNamespace") or "default"),
        )
    except RefError:
        return text
    return ref.key


# RepoUrlPicker ---------------------------------------------------------------------------------------------

REPO_PARTS = ("owner", "repo", "organization", "workspace", "project")  # Backstage's order in the query


def integration_hosts() -> list[str]:
    return [*settings.CATALOG_GITHUB_HOSTS, *settings.CATALOG_GITLAB_HOSTS]


def repo_hosts(options: dict[str, Any]) -> list[str]:
    allowed = options.get("allowedHosts")
    if isinstance(allowed, list) and allowed:
        return [str(h) for h in allowed]
    return integration_hosts()


def host_parts(host: str) -> list[str]:
    """The parts a host's repository location needs besides ``repo``, as Backstage's pickers ask them."""
    if host == "dev.azure.com":
        return ["organization", "project"]
    if host == "bitbucket.org":
        return ["workspace", "project"]
    return ["owner"]


def serialize_repo_url(host: str, parts: dict[str, str]) -> str:
    """Backstage's ``serializeRepoPickerUrl``: ``host?owner=…&repo=…`` with URLSearchParams' encoding."""
    if not host:
        return ""
    params = [(key, parts[key]) for key in REPO_PARTS if parts.get(key)]

    def quote(text, safe, encoding, errors):  # URLSearchParams keeps only A-Za-z0-9 and *-._
        return quote_plus(text, safe="*", encoding=encoding, errors=errors).replace("~", "%7E")

    return f"{host}?{urlencode(params, quote_via=quote)}"


def parse_repo_url(value: Any) -> tuple[str, dict[str, str]]:
    """``host?owner=…&repo=…`` back into the host and its parts (lenient: a form being filled in)."""
    if not isinstance(value, str) or not value:
        return "", {}
    host, _, query = value.partition("?")
    return host, {k: v for k, v in parse_qsl(query) if k in REPO_PARTS}


# EntityTagsPicker, MyGroupsPicker ----------------------------------------------------------------------------

MAX_TAG_SUGGESTIONS = 30


def tag_suggestions(user, options: dict[str, Any]) -> list[str]:
    """The catalog's existing tags, most used first (Backstage's facet on ``metadata.tags``), among the
    entities of ``ui:options.kinds`` (all kinds without it) that the person may read (none without a person)."""
    if user is None:
        return []
    kinds = [str(k).lower() for k in options.get("kinds") or [] if isinstance(k, str)]
    counts: Counter[str] | None = None
    if entity_filter(user).unrestricted:  # the per-version tag snapshot, as the catalog page counts tags
        counts = facets.page_tag_counts(kinds, [])
    if counts is None:
        rows = permissions.readable(Entity.objects.all(), user)
        if kinds:
            rows = rows.filter(catalog_filters({"catalogFilter": {"kind": kinds}}))
        counts = Counter(t for tags in rows.exclude(tags=[]).values_list("tags", flat=True)[:20_000]
                         for t in tags if isinstance(t, str))  # fmt: skip
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [tag for tag, _ in ranked[:MAX_TAG_SUGGESTIONS]]


def my_groups(user) -> list[Choice]:
    """Backstage's MyGroupsPicker: the Groups the person's User entity is a direct member of (``memberOf``),
    that they may read."""
    user_ref = user_entity_ref(user)
    if not user_ref:
        return []
    refs = Relation.objects.filter(source_ref=user_ref, type="memberOf").values("target_ref")
    rows = permissions.readable(Entity.objects.filter(kind__iexact="group", ref__in=refs), user)
    return [Choice(ref, f"{title} ({ref})" if title else ref)
            for ref, title in rows.order_by("ref").values_list("ref", "title")[:MAX_CHOICES]]  # fmt: skip
