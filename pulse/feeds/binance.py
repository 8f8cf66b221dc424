"""Binance spot trades over one combined-stream websocket (key-free).

The connection URL already names the streams (``/stream?streams=btcusdt@trade/ethusdt@trade``);
later watchlist changes go over the open socket as ``SUBSCRIBE``/``UNSUBSCRIBE`` method frames.
Trade ids are contiguous per symbol, so a jump is a gap and an id at or below the last one
seen (replayed after a reconnect) is a duplicate, dropped. Binance cuts every connection at
24 h; the feed reconnects on its own a little before that. Pings are answered by the
``websockets`` library.
"""

from __future__ import annotations

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
from pulse.feeds.frames import Rejected, decode_object, epoch_seconds, field_number
from pulse.feeds.sequence import SequenceTracker

PROVIDER = "binance"
DEFAULT_BASE_URL = "wss://stream.binance.com:9443"
# Binance allows 1024 streams per connection.
MAX_STREAMS = 1024


@dataclass(frozen=True, slots=True)
class Ack:
    """The reply to a SUBSCRIBE/UNSUBSCRIBE method frame: ``{"result": null, "id": 1}``."""

    id: Any
    error: str = ""


def stream_name(symbol: str) -> str:
    """Return the trade stream of a Binance pair: ``BTCUSDT`` -> ``btcusdt@trade``."""
    return f"{symbol.lower()}@trade"


def parse_trade(data: dict[str, Any], recv_ts: float) -> Tick | Rejected:
    """Turn one trade payload into a tick.

    Raw sample (strings for numbers)::

        {"e": "trade",          # event type
         "E": 1723075200123,    # event time, epoch ms
         "s": "BTCUSDT",        # pair
         "t": 3716893845,       # trade id, contiguous per pair
         "p": "56843.99000000", # price
         "q": "0.00100000",     # quantity
         "T": 1723075200122,    # trade time, epoch ms (used as the tick's exchange time)
         "m": true}             # buyer is the maker
    """
    symbol = data.get("s")
    if not isinstance(symbol, str) or not symbol:
        return Rejected("missing_field", "s")
    price = field_number(data, "p", positive=True)
    if isinstance(price, Rejected):
        return price
    size = field_number(data, "q")
    if isinstance(size, Rejected):
        return size
    if size < 0:
        return Rejected("negative_size", f"q={size!r}")
    ts = epoch_seconds(data.get("T", data.get("E")))
    if isinstance(ts, Rejected):
        return ts
    trade_id = data.get("t")
    if not isinstance(trade_id, int) or isinstance(trade_id, bool) or trade_id < 0:
        return Rejected("bad_trade_id", f"t={trade_id!r:.40}")
    return Tick(symbol.upper(), CRYPTO, ts, price, recv_ts=recv_ts, size=size,
                provider=PROVIDER, trade_id=trade_id)


def parse_message(raw: str | bytes, recv_ts: float) -> list[Tick] | Ack | Rejected:
    """Parse one raw frame: trades become ticks, method replies an :class:`Ack`.

    Combined streams wrap each payload::

        {"stream": "btcusdt@trade", "data": {"e": "trade", ...}}

    Raw (non-combined) payloads are accepted too. Other streams (bookTicker, depth) give an
    empty list: they are not errors, just not trades.
    """
    obj = decode_object(raw)
    if isinstance(obj, Rejected):
        return obj
    if "id" in obj and ("result" in obj or "error" in obj):
        error = obj.get("error")
        if error:
            msg = error.get("msg", "") if isinstance(error, dict) else str(error)
            code = error.get("code", "") if isinstance(error, dict) else ""
            return Ack(obj["id"], f"{code} {msg}".strip())
        return Ack(obj["id"])
    stream = obj.get("stream")
    if isinstance(stream, str) and not stream.endswith("@trade"):
        return []  # bookTicker payloads carry no "e"; the stream name says what they are
    data = obj.get("data", obj) if "stream" in obj else obj
    if not isinstance(data, dict):
        return Rejected("not_an_object", "data")
    event = data.get("e")
    if event is None:
        return Rejected("missing_field", "e")
    if event != "trade":
        return []
    tick = parse_trade(data, recv_ts)
    return tick if isinstance(tick, Rejected) else [tick]


