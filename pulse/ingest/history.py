"""A symbol's recent price path, read from the engine's correlation grid (read-only).

The correlation tracker already keeps every symbol's previous-tick price on a 1 s clock for
its longest window (an hour by default), so the symbol page's chart and the dashboard's
sparklines need no second copy of the data: this module samples that ring. It reads engine
internals without changing them; an ``Engine.history`` method could replace it later.
"""

from __future__ import annotations

import math
from typing import Any

from pulse.engine import Engine

MAX_POINTS = 720  # bounds the reply size whatever ``seconds`` and ``step`` a page asks for


def _grid(engine: Engine, symbol: str) -> Any:
    tracker = getattr(engine, "_tracker", None)
    grids = getattr(tracker, "_grids", None)
    return None if grids is None else grids.get(symbol)


def history(engine: Engine, symbol: str, seconds: float = 3600.0,
            step: float = 10.0) -> list[list[float]]:
    """Return ``[[ts, price], ...]`` of ``symbol`` over the last ``seconds``, oldest first.

    Points are the closes of ``step``-second cells (previous-tick price at the cell end)
    followed by the latest tick; an unknown symbol gives ``[]``. ``step`` is widened so that
    at most :data:`MAX_POINTS` points come back.
    """
    g = _grid(engine, symbol)
    if g is None:
        return []
    seconds = max(1.0, float(seconds))
    step = max(float(step), g.step, seconds / MAX_POINTS)
    k = max(1, round(step / g.step))
    last = g.closed
    first = max(g.oldest(), last - math.ceil(seconds / g.step) + 1)
    points: list[list[float]] = []
    # Align on multiples of k so consecutive requests return the same timestamps.
    start = -(-first // k) * k + k - 1
    cap = g.capacity
    for f in range(start, last + 1, k):
        points.append([(f + 1) * g.step, round(math.exp(g.logp[f % cap]), 10)])
    if g.price > 0 and (not points or g.ts > points[-1][0]):
        points.append([g.ts, g.price])
    return points


def histories(engine: Engine, symbols: list[str], seconds: float,
              step: float) -> dict[str, list[list[float]]]:
    """Return :func:`history` for each of ``symbols`` the engine knows."""
    out = {}
    for symbol in symbols:
        points = history(engine, symbol, seconds, step)
        if points:
            out[symbol] = points
    return out
