"""Backstage-compatible TechDocs endpoints under /api/techdocs/ (spec section 9.4), plus publish.

Read permission follows the entity's: a caller who may not read the entity gets 404, as for the catalog.
Built HTML, XML and SVG are served as ``text/plain`` (as Backstage does: the portal's reader fetches and
sanitises them; a browser must never render them on the portal's origin), with a sandboxing CSP besides.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, StreamingHttpResponse
from rest_framework import exceptions, status
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.response import Response

from catalog.api.backstage.views import BackstageView
from catalog.models import Entity
from catalog.shapes import entities_to_backstage, for_shaping
from techdocs import publishing, storage
from techdocs.models import DocSite
from techdocs.sources import DocsSourceError, resolve

UNRENDERED = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml")
SANDBOX_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


class TechDocsView(BackstageView):
    scope_write = "techdocs:write"

    def entity(self, namespace: str, kind: str, name: str) -> Entity:
        ref = f"{kind}:{namespace}/{name}".lower()
        entity = self.entities().filter(ref=ref).first()
        if entity is None:
            raise Http404(f"No entity {ref}")
        return entity


def _lowercase_redirect(request, namespace: str, kind: str, name: str):
    if f"{namespace}{kind}{name}" != f"{namespace}{kind}{name}".lower():
        path = request.path.replace(f"/{namespace}/{kind}/{name}", f"/{namespace}/{kind}/{name}".lower(), 1)
        return HttpResponsePermanentRedirect(path)
    return None


class StaticDocsView(TechDocsView):
    """GET /api/techdocs/static/docs/{namespace}/{kind}/{name}/{path}: a published file, as stored."""

    def get(self, request, namespace: str, kind: str, name: str, path: str = ""):
        if redirect := _lowercase_redirect(request, namespace, kind, name):
            return redirect
        self.entity(namespace, kind, name)
        if path == "" or path.endswith("/"):
            path += "index.html"
        data = storage.read_file(storage.triplet(namespace, kind, name), path)
        if data is None:
            raise Http404(f"No file {path}")
        content_type = storage.content_type(path)
        if content_type in UNRENDERED:
            content_type = "text/plain; charset=utf-8"
        response = HttpResponse(data, content_type=content_type)
        response["Content-Security-Policy"] = SANDBOX_CSP
        response["X-Content-Type-Options"] = "nosniff"
        return response


class TechDocsMetadataView(TechDocsView):
    """GET /api/techdocs/metadata/techdocs/{namespace}/{kind}/{name}: ``techdocs_metadata.json``."""

    def get(self, request, namespace: str, kind: str, name: str):
        self.entity(namespace, kind, name)
        metadata = storage.read_metadata(storage.triplet(namespace, kind, name))
        if metadata is None:
            raise Http404(f"No docs published for {kind}:{namespace}/{name}".lower())
        return Response(metadata)


class EntityMetadataView(TechDocsView):
    """GET /api/techdocs/metadata/entity/{namespace}/{kind}/{name}: the entity and its docs location."""

    def get(self, request, namespace: str, kind: str, name: str):
        entity = self.entity(namespace, kind, name)
        document = entities_to_backstage([for_shaping(Entity.objects.filter(pk=entity.pk)).get()])[0]
        try:
            kind_, target = resolve(entity.body).type_and_target
            document["locationMetadata"] = {"type": kind_, "target": target}
        except DocsSourceError as exc:
            raise exceptions.NotFound(str(exc)) from exc
        return Response(document)


class SyncView(TechDocsView):
    """GET /api/techdocs/sync/{namespace}/{kind}/{name}: Backstage's build-then-serve handshake.

    Callboard builds when sources change, never on a view: this answers from the last build at once
    (``finish`` with ``updated: false``), and queues a first build only for docs never built at all.
    """

    def get(self, request, namespace: str, kind: str, name: str):
        entity = self.entity(namespace, kind, name)
        site = DocSite.objects.filter(entity_ref=entity.ref).first()
        events = []
        if site is None and settings.TECHDOCS_BUILDER != "external":
            from techdocs.tasks import build_docs

            build_docs.delay(entity.ref)
            events.append(("log", json.dumps("No docs were built yet: a build was queued")))
        elif site is not None and site.status in (DocSite.Status.FAILED, DocSite.Status.REFUSED):
            events.append(("log", json.dumps(f"The last build failed: {site.error}")))
        events.append(("finish", json.dumps({"updated": False})))
        body = "".join(f"event: {event}\ndata: {data}\n\n" for event, data in events)
        response = StreamingHttpResponse(iter([body]), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        return response


class PublishView(TechDocsView):
    """POST /api/techdocs/publish/{namespace}/{kind}/{name}: a site built in CI, as a .tar.gz body
    (``techdocs generate`` output, or Backstage's ``techdocs-cli generate``). Needs ``techdocs:write``
    and the right to refresh the entity."""

    parser_classes = [MultiPartParser, FileUploadParser]

    def post(self, request, namespace: str, kind: str, name: str):
        from catalog.permissions import REFRESH, decide, require

        entity = self.entity(namespace, kind, name)
        require(decide(request.user, REFRESH, entity))
        if settings.TECHDOCS_BUILDER == "local":
            raise exceptions.PermissionDenied("TECHDOCS_BUILDER=local: this portal builds docs itself")
        upload = request.FILES.get("file") or request.FILES.get("site")
        if upload is None:
            raise exceptions.ValidationError("Send the site as a .tar.gz file field named 'file'")
        with tempfile.TemporaryDirectory(prefix="callboard-publish-") as tmp:
            try:
                publishing.extract_site(io.BytesIO(upload.read()), Path(tmp))
            except (tarfile.TarError, publishing.PublishError, OSError) as exc:
                raise exceptions.ValidationError(f"Cannot read the site archive: {exc}") from exc
            try:
                site = publishing.publish_directory(entity, Path(tmp))
            except publishing.PublishError as exc:
                raise exceptions.ValidationError(str(exc)) from exc
        return Response({"entity": entity.ref, "files": site.file_count}, status=status.HTTP_201_CREATED)
