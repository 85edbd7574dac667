"""catalog:register: register the published catalog-info.yaml as a location and refresh it now."""

from __future__ import annotations

from catalog import permissions
from catalog.ingestion import refresh
from catalog.ingestion.sources import SourceError
from catalog.models import Entity, Location
from plugins.scaffolder import ScaffolderAction


def catalog_info_url(data: dict) -> str:
    if data.get("catalogInfoUrl"):
        return data["catalogInfoUrl"]
    contents = data.get("repoContentsUrl")
    if not contents:
        raise ValueError("catalog:register needs catalogInfoUrl, or repoContentsUrl and catalogInfoPath")
    path = (data.get("catalogInfoPath") or "/catalog-info.yaml").lstrip("/")
    if contents.startswith("git+"):
        return f"{contents.partition('#')[0]}#path={path}"
    return f"{contents.rstrip('/')}/{path}"


def catalog_register(ctx) -> None:
    data = ctx.input
    try:
        _register(ctx, data)
    except Exception as exc:
        if not data.get("optional"):
            raise
        ctx.log(f"Registration failed and is optional: {exc}")


def _register(ctx, data: dict) -> None:
    url = catalog_info_url(data)
    permissions.require(permissions.decide(ctx.user, permissions.REGISTER))
    try:
        location = refresh.register_location(url, type=Location.Type.URL, created_by=ctx.user_ref or "scaffolder")
    except SourceError as exc:
        raise ValueError(str(exc)) from None
    result = refresh.refresh_location(location.pk, force=True)
    if result.status == Location.Status.ERROR:
        raise ValueError(f"Registering {url} failed: {result.message}")
    names = list(Entity.objects.filter(location_id=location.pk).order_by("ref").values_list("ref", "kind", "name"))
    chosen = next((r for r, k, n in names if k.lower() == "component" and not n.startswith("generated-")), None)
    chosen = chosen or next((r for r, _, n in names if not n.startswith("generated-")), None)
    chosen = chosen or (names[0][0] if names else None)
    ctx.log(f"Registered {url}" + (f" ({chosen})" if chosen else ""))
    if chosen:
        ctx.output("entityRef", chosen)
    ctx.output("catalogInfoUrl", url)


CATALOG_REGISTER = ScaffolderAction(
    id="catalog:register",
    handler=catalog_register,
    description="Registers a catalog-info.yaml as a catalog location and refreshes it at once.",
    input_schema={
        "type": "object",
        "properties": {
            "catalogInfoUrl": {"type": "string", "description": "Location target of the descriptor"},
            "repoContentsUrl": {"type": "string", "description": "publish:*'s repoContentsUrl output"},
            "catalogInfoPath": {"type": "string", "default": "/catalog-info.yaml"},
            "optional": {"type": "boolean", "description": "Log failures instead of failing the step"},
        },
    },
    output_schema={
        "type": "object",
        "properties": {  # examples: what a dry run reports, since it registers nothing
            "entityRef": {"type": "string", "examples": ["component:default/example"]},
            "catalogInfoUrl": {"type": "string", "examples": ["git+file:///var/lib/callboard/repos/scaffolder/"
                                                             "example.git@main#path=catalog-info.yaml"]},
        },
    },
)
