"""Signals the catalog sends for other apps (TechDocs, scorecards) to follow it without the catalog
importing them."""

from django.dispatch import Signal

#: A refresh read the location's files anew (a new commit or changed files), after it committed.
#: Arguments: ``location_id``. Not sent when a refresh found nothing changed.
location_refreshed = Signal()
