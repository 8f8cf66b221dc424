"""Brute-force reference metrics computed straight from the raw accepted ticks.

Each function re-derives the documented definition (README.md, "Metrics") with plain loops over
every tick, no incremental state, so the engine's O(1) bookkeeping can be checked against it.
"""

from __future__ import annotations

import math


def cell_of(ts: float, g: float) -> int:
    """Return the grid cell of event time ``ts``."""
    return int(ts // g)


def close_at(ticks: list[tuple[float, float]], c: int, g: float) -> tuple[float, float] | None:
    """Return (price, ts) of the last tick whose cell is ``<= c``, or None."""
    found = None
    for ts, price in ticks:
        if cell_of(ts, g) <= c:
            found = (price, ts)
    return found


def ret_ref(ticks: list[tuple[float, float]], w: float, g: float):
    """Return (simple return, reference age) for horizon ``w`` at the last tick, or None."""
    now, last = ticks[-1]
    first_cell = cell_of(ticks[0][0], g)
    j = cell_of(now, g) - round(w / g) - 1
    if j < first_cell:
        return None
    price, ts = close_at(ticks, j, g)
    return last / price - 1.0, now - ts


def closes(ticks: list[tuple[float, float]], lo: int, hi: int, g: float) -> dict[int, float]:
    """Return {cell: log close} for cells ``lo..hi``."""
    return {k: math.log(close_at(ticks, k, g)[0]) for k in range(lo, hi + 1)}


def realized_vol(ticks, window: float, step: float, min_returns: int, year: float, g: float):
    """Return annualized realized vol over ``window`` of ``step``-second grid returns."""
    first = cell_of(ticks[0][0], g)
    end = cell_of(ticks[-1][0], g) - 1
    wc, h = round(window / g), round(step / g)
    lo = max(first, end - wc)
    if end < first:
        return None
    logs = closes(ticks, lo, end, g)
    rets = [logs[k] - logs[k - h] for k in range(lo + h, end + 1)]
    if len(rets) < min_returns:
        return None
    rate = sum(r * r for r in rets) / (len(rets) * h * g)
    return math.sqrt(rate * year)


def ols_trend(ticks, window: float, min_points: int, g: float):
    """Return (slope %/h, t-stat or None, residual share) of log close on time, or None."""
    first = cell_of(ticks[0][0], g)
    end = cell_of(ticks[-1][0], g) - 1
    if end < first:
        return None
    lo = max(first, end - round(window / g))
    logs = closes(ticks, lo, end, g)
    xs = [float(k) for k in logs]
    ys = list(logs.values())
    n = len(xs)
    if n < min_points:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    syy = sum((y - my) ** 2 for y in ys)
    slope = sxy / sxx
    sse = max(0.0, syy - slope * sxy)
    # A flat window (rounding-level spread only) has no meaningful t-statistic.
    share = sse / syy if syy > 1e-24 * n else 0.0
    t = None
    if share > 1e-6:
        t = slope / math.sqrt(sse / (n - 2) / sxx)
    return slope / g * 3600 * 100, t, share


def tick_rate(ticks, window: float, g: float) -> float:
    """Return ticks per second whose cell lies in the last ``window / g`` cells."""
    c_now = cell_of(ticks[-1][0], g)
    r = round(window / g)
    return sum(1 for ts, _ in ticks if cell_of(ts, g) > c_now - r) / window
