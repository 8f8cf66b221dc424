"""WebSocket routes of the API, and the wrapper that mounts them beside the page socket.

``/ws/api/`` authenticates by token only (never the session cookie), so it needs no Origin
check: non-browser clients usually send no Origin. The page socket keeps its Origin check
and session authentication.
"""

from __future__ import annotations

from typing import Any

from channels.routing import URLRouter
from django.urls import path

from pulse.api.consumer import ApiStreamConsumer
from pulse.api.ws_auth import TokenAuthMiddleware

API_PREFIX = "/ws/api/"

websocket_urlpatterns = [
    path("ws/api/", TokenAuthMiddleware(ApiStreamConsumer.as_asgi())),
]


def with_api(page_app: Any) -> Any:
    """Return a WebSocket app sending ``/ws/api/`` to the API and the rest to ``page_app``."""
    api_app = URLRouter(websocket_urlpatterns)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("path", "").startswith(API_PREFIX):
            return await api_app(scope, receive, send)
        return await page_app(scope, receive, send)

    return app
