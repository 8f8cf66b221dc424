"""The contract every market data feed implements, and the bounded queue feeds write into.

A feed owns its provider's protocol (connect, authorize, subscribe, heartbeat, reconnect) and
turns raw messages into :class:`~pulse.engine.tick.Tick` objects which it offers to a
:class:`TickQueue`. The queue is bounded: when the engine falls behind, new ticks are dropped
and counted instead of growing memory without limit. Pure asyncio; no Django import.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pulse.engine.tick import ASSET_CLASSES, Tick


class SymbolRef(NamedTuple):
    """A symbol together with its asset class, e.g. ``SymbolRef("forex", "EURUSD")``."""

    asset: str
    symbol: str

    @classmethod
    def parse(cls, text: str) -> SymbolRef:
        """Parse ``CLASS:SYMBOL`` (for example ``crypto:BTC-USD``); raise ValueError if bad."""
        asset, sep, symbol = text.strip().partition(":")
        asset, symbol = asset.strip().lower(), symbol.strip().upper()
        if not sep or not symbol:
            raise ValueError(f"expected CLASS:SYMBOL, got {text!r}")
        if asset not in ASSET_CLASSES:
            raise ValueError(
                f"unknown asset class {asset!r} in {text!r} (use one of {', '.join(ASSET_CLASSES)})"
            )
        if len(symbol) > 32 or not all(c.isalnum() or c in "-._/" for c in symbol):
            raise ValueError(f"invalid symbol {symbol!r} in {text!r}")
        return cls(asset, symbol)

    def __str__(self) -> str:
        return f"{self.asset}:{self.symbol}"


class FeedState(enum.StrEnum):
    """Where a feed's connection is in its life cycle (shown on the dashboard)."""

    CONNECTING = "connecting"
    LIVE = "live"
    BACKING_OFF = "backing_off"
    FAILED = "failed"
    STOPPED = "stopped"


class FeedConfigError(Exception):
    """A configuration problem (bad key, too many symbols): reported, never hot-retried."""


@dataclass
class FeedCounters:
    """Per-feed health counters; ``as_dict`` is the JSON shape in summaries and /health."""

    state: FeedState = FeedState.CONNECTING
    reason: str = ""
    messages: int = 0
    ticks: int = 0
    parse_failures: collections.Counter[str] = field(default_factory=collections.Counter)
    reconnects: int = 0
    gaps: int = 0
    duplicates: int = 0
    dropped: int = 0
    clock_skew: int = 0  # ticks dropped: exchange time too far ahead of the feed's clock
    clock_resets: int = 0  # the clock reference re-anchored (provider clock shift, data gap)
    clock_corrected: int = 0  # ticks shifted back by a negative (exchange-ahead) offset
    last_message_at: float | None = None  # local wall clock, seconds
    clock_offset: float | None = None  # receipt time minus exchange time, EWMA, seconds

    def set_state(self, state: FeedState, reason: str = "") -> None:
        """Move to ``state``; ``reason`` explains a failure or back-off."""
        self.state = state
        self.reason = reason

    def note_message(self, now: float) -> None:
        """Count one raw message received at local time ``now``."""
        self.messages += 1
        self.last_message_at = now

    def note_offset(self, recv_ts: float, exchange_ts: float) -> None:
        """Track the receipt-minus-exchange clock offset as a slow EWMA.

        Live feeds call it only with samples their :class:`~pulse.feeds.clock.ClockGuard`
        found plausible, so one skewed tick cannot drag it.
        """
        sample = recv_ts - exchange_ts
        if self.clock_offset is None:
            self.clock_offset = sample
        else:
            self.clock_offset += 0.05 * (sample - self.clock_offset)

    def as_dict(self, now: float | None = None) -> dict[str, Any]:
        """Return the counters as JSON-ready data; ``now`` gives the last message age."""
        now = time.time() if now is None else now
        age = None if self.last_message_at is None else max(0.0, now - self.last_message_at)
        return {
            "state": str(self.state),
            "reason": self.reason,
            "messages": self.messages,
            "ticks": self.ticks,
            "parse_failures": dict(self.parse_failures),
            "reconnects": self.reconnects,
            "gaps": self.gaps,
            "duplicates": self.duplicates,
            "dropped": self.dropped,
            "clock_skew": self.clock_skew,
            "clock_resets": self.clock_resets,
            "clock_corrected": self.clock_corrected,
            "last_message_age": None if age is None else round(age, 3),
            "clock_offset": None if self.clock_offset is None else round(self.clock_offset, 4),
        }


