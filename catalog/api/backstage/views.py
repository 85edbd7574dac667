"""Backstage-compatible endpoints under /api/catalog/ (spec section 7.1)."""

from __future__ import annotations

import base64
import json
from functools import cached_property

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import facets as facet_snapshot
from catalog import predicates, shapes_sql
from catalog.api.backstage.query import (
    QueryError,
    apply_filters,
    apply_predicate,
    full_text,
    location_predicate,
    parse_fields,
    parse_order,
    project,
)
from catalog.cache import bump_catalog_version, per_version_recent, versioned_key
from catalog.ingestion import refresh
from catalog.ingestion.descriptor import process_file
from catalog.ingestion.placeholders import PlaceholderReadError
from catalog.ingestion.refs import RefError, parse_ref
from catalog.ingestion.sources import SourceError, parse_target
from catalog.models import Entity, Location, SearchRow
from catalog.permissions import (
    READ,
    REFRESH,
    REGISTER,
    UNREGISTER,
    decide,
    entity_filter,
    location_decision,
    readable_locations,
    require,
)  # fmt: skip
from catalog.shapes import SHAPE_FIELDS, entities_to_backstage, for_shaping
from catalog.tasks import schedule_refresh

ERROR_NAMES = {400: "InputError", 401: "AuthenticationError", 403: "NotAllowedError", 404: "NotFoundError",
               405: "InputError", 409: "ConflictError"}  # fmt: skip
DEFAULT_QUERY_LIMIT = 200
CACHE_SECONDS = 300  # facets; also until the catalog changes (keys carry its version)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict"


MAX_LIMIT = 10_000


MAX_ANCESTRY = 32  # nested Location entities deeper than this are not followed


class JSONAlways(DefaultContentNegotiation):
    """Backstage's API answers JSON whatever ``Accept`` says, as Backstage does. Skipping DRF's renderer
    negotiation is also a tenth of a by-name read's CPU. Request bodies are still parsed by their type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class BackstageView(APIView):
    """Errors in Backstage's shape: {error: {name, message}, request: {method, url}, response: {statusCode}}."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONAlways
    scope_read = "catalog:read"
    scope_write = "catalog:write"

    @cached_property
    def read_filter(self):
        """What the caller may read, worked out once per request."""
        return entity_filter(self.request.user, READ)

    def entities(self):
        """Every entity the caller may read: the base of every query here (filtered in SQL)."""
        return self.read_filter.apply(Entity.objects.all())

    def locations(self):
        """Every location providing an entity the caller may read."""
        return readable_locations(Location.objects.all(), self.request.user, self.read_filter)

    def handle_exception(self, exc):
        if isinstance(exc, QueryError | RefError | SourceError):
            exc = exceptions.ValidationError(str(exc))
        if isinstance(exc, Http404 | Entity.DoesNotExist | Location.DoesNotExist):
            exc = exceptions.NotFound(str(exc) or "Not found")
        response = super().handle_exception(exc)
        detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
        response.data = {
            "error": {"name": ERROR_NAMES.get(response.status_code, "Error"), "message": _plain(detail)},
            "request": {"method": self.request.method, "url": self.request.get_full_path()},
            "response": {"statusCode": response.status_code},
        }
        return response


def _plain(detail) -> str:
    """DRF's error detail (a string, a list, or a dict by field) as one plain message."""
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_plain(value)}" for key, value in detail.items())
    if isinstance(detail, list | tuple):
        return "; ".join(_plain(item) for item in detail)
    return str(detail)


def _body(request) -> dict:
    """The JSON object a POST carries; Backstage refuses anything else."""
    if not isinstance(request.data, dict):
        raise QueryError("Request body must be a JSON object")
    return request.data


