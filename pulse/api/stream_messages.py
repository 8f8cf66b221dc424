"""Server-to-client messages of the streaming API that the pages do not have.

``snapshot`` and ``event`` messages are the pages' own (``pulse.realtime.broadcast``); these are
the API's control messages, each a JSON object with a ``type``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulse.realtime.broadcast import dumps

PROTOCOL_VERSION = 1

# Close codes. The server's WebSocket stack (daphne/autobahn) only lets applications send
# 1000 and 3000-4999, so "going away" and "too large" use 4xxx mirrors of 1001 and 1009.
CLOSE_UNAUTHENTICATED = 4401  # no, bad, expired or revoked token
CLOSE_FORBIDDEN = 4403  # a watchlist that is not the caller's, an unknown/inactive symbol
CLOSE_TOO_SLOW = 4408  # too many messages unacknowledged (flow control)
CLOSE_TOO_LARGE = 4413  # an inbound message over the size limit
CLOSE_RATE_LIMITED = 4429  # inbound messages faster than the rate limit
CLOSE_GOING_AWAY = 4503  # the server is shutting down: reconnect with backoff

FATAL_CLOSE_CODES = frozenset({CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN})


def hello_text(username: str, heartbeat: float, limits: Mapping[str, Any]) -> str:
    """Return the first message: who the token belongs to, heartbeat period and limits."""
    return dumps({"type": "hello", "protocol": PROTOCOL_VERSION, "user": username,
                  "heartbeat": heartbeat, "limits": dict(limits)})


def subscribed_text(symbols: Iterable[str], watchlists: Mapping[int, Iterable[str]]) -> str:
    """Return the current subscriptions after a (un)subscribe or a watchlist edit."""
    return dumps({"type": "subscribed", "symbols": sorted(symbols),
                  "watchlists": [{"id": wid, "symbols": list(syms)}
                                 for wid, syms in sorted(watchlists.items())]})


def heartbeat_text(ts: float, backlog: int) -> str:
    """Return the periodic heartbeat (the client's unacknowledged count helps it tune acks)."""
    return dumps({"type": "heartbeat", "ts": ts, "backlog": backlog})


def pong_text(request_id: Any, ts: float) -> str:
    """Return the answer to a client ``ping`` (its ``id`` echoed)."""
    return dumps({"type": "pong", "id": request_id, "ts": ts})


def error_text(code: str, detail: Any = None) -> str:
    """Return an ``error`` message about one bad request (the socket stays open)."""
    return dumps({"type": "error", "error": code, "detail": detail})
