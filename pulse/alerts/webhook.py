"""Send one webhook request: signed JSON POST with a timeout (blocking; run in a thread)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could lead to an internal address that was never checked.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def send(url: str, secret: str, body: bytes, *, event_id: str, delivery_id: int,
         attempt: int, timeout: float = 10.0, allow_private: bool = False) -> Outcome:
    """POST ``body`` to ``url`` signed with ``secret``; return the outcome (never raises)."""
    try:
        check_target(url, allow_private=allow_private)
    except TargetRefused as exc:
        return Outcome(False, None, str(exc), permanent=True)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret, body),
        "X-Pulse-Event-Id": event_id,
        "X-Pulse-Delivery": str(delivery_id),
        "X-Pulse-Attempt": str(attempt),
    })
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        return Outcome(False, status, f"HTTP {status}", permanent=status in _PERMANENT)
    except (OSError, ValueError) as exc:  # timeouts, refused connections, bad URLs
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:300])
    if 200 <= status < 300:
        return Outcome(True, status)
    return Outcome(False, status, f"HTTP {status}", permanent=status in _PERMANENT)
