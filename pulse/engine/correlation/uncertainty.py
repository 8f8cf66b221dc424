"""Standard error of a correlation from the number of independent returns it rests on.

Fisher's z = atanh(rho) is close to normal with standard deviation ``1 / sqrt(n - 3)`` for
``n`` independent bivariate-normal returns; by the delta method the correlation itself has
standard error ``(1 - rho^2) / sqrt(n - 3)``. Each estimator says what its ``n`` is
(overlapping returns and sparse observations carry fewer independent returns than cells).
"""

from __future__ import annotations

import math


def corr_stderr(rho: float, n_eff: float) -> float | None:
    """Return the standard error of ``rho`` from ``n_eff`` independent returns (None if
    there are too few for the formula, i.e. at most 4)."""
    if n_eff <= 4.0:
        return None
    return (1.0 - rho * rho) / math.sqrt(n_eff - 3.0)


def corr_interval(rho: float, n_eff: float, z: float = 1.96) -> tuple[float, float] | None:
    """Return the Fisher-z interval ``tanh(atanh(rho) -+ z / sqrt(n_eff - 3))``."""
    if n_eff <= 4.0:
        return None
    rho = max(-1.0 + 1e-12, min(1.0 - 1e-12, rho))
    centre = math.atanh(rho)
    half = z / math.sqrt(n_eff - 3.0)
    return math.tanh(centre - half), math.tanh(centre + half)
