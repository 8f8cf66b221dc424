"""The simulator feed: the synthetic market paced against the wall clock.

Zero configuration and no network, so ``runpulse`` shows a live dashboard out of the box.
Tick times are wall-clock times: the model runs from the moment :meth:`SimulatorFeed.run`
starts, and each poll emits the ticks whose time has come.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable
from typing import Any, Final

from pulse.engine.tick import ASSET_CLASSES, Tick
from pulse.feeds.base import Feed, FeedConfigError, FeedState, SymbolRef, TickQueue
from pulse.feeds.synthetic import STOCK_HOURS, SyntheticMarket

MAX_POLL: Final = 0.25  # longest sleep between polls (seconds): bounds reaction latency
# Shortest sleep: always hand the loop to the engine, even at rates where ticks are due
# continuously (rate_scale in the thousands); such ticks are then emitted in batches.
MIN_POLL: Final = 0.002


class SimulatorFeed(Feed):
    """Stream synthetic ticks for any symbol of any asset class at wall-clock pace.

    Options (values may be strings, as from a command line): ``seed`` (int; default a fresh
    random seed, kept in :attr:`seed` so a run can be repeated), ``rate_scale`` (multiplies
    every tick rate, default 1), ``stock_hours`` (``"nyse"``, the default, or ``"always"``)
    ``jumps`` (jump intensity multiplier, 0 disables, default 1) and ``history`` (seconds of
    synthetic past emitted at once on start, default 0, so that 1m/5m/15m metrics, the regime
    and the event baselines are warm from the first second of a demo). Unknown symbols get a
    start price generated from their name. Each tick's ``recv_ts`` is the wall time at which
    it was emitted, at most one poll after its ``ts``.
    """

    name = "simulator"

    def __init__(self, symbols: Iterable[SymbolRef], queue: TickQueue, **options: Any) -> None:
        super().__init__(symbols, queue, **options)
        seed = options.get("seed")
        self.seed = random.SystemRandom().randrange(2**32) if seed is None else _int(seed,
                                                                                     "seed")
        self.rate_scale = _positive(options.get("rate_scale", 1.0), "rate_scale")
        self.stock_hours = str(options.get("stock_hours", "nyse"))
        if self.stock_hours not in STOCK_HOURS:
            raise FeedConfigError(f"stock_hours must be one of {', '.join(STOCK_HOURS)}, "
                                  f"got {self.stock_hours!r}")
        self.jumps = _positive(options.get("jumps", 1.0), "jumps", allow_zero=True)
        self.history = _positive(options.get("history", 0.0), "history", allow_zero=True)
        self.market: SyntheticMarket | None = None

    def accepts(self, ref: SymbolRef) -> bool:
        """Accept every symbol of a known asset class: the simulator makes up any price."""
        return ref.asset in ASSET_CLASSES

    def on_symbols_changed(self) -> None:
        """Start and stop symbols in the running market; new ones get an opening tick now."""
        market = self.market
        if market is None:
            return  # not running yet: run() starts from self.symbols
        wanted = {ref for ref in self._symbols if self.accepts(ref)}
        current = market.symbols
        for ref in current - wanted:
            market.remove(ref)
        added = sorted(wanted - current)
        for ref in added:
            market.add(ref)
        if added:
            now = time.time()
            self._emit_all(market.opening_ticks(max(now, market.now), added), now)

    async def run(self) -> None:
        """Emit opening ticks for every symbol, then the model's ticks as their time comes."""
        now = time.time()
        start = now - self.history
        market = SyntheticMarket(
            (ref for ref in self._symbols if self.accepts(ref)), seed=self.seed, start_ts=start,
            stock_hours=self.stock_hours, rate_scale=self.rate_scale, jumps=self.jumps,
            provider=self.name,
        )
        self.market = market
        self.counters.set_state(FeedState.LIVE)
        if self.history > 0:
            await self._emit_history(market, start, now)
        else:
            self._emit_all(market.opening_ticks(now), now)
        try:
            while not self.stopping:
                now = time.time()
                self._emit_all(list(market.ticks_until(now)), now)
                wait = min(MAX_POLL, market.next_ts - time.time())  # inf when no symbols
                if await self.sleep(max(MIN_POLL, wait)):
                    break
        finally:
            self.counters.set_state(FeedState.STOPPED)

    async def _emit_history(self, market: SyntheticMarket, start: float, now: float) -> None:
        """Emit the synthetic past from ``start`` to ``now`` without overflowing the queue.

        History ticks are stamped as received at their own time (as if recorded live), so
        they do not distort the feed's clock-offset estimate.
        """
        history = market.opening_ticks(start)
        history.extend(market.ticks_until(now))
        for i in range(0, len(history), 1000):
            if await self.wait_for_room():
                break
            for tick in history[i:i + 1000]:
                tick.recv_ts = tick.ts
                self.emit(tick)
        self.counters.messages += len(history)
        self.counters.last_message_at = time.time()

    def _emit_all(self, ticks: list[Tick], now: float) -> None:
        """Stamp ``ticks`` as received ``now``, emit them and update the counters."""
        if not ticks:
            return
        for tick in ticks:
            # The model rounds ts to microseconds, which can land just past ``now``: a tick is
            # never received before its own exchange time.
            tick.recv_ts = now if tick.ts <= now else tick.ts
            self.emit(tick)
        counters = self.counters
        counters.messages += len(ticks)
        counters.last_message_at = now
        counters.note_offset(now, ticks[-1].ts)


def _int(value: Any, name: str) -> int:
    """Return ``value`` as an int or raise FeedConfigError naming the option."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FeedConfigError(f"{name} must be an integer, got {value!r}") from None


def _positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite positive float (or zero) or raise FeedConfigError."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise FeedConfigError(f"{name} must be a positive number, got {value!r}")
    return number
