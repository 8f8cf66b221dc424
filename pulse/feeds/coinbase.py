"""Coinbase Exchange ``ticker`` channel (key-free), with heartbeats and gap detection.

The server closes a socket that has not subscribed within 5 s, so the subscribe frame
(``ticker`` and ``heartbeat`` for every product) goes out as soon as the socket opens; watchlist
changes become ``subscribe``/``unsubscribe`` frames on the open socket. Heartbeats arrive every
second per product, which lets the silence watchdog be strict.

Every ticker carries the product's ``sequence`` and the match's ``trade_id``. A sequence at or
below the last one seen (the snapshot ticker re-sent after a reconnect) is a duplicate and is
dropped. Gaps are counted on ``trade_id`` by default: it rises by one per match per product,
whereas ``sequence`` numbers every message of the product's full feed (order book updates
included), so on a ticker-only subscription it jumps all the time. ``gap_field="sequence"``
counts sequence jumps instead, for servers whose ticker sequence is contiguous.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pulse.engine.tick import CRYPTO, Tick
from pulse.feeds.base import Feed, FeedConfigError, SymbolRef, TickQueue
from pulse.feeds.connection import (
    ConnectionOptions,
    Endpoint,
    check_options,
    combine_states,
    run_endpoints,
)
from pulse.feeds.frames import Rejected, decode_object, field_number
from pulse.feeds.sequence import SequenceTracker

PROVIDER = "coinbase"
DEFAULT_URL = "wss://ws-feed.exchange.coinbase.com"
CHANNELS = ("ticker", "heartbeat")
GAP_FIELDS = ("trade_id", "sequence")


@dataclass(frozen=True, slots=True)
class Ticker:
    """A parsed ticker: the tick plus the product's feed sequence number."""

    tick: Tick
    sequence: int


@dataclass(frozen=True, slots=True)
class Control:
    """A non-data frame: ``heartbeat``, ``subscriptions`` or ``error`` (with its text)."""

    type: str
    product_id: str = ""
    message: str = ""