def _strings(value, name: str) -> list[str]:
    """A list of strings (a single string is one item), or a QueryError naming ``name``."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise QueryError(f"{name} must be a list of strings")
    return value


def _int(value, default: int, *, name: str) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise QueryError(f"{name} must be an integer") from exc
    if number < 0:
        raise QueryError(f"{name} must not be negative")
    return min(number, MAX_LIMIT) if name == "limit" else number


def _encode_cursor(data: dict) -> str:
    """Base64 of JSON, as Backstage's: its client decodes a cursor with ``atob`` to see if it holds a query."""
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def _body_cursor(body: dict) -> dict | None:
    """The decoded ``cursor`` of a POST body, or None when it has none."""
    if body.get("cursor") is None:
        return None
    if not isinstance(body["cursor"], str):
        raise QueryError("cursor must be a string")
    return _decode_cursor(body["cursor"])


def _decode_cursor(value: str) -> dict:
    """Standard or URL-safe base64 (older cursors), with a ``+`` that arrived unencoded as a space."""
    try:
        data = json.loads(base64.b64decode(value.replace(" ", "+").encode(), altchars=b"-_"))
    except (ValueError, UnicodeError) as exc:
        raise QueryError("Malformed cursor") from exc
    if not isinstance(data, dict):
        raise QueryError("Malformed cursor")
    return data


def _page(queryset, order: list[str], offset: int, limit: int, *, with_relations: bool = True,
          as_json: bool = False) -> list:
    """One page, sorted. In ref order (the default, and keyset paging) one query brings the rows and their
    relations; offsets and other orders sort the ids first (a narrow sort), then read the full rows of just
    those ids. ``as_json``: rows carry their Backstage document as JSON text (``catalog/shapes_sql.py``)."""
    if order == ["ref"] and offset == 0:  # with an offset PostgreSQL would compute skipped rows' relations
        if as_json:
            queryset = shapes_sql.with_shaped_json(queryset)
        else:
            queryset = for_shaping(queryset) if with_relations else queryset.only(*SHAPE_FIELDS)
        return list(queryset.order_by("ref")[:limit])
    ids = list(queryset.order_by(*dict.fromkeys([*order, "ref"])).values_list("id", flat=True)[offset : offset + limit])
    if as_json:
        by_id = {row.id: row for row in shapes_sql.with_shaped_json(Entity.objects.filter(id__in=ids))}
    else:
        by_id = Entity.objects.only(*SHAPE_FIELDS).in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def _as_json(fields) -> bool:
    """Whole entities are assembled by the database where it can (every field wanted, a known database)."""
    return fields is None and shapes_sql.supported()


def _json_response(text: str) -> HttpResponse:
    return HttpResponse(text.encode(), content_type="application/json")


def _wants_relations(fields) -> bool:
    return fields is None or any(parts[0] == "relations" for parts in fields)


def _shaped(entities, fields) -> list[dict]:
    return [project(e, fields) for e in entities_to_backstage(entities, with_relations=_wants_relations(fields))]


class EntitiesView(BackstageView):
    """GET /entities: filter, fields, order, limit/offset/after (a Link header points at the next page)."""

    def get(self, request):
        params = request.query_params
        queryset = apply_filters(self.entities(), params.getlist("filter"))
        order = parse_order(params.getlist("order")) or ["ref"]
        fields = parse_fields(params.getlist("fields"))
        paged = any(k in params for k in ("limit", "offset", "after"))
        offset = _int(params.get("offset"), 0, name="offset")
        cursor = _decode_cursor(params["after"]) if params.get("after") else {}
        if cursor.get("ref") is not None and order == ["ref"]:
            # Keyset paging in ref order: every page costs what the first one does.
            queryset, offset = queryset.filter(ref__gt=str(cursor["ref"])), 0
        elif cursor:
            offset = _int(cursor.get("offset"), 0, name="offset")
        default_limit = _int(cursor.get("limit"), 100, name="limit") if paged else MAX_LIMIT
        limit = _int(params.get("limit"), default_limit, name="limit")  # a cursor keeps its page size
        as_json = _as_json(fields)
        rows = _page(queryset, order, offset, limit + 1, with_relations=_wants_relations(fields), as_json=as_json)
        if as_json:
            response = _json_response(shapes_sql.items_json(rows[:limit]))
        else:
            response = Response(_shaped(rows[:limit], fields))
        if paged and len(rows) > limit:
            query = params.copy()
            query.pop("offset", None)
            next_cursor = {"ref": rows[limit - 1].ref} if order == ["ref"] else {"offset": offset + limit}
            next_cursor["limit"] = limit
            query["after"] = _encode_cursor(next_cursor)
            response["Link"] = f'<{request.path}?{query.urlencode()}>; rel="next"'
        return response


