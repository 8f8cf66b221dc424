"""The tutorial's bucketed correlation, kept as ``method="bucketed"`` for comparison.

Ticks fall into fixed buckets (10, 20 or 30 s); each bucket keeps the symbol's last price
in it, a return needs a price in the bucket and in the one before, and a bucket counts for
a pair only when both symbols have a return there (the tutorial dropped every bucket in
which *any* watchlist symbol was missing, which is worse still: one closed market blanks
the whole matrix). The last prices of two symbols sit at different times inside their
buckets, so the returns are misaligned and the estimate is biased toward zero (the Epps
effect), most for slowly ticking symbols.
"""

from __future__ import annotations

import math

from pulse.engine.correlation.grid import SymbolGrid

# Per-pair sums: n, moves of x, moves of y, sx, sy, sxx, syy, sxy.
PAIR_WIDTH = 8
_NONE = (0.0,) * PAIR_WIDTH


def _bucket_return(g: SymbolGrid, fm: int, k: int) -> float | None:
    """Return the log return of the bucket ending at cell ``fm``, None without two prices."""
    fp = fm - k
    if fp < g.first_cell:
        return None
    cap = g.capacity
    times = g.times
    if not times[fm % cap] > times[fp % cap]:
        return None  # no tick in this bucket
    fpp = fp - k
    if fpp >= g.first_cell and not times[fp % cap] > times[fpp % cap]:
        return None  # no tick in the previous bucket
    return g.logp[fm % cap] - g.logp[fp % cap]


def bucketed_term(gx: SymbolGrid, gy: SymbolGrid, m: int, k: int) -> tuple[float, ...]:
    """Return the pair's sums contribution of bucket ``m`` (all zero when it is dropped)."""
    fm = m * k + k - 1
    rx = _bucket_return(gx, fm, k)
    if rx is None:
        return _NONE
    ry = _bucket_return(gy, fm, k)
    if ry is None:
        return _NONE
    return (1.0, 1.0 if rx else 0.0, 1.0 if ry else 0.0, rx, ry, rx * rx, ry * ry, rx * ry)


def pearson(n: float, sx: float, sy: float, sxx: float, syy: float, sxy: float) -> float:
    """Return the Pearson correlation from raw sums (caller ensures both series vary)."""
    vx = sxx - sx * sx / n
    vy = syy - sy * sy / n
    if vx <= 0.0 or vy <= 0.0:
        return 0.0
    return (sxy - sx * sy / n) / math.sqrt(vx * vy)
