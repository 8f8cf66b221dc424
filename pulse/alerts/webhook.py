"""Send one webhook request: signed JSON POST with a timeout (blocking; run in a thread)."""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from pulse.alerts.pinned_http import open_pinned
from pulse.alerts.signing import SIGNATURE_HEADER, signature
from pulse.alerts.targets import TargetRefused, check_target

USER_AGENT = "MarketPulse-Webhook/1"
# Answers that will not change on retry (redirects are not followed: the target could be
# internal); 408, 429 and 5xx are worth retrying.
_PERMANENT = {301, 302, 303, 307, 308, 400, 401, 403, 404, 405, 410, 413, 415, 422}


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt: success, HTTP status, error text, retry or give up."""

    ok: bool
    status: int | None = None
    error: str = ""
    permanent: bool = False


def send(url: str, secret: str, body: bytes, *, event_id: str, delivery_id: int,
         attempt: int, timeout: float = 10.0, allow_private: bool = False,
         tls: ssl.SSLContext | None = None) -> Outcome:
    """POST ``body`` to ``url`` signed with ``secret``; return the outcome (never raises).

    The host is resolved once and checked (``check_target``); the request goes to one of
    those checked addresses (the next one only if connecting fails), never to a second DNS
    answer. Redirects are not followed: they could lead to an address never checked.
    ``tls`` overrides the default certificate verification (tests with a private CA).
    """
    try:
        addresses = check_target(url, allow_private=allow_private)
    except TargetRefused as exc:
        return Outcome(False, None, str(exc), permanent=True)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret, body),
        "X-Pulse-Event-Id": event_id,
        "X-Pulse-Delivery": str(delivery_id),
        "X-Pulse-Attempt": str(attempt),
    }
    conn = None
    error = "no address"
    for address in addresses:
        try:
            conn = open_pinned(parts.scheme, host, port, address, timeout, tls)
            break
        except (OSError, ValueError) as exc:  # refused, unreachable, timeout, TLS failure
            error = f"{type(exc).__name__}: {exc}"[:300]
    if conn is None:
        return Outcome(False, None, error)
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        status = response.status
        response.read(65536)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        conn.close()
    if 200 <= status < 300:
        return Outcome(True, status)
    return Outcome(False, status, f"HTTP {status}", permanent=status in _PERMANENT)
