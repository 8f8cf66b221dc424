"""The default estimator: a realized kernel of pre-averaged interpolated 1-second samples.

Why: a correlation whose covariance and variances come from different samplings (the
former ``grid_hy``: Hayashi-Yoshida covariance over grid realized variances) is not bounded
by Cauchy-Schwarz and, between venues that lag each other, overshoots 1. Here every
symbol's return series is built the same way on the same clock, and a pair's covariance
and both variances are sums of products of those series over the same cells, so each
2 x 2 block and the whole matrix a query returns are Gram matrices: every value lies in
[-1, 1] and the matrix is positive semi-definite by construction (Barndorff-Nielsen,
Hansen, Lunde and Shephard 2011 build their multivariate realised kernel, and
Christensen, Kinnebrock and Podolskij 2010 their pre-averaged covariance, for the same
reason).

How:

1. **Path.** A symbol's observations are its previous-tick samples on the 1 s grid (the
   last tick of each cell, at its real time). Between two observations ``(a, xa)`` and
   ``(b, xb)`` the path is flat at ``xa`` until ``b - gap`` and then linear to ``xb``
   (bounded linear interpolation). Interpolating rather than carrying the last price
   forward removes most of the Epps bias of slow symbols (a stale previous-tick price
   makes returns of two symbols misaligned); bounding it by ``gap`` seconds makes the
   value at a cell end final ``gap`` seconds later, whether or not a tick came, so the
   streamed sums never have to be revised: the kernel answers ``gap`` seconds behind the
   newest closed cell.
2. **Returns.** Pre-averaged returns with the triangular weight ``g(x) = min(x, 1 - x)``
   (Jacod, Li, Mykland, Podolskij and Vetter 2009): at every 1 s cell ``m``, the mean
   path over the last ``K = H/2`` cells minus the mean over the ``K`` cells before, i.e.
   the 1 s increments of the last ``H`` seconds weighted 1, 2, .., K, .., 2, 1. Their
   realized covariance is (up to the window's edges) a weighted sum of the 1 s
   cross-covariances over lags ``-(H-2)..H-2`` whose weights are the triangle's
   autocorrelation: smooth at lag 0 (about ``1 - 6 (lag/H)^2``), so a venue lagging by a
   fraction of ``H`` loses only a second-order share of its co-movement, and the
   variances are the matching long-run variances. (Plain overlapping ``H``-returns, the
   first version, give Bartlett weights ``1 - |lag|/H``: first-order loss, and 10%
   higher one-hour RMSE on the synthetic protocol.)
3. **Horizon.** ``H`` is one of ``horizons`` (10/20/30 s), the smallest at least
   ``HORIZON_PER_GAP`` times the mean time between observations of the slowest symbol of
   the query, so liquid pairs are read at 10 s (near the 5-10 s grid correlations traders
   quote) while slow ones get enough ticks per return. One ``H`` per query keeps the
   matrix a Gram matrix.

Cost: per symbol per refresh O(new cells + cells to its next observation), shared by all
its pairs (the book keeps each symbol's last ``H - 1`` path values, so only new cells are
interpolated); per pair per refresh one multiply-add per new cell.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from pulse.engine.correlation.grid import SymbolGrid
from pulse.engine.correlation.rolling import RollingSums

# A horizon spans at least this many mean observation gaps of the slowest symbol.
HORIZON_PER_GAP = 5.0

# Extra cells per effective return per second of mean bridge variance (both symbols
# summed), fitted on synthetic streams at 0.2-5 ticks/s (docs/correlation.md).
BRIDGE_WEIGHT = 2.0


def path_values(g: SymbolGrid, first: int, last: int, gap_cells: int,
                bridge: list[float] | None = None) -> list[float]:
    """Return the bounded-interpolation log price at the end of cells ``first..last``.

    Needs cells up to ``last + gap_cells`` closed. Before the symbol's first cell the path
    is its first sample (no movement before it existed). Walks forward once: each cell's
    next observation is found by scanning at most ``gap_cells`` cells, and the scan is
    shared by every cell of the same observation, so the cost is O(cells + gap_cells).

    With ``bridge``, also appends per cell the variance (in seconds of variance rate) of
    a Brownian bridge at the cell end over the interpolated segment, 0 where the path is
    flat: how far an interpolated value may sit from the unobserved price, the input of
    :func:`effective_returns`.
    """
    cap = g.capacity
    lp = g.logp
    tm = g.times
    x0 = g.first_cell
    step = g.step
    gap = gap_cells * step
    out: list[float] = []
    append = out.append
    spread = bridge.append if bridge is not None else None
    cur = None  # time of the observation the walk is on
    nxt = -1  # cell of the next observation after it (-1: none found yet)
    scanned = 0  # last cell examined for that next observation
    for m in range(first, last + 1):
        if m < x0:
            append(lp[x0 % cap])
            if spread:
                spread(0.0)
            continue
        i = m % cap
        a = tm[i]
        if a != cur:
            cur = a
            nxt = -1
            scanned = m
        hi = m + gap_cells
        if nxt < 0 and scanned < hi:
            f = scanned + 1
            while f <= hi:
                if tm[f % cap] != a:
                    nxt = f
                    break
                f += 1
            scanned = hi if nxt < 0 else nxt
        xa = lp[i]
        if nxt < 0:
            append(xa)
            if spread:
                spread(0.0)
            continue
        b = tm[nxt % cap]
        end = (m + 1) * step
        s = b - gap
        if s < a:
            s = a
        if end <= s:
            append(xa)
            if spread:
                spread(0.0)
        else:
            append(xa + (end - s) / (b - s) * (lp[nxt % cap] - xa))
            if spread:
                spread((end - s) * (b - end) / (b - s))
    return out


def triangle_half(horizon: int) -> int:
    """Return the half-width ``K`` (cells) of the triangular weights of a ``horizon``."""
    return max(1, horizon // 2)


# The last path values of a symbol a kernel book computed, for the next refresh: (last
# cell, path values of the 2K - 1 cells ending there).
PathTail = tuple[int, list[float]]


def kernel_returns(g: SymbolGrid, first: int, last: int, horizon: int, gap_cells: int,
                   tail: PathTail | None = None) -> tuple[list[float], list[float], PathTail]:
    """Return the pre-averaged returns ending at cells ``first..last``, the bridge
    variances at those cell ends, and the path tail to pass to the next call.

    The return at cell ``m`` is ``(sum of path(m-K+1..m) - sum of path(m-2K+1..m-K)) / K``
    with ``K = horizon // 2``: the difference of two adjacent ``K``-cell means, which
    weights the 1 s path increments ``m-2K+2..m`` by the triangle 1, 2, .., K, .., 2, 1
    (pre-averaging with ``g(x) = min(x, 1 - x)``). ``tail`` (from the previous call, if it
    ended at ``first - 1``) supplies the ``2K - 1`` path values before ``first``, so a
    refresh walks only its new cells. The tail is empty (unusable) while the symbol's
    first cell is still open.
    """
    half = triangle_half(horizon)
    span = 2 * half
    bridge: list[float] = []
    ends = path_values(g, first, last, gap_cells, bridge)
    if tail is not None and tail[0] == first - 1 and len(tail[1]) == span - 1:
        path = tail[1] + ends
    else:
        path = path_values(g, first - span + 1, first - 1, gap_cells) + ends
    ref = path[0]
    lower = math.fsum(path[:half]) - half * ref
    upper = math.fsum(path[half:span]) - half * ref
    returns = [(upper - lower) / half]
    append = returns.append
    for idx in range(span, len(path)):
        mid = path[idx - half]
        upper += path[idx] - mid
        lower += mid - path[idx - span]
        append((upper - lower) / half)
    if g.first_cell > g.closed:
        # Cells before a symbol's first cell read that cell's sample, which is not final
        # while the cell is open (its returns are zero either way): cache nothing.
        return returns, bridge, (last, [])
    return returns, bridge, (last, path[len(path) - span + 1:])


@functools.cache
def overlap_cells(horizon: int) -> float:
    """Return how many cells one independent return is worth for overlapping pre-averaged
    returns of ``horizon``: the sum over lags of the squared autocorrelation of the
    triangular weights (about ``0.53 * horizon``; ``2/3 * horizon`` for plain overlapping
    returns). The variance of a realized covariance of such returns of Brownian prices
    over ``N`` cells is that of ``N / overlap_cells`` independent returns.
    """
    half = triangle_half(horizon)
    w = [min(j, 2 * half - j) for j in range(1, 2 * half)]
    auto = [sum(w[j] * w[j + lag] for j in range(len(w) - lag)) for lag in range(len(w))]
    return sum((2.0 - (lag == 0)) * (a / auto[0]) ** 2 for lag, a in enumerate(auto))


# Symbol sums of a kernel book: new observations, moves, sum r^2, sum of bridge variances.
KERNEL_OWN_WIDTH = 4


def own_terms(g: SymbolGrid, first: int, last: int, returns: Sequence[float],
              bridge: Sequence[float]) -> list[tuple[float, float, float, float]]:
    """Return per cell (new observation?, moved?, squared return, bridge variance) for
    ``first..last``."""
    cap = g.capacity
    tm = g.times
    x0 = g.first_cell
    out = []
    for j, m in enumerate(range(first, last + 1)):
        r = returns[j]
        if m < x0:
            new = 0.0
        elif m == x0:
            new = 1.0
        else:
            new = 1.0 if tm[m % cap] != tm[(m - 1) % cap] else 0.0
        out.append((new, 1.0 if r else 0.0, r * r, bridge[j]))
    return out


def advance_kernel(sums: RollingSums, rx: Sequence[float], ry: Sequence[float],
                   last: int) -> None:
    """Push ``rx[j] * ry[j]`` for cells ``sums.cursor + 1 .. last`` (lists start there)."""
    first = sums.cursor + 1
    if first > last:
        return
    ring = sums.ring
    cells = sums.cells
    total = sums.sums[0]
    for j in range(last - first + 1):
        term = rx[j] * ry[j]
        i = (first + j) % cells
        total += term - ring[i]
        ring[i] = term
    sums.sums[0] = total
    sums.advanced(last)


def choose_horizon(horizons: Sequence[int], slowest_gap: float | None, step: float) -> int:
    """Return the smallest horizon (cells) spanning ``HORIZON_PER_GAP`` slowest gaps."""
    if slowest_gap is None:
        return horizons[0]
    need = HORIZON_PER_GAP * slowest_gap / step
    for h in horizons:
        if h >= need:
            return h
    return horizons[-1]


def effective_returns(cells: int, horizon: int, bridge_x: float, bridge_y: float,
                      coverage: int) -> float:
    """Return how many independent returns a kernel estimate over ``cells`` cells is worth.

    ``cells / (overlap_cells(horizon) + BRIDGE_WEIGHT * (bridge_x + bridge_y) / cells)``,
    at most ``coverage``: overlapping pre-averaged returns of perfectly observed prices
    are worth about ``cells / (0.53 * horizon)`` independent ones, and interpolating
    between sparse observations costs information in proportion to the summed bridge
    variances (``bridge_*``, seconds over the window). ``BRIDGE_WEIGHT`` is fitted on
    synthetic streams; ``bench/corr_eval.py --part synthetic`` prints how often the 95%
    interval holds the truth.
    """
    per_return = overlap_cells(horizon) + BRIDGE_WEIGHT * (bridge_x + bridge_y) / cells
    return min(cells / per_return, float(coverage))
