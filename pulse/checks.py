"""System checks for deployment mistakes that Django cannot know about."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"


@register(Tags.compatibility, deploy=True)
def check_channel_layer(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when production (DEBUG off) runs on the in-memory channel layer.

    That layer cannot cross processes: separate ingest and ASGI processes would each see an
    empty pulse. It is only right for the single-process embedded mode.
    """
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if not settings.DEBUG and backend == IN_MEMORY_LAYER:
        return [
            Warning(
                "The in-memory channel layer is configured with DEBUG off.",
                hint="It only works when one process runs both ingest and web "
                "(runpulse --serve). For separate processes set REDIS_URL.",
                id="pulse.W001",
            )
        ]
    return []
