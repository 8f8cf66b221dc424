"""Realized volatility on the time grid and the EWMA baseline variance behind sigma thresholds.

Tick-to-tick return std measures microstructure noise and changes with the tick rate, so the
engine estimates variance from ``h``-cell log returns of grid closes (previous-tick prices),
using every overlapping return: this equals the average over the ``h`` possible sub-grid
offsets of the classic subsampled realized variance.

The same window over the grid's ``medsq`` values (medians of three adjacent squared returns)
gives the jump-robust MedRV companion (see docs/signals.md): a single jump moves plain
realized variance by its square but leaves the median untouched.
"""

from __future__ import annotations

import math

from pulse.engine.windows import MEDRV_SCALE, PriceGrid, RollingGridSum


class GridVariance:
    """Variance rate (per second) of overlapping ``h``-cell log returns whose two end points
    both lie in the last ``window_cells`` cells of the grid.

    With ``robust=True`` the summands are the grid's MedRV terms on ``hr``-cell returns (each
    spans three adjacent returns, all inside the window) scaled to an unbiased variance for
    Gaussian returns.
    """

    __slots__ = ("denom", "lead", "min_returns", "rolling")

    def __init__(self, grid: PriceGrid, window_cells: int, step: float, min_returns: int,
                 *, robust: bool = False) -> None:
        h = grid.hr if robust else grid.h
        self.lead = lead = 3 * h if robust else h  # cells one summand reaches back
        values = grid.medsq if robust else grid.sqret
        self.rolling = RollingGridSum(values, grid.size, window_cells - lead + 1)
        # Seconds spanned by one return, folded with the MedRV scale for the robust sums.
        self.denom = h * step / (MEDRV_SCALE if robust else 1.0)
        self.min_returns = min_returns

    def start(self, first_cell: int) -> None:
        """Start counting once the first summand is valid (``lead`` cells after the first)."""
        self.rolling.start = first_cell + self.lead

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

    def effective_samples(self) -> float:
        """Return Kish's effective sample size (sum w)^2 / sum w^2 (0 before any sample).

        With n samples the weights are alpha * keep^i, i < n, so sum w = 1 - keep^n and
        sum w^2 = alpha^2 (1 - keep^(2n)) / (1 - keep^2): no per-sample bookkeeping.
        """
        n = self.n
        if not n:
            return 0.0
        alpha = self.alpha
        keep = 1.0 - alpha
        kn = keep ** n
        return (1.0 - kn) ** 2 * (1.0 - keep * keep) / (alpha * alpha * (1.0 - kn * kn))

    def value(self) -> float | None:
        """Return the bias-corrected mean, or None before the first sample."""
        return self.weighted / self.weight if self.n else None


def annualize(rate: float | None, seconds_per_year: float) -> float | None:
    """Return annualized volatility (fraction) from a variance rate per second."""
    if rate is None:
        return None
    return math.sqrt(rate * seconds_per_year)