class EntitiesByQueryView(BackstageView):
    """GET /entities/by-query (``filter=``) and POST /entities/by-query (a predicate): cursor pagination,
    full-text filter, one order field. A cursor carries the question and the page size it was made with
    (and a predicate cursor its predicate, which is how Backstage's client knows to POST it)."""

    post_reads = True  # a catalog:read token may POST here: nothing is written

    def get(self, request):
        params = request.query_params
        if params.get("cursor"):
            source = _decode_cursor(params["cursor"])
        else:
            source = {
                "filter": params.getlist("filter"),
                "orderField": params.getlist("orderField")[:1],
                "term": params.get("fullTextFilterTerm", ""),
                "termFields": [f for v in params.getlist("fullTextFilterFields") for f in v.split(",") if f],
                "offset": _int(params.get("offset"), 0, name="offset"),
                "totalItems": params.get("totalItems") or "include",
            }
        return self._answer(source, params.get("limit"), parse_fields(params.getlist("fields")))

    def post(self, request):
        body = _body(request)
        source = _body_cursor(body)
        if source is None:
            order_by = body.get("orderBy") or []
            order_by = [order_by] if isinstance(order_by, dict) else order_by
            if not isinstance(order_by, list) or not all(isinstance(o, dict) and o.get("field") for o in order_by):
                raise QueryError("orderBy must be a list of {field, order}")
            text = body.get("fullTextFilter") or {}
            if not isinstance(text, dict):
                raise QueryError("fullTextFilter must be {term, fields?}")
            source = {
                "query": body.get("query"),
                "orderField": [f"{o['field']},{o.get('order') or 'asc'}" for o in order_by][:1],
                "term": str(text.get("term") or ""),
                "termFields": [str(f) for f in text.get("fields") or []],
                "offset": _int(body.get("offset"), 0, name="offset"),
                "totalItems": body.get("totalItems") or "include",
            }
        if "query" not in source:
            source["query"] = None  # a cursor made by GET, followed by POST: still a predicate cursor now
        return self._answer(source, body.get("limit"), parse_fields(_strings(body.get("fields"), "fields")))

    def _answer(self, source: dict, limit_param, fields):
        queryset = self.entities()
        if source.get("query") is not None:
            queryset = apply_predicate(queryset, predicates.parse(source["query"]))
        queryset = apply_filters(queryset, _strings(source.get("filter"), "filter"))
        order = ["ref"]
        if source.get("orderField"):
            field, _, direction = str(source["orderField"][0]).partition(",")
            order = parse_order([f"{direction or 'asc'}:{field}"])
        term = str(source.get("term") or "").strip().lower()
        if term:
            sort_field = str(source["orderField"][0]).partition(",")[0] if source.get("orderField") else "metadata.uid"
            term_fields = [str(f).lower() for f in source.get("termFields") or []] or [sort_field.lower()]
            queryset = queryset.filter(full_text(term, term_fields))
        # A page size given now wins; otherwise the one the cursor was made with.
        limit = _int(limit_param, _int(source.get("limit"), DEFAULT_QUERY_LIMIT, name="limit"), name="limit")
        offset = _int(source.get("offset"), 0, name="offset")
        page, page_offset = queryset, offset
        if order == ["ref"] and source.get("afterRef") is not None:
            # Keyset paging in ref order, as GET /entities: every page costs what the first one does. The
            # offset stays in the cursor for prevCursor.
            page, page_offset = queryset.filter(ref__gt=str(source["afterRef"])), 0
        as_json = _as_json(fields)
        rows = _page(page, order, page_offset, limit + 1, with_relations=_wants_relations(fields), as_json=as_json)
        page_info = {}
        earlier = {key: value for key, value in source.items() if key != "afterRef"}
        if len(rows) > limit:
            after = {"afterRef": rows[limit - 1].ref} if order == ["ref"] else {}
            page_info["nextCursor"] = _encode_cursor({**earlier, "offset": offset + limit, "limit": limit, **after})
        if offset > 0:
            page_info["prevCursor"] = _encode_cursor({**earlier, "offset": max(0, offset - limit), "limit": limit})
        body = {"pageInfo": page_info}
        if source.get("totalItems") != "exclude":
            body["totalItems"] = queryset.count()
        if as_json:  # the items are JSON text already: the envelope is written around them
            envelope = json.dumps(body, separators=(",", ":"))
            return _json_response(f'{{"items":{shapes_sql.items_json(rows[:limit])},{envelope[1:]}')
        body["items"] = _shaped(rows[:limit], fields)
        return Response(body)


