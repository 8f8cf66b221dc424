"""Rolling OLS trend of log price on time over the grid closes.

Regressing on grid closes (not raw ticks) keeps memory bounded and weighs time evenly however
bursty the ticks are. Time is the cell index relative to an origin and log price is taken
relative to a base value; both are re-based at each periodic exact recompute so the running
co-moments never lose precision to large offsets.
"""

from __future__ import annotations

import math

from pulse.engine.windows import PriceGrid


class GridTrend:
    """Running co-moments of (cell index, log close) over the last ``m`` closed cells."""

    __slots__ = ("grid", "m", "min_points", "origin", "since_exact", "sx", "sxx", "sxy", "sy",
                 "syy", "ybase")

    def __init__(self, grid: PriceGrid, m: int, min_points: int) -> None:
        self.grid = grid
        self.m = m
        self.min_points = min_points
        self.origin = 0
        self.ybase = 0.0
        self.sx = 0  # integer sums of x and x*x are exact
        self.sxx = 0
        self.sy = 0.0
        self.sxy = 0.0
        self.syy = 0.0
        self.since_exact = 0

    def push(self, c: int) -> None:
        """Account for newly closed cell ``c``."""
        grid = self.grid
        first = grid.first
        if first is None:
            return
        if c == first:
            self.recompute(c)
            return
        logp = grid.logp
        size = grid.size
        x = c - self.origin
        y = logp[c % size] - self.ybase
        self.sx += x
        self.sxx += x * x
        self.sy += y
        self.sxy += x * y
        self.syy += y * y
        old = c - self.m
        if old >= first:
            x = old - self.origin
            y = logp[old % size] - self.ybase
            self.sx -= x
            self.sxx -= x * x
            self.sy -= y
            self.sxy -= x * y
            self.syy -= y * y
        self.since_exact += 1
        if self.since_exact >= self.m:
            self.recompute(c)

    def recompute(self, c: int) -> None:
        """Recompute the co-moments exactly for the window ending at cell ``c``, re-based."""
        grid = self.grid
        self.since_exact = 0
        first = grid.first
        if first is None:
            return
        lo = max(first, c - self.m + 1)
        logp = grid.logp
        size = grid.size
        self.origin = lo
        self.ybase = ybase = logp[lo % size]
        sx = sxx = 0
        sy = sxy = syy = 0.0
        for k in range(lo, c + 1):
            x = k - lo
            y = logp[k % size] - ybase
            sx += x
            sxx += x * x
            sy += y
            sxy += x * y
            syy += y * y
        self.sx, self.sxx, self.sy, self.sxy, self.syy = sx, sxx, sy, sxy, syy

    def fit(self, c: int) -> tuple[float, float | None] | None:
        """Return (slope in log units per cell, t-statistic or None) for the window ending at
        closed cell ``c``; None while fewer than ``min_points`` points are available.

        The t-statistic is None when the residuals vanish (a perfectly straight or flat line),
        where it would be infinite or undefined.
        """
        first = self.grid.first
        if first is None or c < first:
            return None
        n = min(self.m, c - first + 1)
        if n < self.min_points:
            return None
        if self.syy == 0.0:  # every close equals the base: a flat window
            return 0.0, None
        sxx_c = self.sxx - self.sx * self.sx / n
        sxy_c = self.sxy - self.sx * self.sy / n
        syy_c = self.syy - self.sy * self.sy / n
        if syy_c <= 1e-10 * self.syy:
            # Centering cancelled almost every digit (a nearly flat window far from the base
            # value): the running sums cannot resolve it, so do an exact two-pass fit.
            sxx_c, sxy_c, syy_c = self._centered(c, n)
        if sxx_c <= 0.0:
            return None
        slope = sxy_c / sxx_c
        sse = syy_c - slope * sxy_c
        # Relative cut-off: below it the residuals are rounding noise, not data.
        if syy_c <= 0.0 or sse <= 1e-12 * syy_c:
            return slope, None
        se = math.sqrt(sse / (n - 2) / sxx_c)
        return slope, slope / se

    def _centered(self, c: int, n: int) -> tuple[float, float, float]:
        """Return the centered co-moments (Sxx, Sxy, Syy) of the window by two passes."""
        logp = self.grid.logp
        size = self.grid.size
        lo = c - n + 1
        ys = [logp[k % size] for k in range(lo, c + 1)]
        my = sum(ys) / n
        mx = (n - 1) / 2.0
        sxx = sxy = syy = 0.0
        for i, y in enumerate(ys):
            dx = i - mx
            dy = y - my
            sxx += dx * dx
            sxy += dx * dy
            syy += dy * dy
        return sxx, sxy, syy
