"""Signals the catalog sends for other apps (TechDocs, scorecards) to follow it without the catalog
importing them."""

from django.dispatch import Signal

#: A refresh read the location's files anew (a new commit or changed files), after it committed.
#: Arguments: ``location_id``. Not sent when a refresh found nothing changed.
location_refreshed = Signal()

#: ``manage.py demo load`` finished loading the demo organisation: apps add demo data of their own (rows the
#: catalog's files cannot hold, such as an approved scorecard exemption). No arguments.
demo_loaded = Signal()