class EntityByNameView(BackstageView):
    """The most frequent call: answered from this process's memory until the catalog changes.

    Only callers who may read everything share the remembered answers; others read through their filter.
    """

    def get(self, request, kind: str, namespace: str, name: str):
        ref = f"{kind}:{namespace}/{name}".lower()
        if not self.read_filter.unrestricted:
            return _json_response(self._one(ref))
        return _json_response(per_version_recent("by-name", ref, lambda: self._one(ref)))

    def _one(self, ref: str) -> str:
        """The document as JSON text: written by the database where it can (``catalog/shapes_sql.py``)."""
        if shapes_sql.supported():
            if self.read_filter.unrestricted:
                return shapes_sql.readable_entity_json(ref)
            return shapes_sql.entity_json(self.entities(), ref)
        entity = entities_to_backstage([for_shaping(self.entities()).get(ref=ref)])[0]
        return json.dumps(entity, ensure_ascii=False, separators=(",", ":"))


class EntityAncestryView(BackstageView):
    """The entity, the Location entity whose targets included its file, that one's parent, and so on up.

    Backstage's chain ends at a generated Location entity for the registered location; Callboard has no
    such synthetic entity, so the chain ends at the registered root file's entities.
    """

    def get(self, request, kind: str, namespace: str, name: str):
        entity = self.entities().select_related("location").get(ref=f"{kind}:{namespace}/{name}".lower())
        tree = entity.location.tree if entity.location else {}
        chain, parents = [entity], {}
        current = entity
        while len(chain) <= MAX_ANCESTRY:
            parent_ref = (tree.get(current.source_file) or "").lower()
            parents[current.ref] = [parent_ref] if parent_ref else []
            parent = self.entities().filter(ref=parent_ref).first() if parent_ref else None
            if parent is None or parent.ref in {e.ref for e in chain}:
                break
            chain.append(parent)
            current = parent
        items = [
            {"entity": shaped, "parentEntityRefs": parents.get(e.ref, [])}
            for e, shaped in zip(chain, entities_to_backstage(chain), strict=True)
        ]
        return Response({"rootEntityRef": entity.ref, "items": items})


class EntityByUidView(BackstageView):
    def get(self, request, uid):
        return Response(entities_to_backstage([for_shaping(self.entities()).get(uid=uid)])[0])

    def delete(self, request, uid):
        entity = self.entities().get(uid=uid)
        require(decide(request.user, UNREGISTER, entity))
        location_id = entity.location_id
        entity.delete()
        bump_catalog_version()
        if location_id:
            # As in Backstage: if the location still emits it, it comes back on the next refresh.
            schedule_refresh(location_id, force=True)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EntitiesByRefsView(BackstageView):
    """POST /entities/by-refs: items in request order, null where a ref has no entity."""

    post_reads = True  # a catalog:read token may POST here: nothing is written

    def post(self, request):
        body = _body(request)
        refs = body.get("entityRefs")
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise QueryError("Body must be {entityRefs: [string, ...]}")
        canonical = [str(parse_ref(r)) if ":" in r else r.lower() for r in refs]
        fields = parse_fields(_strings(body.get("fields"), "fields"))
        queryset = apply_filters(self.entities().filter(ref__in=canonical), request.query_params.getlist("filter"))
        if body.get("query") is not None:  # a predicate, as POST /entities/by-query takes
            queryset = apply_predicate(queryset, predicates.parse(body["query"]))
        entities = list(queryset)
        by_ref = {entity.ref: shaped for entity, shaped in zip(entities, _shaped(entities, fields), strict=True)}
        return Response({"items": [by_ref.get(ref) for ref in canonical]})


