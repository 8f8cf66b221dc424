"""Webhook bodies and their HMAC-SHA256 signature header."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

SIGNATURE_HEADER = "X-Pulse-Signature"


def body_bytes(payload: dict[str, Any]) -> bytes:
    """Return the canonical JSON body (sorted keys, no spaces): identical on every retry."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode()


def signature(secret: str, body: bytes) -> str:
    """Return the header value ``sha256=<hex HMAC of body keyed by secret>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """Return True if ``header`` is the signature of ``body`` (constant-time compare)."""
    return hmac.compare_digest(signature(secret, body), header or "")
