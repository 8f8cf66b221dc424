"""Rolling per-symbol and per-pair sums for one (method, sampling step, window).

A book is brought up to date lazily: only when a matrix asks for a pair, and then only by
the cells that closed since that pair was last asked for, so the cost of a refresh is
O(new cells x pairs) whatever the window length, and observing a tick costs nothing here.
"""

from __future__ import annotations

import math

from pulse.engine.correlation.bucketed import PAIR_WIDTH, bucketed_term, pearson
from pulse.engine.correlation.config import BUCKETED, GRID_HY
from pulse.engine.correlation.grid import SymbolGrid
from pulse.engine.correlation.hayashi_yoshida import HyInputs, advance_grid_hy, hy_inputs
from pulse.engine.correlation.previous_tick import OWN_WIDTH, advance_grid, own_term
from pulse.engine.correlation.rolling import RollingSums

OK = "ok"
INSUFFICIENT = "insufficient_overlap"
UNKNOWN = "unknown_symbol"
FLAT = "flat"

Estimate = tuple[float | None, int, str]  # (correlation, coverage, status)

class Book:
    """Rolling sums over the last ``cells`` cells of ``k`` grid cells each, for ``method``."""

    __slots__ = ("cells", "inputs", "k", "method", "pairs", "symbols")

    def __init__(self, method: str, k: int, cells: int) -> None:
        """Create an empty book; sums appear the first time a symbol or pair is asked for."""
        self.method = method
        self.k = k
        self.cells = cells
        self.symbols: dict[str, RollingSums] = {}
        self.pairs: dict[tuple[str, str], RollingSums] = {}
        # Per-symbol HY inputs of the current query, keyed by (symbol, first cell): shared
        # by all pairs whose sums stopped at the same cell. Cleared by begin_query().
        self.inputs: dict[tuple[str, int], HyInputs] = {}

    def begin_query(self) -> None:
        """Forget the per-query caches (the grids may have moved since the last query)."""
        self.inputs.clear()

    def sync_symbol(self, name: str, g: SymbolGrid, last: int) -> RollingSums:
        """Bring ``name``'s own sums up to ``k``-cell ``last`` and return them."""
        sums = self.symbols.get(name)
        if sums is None:
            sums = self.symbols[name] = RollingSums(OWN_WIDTH, self.cells, last - self.cells)
        elif last - sums.cursor > self.cells:
            sums.restart(last - self.cells)
        k = self.k
        for m in range(sums.cursor + 1, last + 1):
            sums.push(own_term(g, m, k))
        return sums

    def sync_pair(self, key: tuple[str, str], gx: SymbolGrid, gy: SymbolGrid,
                  last: int) -> RollingSums:
        """Bring the pair's sums up to ``k``-cell ``last`` and return them."""
        bucketed = self.method == BUCKETED
        sums = self.pairs.get(key)
        if sums is None:
            width = PAIR_WIDTH if bucketed else 1
            sums = self.pairs[key] = RollingSums(width, self.cells, last - self.cells)
        elif last - sums.cursor > self.cells:
            sums.restart(last - self.cells)
        if sums.cursor >= last:
            return sums
        k = self.k
        if bucketed:
            for m in range(sums.cursor + 1, last + 1):
                sums.push(bucketed_term(gx, gy, m, k))
        elif self.method == GRID_HY:
            first = sums.cursor + 1
            inputs = self.inputs
            xin = inputs.get((key[0], first))
            if xin is None:
                xin = inputs[key[0], first] = hy_inputs(gx, first, last, k)
            yin = inputs.get((key[1], first))
            if yin is None:
                yin = inputs[key[1], first] = hy_inputs(gy, first, last, k)
            advance_grid_hy(sums, xin, yin, last, k, gx.capacity)
        else:
            advance_grid(sums, gx, gy, last, k)
        return sums

    def estimate(self, x: str, y: str, gx: SymbolGrid, gy: SymbolGrid, last: int,
                 min_overlap: int) -> Estimate:
        """Return (correlation, coverage, status) of x and y over the window ending at ``last``.

        Both symbols must have been brought up to ``last`` with :meth:`sync_symbol` first
        (once per query, not once per pair).

        Coverage is the number of returns the estimate rests on: for the grid methods the
        smaller of the two symbols' counts of sampled observations in the window, for the
        bucketed method the number of buckets both symbols have a return in.
        """
        if self.method == BUCKETED:
            n, mx, my, sx, sy, sxx, syy, sxy = self.sync_pair((x, y), gx, gy, last).sums
            coverage = round(n)
            if coverage < min_overlap:
                return None, coverage, INSUFFICIENT
            if mx == 0.0 or my == 0.0:
                return None, coverage, FLAT
            return _finish(pearson(n, sx, sy, sxx, syy, sxy), coverage)
        nx, mx, vx = self.symbols[x].sums
        ny, my, vy = self.symbols[y].sums
        cov = self.sync_pair((x, y), gx, gy, last).sums[0]
        coverage = round(min(nx, ny))
        if coverage < min_overlap:
            return None, coverage, INSUFFICIENT
        if mx == 0.0 or my == 0.0 or vx <= 0.0 or vy <= 0.0:
            return None, coverage, FLAT
        return _finish(cov / math.sqrt(vx * vy), coverage)

    def own_coverage(self, name: str) -> int:
        """Return how many sampled observations ``name`` has in the window (after a sync)."""
        return round(self.symbols[name].sums[0])


def _finish(corr: float, coverage: int) -> Estimate:
    """Clamp to [-1, 1] (HY can overshoot in small samples) and refuse non-finite values."""
    if not math.isfinite(corr):
        return None, coverage, INSUFFICIENT
    return max(-1.0, min(1.0, corr)), coverage, OK
