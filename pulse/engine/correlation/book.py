"""Rolling per-symbol and per-pair sums for one (method, sampling step, window).

A book is brought up to date lazily: only when a matrix asks for a pair, and then only by
the cells that closed since that pair was last asked for, so the cost of a refresh is
O(new cells x pairs) whatever the window length, and observing a tick costs nothing here.
"""

from __future__ import annotations

import math

from pulse.engine.correlation.bucketed import PAIR_WIDTH, bucketed_term, pearson
from pulse.engine.correlation.config import BUCKETED, GRID_HY, KERNEL
from pulse.engine.correlation.grid import SymbolGrid
from pulse.engine.correlation.hayashi_yoshida import HyInputs, advance_grid_hy, hy_inputs
from pulse.engine.correlation.kernel import (
    KERNEL_OWN_WIDTH,
    PathTail,
    advance_kernel,
    effective_returns,
    kernel_returns,
    own_terms,
)
from pulse.engine.correlation.previous_tick import OWN_WIDTH, advance_grid, own_term
from pulse.engine.correlation.rolling import RollingSums
from pulse.engine.correlation.uncertainty import corr_stderr

OK = "ok"
INSUFFICIENT = "insufficient_overlap"
UNKNOWN = "unknown_symbol"
FLAT = "flat"
# A Hayashi-Yoshida comparison method (``grid_hy``, ``hy``) gave a value outside [-1, 1]:
# its covariance and variances come from different samplings, so nothing bounds it. The
# value is withheld rather than clipped to a confident-looking +-1.
OUT_OF_RANGE = "out_of_range"

# A symbol's kernel returns and bridge variances for the cells of one query.
KernelInputs = tuple[list[float], list[float]]

# (correlation, coverage, status, standard error)
Estimate = tuple[float | None, int, str, float | None]

# Floating-point slack of a Cauchy-Schwarz-bounded ratio of rolling sums.
_ROUNDING = 1e-9


