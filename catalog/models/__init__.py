"""Catalog models, re-exported so callers import from ``catalog.models``."""

from catalog.models.entities import Entity, EntityOverride, SearchRow, Star
from catalog.models.errors import ProcessingError
from catalog.models.locations import Location
from catalog.models.relations import Relation

__all__ = ["Entity", "EntityOverride", "Location", "ProcessingError", "Relation", "SearchRow", "Star"]
