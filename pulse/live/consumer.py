"""The browser WebSocket at ``/ws/pulse/``: authenticate, filter, relay, answer page requests.

Each socket sees only the symbols of the watchlist it asked for (``?watchlist=<id>``, else
the user's default watchlist; a user without watchlists sees the whole market), or of one
instrument (``?symbol=AAPL``, the symbol page: market data is not private, watchlists are).
Messages from ingest arrive pre-serialized per symbol, so relaying is a filter and a string
join. Per-page data (correlation for this page's symbols, base and bucket; price history)
is asked of ingest over the control group and answered on this socket's channel, so any
number of web processes work without sharing ingest's memory. Relaying, sequence tracking
and flow control are the shared base's (``pulse.realtime.relay``); messages are built in
``pulse.realtime.messages``, their schema is ``pulse.realtime.schema`` and
``docs/websocket.md`` documents them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async

from pulse.models import Instrument, Watchlist
from pulse.ops.metrics import CLIENTS, WS_MESSAGES
from pulse.realtime import broadcast
from pulse.realtime import messages as msg
from pulse.realtime.relay import RelayConsumer

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "try again later": the page reconnects with backoff
CLOSE_NOT_FOUND = 4404  # 4408 (too slow) is the base's: pulse.realtime.relay
BUCKETS = (10, 20, 30)
MAX_REQUEST_BYTES = 4096


class PulseConsumer(RelayConsumer):
    """Relay snapshots, events, health and correlation to one logged-in page."""

    socket = "page"
    sent_counter = WS_MESSAGES

    # Seconds between refreshes of this page's correlation (answered by ingest, no database).
    # A 5-15 minute correlation barely moves in a few seconds; each refresh is a request and
    # a reply per page, which adds up with a thousand pages.
    refresh_interval = 10.0
    # Watchlist edits are pushed (``watchlist.changed``); this slow re-read only repairs a
    # notification lost while the channel layer was down.
    reread_interval = 60.0
    # Shortest interval between two history requests of one socket (they are heavier).
    history_min_interval = 2.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.watchlist: dict[str, Any] | None = None
        self.watchlist_param: str | None = None
        self.symbol_mode = False
        self.corr_base: str | None = None
        self.corr_bucket: int | None = None
        self.last_history_request = -1e9
        self.counted = False

    async def connect(self) -> None:
        """Accept logged-in users; close with 4401/4403/4404 after accept (the page learns why)."""
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        CLIENTS.inc()
        self.counted = True
        symbol = self._query_param("symbol")
        if symbol is not None:
            if not await self._instrument_exists(symbol):
                await self.close(code=CLOSE_NOT_FOUND)
                return
            self.symbol_mode = True
            symbols: list[str] | None = [symbol]
        else:
            self.watchlist_param = self._query_param("watchlist")
            found, self.watchlist, symbols = await self._load_watchlist(
                user, self.watchlist_param)
            if not found:
                await self.close(code=CLOSE_FORBIDDEN)
                return
        self.symbols = None if symbols is None else frozenset(symbols)
        self._set_correlation(self._query_param("base"), self._query_param("bucket"))
        try:
            await self.join_groups([broadcast.PULSE_GROUP, broadcast.user_group(user.pk)])
        except Exception as exc:  # e.g. Redis restarting: the page retries with backoff
            logger.warning("could not join groups for %s: %s", self.channel_name, exc)
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        await self.send_message("hello", msg.hello_text(user.get_username(), self.watchlist,
                                                        symbols))
        await self.request_snapshot()
        if not self.symbol_mode:
            await self._request_correlation()
        self.start_background(self._refresh_loop())

    async def disconnect(self, code: int) -> None:
        """Stop the refresh task, leave every group and stop counting this client."""
        await super().disconnect(code)
        if self.counted:
            CLIENTS.dec()
            self.counted = False

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Handle the page's requests (see docs/websocket.md, "Page to server")."""
        if not text_data or len(text_data) > MAX_REQUEST_BYTES:
            return
        try:
            request = orjson.loads(text_data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(request, dict):
            return
        action = request.get("action")
        if action == "ack":
            if self.window.ack(request.get("received")):
                await self.request_snapshot()
        elif action == "resync":
            await self.request_snapshot()
        elif action == "correlation" and not self.symbol_mode:
            self._set_correlation(request.get("base"), request.get("bucket"))
            await self._request_correlation()
        elif action == "history":
            await self._request_history(request)
        elif action == "stats":
            await self.send_message("stats", msg.stats_text(self.window.stats()))

    # Group and reply message handlers -------------------------------------------------

    async def pulse_health(self, message: dict[str, Any]) -> None:
        """Forward feed health (not user data: the same for everyone)."""
        await super().pulse_health(message)
        if self.window.backlog > self.window.pause_above:
            return  # periodic and superseded by the next one, like snapshots
        await self.send_message("health", msg.health_text(message["seq"], message["health"]))

    async def pulse_correlation(self, message: dict[str, Any]) -> None:
        """Forward a correlation reply for this page, restricted to its symbols.

        The periodic broadcast matrix is not forwarded: its symbols and base are ingest's
        choice, not the page's; pages ask for their own (see ``_request_correlation``).
        """
        await super().pulse_correlation(message)
        if not message.get("reply") or self.symbol_mode:
            return
        text = message["correlation"]
        if self.symbols is not None:
            text = broadcast.dumps(restrict_correlation(orjson.loads(text), self.symbols))
        await self.send_message("correlation", msg.correlation_text(message["seq"], text))

    async def pulse_history(self, message: dict[str, Any]) -> None:
        """Forward a price-history reply, keeping only this socket's symbols."""
        text = message["history"]
        if self.symbols is not None:
            data = orjson.loads(text)
            series = data.get("series") or {}
            data["series"] = {s: v for s, v in series.items() if s in self.symbols}
            text = broadcast.dumps(data)
        await self.send_message("history", msg.history_text(text))

    async def pulse_alert(self, message: dict[str, Any]) -> None:
        """Forward an alert of one of this user's rules (or a throttling notice): a toast."""
        if not self.symbol_mode:
            await self.send_message("alert", message["text"])

    async def watchlist_changed(self, message: dict[str, Any]) -> None:
        """Re-read the watchlist now: its owner changed one of their lists."""
        await self._reread_watchlist()

    async def user_logout(self, message: dict[str, Any]) -> None:
        """Close this socket: its user logged out."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    # Helpers --------------------------------------------------------------------------

    async def _refresh_loop(self) -> None:
        """Refresh this page's correlation every few seconds; re-read the list now and then."""
        loop = asyncio.get_running_loop()
        last_read = loop.time()
        while True:
            await asyncio.sleep(self.refresh_interval)
            try:
                if self.symbol_mode:
                    continue
                if loop.time() - last_read >= self.reread_interval:
                    last_read = loop.time()
                    await self._reread_watchlist()
                await self._request_correlation()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("refresh of %s failed", self.channel_name)

    async def _reread_watchlist(self) -> None:
        """Apply watchlist edits made while the page is open."""
        if self.symbol_mode or self.closing:
            return
        found, watchlist, symbols = await self._load_watchlist(self.user, self.watchlist_param)
        if not found:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        new = None if symbols is None else frozenset(symbols)
        if new != self.symbols or watchlist != self.watchlist:
            self.symbols, self.watchlist = new, watchlist
            await self.send_message("watchlist", msg.watchlist_text(watchlist, symbols))
            await self.request_snapshot()
            await self._request_correlation()

    async def _request_correlation(self) -> None:
        symbols = None if self.symbols is None else sorted(self.symbols)
        if symbols is not None and len(symbols) < 2:
            return
        await self.ask_ingest(broadcast.REQUEST_CORRELATION, symbols=symbols,
                            base=self.corr_base, bucket=self.corr_bucket)

    async def _request_history(self, request: dict[str, Any]) -> None:
        """Ask ingest for the recent prices of the requested (visible) symbols."""
        loop = asyncio.get_running_loop()
        if loop.time() - self.last_history_request < self.history_min_interval:
            return
        wanted = request.get("symbols")
        seconds, step = request.get("seconds", 900), request.get("step", 15)
        if not isinstance(wanted, list) or not all(
                isinstance(x, int | float) and not isinstance(x, bool) for x in (seconds, step)):
            return
        if not (1 <= step <= 600 and step <= seconds <= 3600):
            return
        symbols = [s for s in wanted if isinstance(s, str)
                   and (self.symbols is None or s in self.symbols)][:50]
        if not symbols:
            return
        self.last_history_request = loop.time()
        await self.ask_ingest(broadcast.REQUEST_HISTORY, symbols=symbols, seconds=seconds,
                            step=step)

    def _set_correlation(self, base: Any, bucket: Any) -> None:
        """Take the page's base symbol and bucket (10/20/30 s, else the default method)."""
        self.corr_base = base if isinstance(base, str) and 0 < len(base) <= 32 else None
        if isinstance(bucket, str) and bucket.isdigit():
            bucket = int(bucket)
        self.corr_bucket = bucket if bucket in BUCKETS and not isinstance(bucket, bool) else None

    def _query_param(self, name: str) -> str | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        values = query.get(name)
        return values[0] if values else None

    @database_sync_to_async
    def _instrument_exists(self, symbol: str) -> bool:
        return Instrument.objects.filter(symbol=symbol).exists()

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
    for key in ("matrix", "coverage", "status", "stderr"):
        grid = corr.get(key)
        if isinstance(grid, list) and len(grid) == len(names):
            out[key] = [[grid[i][j] for j in keep] for i in keep]
    if "top" in corr and isinstance(corr["top"], list):
        out["top"] = [item for item in corr["top"] if item.get("symbol") in symbols]
    if out.get("base") not in symbols:
        out["base"] = None
    return out
