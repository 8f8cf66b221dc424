"""Close codes of the streaming API socket ``/ws/api/`` (its messages: ``realtime.messages``).

The server's WebSocket stack (daphne/autobahn) only lets applications send 1000 and
3000-4999, so "going away" and "too large" use 4xxx mirrors of 1001 and 1009.
"""

from __future__ import annotations

from pulse.realtime.relay import CLOSE_TOO_SLOW

CLOSE_UNAUTHENTICATED = 4401  # no, bad, expired or revoked token
CLOSE_FORBIDDEN = 4403  # a watchlist that is not the caller's, an unknown/inactive symbol
CLOSE_TOO_LARGE = 4413  # an inbound message over the size limit
CLOSE_RATE_LIMITED = 4429  # inbound messages faster than the rate limit
CLOSE_GOING_AWAY = 4503  # the server is shutting down: reconnect with backoff

__all__ = ["CLOSE_FORBIDDEN", "CLOSE_GOING_AWAY", "CLOSE_RATE_LIMITED", "CLOSE_TOO_LARGE",
           "CLOSE_TOO_SLOW", "CLOSE_UNAUTHENTICATED"]
