"""Entity references: ``[<kind>:][<namespace>/]<name>`` parsing exactly as Backstage does it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import formats as fmt
from .errors import show

DEFAULT_NAMESPACE = "default"


class RefError(ValueError):
    """An entity reference that cannot be parsed."""


class MissingKindError(RefError):
    """A reference without a kind where the field has no default kind (e.g. ``dependsOn``)."""


@dataclass(frozen=True, slots=True)
class EntityRef:
    """A parsed reference. Fields keep their original case; ``str()`` and ``key`` are lower-cased."""

    kind: str
    namespace: str
    name: str

    @property
    def key(self) -> str:
        """Canonical, lower-cased ``kind:namespace/name`` (the form used for every comparison)."""
        return f"{self.kind}:{self.namespace}/{self.name}".lower()

    def __str__(self) -> str:
        return self.key


def stringify_ref(kind: str, namespace: str, name: str) -> str:
    """Canonical, lower-cased ``kind:namespace/name``."""
    return f"{kind}:{namespace}/{name}".lower()


def _split(ref: str) -> tuple[str | None, str | None, str]:
    colon = ref.find(":")
    slash = ref.find("/")
    if slash != -1 and slash < colon:  # a "/" before the ":" makes the colon part of the name
        colon = -1
    kind = None if colon == -1 else ref[:colon]
    namespace = None if slash == -1 else ref[colon + 1 : slash]
    name = ref[max(colon + 1, slash + 1) :]
    if kind == "" or namespace == "" or name == "":
        raise RefError(f'Entity reference "{ref}" was not on the form [<kind>:][<namespace>/]<name>')
    return kind, namespace, name


def parse_ref(
    value: str | dict[str, Any],
    *,
    default_kind: str | None = None,
    default_namespace: str = DEFAULT_NAMESPACE,
) -> EntityRef:
    """Parse a string or compound (``{kind?, namespace?, name}``) reference.

    Reproduces Backstage's quirks: the first ``:`` and first ``/`` split the string, a ``/`` before the ``:``
    turns the colon into part of the name (``a/b:c`` is namespace ``a``, name ``b:c``), and ``a/b/c`` is
    namespace ``a``, name ``b/c``. Present-but-empty parts (``:foo``, ``a:/b``, ``x/``) and a missing kind
    without ``default_kind`` raise :class:`RefError`.
    """
    if not value:
        raise RefError("Entity reference must not be empty")
    kind: Any
    namespace: Any
    name: Any
    if isinstance(value, str):
        kind, namespace, name = _split(value)
    elif isinstance(value, dict):
        kind, namespace, name = value.get("kind"), value.get("namespace"), value.get("name")
    else:
        raise RefError(f"Entity reference must be a string, got {type(value).__name__} {value!r}")
    if kind is None:
        kind = default_kind
    if namespace is None:
        namespace = default_namespace or DEFAULT_NAMESPACE
    if not kind or not isinstance(kind, str):
        raise MissingKindError(
            f"Entity reference {json.dumps(value)} had missing or empty kind "
            '(e.g. did not start with "component:" or similar)'
        )
    if not namespace or not isinstance(namespace, str):
        raise RefError(f"Entity reference {json.dumps(value)} had missing or empty namespace")
    if not name or not isinstance(name, str):
        raise RefError(f"Entity reference {json.dumps(value)} had missing or empty name")
    return EntityRef(kind, namespace, name)


#: The longest name a ref may carry: the entity name column (kind and namespace follow their rules, <= 63).
MAX_REF_NAME = 253


def ref_problem(ref: EntityRef) -> str | None:
    """Why no entity can have ``ref``, or None.

    Its kind and namespace must pass an entity's own rules (spec 1.2; the namespace ignoring case, as refs
    are compared). Its name must hold no ``/``, which no name can (``group:default/a/b`` parses to the name
    ``a/b``, spec 3.1), and fit the name column. The name's other rules are not applied, as Backstage does
    not apply them: its own software templates say ``owner: web@example.com``, a ref to a group that the
    default rules cannot create, which is a dangling relation and no error.
    """
    if not fmt.is_kind(ref.kind):
        return f"its kind {show(ref.kind)} is not valid: expected {fmt.EXPECT_KIND}"
    if not fmt.is_dns_label(ref.namespace.lower()):
        return f"its namespace {show(ref.namespace)} is not valid: expected {fmt.EXPECT_DNS_LABEL}"
    if "/" in ref.name:
        return f'its name {show(ref.name)} holds a "/", which no name can: write [<kind>:][<namespace>/]<name>'
    if len(ref.name) > MAX_REF_NAME:
        return f"its name is {len(ref.name)} characters long, more than {MAX_REF_NAME}"
    return None


def ref_of(entity: dict[str, Any]) -> EntityRef:
    """The reference of an entity (namespace defaults to ``default``); raises :class:`RefError`."""
    metadata = entity.get("metadata")
    kind = entity.get("kind")
    if not isinstance(metadata, dict):
        raise RefError("entity has no metadata object")
    name = metadata.get("name")
    namespace = metadata.get("namespace", DEFAULT_NAMESPACE)
    for label, part in (("kind", kind), ("metadata.name", name), ("metadata.namespace", namespace)):
        if not isinstance(part, str) or not part:
            raise RefError(f"entity {label} must be a non-empty string, got {part!r}")
    return EntityRef(kind, namespace, name)  # type: ignore[arg-type]


OWNER_KINDS = ("group", "user")


def owner_ref(value: str, *, of: str) -> str:
    """An owner as Backstage reads ``spec.owner`` (kind Group, the entity's namespace by default), canonical.

    ``of``: the owned entity's ref, whose namespace is the default. Raises :class:`RefError` for a malformed
    ref, one that no entity can have (:func:`ref_problem`) or one that is not a Group or User."""
    namespace = _split(of)[1] if of else None
    parsed = parse_ref(value.strip(), default_kind="Group", default_namespace=namespace or DEFAULT_NAMESPACE)
    if parsed.kind.lower() not in OWNER_KINDS:
        raise RefError(f'An owner must be a Group or User, not a {parsed.kind} ("{value}")')
    problem = ref_problem(parsed)
    if problem:
        raise RefError(f"{show(value)} cannot refer to an entity: {problem}")
    return parsed.key


def verified_owner_ref(value: str, *, of: str) -> str:
    """A governance override's verified owner, canonical (``owner_ref``), or "" when blank."""
    value = value.strip()
    return owner_ref(value, of=of) if value else ""
