"""Bounded per-symbol time grid and a rolling sum over it.

The grid replaces the raw tick buffer: whatever the tick rate, a symbol keeps one close per
grid cell for the longest window only, so memory is bounded and window look-ups are O(1) by
cell index. Cell ``c`` covers event times ``[c*g, (c+1)*g)``; its *close* is the price of the
last accepted tick with ``ts < (c+1)*g`` (the previous-tick price at grid time ``(c+1)*g``),
forward-filled through cells without ticks.
"""

from __future__ import annotations

import math
from array import array

# MedRV scale: E[median(|x1|,|x2|,|x3|)^2] = sigma^2 (6 - 4 sqrt(3) + pi) / pi for i.i.d.
# normal returns, so multiplying the mean of ``medsq`` by this gives the return variance.
MEDRV_SCALE = math.pi / (6.0 - 4.0 * math.sqrt(3.0) + math.pi)


class PriceGrid:
    """Ring buffers of per-cell closes, close times, log closes, cumulative tick counts,
    squared ``h``-cell log returns and a jump-robust companion on ``hr``-cell returns, indexed
    by absolute cell number modulo ``size``.

    ``medsq[c]`` is the median of the squared ``hr``-cell returns ending at ``c - 2 hr``,
    ``c - hr`` and ``c``: three adjacent, non-overlapping returns, so a single jump (which
    lies in at most one of them) cannot reach it. This is the summand of MedRV (Andersen,
    Dobrev and Schaumburg 2012); scale it by :data:`MEDRV_SCALE` to estimate the mean
    squared return.
    """

    __slots__ = ("close", "close_ts", "cum", "first", "h", "hr", "last_closed", "logp",
                 "medsq", "size", "sqret", "sqret_r")

    def __init__(self, size: int, h: int, hr: int | None = None) -> None:
        self.size = size
        self.h = h  # return length (cells) of the stored squared returns
        self.hr = h if hr is None else hr  # return length (cells) of the robust terms
        self.close = array("d", bytes(8 * size))  # close price of each cell
        self.close_ts = array("d", bytes(8 * size))  # event time of the tick behind the close
        self.logp = array("d", bytes(8 * size))  # log of the close
        self.cum = array("q", bytes(8 * size))  # accepted ticks up to and including the cell
        self.sqret = array("d", bytes(8 * size))  # (logp[c] - logp[c-h])**2, 0 before valid
        self.sqret_r = array("d", bytes(8 * size))  # the same for hr-cell returns
        self.medsq = array("d", bytes(8 * size))  # median of sqret_r[c-2hr], [c-hr], [c]
        self.first: int | None = None  # first cell that has a close (the first tick's cell)
        self.last_closed: int | None = None

    def put(self, c: int, price: float, ts: float, logp: float, cum: int) -> None:
        """Record the close of cell ``c`` (cells must arrive in increasing order)."""
        size = self.size
        i = c % size
        self.close[i] = price
        self.close_ts[i] = ts
        logps = self.logp
        logps[i] = logp
        self.cum[i] = cum
        first = self.first
        if first is None:
            self.first = first = c
        back = c - self.h
        if back >= first:
            d = logp - logps[back % size]
            self.sqret[i] = d * d
        else:
            self.sqret[i] = 0.0
        hr = self.hr
        back = c - hr
        sqret_r = self.sqret_r
        if back >= first:
            d = logp - logps[back % size]
            sq = sqret_r[i] = d * d
            if back - hr - hr >= first:
                a = sqret_r[back % size]
                b = sqret_r[(back - hr) % size]
                if sq > a:
                    sq, a = a, sq
                # sq <= a: the median is a, b or sq.
                self.medsq[i] = a if b >= a else (b if b > sq else sq)
            else:
                self.medsq[i] = 0.0
        else:
            sqret_r[i] = 0.0
            self.medsq[i] = 0.0
        self.last_closed = c

    def has(self, c: int) -> bool:
        """Return True if cell ``c`` is closed and still held by the ring."""
        last = self.last_closed
        return (last is not None and self.first is not None
                and max(self.first, last - self.size + 1) <= c <= last)

    def nbytes(self) -> int:
        """Return the bytes held by the ring buffers."""
        return sum(a.buffer_info()[1] * a.itemsize for a in
                   (self.close, self.close_ts, self.logp, self.cum, self.sqret, self.sqret_r,
                    self.medsq))


class RollingGridSum:
    """Sum of ``values[c]`` over the last ``m`` closed cells ``c >= start``.

    Updated in O(1) per closed cell by adding the new value and removing the one that left;
    recomputed exactly every ``m`` updates so floating-point drift cannot accumulate.
    """

    __slots__ = ("m", "since_exact", "size", "start", "total", "values")

    def __init__(self, values: array, size: int, m: int) -> None:
        self.values = values
        self.size = size
        self.m = m
        self.start: int | None = None  # first cell whose value is valid
        self.total = 0.0
        self.since_exact = 0

    def push(self, c: int) -> None:
        """Account for newly closed cell ``c``."""
        start = self.start
        if start is None or c < start:
            return
        values = self.values
        size = self.size
        self.total += values[c % size]
        old = c - self.m
        if old >= start:
            self.total -= values[old % size]
        self.since_exact += 1
        if self.since_exact >= self.m:
            self.recompute(c)

    def recompute(self, c: int) -> None:
        """Recompute the sum exactly for the window ending at cell ``c``."""
        self.since_exact = 0
        start = self.start
        if start is None or c < start:
            self.total = 0.0
            return
        values = self.values
        size = self.size
        self.total = sum(values[k % size] for k in range(max(start, c - self.m + 1), c + 1))

    def count(self, c: int) -> int:
        """Return how many cells the window ending at closed cell ``c`` holds."""
        start = self.start
        if start is None or c < start:
            return 0
        return min(self.m, c - start + 1)
