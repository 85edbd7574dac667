"""The actions Callboard checks, as named constants. Apps refer to them by these names only."""

from __future__ import annotations

ENTITY_READ = "catalog.entity.read"
ENTITY_REFRESH = "catalog.entity.refresh"
ENTITY_UNREGISTER = "catalog.entity.unregister"
ENTITY_OVERRIDE = "catalog.entity.override"
LOCATION_REGISTER = "catalog.location.register"
TEMPLATE_RUN = "scaffolder.template.run"
INITIATIVE_WRITE = "scorecards.initiative.write"
SCORECARDS_EXEMPTION_APPROVE = "scorecards.exemption.approve"
ADMIN = "admin"
ALL = "*"

# (name, what it lets a person do); the order is the one the admin shows.
ACTIONS: list[tuple[str, str]] = [
    (ENTITY_READ, "See the entity in lists, pages and the API"),
    (ENTITY_REFRESH, "Refresh the location that provides the entity"),
    (ENTITY_UNREGISTER, "Unregister the entity's location (removes its entities)"),
    (ENTITY_OVERRIDE, "Set the overrides owners may set (deprecation note, extra tags, …)"),
    (LOCATION_REGISTER, "Register new locations (no target entity)"),
    (TEMPLATE_RUN, "Run a software template (the target is the Template entity)"),
    (INITIATIVE_WRITE, "Create, change and delete scorecard initiatives through the API (no target entity)"),
    (SCORECARDS_EXEMPTION_APPROVE, "Approve or deny scorecard exemption requests (any scorecard; its owners "
                                   "may always decide on their own)"),
    (ADMIN, "Administer Callboard: roles, rules, every override field"),
]
KNOWN = {name for name, _ in ACTIONS}
