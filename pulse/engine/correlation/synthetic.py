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


def lagged_venue_ticks(duration: float, seed: int, *, lag: float = 0.2,
                       noise: float = 1e-4, rate_a: float = 4.0, rate_b: float = 2.0,
                       burst: float = 5.0, sigma: float = 2e-4,
                       start: float = 1_700_000_000.0,
                       symbols: tuple[str, str] = ("SPOT", "PERP")) -> list[SyntheticTick]:
    """Return ticks of one asset traded on two venues: B quotes A's price ``lag`` s late.

    One efficient log price (Brownian, ``sigma`` per square-root second) is observed by
    venue A at its own times and by venue B at ``X(t - lag)``: B lags by ``lag`` seconds,
    as a perpetual or a second exchange follows the leading spot market. Every print adds
    independent microstructure noise (``noise``, log units: bid/ask bounce). Ticks arrive
    in bursts: clusters start at Poisson times (``rate / burst`` per second) and hold on
    average ``burst`` ticks 20 ms apart, as real trades do. The true correlation of the
    efficient prices is 1; what a 5-10 s grid measures on these ticks is the reference.
    """
    if duration <= 0 or lag < 0 or noise < 0 or min(rate_a, rate_b, burst) <= 0:
        raise ValueError("duration, rates and burst must be positive; lag and noise >= 0")
    rng = random.Random(seed)
    stamps: list[tuple[float, int]] = []
    for who, rate in enumerate((rate_a, rate_b)):
        t = rng.expovariate(rate / burst)
        while t < duration:
            u = t
            while u < duration:
                stamps.append((u, who))
                if rng.random() < 1.0 / burst:
                    break
                u += rng.expovariate(50.0)
            t += rng.expovariate(rate / burst)
    # Efficient price on the union of the times each venue reads it (B reads it lag late).
    reads = sorted({t if who == 0 else t - lag for t, who in stamps} | {-lag})
    path: dict[float, float] = {}
    x = math.log(100.0)
    prev = reads[0]
    for t in reads:
        x += sigma * math.sqrt(t - prev) * rng.gauss(0.0, 1.0)
        path[t] = x
        prev = t
    out: list[SyntheticTick] = []
    for t, who in sorted(stamps):
        value = path[t if who == 0 else t - lag] + rng.gauss(0.0, noise)
        out.append((symbols[who], start + t, math.exp(value)))
    return out
