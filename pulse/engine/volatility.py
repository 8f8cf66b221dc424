"""Realized volatility on the time grid and the EWMA baseline variance behind sigma thresholds.

Tick-to-tick return std measures microstructure noise and changes with the tick rate, so the
engine estimates variance from ``h``-cell log returns of grid closes (previous-tick prices),
using every overlapping return: this equals the average over the ``h`` possible sub-grid
offsets of the classic subsampled realized variance.
"""

from __future__ import annotations

import math

from pulse.engine.windows import PriceGrid, RollingGridSum


class GridVariance:
    """Variance rate (per second) of overlapping ``h``-cell log returns whose two end points
    both lie in the last ``window_cells`` cells of the grid.
    """

    __slots__ = ("denom", "min_returns", "rolling")

    def __init__(self, grid: PriceGrid, window_cells: int, step: float, min_returns: int) -> None:
        h = grid.h
        self.rolling = RollingGridSum(grid.sqret, grid.size, window_cells - h + 1)
        self.denom = h * step  # seconds spanned by one return
        self.min_returns = min_returns

    def start(self, first_cell: int, h: int) -> None:
        """Start counting returns once cell ``first_cell + h`` closes."""
        self.rolling.start = first_cell + h

    def rate(self, c: int) -> float | None:
        """Return the variance per second for the window ending at closed cell ``c``."""
        rolling = self.rolling
        n = rolling.count(c)
        if n < self.min_returns:
            return None
        total = rolling.total
        return (total if total > 0.0 else 0.0) / (n * self.denom)


class EwmaVariance:
    """Exponentially weighted mean of variance-rate samples, with bias correction so that the
    first samples are not pulled towards zero.
    """

    __slots__ = ("alpha", "n", "weight", "weighted")

    def __init__(self, half_life_samples: float) -> None:
        self.alpha = 1.0 - math.exp(-math.log(2.0) / half_life_samples)
        self.weighted = 0.0
        self.weight = 0.0
        self.n = 0

    def update(self, x: float) -> None:
        """Add one sample."""
        keep = 1.0 - self.alpha
        self.weighted = self.weighted * keep + self.alpha * x
        self.weight = self.weight * keep + self.alpha
        self.n += 1

    def value(self) -> float | None:
        """Return the bias-corrected mean, or None before the first sample."""
        return self.weighted / self.weight if self.n else None


def annualize(rate: float | None, seconds_per_year: float) -> float | None:
    """Return annualized volatility (fraction) from a variance rate per second."""
    if rate is None:
        return None
    return math.sqrt(rate * seconds_per_year)
