"""Token authentication of API WebSockets: ``?token=`` or an ``Authorization`` header.

Browsers cannot set headers on a WebSocket, so the query parameter is the portable form;
other clients may prefer ``Authorization: Bearer <token>`` (kept out of access logs).
Session cookies are never read here: that is why ``/ws/api/`` needs no Origin check (a
cross-site page cannot make the browser send a token it does not have).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from pulse.api import tokens


def token_text(scope: dict[str, Any]) -> str | None:
    """Return the raw token a WebSocket handshake carries, if any (the header wins)."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            scheme, _, raw = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and raw.strip():
                return raw.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("token")
    return values[0] if values else None


@database_sync_to_async
def _authenticate(raw: str | None) -> Any:
    return tokens.authenticate(raw) if raw else None


class TokenAuthMiddleware(BaseMiddleware):
    """Set ``scope["api_token"]`` (an active ``ApiToken`` with its user, or None)."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope, api_token=await _authenticate(token_text(scope)))
        return await super().__call__(scope, receive, send)
