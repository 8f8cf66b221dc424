"""A WebSocket consumer base for high fan-out relays: dispatch without a thread hop.

Channels 4.2+ runs ``close_old_connections()`` through ``sync_to_async`` before *every*
message handler (``AsyncConsumer.dispatch``). That is one hop to the single thread-sensitive
executor thread per message per socket: with a thousand pages and a snapshot a second it
cost about half of a daphne process's CPU in ``bench/scaled_bench.sh`` (profiled with
py-spy) and queued stress events behind a thousand thread round trips.

The cleanup exists for handlers that use the ORM synchronously without cleaning up. Ours
never do: every database access in our consumers goes through
``channels.db.database_sync_to_async``, which already closes stale connections before and
after each call in the thread that runs it. So the per-message cleanup is pure overhead
here and :class:`RelayConsumer` skips it. A consumer that touches the ORM any other way
must not inherit from this class.
"""

from __future__ import annotations

from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer


class RelayConsumer(AsyncWebsocketConsumer):
    """``AsyncWebsocketConsumer`` whose dispatch calls the handler directly."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Call the handler for ``message["type"]``; unknown types are an error, as upstream."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
