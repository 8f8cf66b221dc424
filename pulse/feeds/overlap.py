"""Reconnect-overlap dedupe for providers that send no trade id or sequence (EODHD).

Identical ``(ts, price, size)`` is not evidence of a duplicate: on Binance 11-15% of genuine
trades repeat the previous trade's time, price and size (one taker order filling several
resting orders of one price level at once). The only moment a feed without ids can receive
the *same* message twice is right after a reconnect, when a server re-sends its last ticks.
So :class:`OverlapDedupe` remembers what was delivered in the last ``window`` seconds of a
connection and, after a reconnect, drops a tick only if it matches one of those exactly
(symbol, exchange time, price, size, bid, ask), each remembered tick at most once (a
multiset: if the server re-sends two identical trades we had, both go; a third genuine one
stays). Ticks arriving more than ``window`` seconds after the reconnect, and every tick of
normal flow, are never deduped.

Cost: one tuple and a deque append per delivered tick, amortized O(1) expiry; the lookup
runs only during a reconnect's overlap window. Pure Python; no Django import.
"""

from __future__ import annotations

import collections

from pulse.engine.tick import Tick

DEFAULT_WINDOW = 10.0  # seconds before a disconnect remembered, and after a reconnect checked
MAX_REMEMBERED = 100_000  # ticks; bounds memory on a very busy connection

Key = tuple[str, float, float, float | None, float | None, float | None]


def tick_key(tick: Tick) -> Key:
    """Return what must be equal for two id-less ticks to be the same message."""
    return (tick.symbol, tick.ts, tick.price, tick.size, tick.bid, tick.ask)


class OverlapDedupe:
    """Drop ticks re-sent after a reconnect; see the module docstring."""

    def __init__(self, window: float = DEFAULT_WINDOW) -> None:
        if not window >= 0:
            raise ValueError("window must be zero or positive")
        self.window = float(window)
        self._recent: collections.deque[tuple[float, Key]] = collections.deque()
        self._replayable: collections.Counter[Key] = collections.Counter()
        self._check_until = -1.0  # receipt time until which ticks are checked

    @property
    def checking(self) -> bool:
        """True while a reconnect's overlap is being checked."""
        return bool(self._replayable)

    def reconnected(self, now: float) -> None:
        """Start a new connection at receipt time ``now``: the recent ticks become replayable."""
        self._replayable = collections.Counter(key for _, key in self._recent)
        self._recent.clear()
        self._check_until = now + self.window

    def admit(self, tick: Tick) -> bool:
        """Return False if ``tick`` repeats one delivered just before the last disconnect."""
        key = (tick.symbol, tick.ts, tick.price, tick.size, tick.bid, tick.ask)  # tick_key
        recv_ts = tick.recv_ts
        replayable = self._replayable
        if replayable:
            if recv_ts > self._check_until:
                replayable.clear()
            elif replayable[key] > 0:
                replayable[key] -= 1
                if not replayable[key]:
                    del replayable[key]
                return False
        if self.window > 0:
            recent = self._recent
            recent.append((recv_ts, key))
            horizon = recv_ts - self.window
            while recent[0][0] < horizon:
                recent.popleft()
            if len(recent) > MAX_REMEMBERED:
                recent.popleft()
        return True
