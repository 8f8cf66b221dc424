"""The streaming API socket at ``/ws/api/``: token auth, subscriptions, limits, relay.

Unlike the page socket, what it carries is chosen by the client: symbols and/or the
caller's own watchlists, subscribed and unsubscribed at will. ``snapshot`` and ``event``
messages are the pages', relayed from the same group messages and filtered to the
subscribed symbols by the shared base (``pulse.realtime.relay``); every message is built in
``pulse.realtime.messages``. Limits per socket: inbound size, inbound rate (token
bucket), symbols; flow control is the pages' (``pulse.realtime.flow_control``): the client
acknowledges what it processed, snapshots are dropped while it lags, and a client too far
behind is closed (4408). Every close is preceded by an ``error`` message naming the reason
(the ASGI server may not forward close reasons). Protocol: ``docs/api.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import Any

import orjson
from channels.db import database_sync_to_async

from pulse.api import close_codes, tokens
from pulse.api.limits import StreamLimits, TokenBucket
from pulse.models import Instrument, Watchlist
from pulse.realtime import broadcast
from pulse.realtime import messages as msg
from pulse.realtime.relay import RelayConsumer

logger = logging.getLogger(__name__)

_SYMBOL = re.compile(r"^[A-Za-z0-9._/-]{1,32}$")


class ApiStreamConsumer(RelayConsumer):
    """Stream snapshots and events of the symbols a token's owner subscribes to."""

    socket = "api"
    send_empty_keyframes = False
    # Seconds between heartbeats; each also re-checks the token and re-reads watchlists.
    heartbeat_interval = 15.0
    limits = StreamLimits()
    clock = staticmethod(time.monotonic)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bucket = TokenBucket(self.limits.rate_per_second, self.limits.burst)
        self.symbol_subs: set[str] = set()  # symbols subscribed by name
        self.watchlist_subs: dict[int, tuple[str, ...]] = {}  # watchlist id -> its symbols
        self.symbols = frozenset()  # union of both: what is relayed (never the whole market)
        self.token_id: int | None = None

    # Connection ------------------------------------------------------------------------

    async def connect(self) -> None:
        """Accept, then close with 4401 unless the handshake carried an active token."""
        token = self.scope.get("api_token")
        await self.accept()
        if token is None:
            await self.close_with(close_codes.CLOSE_UNAUTHENTICATED, "unauthenticated",
                                  "send a valid API token (?token= or Authorization: Bearer)")
            return
        self.token_id, self.user = token.pk, token.user
        await self.join_groups([broadcast.PULSE_GROUP, broadcast.API_GROUP,
                                broadcast.token_group(token.pk)])
        await self.send_message("hello", msg.api_hello_text(
            self.user.get_username(), self.heartbeat_interval, self.limits.as_dict()))
        self.start_background(self._heartbeat_loop())

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Check size and rate, then handle one client request."""
        if self.closing or self.user is None:
            return
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > self.limits.max_message_bytes:
            await self.close_with(close_codes.CLOSE_TOO_LARGE, "message_too_large",
                                  f"{size} bytes > {self.limits.max_message_bytes}")
            return
        if not self.bucket.allow(self.clock()):
            await self.close_with(close_codes.CLOSE_RATE_LIMITED, "rate_limited",
                                  f"more than {self.limits.rate_per_second:g} messages/s "
                                  f"(burst {self.limits.burst})")
            return
        try:
            request = orjson.loads(text_data if text_data is not None else bytes_data)
        except orjson.JSONDecodeError:
            await self._error("invalid_json", "send one JSON object")
            return
        if not isinstance(request, dict):
            await self._error("invalid_json", "send one JSON object")
            return
        await self._dispatch(request)

    async def _dispatch(self, request: dict[str, Any]) -> None:
        action = request.get("action")
        if action == "subscribe":
            await self._subscribe(request)
        elif action == "unsubscribe":
            await self._unsubscribe(request)
        elif action == "ping":
            await self.send_message("pong", msg.pong_text(request.get("id"), time.time()))
        elif action == "ack":
            if self.window.ack(request.get("received")):
                await self.request_snapshot()
        elif action == "resync":
            await self.request_snapshot()
        else:
            await self._error("unknown_action", action)

    # Subscriptions ---------------------------------------------------------------------

    async def _subscribe(self, request: dict[str, Any]) -> None:
        """Add symbols (known, active instruments) or one of the caller's watchlists."""
        symbols, watchlist = request.get("symbols"), request.get("watchlist")
        new_symbols: set[str] = set()
        new_lists: dict[int, tuple[str, ...]] = {}
        if symbols is not None:
            cleaned = await self._clean_symbols(symbols)
            if cleaned is None:
                return
            missing = await self._unavailable_symbols(cleaned)
            if missing:
                await self.close_with(close_codes.CLOSE_FORBIDDEN, "forbidden_symbol",
                                      f"unknown or inactive: {', '.join(missing[:10])}")
                return
            new_symbols = set(cleaned)
        if watchlist is not None:
            if isinstance(watchlist, bool) or not isinstance(watchlist, int):
                await self._error("invalid_watchlist", "watchlist must be an id")
                return
            listed = await self._watchlist_symbols(watchlist)
            if listed is None:
                await self.close_with(close_codes.CLOSE_FORBIDDEN, "forbidden_watchlist",
                                      f"watchlist {watchlist} is not yours")
                return
            new_lists[watchlist] = listed
        if symbols is None and watchlist is None:
            await self._error("invalid_subscribe", "give symbols or watchlist")
            return
        total = self._union(self.symbol_subs | new_symbols, {**self.watchlist_subs, **new_lists})
        if len(total) > self.limits.max_symbols:
            await self._error("too_many_symbols", f"{len(total)} > {self.limits.max_symbols}")
            return
        self.symbol_subs |= new_symbols
        self.watchlist_subs.update(new_lists)
        await self._subscriptions_changed()

    async def _unsubscribe(self, request: dict[str, Any]) -> None:
        """Remove symbols and/or a watchlist (``{"all": true}`` removes everything)."""
        if request.get("all") is True:
            self.symbol_subs.clear()
            self.watchlist_subs.clear()
        else:
            symbols = request.get("symbols")
            if symbols is not None:
                cleaned = await self._clean_symbols(symbols)
                if cleaned is None:
                    return
                self.symbol_subs -= set(cleaned)
            watchlist = request.get("watchlist")
            if watchlist is not None:
                self.watchlist_subs.pop(watchlist, None)
        await self._subscriptions_changed(snapshot=False)

    async def _subscriptions_changed(self, *, snapshot: bool = True) -> None:
        self.symbols = frozenset(self._union(self.symbol_subs, self.watchlist_subs))
        await self.send_message("subscribed", msg.subscribed_text(self.symbol_subs,
                                                                  self.watchlist_subs))
        if snapshot and self.symbols:
            await self.request_snapshot()

    @staticmethod
    def _union(symbols: set[str], lists: dict[int, tuple[str, ...]]) -> set[str]:
        total = set(symbols)
        for listed in lists.values():
            total.update(listed)
        return total

    async def _clean_symbols(self, symbols: Any) -> list[str] | None:
        """Return ``symbols`` upper-cased, or None after telling the client they are bad."""
        if (not isinstance(symbols, list) or len(symbols) > self.limits.max_symbols
                or not all(isinstance(s, str) and _SYMBOL.match(s) for s in symbols)):
            await self._error("invalid_symbols", "symbols must be a list of symbol strings")
            return None
        return [s.upper() for s in symbols]

    # Group and reply message handlers -------------------------------------------------

    async def api_token_revoked(self, message: dict[str, Any]) -> None:
        """Close this socket: its token was revoked."""
        if message.get("token") == self.token_id:
            await self.close_with(close_codes.CLOSE_UNAUTHENTICATED, "token_revoked",
                                  "token revoked")

    async def api_going_away(self, message: dict[str, Any]) -> None:
        """Close this socket: the server is shutting down (the client should reconnect)."""
        await self.close_with(close_codes.CLOSE_GOING_AWAY, "going_away", "server shutting down")

    # Helpers --------------------------------------------------------------------------

    async def _error(self, code: str, detail: Any = None) -> None:
        """Tell the client a request was bad (the socket stays open)."""
        await self.send_message("error", msg.error_text(code, detail))

    async def close_with(self, code: int, error: str, detail: str) -> None:
        """Send an ``error`` naming the reason, then close with ``code`` (once)."""
        if self.closing:
            return
        self.closing = True
        logger.info("closing API socket %s: %s (%s)", self.channel_name, code, detail)
        with contextlib.suppress(Exception):
            await self.send(text_data=msg.error_text(error, detail))
        await self.close(code=code, reason=error)

    async def _heartbeat_loop(self) -> None:
        """Every heartbeat: re-check the token, re-read watchlists, send a heartbeat."""
        while not self.closing:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self._recheck()
                await self.send_message("heartbeat", msg.heartbeat_text(time.time(),
                                                                        self.window.backlog))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("heartbeat of %s failed", self.channel_name)

    async def _recheck(self) -> None:
        if not await database_sync_to_async(tokens.still_valid)(self.token_id):
            await self.close_with(close_codes.CLOSE_UNAUTHENTICATED, "token_revoked",
                                  "token revoked or expired")
            return
        changed = False
        for watchlist_id, before in list(self.watchlist_subs.items()):
            listed = await self._watchlist_symbols(watchlist_id)
            if listed is None:
                await self.close_with(close_codes.CLOSE_FORBIDDEN, "forbidden_watchlist",
                                      f"watchlist {watchlist_id} was deleted")
                return
            if listed != before:
                self.watchlist_subs[watchlist_id] = listed
                changed = True
        if changed:
            await self._subscriptions_changed()

    @database_sync_to_async
    def _unavailable_symbols(self, symbols: list[str]) -> list[str]:
        known = set(Instrument.objects.filter(symbol__in=symbols, active=True)
                    .values_list("symbol", flat=True))
        return sorted(set(symbols) - known)

    @database_sync_to_async
    def _watchlist_symbols(self, watchlist_id: int) -> tuple[str, ...] | None:
        """Return the symbols of the caller's watchlist ``watchlist_id``; None if not theirs."""
        watchlist = Watchlist.objects.filter(owner=self.user, pk=watchlist_id).first()
        if watchlist is None:
            return None
        return tuple(watchlist.items.order_by("position", "id")
                     .values_list("instrument__symbol", flat=True))
