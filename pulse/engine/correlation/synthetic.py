"""Asynchronous ticks of two prices with a known correlation, for tests and the evaluation.

Two log prices follow Brownian motions with correlation ``rho``; each symbol is observed at
its own Poisson tick times. The Brownian increments are drawn exactly between consecutive
merged tick times, so the only distortion is the asynchronous observation itself: an
estimator that is biased here is biased by asynchrony, not by noise.
"""

from __future__ import annotations

import math
import random

SyntheticTick = tuple[str, float, float]  # (symbol, event time, price)


def correlated_ticks(rho: float, rate_x: float, rate_y: float, duration: float, seed: int, *,
                     sigma: float = 2e-4, start: float = 1_700_000_000.0,
                     symbols: tuple[str, str] = ("X", "Y")) -> list[SyntheticTick]:
    """Return time-ordered ticks of two symbols whose log prices correlate with ``rho``.

    ``rate_x`` and ``rate_y`` are Poisson tick rates per second, ``sigma`` the volatility of
    the log price per square-root second, ``duration`` the span in seconds.
    """
    if not -1.0 <= rho <= 1.0:
        raise ValueError(f"rho must lie in [-1, 1], got {rho}")
    if rate_x <= 0 or rate_y <= 0 or duration <= 0:
        raise ValueError("rates and duration must be positive")
    rng = random.Random(seed)
    times: list[tuple[float, int]] = []
    for who, rate in enumerate((rate_x, rate_y)):
        t = rng.expovariate(rate)
        while t < duration:
            times.append((t, who))
            t += rng.expovariate(rate)
    times.sort()
    ortho = math.sqrt(1.0 - rho * rho)
    gauss = rng.gauss
    x = y = math.log(100.0)
    prev = 0.0
    out: list[SyntheticTick] = []
    for t, who in times:
        scale = sigma * math.sqrt(t - prev)
        z1 = gauss(0.0, 1.0)
        z2 = gauss(0.0, 1.0)
        x += scale * z1
        y += scale * (rho * z1 + ortho * z2)
        prev = t
        out.append((symbols[who], start + t, math.exp(x if who == 0 else y)))
    return out
