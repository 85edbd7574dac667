"""README badges: a shields-style SVG with a scorecard's name and the level an entity reached.

READMEs load badges without a session, so a badge is served to anyone only when the entity is readable
anonymously (``CALLBOARD_ANONYMOUS_READ`` or an anonymous rule) or ``SCORECARDS_PUBLIC_BADGES`` is on;
otherwise only to people signed in who may read the entity. A missing, hidden or unscored entity gets the
same 404 "unknown" badge, so a badge never tells whether a hidden entity exists. Every text is escaped.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.utils.html import escape

from catalog.models import Entity
from catalog.permissions import READ, can
from scorecards.charts import NONE_COLOUR, level_colour
from scorecards.models import EntityScore, Scorecard

MAX_AGE = 300
CHAR_WIDTH = 6.6  # Verdana 11px, roughly: the badge's width follows its text
UNKNOWN = ("scorecard", "unknown", NONE_COLOUR)


def badge_for(request, entity_ref: str, namespace: str, scorecard: str) -> tuple[str, str, str, bool, int]:
    """(label, message, colour, public, status) for the badge; the unknown badge with 404 when not shown.

    ``request.user`` is read only for entities that are not public."""
    entity = Entity.objects.filter(ref=entity_ref, valid=True).first()
    if entity is None:
        return (*UNKNOWN, True, 404)
    public = settings.SCORECARDS_PUBLIC_BADGES or can(AnonymousUser(), READ, entity)
    if not public and not (request.user.is_authenticated and can(request.user, READ, entity)):
        return (*UNKNOWN, True, 404)
    refs = [f"scorecard:{namespace}/{scorecard}".lower(), f"scorecard:default/{scorecard}".lower()]
    score = (EntityScore.objects.filter(entity_ref=entity.ref, scorecard__ref__in=refs).select_related("scorecard")
             .order_by("scorecard__ref" if namespace > "default" else "-scorecard__ref").first())  # fmt: skip
    if score is None:
        return (*UNKNOWN, True, 404)
    card: Scorecard = score.scorecard
    message = score.level or "no level"
    return card.title or card.name, message, level_colour(card.levels, score.level), public, 200


def svg(label: str, message: str, colour: str) -> str:
    left = round(len(label) * CHAR_WIDTH + 12)
    right = round(len(message) * CHAR_WIDTH + 12)
    width = left + right
    label, message = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{label}: {message}"><title>{label}: {message}</title>'
        f'<rect width="{left}" height="20" rx="3" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" rx="3" fill="{escape(colour)}"/>'
        f'<rect x="{left}" width="4" height="20" fill="{escape(colour)}"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">'
        f'<text x="{left / 2:.1f}" y="14">{label}</text><text x="{left + right / 2:.1f}" y="14">{message}</text>'
        "</g></svg>"
    )


def response(label: str, message: str, colour: str, public: bool, status: int) -> HttpResponse:
    body = svg(label, message, colour)
    reply = HttpResponse(body, content_type="image/svg+xml; charset=utf-8", status=status)
    reply["Cache-Control"] = f"{'public' if public else 'private'}, max-age={MAX_AGE}"
    if not public:
        reply["Vary"] = "Cookie"
    reply["ETag"] = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
    reply["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return reply
