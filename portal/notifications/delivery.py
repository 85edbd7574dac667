"""External delivery through apprise: which URLs are allowed (SSRF), and one send. No Celery code here.

Only the schemes in ``NOTIFICATIONS_ALLOWED_SCHEMES`` are accepted. For schemes whose host is chosen by
whoever writes the URL (webhooks, SMTP, self-hosted chat), a host that resolves to a loopback, private,
link-local or reserved address is refused unless it is listed in ``NOTIFICATIONS_PRIVATE_HOSTS`` (e.g. an
internal SMTP relay). The check runs when a target is saved and again before every send (DNS may change).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import quote, urlsplit

import apprise
from django.conf import settings

#: Services apprise reaches at fixed public endpoints: their "host" is a token, not a place to connect to.
FIXED_ENDPOINT_SCHEMES = {"slack", "msteams", "discord", "tgram", "pover"}


class UnsafeUrl(ValueError):
    """An apprise URL that is malformed, of a scheme not allowed, or pointing at a private address."""


class DeliveryFailed(RuntimeError):
    """apprise could not deliver (the service refused or could not be reached)."""


def check_url(url: str) -> str:
    """``url`` when it may be used; UnsafeUrl saying why otherwise (never repeating the URL: it is secret)."""
    url = (url or "").strip()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    allowed = [s.lower() for s in settings.NOTIFICATIONS_ALLOWED_SCHEMES]
    if not scheme:
        raise UnsafeUrl("not a URL: it must start with a scheme such as json:// or mailtos://")
    if scheme not in allowed:
        raise UnsafeUrl(f"the scheme {scheme}:// is not allowed here (NOTIFICATIONS_ALLOWED_SCHEMES: "
                        f"{', '.join(allowed)})")  # fmt: skip
    if apprise.Apprise.instantiate(url) is None:
        raise UnsafeUrl(f"apprise does not understand this {scheme}:// URL (see its documentation for the form)")
    if scheme not in FIXED_ENDPOINT_SCHEMES:
        _check_host(urlsplit(url).hostname or "")
    return url


def _check_host(host: str) -> None:
    if not host or host in {h.lower() for h in settings.NOTIFICATIONS_PRIVATE_HOSTS}:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return  # does not resolve (yet): nothing to connect to; checked again before each send
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            raise UnsafeUrl(f"the host {host} resolves to a non-public address ({ip}); list it in "
                            "NOTIFICATIONS_PRIVATE_HOSTS if it is meant to be reached")  # fmt: skip


def email_url(address: str) -> str:
    """The apprise URL that mails ``address`` through ``NOTIFICATIONS_EMAIL_URL`` (a mailto(s):// URL)."""
    base = settings.NOTIFICATIONS_EMAIL_URL
    return f"{base}{'&' if '?' in base else '?'}to={quote(address, safe='@')}"


def send(url: str, *, title: str, body: str) -> None:
    """Deliver one message; DeliveryFailed when apprise reports a failure, UnsafeUrl when refused."""
    sender = apprise.Apprise()
    if not sender.add(check_url(url)):
        raise UnsafeUrl("apprise refused the URL")
    if not sender.notify(title=title, body=body or title, body_format=apprise.NotifyFormat.TEXT):
        raise DeliveryFailed("apprise reported a failure (the service refused it or could not be reached)")