# Facets on these keys count the original-case column; other keys count the lower-cased search rows.
class EntityFacetsView(BackstageView):
    """GET /entity-facets?facet=kind&facet=spec.type: value counts within the filter."""

    post_reads = True  # a catalog:read token may POST here: nothing is written

    def get(self, request):
        facets = request.query_params.getlist("facet")
        if not facets:
            raise QueryError("Missing facet parameter")
        return self._answer(facets, request.query_params.getlist("filter"), request.query_params.urlencode())

    def post(self, request):
        """POST /entity-facets {facets, query?}: a predicate that says what ``filter=`` can is answered as
        that filter is (from the snapshots where they apply); any other from the snapshot's cells where it
        names only columns, else counted live, one query per facet."""
        body = _body(request)
        facets = _strings(body.get("facets"), "facets")
        if not facets:
            raise QueryError("Missing facets")
        query = body.get("query")
        node = predicates.parse(query) if query is not None else None
        converted = predicates.as_filters(node) if node is not None else []
        filters = predicates.filter_strings(converted) if converted is not None else None
        key = json.dumps({"facets": facets, "filter": filters} if filters is not None else body, sort_keys=True)
        if filters is not None:
            return self._answer(facets, filters, key)
        if not self.read_filter.unrestricted:
            entities = apply_predicate(self.entities(), node)
            return Response({"facets": self._count(facets, [], entities, restricted=True)})
        return Response({"facets": self._cached(key, lambda: self._predicate_count(facets, node))})

    def _predicate_count(self, facets: list[str], node: predicates.Node) -> dict:
        """Column facets from the snapshot's cells where the predicate names only columns that agree with
        their search rows (``$not`` and nested ``$any`` too); the others counted live."""
        result = {facet: facet_snapshot.predicate_counts(facet, node) for facet in facets}
        live = [facet for facet, counts in result.items() if counts is None]
        if live:
            result.update(self._count(live, [], apply_predicate(Entity.objects.all(), node), restricted=True))
        return result

    def _answer(self, facets: list[str], filters: list[str], key: str):
        if not self.read_filter.unrestricted:
            return Response({"facets": self._count(facets, filters, self.entities(), restricted=True)})
        return Response({"facets": self._cached(key, lambda: self._count(facets, filters, Entity.objects.all()))})

    @staticmethod
    def _cached(key: str, count):
        """Facets for readers who may read everything, shared until the catalog changes."""
        key = versioned_key("catalog:api-facets", key)
        cached = cache.get(key)
        if cached is None:
            cached = count()
            cache.set(key, cached, CACHE_SECONDS)
        return cached

    @staticmethod
    def _count(facets: list[str], filters: list[str], base, *, restricted: bool = False) -> dict:
        kinds = None if restricted else facet_snapshot.kinds_only(filters)
        result = {}
        entities = None  # the filtered queryset, built only for a facet the snapshots cannot answer
        for facet in facets:
            if not restricted:  # the snapshots count everything
                counts = facet_snapshot.column_counts(facet, filters)
                if counts is None and kinds is not None:
                    counts = facet_snapshot.row_counts(facet.lower(), kinds)
                if counts is not None:
                    result[facet] = counts
                    continue
            if entities is None:
                entities = apply_filters(base, filters)
            column = facet_snapshot.FACET_COLUMNS.get(facet.lower())
            if column:
                counts = entities.exclude(**{column: ""}).values(column).annotate(count=Count("id")).order_by(column)
                result[facet] = [{"value": row[column], "count": row["count"]} for row in counts]
                continue
            rows = SearchRow.objects.filter(key=facet.lower()).exclude(value__isnull=True)
            if filters or restricted:
                rows = rows.filter(entity_id__in=entities.values("id"))
            # Search rows are unique per (entity, key, value): a plain count is a distinct count, and it is
            # answered from the (key, value) index alone.
            counts = rows.values("value").annotate(count=Count("*")).order_by("value")
            result[facet] = [{"value": row["value"], "count": row["count"]} for row in counts]
        return result


