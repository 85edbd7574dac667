"""Field-format rules of the default Backstage validators (spec 1.2), as precompiled predicates."""

from __future__ import annotations

import re
from collections.abc import Callable

_DNS_LABEL = re.compile(r"[a-z0-9]+(?:-+[a-z0-9]+)*")
_OBJECT_NAME = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_API_VERSION_SUFFIX = re.compile(r"[a-z0-9A-Z]+")
_KIND = re.compile(r"[a-zA-Z][a-z0-9A-Z]*")
_TAG = re.compile(r"[a-z0-9:+#]+(?:-[a-z0-9:+#]+)*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_AUTHORITY_END = re.compile(r"[/\\?#]")
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
_FORBIDDEN_HOST = frozenset("\x00\t\n\r #/:<>?@[\\]^|%")
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))

#: Human descriptions of each rule, used in error messages.
EXPECT_OBJECT_NAME = (
    "1-63 characters: letters and digits, optionally separated by any of [-_.], "
    "starting and ending with a letter or digit"
)
EXPECT_DNS_LABEL = "1-63 lowercase letters and digits, optionally separated by [-]"
EXPECT_PREFIXED = 'an optional "<dns-subdomain>/" prefix followed by {suffix}'
EXPECT_API_VERSION = 'an optional "<dns-subdomain>/" prefix followed by 1-63 letters and digits'
EXPECT_KIND = "a letter followed by letters and digits, at most 63 characters"
EXPECT_TAG = (
    "1-63 characters of [a-z0-9:+#], optionally separated by single [-]; "
    'uppercase letters, "_", "." and spaces are not allowed'
)


def is_dns_label(value: str) -> bool:
    """1..63 chars of ``^[a-z0-9]+(?:-+[a-z0-9]+)*$``."""
    return 1 <= len(value) <= 63 and _DNS_LABEL.fullmatch(value) is not None


def is_dns_subdomain(value: str) -> bool:
    """1..253 chars, every ``.``-separated part a DNS label."""
    return 1 <= len(value) <= 253 and all(is_dns_label(part) for part in value.split("."))


def is_object_name(value: str) -> bool:
    """Kubernetes object name: 1..63 chars, alphanumerics separated by ``-_.``, mixed case allowed."""
    return 1 <= len(value) <= 63 and _OBJECT_NAME.fullmatch(value) is not None


def is_prefixed(value: str, suffix_ok: Callable[[str], bool]) -> bool:
    """``[<dns-subdomain>/]<suffix>``; three or more ``/``-separated parts are invalid."""
    parts = value.split("/")
    if len(parts) == 1:
        return suffix_ok(parts[0])
    return len(parts) == 2 and is_dns_subdomain(parts[0]) and suffix_ok(parts[1])


def is_api_version(value: str) -> bool:
    return is_prefixed(value, lambda s: 1 <= len(s) <= 63 and _API_VERSION_SUFFIX.fullmatch(s) is not None)


def is_kind(value: str) -> bool:
    return 1 <= len(value) <= 63 and _KIND.fullmatch(value) is not None


def is_label_or_annotation_key(value: str) -> bool:
    return is_prefixed(value, is_object_name)


def is_label_value(value: str) -> bool:
    return value == "" or is_object_name(value)


def is_tag(value: str) -> bool:
    """The catalog-model 1.10 tag rule (``:`` allowed)."""
    return 1 <= len(value) <= 63 and _TAG.fullmatch(value) is not None


def is_absolute_url(value: object) -> bool:
    """Would the WHATWG URL parser accept ``value`` without a base? (close approximation).

    A scheme is required; for the special schemes (http, https, ws, wss, ftp) a non-empty host without
    forbidden characters and a numeric port are required too. ``file:`` and non-special schemes
    (``mailto:``, ``slack:``) accept any remainder, as in browsers.
    """
    if not isinstance(value, str):
        return False
    text = _TAB_NEWLINE.sub("", value.strip(_C0_AND_SPACE))
    colon = text.find(":")
    if colon <= 0 or _SCHEME.fullmatch(text[:colon]) is None:
        return False
    if text[:colon].lower() not in _SPECIAL_SCHEMES:
        return True
    rest = text[colon + 1 :].lstrip("/\\")
    authority = _AUTHORITY_END.split(rest, maxsplit=1)[0]
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        close = hostport.find("]")
        if close == -1:
            return False
        host, port = hostport[: close + 1], hostport[close + 1 :].removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
        if not host or any(ch in _FORBIDDEN_HOST for ch in host):
            return False
    return port == "" or (port.isascii() and port.isdigit() and int(port) <= 65535)