class BinanceEndpoint(Endpoint):
    """The one combined-stream connection of a :class:`BinanceFeed`."""

    feed: BinanceFeed
    sync_interval = 0.5  # at most 2 frames per sync: within the 5 frames/s limit

    def __init__(self, feed: BinanceFeed, opts: ConnectionOptions) -> None:
        super().__init__(feed, "stream", opts, on_state=feed.refresh_state)
        self.sequences = SequenceTracker()
        self._next_id = 0

    def wanted(self) -> frozenset[str]:
        return self.feed.streams

    def url(self, wanted: frozenset[str]) -> str:
        base = self.feed.base_url.rstrip("/")
        if not wanted:
            return f"{base}/stream"
        return f"{base}/stream?streams={'/'.join(sorted(wanted))}"

    def subscribed_on_open(self, wanted: frozenset[str]) -> frozenset[str]:
        return wanted

    def subscription_frames(self, add: frozenset[str], remove: frozenset[str]) -> list[str]:
        frames = []
        for method, streams in (("UNSUBSCRIBE", remove), ("SUBSCRIBE", add)):
            if streams:
                self._next_id += 1
                frames.append(json.dumps({"method": method, "params": sorted(streams),
                                          "id": self._next_id}))
        return frames

    def on_unsubscribed(self, keys: frozenset[str]) -> None:
        for stream in keys:
            self.sequences.forget(stream.partition("@")[0].upper())

    def on_frame(self, raw: str | bytes, recv_ts: float) -> None:
        parsed = parse_message(raw, recv_ts)
        if isinstance(parsed, Rejected):
            self.reject(parsed)
        elif isinstance(parsed, Ack):
            if parsed.error:
                self.reject(Rejected("provider_error", parsed.error))
        else:
            counters = self.feed.counters
            for tick in parsed:
                missed = self.sequences.check(tick.symbol, tick.trade_id)  # type: ignore[arg-type]
                if missed == SequenceTracker.DUPLICATE:
                    counters.duplicates += 1
                    continue
                if missed:
                    counters.gaps += 1
                self.deliver(tick)


class BinanceFeed(Feed):
    """Live Binance spot trades for ``crypto`` symbols in Binance's pair form (``BTCUSDT``).

    Options: ``base_url`` (default env ``BINANCE_WS_URL`` or ``wss://stream.binance.com:9443``;
    use ``wss://stream.binance.us:9443`` from the US) plus the connection options of
    :class:`~pulse.feeds.connection.ConnectionOptions`. ``max_age`` defaults to 23 h 50 min so
    the feed rolls its connection over before Binance's 24 h cut.
    """

    name = PROVIDER
    OPTIONS = frozenset({"base_url"})

    def __init__(self, symbols: Iterable[SymbolRef], queue: TickQueue, **options: Any) -> None:
        check_options(options, self.OPTIONS, PROVIDER)
        symbols = list(symbols)
        bad = [str(ref) for ref in symbols if not self.accepts(ref)]
        if bad:
            raise FeedConfigError(f"binance serves crypto pairs like crypto:BTCUSDT; "
                                  f"cannot serve {', '.join(bad)}")
        super().__init__(symbols, queue, **options)
        self._rejected: list[str] = []
        self._note = ""
        self.streams: frozenset[str] = frozenset()  # what the connection should carry
        self.base_url: str = (options.get("base_url") or os.environ.get("BINANCE_WS_URL")
                              or DEFAULT_BASE_URL)
        opts = ConnectionOptions.from_options(options, silence_timeout=60.0,
                                              max_age=23 * 3600 + 50 * 60)
        self.endpoint = BinanceEndpoint(self, opts)
        self._check_budget()

    def accepts(self, ref: SymbolRef) -> bool:
        return ref.asset == CRYPTO and ref.symbol.isalnum()

    def set_symbols(self, symbols: Iterable[SymbolRef]) -> None:
        """Replace the wanted symbols, ignoring (and reporting) any Binance cannot serve."""
        refs = set(symbols)
        self._rejected = sorted(str(ref) for ref in refs if not self.accepts(ref))
        super().set_symbols(ref for ref in refs if self.accepts(ref))

    def on_symbols_changed(self) -> None:
        self._check_budget()
        self.endpoint.symbols_changed()

    def _check_budget(self) -> None:
        notes = []
        refs = sorted(self.symbols)
        if len(refs) > MAX_STREAMS:
            notes.append(f"{len(refs)} symbols requested, Binance allows {MAX_STREAMS}"
                         f" per connection; extra ones ignored")
        self.streams = frozenset(stream_name(ref.symbol) for ref in refs[:MAX_STREAMS])
        if self._rejected:
            notes.append(f"not a Binance pair: {', '.join(self._rejected)}")
        self._note = "; ".join(notes)
        self.refresh_state()

    def refresh_state(self) -> None:
        """Recompute the feed state from the connection's."""
        combine_states(self, [self.endpoint], self._note)

    async def run(self) -> None:
        await run_endpoints(self, [self.endpoint])
