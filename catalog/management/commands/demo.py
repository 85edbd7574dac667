"""`manage.py demo load`: put the demo organisation into local git repositories and the catalog, once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from catalog.demo import demo_loaded, load_demo


class Command(BaseCommand):
    help = "Load the demo organisation (Northwind Transit) once; --force loads it again."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load")
        load.add_argument("--force", action="store_true")

    def handle(self, *args, action: str, force: bool = False, **options):
        if demo_loaded() and not force:
            self.stdout.write("Demo organisation already loaded (demo load --force reloads it).")
            return
        results = load_demo()
        total = sum(r.summary.added + r.summary.updated for _, r in results if r)
        errors = sum(r.summary.errors for _, r in results if r)
        self.stdout.write(
            self.style.SUCCESS(f"Loaded the demo organisation: {len(results)} repositories, {total} entities")
            + (f", {errors} error(s)" if errors else "")
        )
