"""Time sanity for live feeds: exchange time checked against receipt time, per symbol.

Every live tick carries two clocks: ``ts`` (the exchange's) and ``recv_ts`` (ours). Their
difference, the *offset* ``recv_ts - ts``, is normally the network latency (tens to hundreds
of milliseconds) and changes slowly. A tick whose exchange time is further ahead of what the
offset predicts than ``tolerance`` seconds::

    ts - (recv_ts - offset) > tolerance

is a bogus timestamp: passed on, it would drag its symbol's windows into the future and the
engine would then reject every genuine tick as out of order. :class:`ClockGuard` drops it and
counts it in ``FeedCounters.clock_skew``.

The offset is measured per symbol (venues behind one provider can run different clocks) and
is robust by construction:

* it starts from the feed's current offset (0, synchronised clocks, for the first symbol),
  or from the symbol's first sample when that agrees with it;
* only *plausible* samples (within ``tolerance`` of the offset) feed its slow EWMA, so a
  single skewed tick moves it by at most ``ALPHA * tolerance``;
* an implausible sample never moves it, but a run of them that agree with each other (within
  ``tolerance``), uninterrupted by a plausible one, of at least ``reanchor_count`` ticks
  re-anchors the offset (counted in ``clock_resets``). A run *ahead* must span
  ``reanchor_span`` seconds of receipt time (2 s) and re-anchors to its median: a provider
  whose clock jumps ahead, or runs a constant 30 s ahead, is followed within a couple of
  seconds instead of losing every tick. A run *behind* must span ``reanchor_span_behind``
  (30 s) and re-anchors to its smallest sample (the least strict choice): a larger offset
  only makes the check stricter, so it is adopted slowly, and a network stall that delivers
  ticks late for a while, or a burst of old ticks after a reconnect, does not make the guard
  drop the timely ticks that follow. One bad tick never moves the offset.

Ticks far *behind* (old trades after a reconnect, a lagging provider) are never dropped here:
the engine decides what is too late for its windows. When the offset is negative by more than
``CORRECT_BEYOND`` seconds (the exchange clock runs ahead of ours, which latency cannot
explain), accepted ticks get ``ts += offset`` so they arrive in our time frame instead of
being rejected downstream as future-stamped; they are counted in ``clock_corrected``.

Cost per tick: one dict lookup, a subtraction, two comparisons and an EWMA step; the
re-anchor bookkeeping runs only on implausible ticks. Pure Python; no Django import.
"""

from __future__ import annotations

from pulse.engine.tick import Tick
from pulse.feeds.base import FeedCounters

DEFAULT_TOLERANCE = 5.0  # seconds ahead of the predicted exchange time
DEFAULT_REANCHOR_COUNT = 5  # ticks that must agree on a new offset...
DEFAULT_REANCHOR_SPAN = 2.0  # ...over at least this many seconds of receipt time (ahead)
DEFAULT_REANCHOR_SPAN_BEHIND = 30.0  # the same for a run behind the offset
ALPHA = 0.05  # EWMA weight of one plausible sample (about 20 ticks of memory)
CORRECT_BEYOND = 1.0  # seconds the exchange clock may run ahead before ticks are shifted


class _SymbolClock:
    """The measured offset of one symbol plus the candidate run that may replace it."""

    __slots__ = ("offset", "run", "run_start")

    def __init__(self, offset: float) -> None:
        self.offset = offset
        self.run: list[float] = []  # implausible samples that agree with each other
        self.run_start = 0.0  # receipt time of the run's first sample


class ClockGuard:
    """Check each tick's exchange time against its receipt time; see the module docstring.

    One guard per connection; ``counters`` is the feed's, where drops, re-anchors and the
    feed-level offset (``clock_offset``, an EWMA of accepted samples, for display) are kept.
    """

    def __init__(self, counters: FeedCounters, *, tolerance: float = DEFAULT_TOLERANCE,
                 reanchor_count: int = DEFAULT_REANCHOR_COUNT,
                 reanchor_span: float = DEFAULT_REANCHOR_SPAN,
                 reanchor_span_behind: float = DEFAULT_REANCHOR_SPAN_BEHIND) -> None:
        if not tolerance > 0:
            raise ValueError("tolerance must be positive")
        self.counters = counters
        self.tolerance = float(tolerance)
        self.reanchor_count = max(1, int(reanchor_count))
        self.reanchor_span = float(reanchor_span)
        self.reanchor_span_behind = float(reanchor_span_behind)
        self._clocks: dict[str, _SymbolClock] = {}

    def offset(self, symbol: str) -> float | None:
        """Return the measured offset of ``symbol`` (receipt minus exchange time), if any."""
        clock = self._clocks.get(symbol)
        return None if clock is None else clock.offset

    def admit(self, tick: Tick) -> bool:
        """Return True if ``tick`` may go on (its ``ts`` possibly corrected), False if dropped."""
        sample = tick.recv_ts - tick.ts
        clock = self._clocks.get(tick.symbol)
        if clock is None:
            prior = self.counters.clock_offset
            prior = 0.0 if prior is None else prior
            # A first sample that agrees with the prior is the best estimate of this symbol's.
            start = sample if abs(sample - prior) <= self.tolerance else prior
            clock = self._clocks[tick.symbol] = _SymbolClock(start)
        deviation = sample - clock.offset  # < 0: the tick is ahead of the predicted time
        tolerance = self.tolerance
        if -tolerance <= deviation <= tolerance:
            clock.offset += ALPHA * deviation
            if clock.run:
                clock.run.clear()
            counters = self.counters  # counters.note_offset, inlined: this runs per tick
            shown = counters.clock_offset
            counters.clock_offset = sample if shown is None else shown + ALPHA * (sample - shown)
        elif not self._extend_run(clock, sample, tick.recv_ts, deviation < 0):
            if deviation < 0:
                self.counters.clock_skew += 1
                return False
            return True  # far behind: the engine decides what is too late
        offset = clock.offset
        if offset < -CORRECT_BEYOND:
            tick.ts += offset
            self.counters.clock_corrected += 1
        return True

    def _extend_run(self, clock: _SymbolClock, sample: float, recv_ts: float,
                    ahead: bool) -> bool:
        """Add an implausible sample to the candidate run; True if it re-anchored the offset."""
        run = clock.run
        if run and abs(sample - run[0]) > self.tolerance:
            run.clear()
        if not run:
            clock.run_start = recv_ts
        run.append(sample)
        span = self.reanchor_span if ahead else self.reanchor_span_behind
        if len(run) < self.reanchor_count or recv_ts - clock.run_start < span:
            if len(run) > 4 * self.reanchor_count:  # keep memory bounded on fast feeds
                low = min(run)
                del run[: len(run) // 2]
                run.append(low)  # keep the smallest sample for a run behind
            return False
        clock.offset = sorted(run)[len(run) // 2] if ahead else min(run)
        run.clear()
        self.counters.clock_resets += 1
        self.counters.clock_offset = clock.offset
        return True
