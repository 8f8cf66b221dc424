"""Deterministic tick-stream builders shared by the engine tests."""

from __future__ import annotations

import math
import random

from pulse.engine import Engine, Tick

T0 = 1_722_000_000.0


class Driver:
    """Feed one symbol's ticks into an engine and collect every event it returns."""

    def __init__(self, eng: Engine, symbol: str = "BTC", asset: str = "crypto",
                 price: float = 100.0, ts: float = T0, seed: int = 1) -> None:
        self.eng = eng
        self.symbol = symbol
        self.asset = asset
        self.price = price
        self.ts = ts
        self.rng = random.Random(seed)
        self.events = []

    def tick(self, price: float | None = None, dt: float = 0.5):
        """Send one tick ``dt`` seconds after the previous one; return its events."""
        self.ts += dt
        if price is not None:
            self.price = price
        out = self.eng.on_tick(Tick(self.symbol, self.asset, self.ts, self.price))
        self.events.extend(out)
        return out

    def walk(self, seconds: float, sigma: float, rate: float = 2.0) -> list:
        """Random-walk for ``seconds`` with per-second log std ``sigma`` at ``rate`` ticks/s;
        return the events fired meanwhile.
        """
        fired = []
        end = self.ts + seconds
        rng = self.rng
        while self.ts < end:
            dt = rng.expovariate(rate)
            self.price *= math.exp(rng.gauss(0.0, sigma * math.sqrt(dt)))
            fired.extend(self.tick(dt=dt))
        return fired

    def jump(self, pct: float, dt: float = 0.5) -> list:
        """Move the price by ``pct`` percent in one tick; return its events."""
        return list(self.tick(self.price * (1.0 + pct / 100.0), dt=dt))
