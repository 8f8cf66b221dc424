"""The browser WebSocket at ``/ws/pulse/``: authenticate, filter, relay.

Each socket sees only the symbols of the watchlist it asked for (``?watchlist=<id>``, else
the user's default watchlist; a user without watchlists sees the whole market). Messages from
ingest arrive pre-serialized per symbol, so relaying is a filter and a string join.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from pulse import broadcast
from pulse.models import Watchlist

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class PulseConsumer(AsyncWebsocketConsumer):
    """Relay snapshots, events, health and correlation to one logged-in page."""

    symbols: frozenset[str] | None = None  # None: the whole market

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_seq: dict[str, int] = {}  # publisher (ingest shard) -> last sequence number

    async def connect(self) -> None:
        """Accept logged-in users; close with 4401/4403 (after accept, so the page learns why)."""
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        watchlist_id = self._query_param("watchlist")
        found, watchlist, symbols = await self._load_watchlist(user, watchlist_id)
        if not found:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.symbols = None if symbols is None else frozenset(symbols)
        self.groups_joined = [broadcast.PULSE_GROUP, broadcast.user_group(user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.send(
            text_data=broadcast.hello_text(
                user.get_username(), watchlist, None if symbols is None else list(symbols)
            )
        )
        await self._request_snapshot()

    async def disconnect(self, code: int) -> None:
        """Leave every group this socket joined."""
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Handle the page's requests: ``{"action": "resync"}`` asks for a full snapshot."""
        if not text_data or len(text_data) > 1024:
            return
        try:
            request = orjson.loads(text_data)
        except orjson.JSONDecodeError:
            return
        if isinstance(request, dict) and request.get("action") == "resync":
            await self._request_snapshot()

    # Group message handlers -----------------------------------------------------------

    async def pulse_snapshot(self, message: dict[str, Any]) -> None:
        """Forward the rows this socket may see as one message."""
        if not message.get("reply"):  # replies reach one socket outside the group sequence
            await self._note_seq(message)
        rows: dict[str, str] = message["rows"]
        if self.symbols is None:
            texts = rows.values()
        else:
            texts = [text for symbol, text in rows.items() if symbol in self.symbols]
            if not texts and not message["full"]:
                return
        await self.send(
            text_data=broadcast.snapshot_text(message["seq"], message["ts"], message["full"], texts)
        )

    async def pulse_event(self, message: dict[str, Any]) -> None:
        """Forward a stress event if its symbol is visible here."""
        await self._note_seq(message)
        if self.symbols is None or message["symbol"] in self.symbols:
            await self.send(text_data=broadcast.event_text(message["seq"], message["event"]))

    async def pulse_health(self, message: dict[str, Any]) -> None:
        """Forward feed health (not user data: the same for everyone)."""
        await self._note_seq(message)
        await self.send(text_data=broadcast.health_text(message["seq"], message["health"]))

    async def pulse_correlation(self, message: dict[str, Any]) -> None:
        """Forward the correlation matrix restricted to this socket's symbols."""
        await self._note_seq(message)
        text = message["correlation"]
        if self.symbols is not None:
            text = broadcast.dumps(restrict_correlation(orjson.loads(text), self.symbols))
        await self.send(text_data=broadcast.correlation_text(message["seq"], text))

    async def user_logout(self, message: dict[str, Any]) -> None:
        """Close this socket: its user logged out."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    # Helpers --------------------------------------------------------------------------

    async def _note_seq(self, message: dict[str, Any]) -> None:
        """Ask for a full snapshot when the publisher's sequence shows a lost message.

        A restarted publisher starts again at 1; that also triggers a resync.
        """
        seq = message.get("seq", 0)
        source = message.get("src", "")
        last = self.last_seq.get(source, 0)
        gap = last and (seq > last + 1 or seq < last)
        self.last_seq[source] = seq
        if gap:
            logger.info("sequence gap before %d on %s: resync", seq, self.channel_name)
            await self._request_snapshot()

    async def _request_snapshot(self) -> None:
        await self.channel_layer.group_send(
            broadcast.CONTROL_GROUP,
            {"type": broadcast.REQUEST_SNAPSHOT, "reply_to": self.channel_name},
        )

    def _query_param(self, name: str) -> str | None:
        from urllib.parse import parse_qs

        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        values = query.get(name)
        return values[0] if values else None

    @database_sync_to_async
    def _load_watchlist(
        self, user: Any, watchlist_id: str | None
    ) -> tuple[bool, dict[str, Any] | None, list[str] | None]:
        """Return (allowed, watchlist info, symbols) for ``user``; never another user's list."""
        lists = Watchlist.objects.filter(owner=user)
        if watchlist_id:
            if not watchlist_id.isdigit():
                return False, None, None
            watchlist = lists.filter(pk=int(watchlist_id)).first()
            if watchlist is None:
                return False, None, None
        else:
            watchlist = lists.order_by("-is_default", "name").first()
            if watchlist is None:
                return True, None, None
        symbols = list(
            watchlist.items.order_by("position", "id").values_list("instrument__symbol", flat=True)
        )
        return True, {"id": watchlist.pk, "name": watchlist.name}, symbols


def restrict_correlation(corr: dict[str, Any], symbols: frozenset[str]) -> dict[str, Any]:
    """Return ``corr`` keeping only the rows and columns of ``symbols``."""
    names = corr.get("symbols") or []
    keep = [i for i, name in enumerate(names) if name in symbols]
    out = dict(corr)
    out["symbols"] = [names[i] for i in keep]
    for key in ("matrix", "coverage", "status"):
        grid = corr.get(key)
        if isinstance(grid, list) and len(grid) == len(names):
            out[key] = [[grid[i][j] for j in keep] for i in keep]
    if "top" in corr and isinstance(corr["top"], list):
        out["top"] = [item for item in corr["top"] if item.get("symbol") in symbols]
    return out
