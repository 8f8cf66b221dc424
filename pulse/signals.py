"""Signal receivers: an open WebSocket must not outlive its user's logout."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from pulse.broadcast import user_group

logger = logging.getLogger(__name__)


@receiver(user_logged_out)
def close_sockets_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Tell every socket of ``user`` to close (consumers handle ``user.logout``)."""
    if user is None:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user.pk), {"type": "user.logout"})
    except Exception as exc:  # logging out must work even if the layer is down
        logger.warning("could not close sockets of user %s: %s", user.pk, exc)
