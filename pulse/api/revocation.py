"""Tell live API sockets that their token was revoked, or that the server is going away."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from pulse.api import tokens
from pulse.models import ApiToken
from pulse.realtime.broadcast import API_GROUP, GOING_AWAY, TOKEN_REVOKED, token_group

logger = logging.getLogger(__name__)


def revoke(token: ApiToken) -> None:
    """Revoke ``token`` and close its open sockets at once (4401).

    A channel-layer failure is logged, not raised: the sockets also re-check their token
    on every heartbeat.
    """
    tokens.revoke(token)
    try:
        async_to_sync(get_channel_layer().group_send)(
            token_group(token.pk), {"type": TOKEN_REVOKED, "token": token.pk})
    except Exception as exc:
        logger.warning("could not notify sockets of revoked token %s: %s", token.pk, exc)


async def announce_going_away(layer: Any = None) -> None:
    """Close every API socket of this deployment with 4503 (call before shutting down)."""
    layer = layer or get_channel_layer()
    await layer.group_send(API_GROUP, {"type": GOING_AWAY})
