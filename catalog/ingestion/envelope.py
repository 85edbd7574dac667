"""Entity normalisation before validation, and the content hash used to detect changes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .refs import DEFAULT_NAMESPACE

#: Spec arrays Backstage sorts before emitting relations (when every item is a string).
SORTED_SPEC_ARRAYS = ("providesApis", "consumesApis", "dependsOn", "dependencyOf", "memberOf", "children", "members")


def normalize(entity: dict[str, Any]) -> dict[str, Any]:
    """Fill ``metadata.namespace`` with ``default`` when missing and sort the ref arrays of ``spec``.

    Works in place and returns the same dict.
    """
    metadata = entity.get("metadata")
    if isinstance(metadata, dict) and "namespace" not in metadata:
        metadata["namespace"] = DEFAULT_NAMESPACE
    spec = entity.get("spec")
    if isinstance(spec, dict):
        for field in SORTED_SPEC_ARRAYS:
            value = spec.get(field)
            if isinstance(value, list) and len(value) > 1 and all(isinstance(v, str) for v in value):
                value.sort()
    return entity


def content_hash(entity: dict[str, Any]) -> str:
    """SHA-1 of the canonical JSON (sorted keys, compact separators, UTF-8) of ``entity``.

    Unlike Backstage's stitcher, a generator that merely reorders the ref arrays listed in
    :data:`SORTED_SPEC_ARRAYS` does not change the hash, because :func:`normalize` sorts them first; any
    other array order still counts.
    """
    text = json.dumps(entity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()
