"""TechDocs: one published site per entity, and the builds that made it."""

from techdocs.models.sites import DocSite

__all__ = ["DocSite"]
