"""Deterministic tick streams for the recording and warm-start tests."""

from __future__ import annotations

import math
import random

from pulse.engine.tick import Tick

T0 = 1_767_625_200.0  # 2026-01-05 15:00 UTC, a minute boundary


def two_symbol_ticks(seconds: int = 2400, seed: int = 7) -> list[Tick]:
    """Return correlated BTC/ETH random walks, 0-6 ticks per second at irregular times,
    with quotes on ETH and a sharp drop of both late in the stream (fires events).
    """
    rng = random.Random(seed)
    btc, eth = 60_000.0, 3_000.0
    ticks: list[Tick] = []
    for s in range(seconds):
        common = rng.gauss(0.0, 4e-4)
        shock = -0.03 if s == seconds - 600 else 0.0
        btc *= math.exp(common + rng.gauss(0.0, 2e-4) + shock)
        eth *= math.exp(0.8 * common + rng.gauss(0.0, 3e-4) + shock)
        for _ in range(rng.randint(0, 6)):
            symbol = rng.choice(("BTC-USD", "ETH-USD"))
            ts = T0 + s + rng.random()
            if symbol == "BTC-USD":
                price = round(btc * (1 + rng.gauss(0.0, 5e-5)), 2)
                ticks.append(Tick(symbol, "crypto", ts, price, size=rng.random()))
            else:
                price = round(eth * (1 + rng.gauss(0.0, 5e-5)), 2)
                ticks.append(Tick(symbol, "crypto", ts, price, bid=price - 0.05,
                                  ask=price + 0.05, size=rng.random()))
    ticks.sort(key=lambda t: t.ts)
    return ticks
