"""One symbol's prices sampled previous-tick on a fixed clock, kept in a bounded ring.

Every correlation estimator of this package reads prices from here rather than from raw
ticks: a tick only overwrites "last price / last time" (O(1), no allocation), and the cell
bookkeeping runs when a cell boundary passes. Cell ``f`` covers event time
``[f * step, (f + 1) * step)``; its *sample* is the log price of the last tick at or before
the cell's end together with that tick's time, so a run of cells without ticks repeats the
previous sample (previous-tick sampling) and "a new tick arrived in cell f" is simply
``time[f] > time[f - 1]``. A coarser clock of ``k`` cells reads every ``k``-th sample.
"""

from __future__ import annotations

import math
from array import array
from collections import deque


class SymbolGrid:
    """Previous-tick samples of one symbol on a ``step``-second clock, last ``capacity`` cells.

    Memory is two ``array('d')`` of ``capacity`` floats (16 bytes per cell) whatever the
    tick rate, plus the optional raw-tick deque used only by the comparison method ``hy``.
    """

    __slots__ = ("capacity", "cell", "closed", "end", "first_cell", "logp", "price", "raw",
                 "step", "times", "ts")

    def __init__(self, step: float, capacity: int, ts: float, price: float,
                 raw_capacity: int = 0, cell: int | None = None) -> None:
        """Start the grid at the symbol's first tick (time ``ts``, positive ``price``);
        ``cell`` places that first sample in a given cell (imported samples, see ``place``).
        """
        self.step = step
        self.capacity = capacity
        # The open cell (still receiving ticks) and the end time that closes it.
        self.cell = int(ts // step) if cell is None else cell
        self.end = (self.cell + 1) * step
        self.first_cell = self.cell
        # Last closed cell: nothing closed yet.
        self.closed = self.cell - 1
        self.price = price
        self.ts = ts
        self.logp = array("d", bytes(8 * capacity))
        self.times = array("d", bytes(8 * capacity))
        self.raw: deque[tuple[float, float]] | None = (
            deque(maxlen=raw_capacity) if raw_capacity else None
        )
        if self.raw is not None:
            self.raw.append((ts, price))

    def roll(self, ts: float) -> None:
        """Close every cell before the one holding ``ts`` (call only when ``ts >= end``)."""
        cell = int(ts // self.step)
        if cell > self.cell:
            self.close_through(cell - 1)

    def close_through(self, last: int) -> None:
        """Close cells up to ``last`` with the current last price; later ticks go after it.

        A gap longer than the ring only writes the cells the ring can still hold.
        """
        if last < self.cell:
            return
        logp = math.log(self.price)
        ts = self.ts
        start = max(self.cell, last - self.capacity + 1)
        cap = self.capacity
        lp = self.logp
        tm = self.times
        for f in range(start, last + 1):
            i = f % cap
            lp[i] = logp
            tm[i] = ts
        self.closed = last
        self.cell = last + 1
        self.end = (last + 2) * self.step

    def samples_after(self, after: int) -> list[tuple[int, float, float]]:
        """Return ``(cell, tick time, price)`` of the closed cells after ``after`` whose
        sample differs from the cell before (a new tick), oldest first.

        Replaying these through :meth:`place` on another grid reproduces this one's samples
        (up to ``exp(log(price))`` rounding): that is how ingest shards share their grids.
        """
        cap = self.capacity
        lp = self.logp
        tm = self.times
        oldest = self.oldest()
        out = []
        for f in range(max(after + 1, oldest), self.closed + 1):
            i = f % cap
            if f == oldest or tm[i] != tm[(f - 1) % cap] or lp[i] != lp[(f - 1) % cap]:
                out.append((f, tm[i], math.exp(lp[i])))
        return out

    def place(self, cell: int, ts: float, price: float) -> bool:
        """Make ``(ts, price)`` the sample of ``cell``, closing the cells before it with the
        previous sample; refuse (False) a cell that is already closed here.
        """
        if cell < self.cell:
            return False
        if cell > self.cell:
            self.close_through(cell - 1)
        self.price = price
        self.ts = ts
        return True

    def oldest(self) -> int:
        """Return the oldest cell whose sample is still readable."""
        return max(self.first_cell, self.closed - self.capacity + 1)

    def value_at(self, t: float, k: int) -> float:
        """Return the log price of the last ``k``-cell sample taken at or before time ``t``.

        Sampled observations only exist at ``k``-cell boundaries; before the first one the
        first sample is returned, so that increments before the symbol existed count as
        zero. Lookups older than the ring are clamped to its oldest usable sample, which
        only happens for a symbol silent longer than the ring spans.
        """
        cap = self.capacity
        f0 = (int(t // self.step) // k) * k + k - 1
        first = (self.first_cell // k) * k + k - 1
        lo = self.closed - cap + 1 + k
        if f0 < lo:
            # The first k-cell sample end at or after ``lo``.
            f0 = -(-(lo + 1) // k) * k - 1
        if f0 <= first:
            return self.logp[first % cap]
        if self.times[f0 % cap] <= t:
            return self.logp[f0 % cap]
        return self.logp[(f0 - k) % cap]
