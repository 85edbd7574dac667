"""Catalog models, re-exported so callers import from ``catalog.models``."""

from catalog.models.entities import Entity, EntityOverride, SearchRow, Star
from catalog.models.errors import ProcessingError
from catalog.models.locations import Location, LocationRefresh
from catalog.models.relations import Relation
from catalog.models.rules import CatalogRule
from catalog.models.visits import Visit

__all__ = [
    "CatalogRule",
    "Entity",
    "EntityOverride",
    "Location",
    "LocationRefresh",
    "ProcessingError",
    "Relation",
    "SearchRow",
    "Star",
    "Visit",
]