def _location_json(location: Location) -> dict:
    return {"id": str(location.pk), "type": location.type, "target": location.target}


class LocationsView(BackstageView):
    def get(self, request):
        locations = self.locations()
        return Response([{"data": _location_json(loc)} for loc in locations])

    def post(self, request):
        require(decide(request.user, REGISTER))
        data = request.data if isinstance(request.data, dict) else {}
        location_type, target = data.get("type"), data.get("target")
        if not isinstance(location_type, str) or not isinstance(target, str) or not target:
            raise QueryError("Body must be {type, target}")
        if request.query_params.get("dryRun") == "true":
            analysis = refresh.analyze(target, type=location_type)
            shaped = [f.processed.entity for f in analysis.entities if f.processed.valid]
            return Response(
                {
                    "exists": analysis.existing_location is not None,
                    "location": {"id": f"{location_type}:{target}", "type": location_type, "target": target},
                    "entities": shaped,
                },
                status=status.HTTP_201_CREATED,  # as Backstage's, whose client accepts nothing else
            )
        existing = Location.objects.filter(target=target).first()
        if existing and request.query_params.get("onConflict") != "refresh":
            raise Conflict(f"Location {location_type}:{target} already exists")
        with transaction.atomic():
            location = refresh.register_location(
                target, type=location_type, presence=data.get("presence") or "required",
                created_by=request.user.get_username(),
            )  # fmt: skip
            schedule_refresh(location.pk, force=True)
        return Response({"location": _location_json(location), "entities": []}, status=status.HTTP_201_CREATED)


