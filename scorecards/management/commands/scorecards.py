"""``manage.py scorecards evaluate [--entity REF] [--json] [--no-facts]``: collect facts, evaluate now, without a
worker, and print. ``manage.py scorecards reminders``: the initiative reminders due now
(scorecards.initiatives.reminders)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from catalog.ingestion.refs import RefError, parse_ref, stringify_ref
from catalog.models import Entity
from scorecards import evaluator, facts
from scorecards.report import entity_report

MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "exempt": "EXEMPT", None: "-"}


class Command(BaseCommand):
    help = "Evaluate scorecards now and print each entity's levels and rule results."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        evaluate = sub.add_parser("evaluate", help="evaluate every entity, or one (--entity)")
        evaluate.add_argument("--entity", help="entity ref, e.g. component:default/payments (kind: component)")
        evaluate.add_argument("--json", action="store_true", help="print the API's JSON documents")
        evaluate.add_argument("--no-facts", action="store_true", help="do not read repositories first")
        sub.add_parser("reminders", help="print the initiatives due in 7 days or overdue, and whom to remind")

    def handle(self, *args, action: str, entity: str | None = None, json: bool = False, no_facts: bool = False,
               **options) -> None:  # fmt: skip
        if action == "reminders":
            self._reminders()
            return
        refs = None
        if entity:
            try:
                ref = parse_ref(entity, default_kind="component")
            except RefError as exc:
                raise CommandError(f"--entity {entity!r}: {exc}") from exc
            refs = [stringify_ref(ref.kind, ref.namespace, ref.name)]
            if not Entity.objects.filter(ref=refs[0]).exists():
                raise CommandError(f"No entity {refs[0]} in the catalog")
        if not no_facts:
            collected = facts.collect(refs)
            self.stderr.write(f"Collected facts of {collected.entities} entities: {collected.written} written, "
                              f"{collected.errors} collector errors")  # fmt: skip
        summary = evaluator.evaluate(refs)
        scored = sorted({r for r in summary.refs})
        entities = Entity.objects.filter(ref__in=scored).select_related("location").order_by("ref")
        reports = [entity_report(e) for e in entities]
        reports = [r for r in reports if r["scorecards"] or refs]
        if json:
            self.stdout.write(_dumps(reports[0] if refs else reports))
        else:
            for report in reports:
                self._print(report)
        self.stderr.write(f"Evaluated {summary.entities} entities: {summary.scores} scores, {summary.written} results "
                          f"written, {summary.transitions} transitions, {summary.deleted} removed")  # fmt: skip

    def _reminders(self) -> None:
        from scorecards.initiatives import reminders

        found = reminders()
        for reminder in found:
            self.stdout.write(reminder.message)
            self.stdout.write(f"  remind: {', '.join(reminder.recipients) or 'nobody (no team members known)'}")
            self.stdout.write(f"  left: {', '.join(reminder.left)}")
        if not found:
            self.stdout.write("No initiative is due within 7 days or overdue with entities left.")

    def _print(self, report: dict) -> None:
        self.stdout.write(report["entityRef"])
        if not report["scorecards"]:
            self.stdout.write("  no scorecard applies")
        for card in report["scorecards"]:
            self.stdout.write(f"  {card['scorecard']}: level {card['level'] or 'none'} "
                              f"({card['points']}/{card['total']}, {card['percentage']}%), "
                              f"data age {card['dataAgeSeconds']} s")  # fmt: skip
            for rule in card["rules"]:
                why = f" - {rule['reason']}" if rule["reason"] else ""
                self.stdout.write(f"    [{MARK[rule['result']]}] {rule['level']} {rule['id']}{why}")


def _dumps(value) -> str:
    return json.dumps(value, indent=2)
