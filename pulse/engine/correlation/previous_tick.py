"""Plain previous-tick grid returns: per-symbol realized variance and the grid cross product.

On a ``k``-cell clock the return of cell ``M`` is the change of the sampled log price from
the end of cell ``M - 1`` to the end of cell ``M``. Summing ``r_x * r_y`` over cells is the
textbook "grid returns" realized covariance; it is biased toward zero (Epps effect) when a
symbol ticks less often than the grid step, which is why it is not the default.
"""

from __future__ import annotations

from pulse.engine.correlation.grid import SymbolGrid
from pulse.engine.correlation.rolling import RollingSums

# Per-symbol sums kept for every grid method: new observations, non-zero returns, sum r^2.
OWN_WIDTH = 3


def own_term(g: SymbolGrid, m: int, k: int) -> tuple[float, float, float]:
    """Return (new observation?, moved?, squared return) of ``g`` for ``k``-cell cell ``m``."""
    fm = m * k + k - 1
    fp = fm - k
    if fp < g.first_cell:
        return (0.0, 0.0, 0.0)
    cap = g.capacity
    r = g.logp[fm % cap] - g.logp[fp % cap]
    new = 1.0 if g.times[fm % cap] > g.times[fp % cap] else 0.0
    return (new, 1.0 if r else 0.0, r * r)


def advance_grid(sums: RollingSums, gx: SymbolGrid, gy: SymbolGrid, last: int,
                 k: int) -> None:
    """Push ``r_x * r_y`` of ``k``-cell cells ``sums.cursor + 1 .. last`` into ``sums``.

    Cells before both symbols have a return contribute 0.
    """
    cx = gx.capacity
    cy = gy.capacity
    lpx = gx.logp
    lpy = gy.logp
    start = max(gx.first_cell, gy.first_cell)
    ring = sums.ring
    cells = sums.cells
    total = sums.sums[0]
    for m in range(sums.cursor + 1, last + 1):
        fm = m * k + k - 1
        fp = fm - k
        term = 0.0
        if fp >= start:
            term = (lpx[fm % cx] - lpx[fp % cx]) * (lpy[fm % cy] - lpy[fp % cy])
        i = m % cells
        total += term - ring[i]
        ring[i] = term
    sums.sums[0] = total
    sums.advanced(last)