class LocationDetailView(BackstageView):
    def get(self, request, location_id):
        return Response(_location_json(self.locations().get(pk=location_id)))

    def delete(self, request, location_id):
        location = self.locations().get(pk=location_id)
        require(location_decision(request.user, UNREGISTER, location))
        refresh.unregister_location(location.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def put(self, request, location_id):
        """PUT /locations/{id} {type, target}: point the location elsewhere and refresh it now."""
        location = self.locations().get(pk=location_id)
        require(location_decision(request.user, UNREGISTER, location))
        require(decide(request.user, REGISTER))
        body = _body(request)
        location_type, target = body.get("type") or location.type, body.get("target")
        if not isinstance(location_type, str) or not isinstance(target, str) or not target:
            raise QueryError("Body must be {type, target}")
        if Location.objects.filter(target=target).exclude(pk=location.pk).exists():
            raise Conflict(f"Location {location_type}:{target} already exists")
        parse_target(location_type, target)  # refused targets are refused here as at registration
        with transaction.atomic():
            Location.objects.filter(pk=location.pk).update(type=location_type, target=target, manifest={})
            schedule_refresh(location.pk, force=True)
        location.type, location.target = location_type, target
        return Response(_location_json(location))


class LocationsByQueryView(BackstageView):
    """POST /locations/by-query {query?, limit?, cursor?}: registered locations matching a predicate on
    ``id``, ``type`` and ``target`` (case-insensitive), in target order, a page at a time."""

    post_reads = True  # a catalog:read token may POST here: nothing is written

    def post(self, request):
        body = _body(request)
        source = _body_cursor(body)
        if source is None:
            source = {"query": body.get("query"), "offset": 0}
        limit = _int(body.get("limit"), _int(source.get("limit"), DEFAULT_QUERY_LIMIT, name="limit"), name="limit")
        offset = _int(source.get("offset"), 0, name="offset")
        locations = self.locations()
        if source.get("query") is not None:
            locations = locations.filter(location_predicate(predicates.parse(source["query"])))
        page = list(locations.order_by("target", "id")[offset : offset + limit + 1])
        page_info = {}
        if len(page) > limit:
            page_info["nextCursor"] = _encode_cursor({**source, "offset": offset + limit, "limit": limit})
        return Response({
            "items": [_location_json(loc) for loc in page[:limit]],
            "totalItems": locations.count(),
            "pageInfo": page_info,
        })  # fmt: skip


class LocationByEntityView(BackstageView):
    """GET /locations/by-entity/{kind}/{namespace}/{name}: the registered location that produced it."""

    def get(self, request, kind: str, namespace: str, name: str):
        entity = self.entities().select_related("location").get(ref=f"{kind}:{namespace}/{name}".lower())
        if entity.location is None:
            raise exceptions.NotFound(f"No location produced {entity.ref}")
        return Response(_location_json(entity.location))


class RefreshView(BackstageView):
    """POST /refresh {entityRef}: refresh the location that provides the entity, now."""

    def post(self, request):
        ref = request.data.get("entityRef") if isinstance(request.data, dict) else None
        if not isinstance(ref, str):
            raise QueryError("Body must be {entityRef}")
        entity = self.entities().get(ref=str(parse_ref(ref)).lower())
        require(decide(request.user, REFRESH, entity))
        if entity.location_id:
            schedule_refresh(entity.location_id, force=True)
        return Response(status=status.HTTP_200_OK)


class ValidateEntityView(BackstageView):
    """POST /validate-entity {entity, location}: full processing without persisting."""

    post_reads = True  # a catalog:read token may POST here: nothing is written

    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        entity = data.get("entity")
        if not isinstance(entity, dict):
            raise QueryError("Body must be {entity, location}")

        def no_reads(target: str) -> str:
            raise PlaceholderReadError("placeholders are not resolved by validate-entity")

        content = json.dumps(entity).encode()
        result = process_file(content, file=str(data.get("location") or "validate-entity"), read_text=no_reads)
        errors = [(e, "") for e in result.errors] + [(e, str(p.ref)) for p in result.entities for e in p.errors]
        if errors:
            return Response(
                {
                    "errors": [
                        {"name": e.error_name, "message": e.located(ref), "field": e.field, "rule": e.rule}
                        for e, ref in errors
                    ]
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(status=status.HTTP_200_OK)


class AnalyzeLocationView(BackstageView):
    """POST /analyze-location {location: {type, target}}: what registering it would give."""

    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        location = data.get("location") or {}
        require(decide(request.user, REGISTER))
        if not isinstance(location, dict) or not isinstance(location.get("target"), str):
            raise QueryError("Body must be {location: {type, target}}")
        analysis = refresh.analyze(location["target"], type=location.get("type") or "url")
        existing = [
            {"location": {"type": "url", "target": f.source.target}, "isRegistered": analysis.existing_location
             is not None, "entity": f.processed.entity}
            for f in analysis.entities if f.processed.valid
        ]  # fmt: skip
        return Response({
            "existingEntityFiles": existing,
            "generateEntities": [],
            "errors": [{"message": e.message, "file": e.file, "document": e.document, "field": e.field}
                       for e in analysis.errors],
        })  # fmt: skip


class UnknownPathView(BackstageView):
    """Any other path under /api/catalog/ (or an id that cannot be one): a NotFoundError, as Backstage's."""

    post_reads = True  # nothing here is written: a read token gets the 404, not a 403

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise exceptions.NotFound(f"No route for {request.method} {request.path}")


class PushWebhookView(APIView):
    """POST /api/catalog/webhooks/{github,gitlab}: refresh the locations a push touched, now."""

    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request, provider: str):
        from django.conf import settings

        from catalog.ingestion import webhooks

        secret = settings.CATALOG_WEBHOOK_SECRET
        try:
            if provider == "github":
                webhooks.verify_github(secret, request.body, request.headers.get("X-Hub-Signature-256", ""))
                if request.headers.get("X-GitHub-Event") == "ping":
                    return Response({"pong": True})
            elif provider == "gitlab":
                webhooks.verify_gitlab(secret, request.headers.get("X-Gitlab-Token", ""))
            else:
                raise Http404
            payload = json.loads(request.body or b"{}")
            if not isinstance(payload, dict):
                raise webhooks.WebhookRejected("The payload must be a JSON object")
            locations = webhooks.affected_locations(payload)
        except (webhooks.WebhookRejected, ValueError) as exc:
            return Response({"error": {"name": "NotAllowedError", "message": str(exc)}}, status=403)
        with transaction.atomic():
            for location in locations:
                schedule_refresh(location.pk, force=True)
        return Response({"refreshing": [str(loc.pk) for loc in locations]}, status=202)
