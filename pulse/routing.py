"""WebSocket routes of the pages (session auth behind the Origin check, see pulse_site.asgi).

The API's socket, ``/ws/api/``, authenticates by token and is mounted beside these by
``pulse.api.routing.with_api``.
"""

from django.urls import path

from pulse.live.consumer import PulseConsumer

websocket_urlpatterns = [
    path("ws/pulse/", PulseConsumer.as_asgi()),
]
