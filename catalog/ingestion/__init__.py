"""Pure-logic core of catalog ingestion: parse, validate, relate and index Backstage descriptors.

No Django models or database access here: functions take and return plain dicts and dataclasses.
"""

from .descriptor import FileResult, ProcessedEntity, location_targets, process_entity, process_file
from .envelope import SORTED_SPEC_ARRAYS, content_hash, normalize
from .errors import DescriptorError
from .placeholders import PlaceholderReadError, PlaceholderResult, resolve_placeholders
from .refs import DEFAULT_NAMESPACE, EntityRef, MissingKindError, RefError, parse_ref, ref_of, stringify_ref
from .relations import RELATION_FIELDS, RELATION_PAIRS, Relation, emit_relations, inverse_of
from .search import SearchRow, search_rows
from .validation import (
    API_VERSIONS,
    KIND_SCHEMAS,
    KindExtension,
    check_envelope,
    is_known_kind,
    register_kind,
    validate_entity,
)
from .yamlsafe import parse_documents

__all__ = [
    "API_VERSIONS",
    "DEFAULT_NAMESPACE",
    "KIND_SCHEMAS",
    "RELATION_FIELDS",
    "RELATION_PAIRS",
    "SORTED_SPEC_ARRAYS",
    "DescriptorError",
    "EntityRef",
    "FileResult",
    "KindExtension",
    "MissingKindError",
    "PlaceholderReadError",
    "PlaceholderResult",
    "ProcessedEntity",
    "RefError",
    "Relation",
    "SearchRow",
    "check_envelope",
    "content_hash",
    "emit_relations",
    "inverse_of",
    "is_known_kind",
    "location_targets",
    "normalize",
    "parse_documents",
    "parse_ref",
    "process_entity",
    "process_file",
    "ref_of",
    "register_kind",
    "resolve_placeholders",
    "search_rows",
    "stringify_ref",
    "validate_entity",
]