class TickQueue:
    """A bounded FIFO of ticks between feeds (producers) and the engine (one consumer).

    ``offer`` never blocks and never grows past ``maxsize``: when full, the tick is dropped
    and the offering feed's ``dropped`` counter goes up. ``get_batch`` waits for at least one
    tick and returns everything queued, so the engine drains in bursts.
    """

    def __init__(self, maxsize: int = 100_000) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._items: collections.deque[Tick] = collections.deque()
        self._ready = asyncio.Event()
        self._drained = asyncio.Event()  # set whenever the consumer takes ticks out
        self.dropped = 0
        self.high_water = 0

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, tick: Tick, counters: FeedCounters | None = None) -> bool:
        """Queue ``tick``; return False (and count the drop) when the queue is full."""
        items = self._items
        if len(items) >= self.maxsize:
            self.dropped += 1
            if counters is not None:
                counters.dropped += 1
            return False
        items.append(tick)
        if len(items) > self.high_water:
            self.high_water = len(items)
        self._ready.set()
        return True

    async def get_batch(self, limit: int = 10_000) -> list[Tick]:
        """Wait until a tick is queued, then return up to ``limit`` ticks in arrival order."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        items = self._items
        n = min(limit, len(items))
        batch = [items.popleft() for _ in range(n)]
        if not items:
            self._ready.clear()
        self._drained.set()
        return batch

    async def wait_below(self, level: int) -> None:
        """Wait until fewer than ``level`` ticks are queued.

        Finite sources (replay, the simulator's history) use it to go as fast as the engine
        without ever dropping a tick, instead of polling the queue length.
        """
        while len(self._items) >= level:
            self._drained.clear()
            await self._drained.wait()


class Feed:
    """Base class of every feed: one instance per provider connection set.

    Subclasses set ``name`` and implement :meth:`run`, which connects, streams, and offers
    each parsed tick with ``self.emit(tick)`` until :meth:`stop` is called (or, for finite
    sources such as replay, until the data ends). They must keep ``self.counters`` current
    and must never raise for bad data: malformed input is counted in
    ``counters.parse_failures`` by reason. :class:`FeedConfigError` is raised (or the state set
    to FAILED with a reason) for configuration problems that retrying cannot fix.
    """

    name = "feed"

    def __init__(self, symbols: Iterable[SymbolRef], queue: TickQueue, **options: Any) -> None:
        self.queue = queue
        self.options = options
        self.counters = FeedCounters()
        self._symbols: set[SymbolRef] = set(symbols)
        self._stopping = asyncio.Event()

    @property
    def symbols(self) -> frozenset[SymbolRef]:
        """The symbols this feed should be subscribed to now."""
        return frozenset(self._symbols)

    def set_symbols(self, symbols: Iterable[SymbolRef]) -> None:
        """Replace the wanted symbols; live feeds subscribe/unsubscribe the difference."""
        self._symbols = set(symbols)
        self.on_symbols_changed()

    def on_symbols_changed(self) -> None:
        """Hook for subclasses: apply ``self.symbols`` to the open connection(s)."""

    def accepts(self, ref: SymbolRef) -> bool:
        """Return True if this feed can serve ``ref`` (asset class and symbol form)."""
        return True

    def emit(self, tick: Tick) -> bool:
        """Count ``tick`` and offer it to the queue; return False if it was dropped."""
        self.counters.ticks += 1
        return self.queue.offer(tick, self.counters)

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Ask :meth:`run` to finish promptly; safe to call more than once."""
        self._stopping.set()

    async def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` or until stopped; return True if the feed is stopping."""
        if seconds <= 0:
            return self.stopping
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def wait_for_room(self) -> bool:
        """Wait until the queue is under half full or the feed stops; return ``stopping``.

        Finite sources call it between batches to run at the engine's pace without drops.
        """
        level = max(1, self.queue.maxsize // 2)
        if len(self.queue) >= level and not self.stopping:
            room = asyncio.ensure_future(self.queue.wait_below(level))
            stop = asyncio.ensure_future(self._stopping.wait())
            _, pending = await asyncio.wait({room, stop}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        return self.stopping

    async def run(self) -> None:
        """Stream ticks into the queue until stopped; subclasses implement this."""
        raise NotImplementedError

    def health(self, now: float | None = None) -> dict[str, Any]:
        """Return this feed's counters and state as JSON-ready data."""
        data = self.counters.as_dict(now)
        data["symbols"] = len(self._symbols)
        return data
