"""``manage.py techdocs build|generate|publish``: docs builds without a worker, and for a team's CI."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.ingestion.refs import RefError, parse_ref
from catalog.models import Entity


class Command(BaseCommand):
    help = "Build docs now, generate a site from a checkout, or publish a site built elsewhere."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="build and publish an entity's docs now (no worker)")
        build.add_argument("entity_ref", nargs="*")
        build.add_argument("--all", action="store_true", help="every entity with backstage.io/techdocs-ref")
        build.add_argument("--force", action="store_true", help="build even if the sources did not change")
        generate = sub.add_parser("generate", help="build a checkout's docs into a folder (like techdocs-cli)")
        generate.add_argument("--source-dir", default=".")
        generate.add_argument("--output-dir", default="./site")
        generate.add_argument("--etag", default="")
        generate.add_argument("--site-name", default="")
        publish = sub.add_parser("publish", help="publish a generated site as an entity's docs")
        publish.add_argument("--entity", required=True, help="namespace/kind/name or kind:namespace/name")
        publish.add_argument("--directory", default="./site")

    def handle(self, *args, action: str, **options):
        if action == "build":
            refs = options["entity_ref"]
            if options["all"]:
                from techdocs.sync import documented

                refs = [ref for ref, _ in documented()]
            elif not refs:
                raise CommandError("Name entity refs, or --all")
            self._build(refs, force=options["force"])
        elif action == "generate":
            self._generate(options)
        else:
            self._publish(options)

    def _build(self, refs: list[str], *, force: bool) -> None:
        from techdocs.builder import build

        failed = 0
        for raw in refs:
            outcome = build(_entity(raw).ref, force=force)
            self.stdout.write(f"{outcome.entity_ref}: {outcome.result} {outcome.message}".rstrip())
            failed += outcome.result in ("failed", "refused")
        if failed:
            raise CommandError(f"{failed} of {len(refs)} docs builds failed")

    def _generate(self, options) -> None:
        from techdocs.builder import generate_directory

        source = Path(options["source_dir"])
        if not source.is_dir():
            raise CommandError(f"{source} is not a folder")
        ok, log = generate_directory(source, Path(options["output_dir"]), etag=options["etag"],
                                     site_name=options["site_name"])  # fmt: skip
        if log:
            self.stdout.write(log)
        if not ok:
            raise CommandError("techdocs generate failed")
        self.stdout.write(f"Generated {options['output_dir']}")

    def _publish(self, options) -> None:
        from techdocs.publishing import PublishError, publish_directory

        directory = Path(options["directory"])
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder")
        try:
            site = publish_directory(_entity(options["entity"]), directory)
        except PublishError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Published {site.file_count} files as the docs of {site.entity_ref}")


def _entity(raw: str) -> Entity:
    """An entity by ``kind:namespace/name`` or Backstage's ``namespace/kind/name`` (techdocs-cli --entity)."""
    parts = raw.split("/")
    if ":" not in raw and len(parts) == 3:
        raw = f"{parts[1]}:{parts[0]}/{parts[2]}"
    try:
        ref = parse_ref(raw)
    except RefError as exc:
        raise CommandError(str(exc)) from exc
    entity = Entity.objects.filter(ref=str(ref).lower()).first()
    if entity is None:
        raise CommandError(f"No entity {str(ref).lower()} in the catalog")
    return entity
