"""Task secrets: sealed (encrypted with a key derived from SECRET_KEY) while a task waits, wiped after it
ends, and masked as ``***`` in every log line, event and stored value."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

MASK = "***"


def _fernet() -> Fernet:
    key = hashlib.sha256(f"callboard-scaffolder-secrets:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secrets: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(secrets).encode()).decode() if secrets else ""


def unseal(sealed: str) -> dict[str, Any]:
    if not sealed:
        return {}
    try:
        return json.loads(_fernet().decrypt(sealed.encode()))
    except InvalidToken:
        return {}  # SECRET_KEY changed since the task was made: it runs without its secrets


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    return []


class Masker:
    """Replaces every secret value (longest first) by ``***`` in text and in JSON-like values."""

    def __init__(self, *secret_sources: Any):
        found = {s for source in secret_sources for s in _strings(source) if len(s) >= 3}
        self.secrets = sorted(found, key=len, reverse=True)

    def text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def value(self, value: Any) -> Any:
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value