def iso_seconds(value: Any) -> float | Rejected:
    """Convert an ISO 8601 UTC time (``2024-08-08T12:00:00.250000Z``) to epoch seconds."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return Rejected("bad_timestamp", f"{value!r:.40}")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return Rejected("bad_timestamp", value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def _int_field(obj: dict[str, Any], key: str) -> int | Rejected | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        return Rejected("bad_number", f"{key}={value!r:.40}")
    try:
        number = int(value)
    except ValueError:
        return Rejected("bad_number", f"{key}={value!r:.40}")
    return number if number >= 0 else Rejected("bad_number", f"{key}={number}")


def _optional_number(obj: dict[str, Any], key: str) -> float | Rejected | None:
    if obj.get(key) in (None, ""):
        return None
    return field_number(obj, key, positive=True)


def parse_ticker(obj: dict[str, Any], recv_ts: float) -> Ticker | Rejected:
    """Parse a ``ticker`` message (numbers arrive as strings).

    Raw sample::

        {"type": "ticker",
         "sequence": 3262786978,        # per product, counts every message of the full feed
         "product_id": "BTC-USD",
         "price": "4388.01",            # last trade price
         "best_bid": "4388", "best_ask": "4388.01",
         "side": "buy",                 # taker side
         "time": "2017-09-02T17:05:49.250000Z",
         "trade_id": 20153558,          # +1 per match per product
         "last_size": "0.03"}
    """
    product = obj.get("product_id")
    if not isinstance(product, str) or not product:
        return Rejected("missing_field", "product_id")
    price = field_number(obj, "price", positive=True)
    if isinstance(price, Rejected):
        return price
    sequence = _int_field(obj, "sequence")
    if sequence is None:
        return Rejected("missing_field", "sequence")
    if isinstance(sequence, Rejected):
        return sequence
    ts = iso_seconds(obj.get("time"))
    if isinstance(ts, Rejected):
        return ts
    trade_id = _int_field(obj, "trade_id")
    if isinstance(trade_id, Rejected):
        return trade_id
    extras: list[float | None] = []
    for key in ("best_bid", "best_ask", "last_size"):
        value = _optional_number(obj, key)
        if isinstance(value, Rejected):
            return value
        extras.append(value)
    bid, ask, size = extras
    tick = Tick(product.upper(), CRYPTO, ts, price, recv_ts=recv_ts, bid=bid, ask=ask,
                size=size, provider=PROVIDER, trade_id=trade_id)
    return Ticker(tick, sequence)


def parse_message(raw: str | bytes, recv_ts: float) -> Ticker | Control | Rejected:
    """Parse one raw frame: tickers become :class:`Ticker`, the rest :class:`Control`.

    Error sample: ``{"type": "error", "message": "Failed to subscribe", "reason": "..."}``.
    Unknown types are returned as controls: Coinbase may add message types at any time.
    """
    obj = decode_object(raw)
    if isinstance(obj, Rejected):
        return obj
    kind = obj.get("type")
    if not isinstance(kind, str):
        return Rejected("missing_field", "type")
    if kind == "ticker":
        return parse_ticker(obj, recv_ts)
    if kind == "error":
        text = " ".join(str(obj[k]) for k in ("message", "reason") if obj.get(k))
        return Control(kind, message=text[:200])
    product = obj.get("product_id")
    return Control(kind, product if isinstance(product, str) else "")


class CoinbaseEndpoint(Endpoint):
    """The one websocket of a :class:`CoinbaseFeed`."""

    feed: CoinbaseFeed

    def __init__(self, feed: CoinbaseFeed, opts: ConnectionOptions, gap_field: str) -> None:
        super().__init__(feed, "ws-feed", opts, on_state=feed.refresh_state)
        self.gap_field = gap_field
        self.sequences = SequenceTracker()
        self.trade_ids = SequenceTracker()

    def wanted(self) -> frozenset[str]:
        return frozenset(ref.symbol for ref in self.feed.symbols)

    def url(self, wanted: frozenset[str]) -> str:
        return self.feed.base_url

    def subscription_frames(self, add: frozenset[str], remove: frozenset[str]) -> list[str]:
        frames = []
        for kind, products in (("unsubscribe", remove), ("subscribe", add)):
            if products:
                frames.append(json.dumps({"type": kind, "product_ids": sorted(products),
                                          "channels": list(CHANNELS)}))
        return frames

    def on_unsubscribed(self, keys: frozenset[str]) -> None:
        for product in keys:
            self.sequences.forget(product)
            self.trade_ids.forget(product)

    def on_frame(self, raw: str | bytes, recv_ts: float) -> None:
        parsed = parse_message(raw, recv_ts)
        if isinstance(parsed, Rejected):
            self.reject(parsed)
        elif isinstance(parsed, Control):
            if parsed.type == "error":
                self.reject(Rejected("provider_error", parsed.message))
        else:
            self._on_ticker(parsed)

    def _on_ticker(self, ticker: Ticker) -> None:
        counters = self.feed.counters
        tick = ticker.tick
        missed = self.sequences.check(tick.symbol, ticker.sequence)
        if missed == SequenceTracker.DUPLICATE:
            counters.duplicates += 1
            return
        if self.gap_field == "sequence":
            if missed:
                counters.gaps += 1
        elif isinstance(tick.trade_id, int) and self.trade_ids.check(tick.symbol,
                                                                     tick.trade_id) > 0:
            counters.gaps += 1
        self.deliver(tick)


class CoinbaseFeed(Feed):
    """Live Coinbase Exchange tickers for ``crypto`` products such as ``BTC-USD``.

    Options: ``base_url`` (default env ``COINBASE_WS_URL`` or
    ``wss://ws-feed.exchange.coinbase.com``), ``gap_field`` (``trade_id``, the default, or
    ``sequence``), plus the connection options of
    :class:`~pulse.feeds.connection.ConnectionOptions` (``silence_timeout`` defaults to 15 s:
    heartbeats arrive every second).
    """

    name = PROVIDER
    OPTIONS = frozenset({"base_url", "gap_field"})

    def __init__(self, symbols: Iterable[SymbolRef], queue: TickQueue, **options: Any) -> None:
        check_options(options, self.OPTIONS, PROVIDER)
        symbols = list(symbols)
        bad = [str(ref) for ref in symbols if not self.accepts(ref)]
        if bad:
            raise FeedConfigError(f"coinbase serves crypto products like crypto:BTC-USD; "
                                  f"cannot serve {', '.join(bad)}")
        gap_field = options.get("gap_field", "trade_id")
        if gap_field not in GAP_FIELDS:
            raise FeedConfigError(f"coinbase: gap_field must be one of {', '.join(GAP_FIELDS)}")
        super().__init__(symbols, queue, **options)
        self.base_url: str = (options.get("base_url") or os.environ.get("COINBASE_WS_URL")
                              or DEFAULT_URL)
        self._note = ""
        opts = ConnectionOptions.from_options(options, silence_timeout=15.0)
        self.endpoint = CoinbaseEndpoint(self, opts, gap_field)

    def accepts(self, ref: SymbolRef) -> bool:
        return ref.asset == CRYPTO and "-" in ref.symbol

    def set_symbols(self, symbols: Iterable[SymbolRef]) -> None:
        """Replace the wanted symbols, ignoring (and reporting) any Coinbase cannot serve."""
        refs = set(symbols)
        rejected = sorted(str(ref) for ref in refs if not self.accepts(ref))
        self._note = f"not a Coinbase product: {', '.join(rejected)}" if rejected else ""
        super().set_symbols(ref for ref in refs if self.accepts(ref))

    def on_symbols_changed(self) -> None:
        self.refresh_state()
        self.endpoint.symbols_changed()

    def refresh_state(self) -> None:
        """Recompute the feed state from the connection's."""
        combine_states(self, [self.endpoint], self._note)

    async def run(self) -> None:
        await run_endpoints(self, [self.endpoint])