class Book:
    """Rolling sums over the last ``cells`` cells of ``k`` grid cells each, for ``method``.

    A ``kernel`` book also has its return ``horizon`` and interpolation ``gap`` in cells.
    """

    __slots__ = ("cells", "gap", "horizon", "inputs", "k", "method", "pairs", "symbols",
                 "tails")

    def __init__(self, method: str, k: int, cells: int, horizon: int = 0,
                 gap: int = 0) -> None:
        """Create an empty book; sums appear the first time a symbol or pair is asked for."""
        self.method = method
        self.k = k
        self.cells = cells
        self.horizon = horizon
        self.gap = gap
        self.symbols: dict[str, RollingSums] = {}
        self.pairs: dict[tuple[str, str], RollingSums] = {}
        # Per-symbol inputs of the current query (HY inputs, or kernel returns), keyed by
        # (symbol, first cell): shared by all pairs whose sums stopped at the same cell.
        # Cleared by begin_query().
        self.inputs: dict[tuple[str, int], HyInputs | KernelInputs] = {}
        # Kernel books: each symbol's last computed path values (final once computed), so
        # the next refresh walks only its new cells.
        self.tails: dict[str, PathTail] = {}

    def forget(self, name: str) -> None:
        """Drop everything held about symbol ``name`` (its grid restarted): its own sums,
        every pair with it, its kernel path tail and the per-query inputs.
        """
        self.symbols.pop(name, None)
        for key in [key for key in self.pairs if name in key]:
            del self.pairs[key]
        self.tails.pop(name, None)
        self.inputs.clear()

    def begin_query(self) -> None:
        """Forget the per-query caches (the grids may have moved since the last query)."""
        self.inputs.clear()

    def sync_symbol(self, name: str, g: SymbolGrid, last: int) -> RollingSums:
        """Bring ``name``'s own sums up to ``k``-cell ``last`` and return them."""
        sums = self.symbols.get(name)
        if sums is None:
            width = KERNEL_OWN_WIDTH if self.method == KERNEL else OWN_WIDTH
            sums = self.symbols[name] = RollingSums(width, self.cells, last - self.cells)
        elif last - sums.cursor > self.cells:
            sums.restart(last - self.cells)
        if self.method == KERNEL:
            first = sums.cursor + 1
            if first <= last:
                returns, bridge = self._returns(name, g, first, last)
                for values in own_terms(g, first, last, returns, bridge):
                    sums.push(values)
            return sums
        k = self.k
        for m in range(sums.cursor + 1, last + 1):
            sums.push(own_term(g, m, k))
        return sums

    def _returns(self, name: str, g: SymbolGrid, first: int, last: int) -> KernelInputs:
        """Return (cached for this query) ``name``'s kernel returns and bridge variances of
        cells first..last."""
        got = self.inputs.get((name, first))
        if got is None:
            returns, bridge, tail = kernel_returns(g, first, last, self.horizon, self.gap,
                                                   self.tails.get(name))
            self.tails[name] = tail
            got = self.inputs[name, first] = (returns, bridge)
        return got  # type: ignore[return-value]  # kernel books only hold KernelInputs

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
        if self.method == KERNEL:
            first = sums.cursor + 1
            advance_kernel(sums, self._returns(key[0], gx, first, last)[0],
                           self._returns(key[1], gy, first, last)[0], last)
        elif bucketed:
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
        """Return (correlation, coverage, status, stderr) of x and y over the window ending
        at ``last``.

        Both symbols must have been brought up to ``last`` with :meth:`sync_symbol` first
        (once per query, not once per pair).

        Coverage is the number of returns the estimate rests on: for the grid methods the
        smaller of the two symbols' counts of sampled observations in the window, for the
        bucketed method the number of buckets both symbols have a return in. The standard
        error is Fisher's, from the independent returns the method's coverage amounts to
        (``uncertainty.corr_stderr``).
        """
        if self.method == BUCKETED:
            n, mx, my, sx, sy, sxx, syy, sxy = self.sync_pair((x, y), gx, gy, last).sums
            coverage = round(n)
            if coverage < min_overlap:
                return None, coverage, INSUFFICIENT, None
            if mx == 0.0 or my == 0.0:
                return None, coverage, FLAT, None
            return _finish(pearson(n, sx, sy, sxx, syy, sxy), coverage, coverage)
        pair = self.sync_pair((x, y), gx, gy, last)
        own_x = self.symbols[x]
        own_y = self.symbols[y]
        sx = own_x.sums
        sy = own_y.sums
        # Plain indexing and comparisons: this runs for every pair at every refresh.
        coverage = round(sx[0] if sx[0] < sy[0] else sy[0])
        if coverage < min_overlap:
            return None, coverage, INSUFFICIENT, None
        vx = sx[2]
        vy = sy[2]
        if sx[1] == 0.0 or sy[1] == 0.0 or vx <= 0.0 or vy <= 0.0:
            return None, coverage, FLAT, None
        corr = pair.sums[0] / math.sqrt(vx * vy)
        if self.method == GRID_HY:
            return _finish(corr, coverage, coverage)
        if corr > 1.0 + _ROUNDING or corr < -1.0 - _ROUNDING:
            # Same-cell sums obey Cauchy-Schwarz; only rolling add/remove drift can break
            # it (a symbol that moved a lot and then went nearly flat). Re-sum exactly.
            own_x.resum()
            own_y.resum()
            pair.resum()
            sx = own_x.sums
            sy = own_y.sums
            if sx[2] <= 0.0 or sy[2] <= 0.0:
                return None, coverage, FLAT, None
            corr = pair.sums[0] / math.sqrt(sx[2] * sy[2])
        if corr > 1.0:  # only rounding is left to remove here
            corr = 1.0
        elif corr < -1.0:
            corr = -1.0
        if self.method == KERNEL:
            n_eff = effective_returns(self.cells, self.horizon, sx[3], sy[3], coverage)
        else:
            n_eff = coverage
        return corr, coverage, OK, corr_stderr(corr, n_eff)

    def own_coverage(self, name: str) -> int:
        """Return how many sampled observations ``name`` has in the window (after a sync)."""
        return round(self.symbols[name].sums[0])


def _finish(corr: float, coverage: int, n_eff: float) -> Estimate:
    """Return an ``ok`` estimate with its standard error; refuse non-finite values and
    withhold (status ``out_of_range``) a value outside [-1, 1] instead of clipping it."""
    if not math.isfinite(corr):
        return None, coverage, INSUFFICIENT, None
    if abs(corr) > 1.0 + _ROUNDING:
        return None, coverage, OUT_OF_RANGE, None
    corr = max(-1.0, min(1.0, corr))
    return corr, coverage, OK, corr_stderr(corr, n_eff)
