"""WebSocket URL routes."""

from django.urls import path

from pulse.consumers import PulseConsumer

websocket_urlpatterns = [
    path("ws/pulse/", PulseConsumer.as_asgi()),
]
