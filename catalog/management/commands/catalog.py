"""`manage.py catalog register|refresh|validate`: each works without a running worker."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.ingestion import refresh
from catalog.ingestion.descriptor import process_file
from catalog.ingestion.placeholders import PlaceholderReadError
from catalog.ingestion.sources import SourceError, has_magic
from catalog.models import Location


class Command(BaseCommand):
    help = "Register and refresh catalog locations, or validate descriptor files."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser("register", help="Register a location and process it now.")
        register.add_argument("target", help="file path, git+<url>@<ref>#path=<file>, or a GitHub/GitLab URL")
        register.add_argument("--type", choices=["url", "file"], help="default: file for local paths, else url")
        refresh_cmd = sub.add_parser("refresh", help="Refresh one location (by target or id) or --all.")
        refresh_cmd.add_argument("target", nargs="?")
        refresh_cmd.add_argument("--all", action="store_true")
        refresh_cmd.add_argument("--force", action="store_true", help="re-read even if nothing changed")
        validate = sub.add_parser("validate", help="Validate descriptor files without touching the database.")
        validate.add_argument("paths", nargs="+")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _register(self, target: str, type: str | None, **_):
        location_type = type or ("url" if target.startswith(("git+", "http://", "https://")) else "file")
        if location_type == "file" and not target.startswith("file://"):
            # A plain path is made absolute (links resolved); a glob only absolute, kept as written, so that
            # a '..' in it is refused rather than folded away.
            path = Path(target).expanduser()
            target = str(path.absolute() if has_magic(target) else path.resolve())
        try:
            location = refresh.register_location(target, type=location_type, created_by="cli")
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        self._report(refresh.refresh_location(location.pk, force=True))

    def _refresh(self, target: str | None, all: bool, force: bool, **_):
        if all:
            locations = list(Location.objects.all())
        elif target:
            locations = list(Location.objects.filter(target=target)) or _by_id(target)
        else:
            raise CommandError("Name a location target or id, or pass --all")
        if not locations:
            raise CommandError(f"No location {target!r}")
        failed = False
        for location in locations:
            failed |= self._report(refresh.refresh_location(location.pk, force=force), exit_on_error=False)
        if failed:
            sys.exit(1)

    def _report(self, result, *, exit_on_error: bool = True) -> bool:
        location = Location.objects.get(pk=result.location_id)
        s = result.summary
        self.stdout.write(
            f"{location.ref}: {s.added} added, {s.updated} updated, {s.unchanged} unchanged, "
            f"{s.orphaned} orphaned, {s.errors} error(s)" + ("" if result.changed else " (no change)")
        )
        for error in location.errors.all()[:50]:
            self.stderr.write(f"  {error.level}: {error.where}: {error.message}")
        failed = result.status == Location.Status.ERROR
        if failed and exit_on_error:
            sys.exit(1)
        return failed

    def _validate(self, paths: list[str], **_):
        count = 0
        for name in paths:
            path = Path(name)
            files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
            for file in files:
                count += self._validate_file(file)
        if count:
            self.stderr.write(f"{count} error(s)")
            sys.exit(1)
        self.stdout.write("All descriptors are valid.")

    def _validate_file(self, file: Path) -> int:
        try:
            content = file.read_bytes()
        except OSError as exc:
            self.stderr.write(f"{file}: cannot read: {exc.strerror}")
            return 1

        def read_text(target: str) -> str:
            candidate = (file.parent / target).resolve()
            try:
                return candidate.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PlaceholderReadError(f"cannot read {target}: {exc}") from exc

        result = process_file(content, file=str(file), read_text=read_text)
        # Entity errors name the entity, as `catalog register` and the pages do; documents count from 1.
        errors = [(e, "") for e in result.errors] + [(e, str(p.ref)) for p in result.entities for e in p.errors]
        errors.sort(key=lambda pair: -1 if pair[0].document is None else pair[0].document)
        for error, ref in errors:
            self.stderr.write(error.located(ref))
        return len([e for e, _ in errors if e.level == "error"])


def _by_id(value: str) -> list[Location]:
    try:
        return list(Location.objects.filter(pk=value))
    except Exception:
        return []
