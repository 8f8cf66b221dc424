"""Micro benchmark of ``Engine.on_tick``: ticks/s and bytes/symbol for short and long windows.

Generates a deterministic multi-asset stream in memory (stocks, forex, crypto random walks
with bursty exponential spacing and trade ids), then times only the ``on_tick`` loop with
5-minute and 60-minute windows. Correlation is replaced by a no-op tracker unless
``--with-correlation`` is given, so the number is the engine's own cost.

Run: ``.venv/bin/python bench/engine_bench.py [--ticks 1000000] [--symbols 18]``
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulse.engine import Engine, EngineConfig, Tick
from pulse.engine.tick import CRYPTO, FOREX, STOCKS

# (asset class, ticks per second, per-second log-price std)
PROFILES = {CRYPTO: (8.0, 4e-4), STOCKS: (3.0, 2e-4), FOREX: (2.0, 4e-5)}


class NullTracker:
    """Correlation tracker that ignores everything (isolates the engine's cost)."""

    def observe(self, symbol: str, ts: float, price: float) -> None:
        """Ignore the tick."""


def generate(n_ticks: int, n_symbols: int, seed: int = 7) -> list[Tick]:
    """Return ``n_ticks`` ticks over ``n_symbols`` symbols, merged in event-time order."""
    rng = random.Random(seed)
    assets = [CRYPTO, STOCKS, FOREX]
    symbols = [(f"{assets[i % 3][:3].upper()}{i:02d}", assets[i % 3]) for i in range(n_symbols)]
    total_rate = sum(PROFILES[a][0] for _, a in symbols)
    weights = [PROFILES[a][0] / total_rate for _, a in symbols]
    prices = [100.0 + 10 * i for i in range(n_symbols)]
    last_ts = [0.0] * n_symbols
    ts = 1_722_000_000.0
    ticks = []
    choices = rng.choices(range(n_symbols), weights=weights, k=n_ticks)
    for n, i in enumerate(choices):
        ts += rng.expovariate(total_rate) * (0.2 if rng.random() < 0.3 else 1.0)
        sym, asset = symbols[i]
        sigma = PROFILES[asset][1]
        dt = ts - last_ts[i] if last_ts[i] else 1.0
        last_ts[i] = ts
        prices[i] *= math.exp(rng.gauss(0.0, sigma * math.sqrt(dt)))
        ticks.append(Tick(sym, asset, ts, prices[i], size=1.0,
                          trade_id=n if asset == CRYPTO else None))
    return ticks


def window_config(minutes: int) -> EngineConfig:
    """Return a config whose return, vol and trend windows reach ``minutes`` minutes."""
    w = minutes * 60.0
    horizons = tuple(h for h in (60.0, 300.0, 900.0, 3600.0) if h <= w)
    return EngineConfig(return_horizons=horizons, vol_window=w, trend_window=w,
                        spike_window=min(w, 300.0), baseline_lag=min(w, 300.0))


def run(ticks: list[Tick], cfg: EngineConfig, with_correlation: bool) -> tuple[float, int, int]:
    """Return (ticks/s, mean bytes per symbol, events) for one pass over ``ticks``."""
    eng = Engine(cfg) if with_correlation else Engine(cfg, tracker=NullTracker())
    on_tick = eng.on_tick
    gc.collect()
    gc.disable()
    t0 = time.perf_counter()
    for tick in ticks:
        on_tick(tick)
    elapsed = time.perf_counter() - t0
    gc.enable()
    symbols = eng.symbols()
    per_symbol = sum(eng.memory_bytes(s) for s in symbols) // max(1, len(symbols))
    return len(ticks) / elapsed, per_symbol, eng.stats()["events"]


def main() -> None:
    """Parse arguments, run both window lengths and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=1_000_000, help="ticks to generate")
    parser.add_argument("--symbols", type=int, default=18, help="number of symbols")
    parser.add_argument("--repeat", type=int, default=3, help="passes per config (best kept)")
    parser.add_argument("--with-correlation", action="store_true",
                        help="include the real correlation tracker's observe()")
    args = parser.parse_args()
    ticks = generate(args.ticks, args.symbols)
    span = ticks[-1].ts - ticks[0].ts
    print(f"{len(ticks):,} ticks, {args.symbols} symbols, {span / 3600:.2f} h of event time")
    for minutes in (5, 60):
        runs = [run(ticks, window_config(minutes), args.with_correlation)
                for _ in range(args.repeat)]
        rate = max(r[0] for r in runs)
        _, per_symbol, events = runs[0]
        print(f"{minutes:>2}-minute windows: {rate:,.0f} ticks/s ({1e6 / rate:.2f} us/tick), "
              f"{per_symbol:,} bytes/symbol, {events} events")


if __name__ == "__main__":
    main()
