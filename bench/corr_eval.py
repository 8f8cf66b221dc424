"""Evaluate the correlation estimators; print the evidence tables of docs/correlation.md.

Usage (from the repository root)::

    .venv/bin/python bench/corr_eval.py                 # everything (about a minute)
    .venv/bin/python bench/corr_eval.py --part synthetic --seeds 5
    .venv/bin/python bench/corr_eval.py --part binance
    .venv/bin/python bench/corr_eval.py --part speed

1. Synthetic: two Brownian log prices with a known correlation observed at independent
   Poisson times (rates 0.2/s to 5/s), several seeds; RMSE and mean error per method.
2. Binance: BTCUSDT vs ETHUSDT trades of the recorded session in ../shared/data; each
   method against the 5-second previous-tick grid correlation.
3. Speed: observe() cost per tick and matrix() refresh cost for a 20-symbol watchlist
   refreshed every 2 s of event time, with 5- and 60-minute windows; bytes per symbol.

Pure Python (numpy is not installed in the project venv); numbers are printed, not asserted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulse.engine.correlation import CorrelationConfig, CorrelationTracker
from pulse.engine.correlation.hayashi_yoshida import dedupe_times, hy_correlation
from pulse.engine.correlation.synthetic import correlated_ticks

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "binance-spot-2024-08-08"
RHOS = (0.8, 0.5, 0.0, -0.6)
RATES = ((0.2, 0.2), (0.2, 1.0), (0.2, 5.0), (1.0, 1.0), (1.0, 5.0), (5.0, 5.0))
Tick = tuple[str, float, float]


# --- estimators that only live here (candidates evaluated, not shipped) -----------------


def refresh_time_corr(ticks: list[Tick], a: str, b: str) -> float | None:
    """Realized correlation on refresh times (Barndorff-Nielsen et al. 2011).

    A refresh time is the first moment both symbols have ticked since the previous one;
    both are sampled previous-tick there.
    """
    seen = {a: False, b: False}
    last: dict[str, float] = {}
    samples: list[tuple[float, float]] = []
    for symbol, _, price in ticks:
        if symbol not in seen:
            continue
        last[symbol] = math.log(price)
        seen[symbol] = True
        if seen[a] and seen[b]:
            samples.append((last[a], last[b]))
            seen = {a: False, b: False}
    return realized_corr(samples)


def realized_corr(samples: list[tuple[float, float]]) -> float | None:
    """Uncentered realized correlation of the returns between consecutive samples."""
    rx = [samples[i][0] - samples[i - 1][0] for i in range(1, len(samples))]
    ry = [samples[i][1] - samples[i - 1][1] for i in range(1, len(samples))]
    vx = sum(r * r for r in rx)
    vy = sum(r * r for r in ry)
    if not vx or not vy:
        return None
    return sum(x * y for x, y in zip(rx, ry, strict=True)) / math.sqrt(vx * vy)


def grid_pearson(ticks: list[Tick], a: str, b: str, step: float) -> float | None:
    """Pearson correlation of previous-tick returns on a ``step`` grid (the reference)."""
    series: dict[str, list[tuple[float, float]]] = {a: [], b: []}
    for symbol, ts, price in ticks:
        if symbol in series:
            series[symbol].append((ts, math.log(price)))
    start = max(series[a][0][0], series[b][0][0])
    end = min(series[a][-1][0], series[b][-1][0])
    grid = [(math.floor(start / step) + 1 + i) * step
            for i in range(int((end - start) // step))]
    sampled = {s: previous_tick(series[s], grid) for s in (a, b)}
    rx = [sampled[a][i] - sampled[a][i - 1] for i in range(1, len(grid))]
    ry = [sampled[b][i] - sampled[b][i - 1] for i in range(1, len(grid))]
    return statistics.correlation(rx, ry) if len(rx) > 2 else None


def previous_tick(obs: list[tuple[float, float]], times: Iterable[float]) -> list[float]:
    """Return the last observed value at or before each of ``times`` (ascending)."""
    out = []
    j = 0
    for t in times:
        while j + 1 < len(obs) and obs[j + 1][0] <= t:
            j += 1
        out.append(obs[j][1])
    return out


# --- tracker-based estimators -------------------------------------------------------------

Estimator = Callable[[list[Tick], str, str], float | None]


def tracker_estimators(window: float) -> dict[str, Estimator]:
    """Return named estimators that replay ticks through a CorrelationTracker."""

    def via(method: str, **settings: float) -> Estimator:
        cfg = CorrelationConfig(window=window, max_window=window, min_overlap=2,
                                raw_tick_capacity=200_000 if method == "hy" else 0,
                                **settings)

        def run(ticks: list[Tick], a: str, b: str) -> float | None:
            tracker = CorrelationTracker(cfg)
            for symbol, ts, price in ticks:
                tracker.observe(symbol, ts, price)
            return tracker.matrix([a, b], ticks[-1][1] + cfg.grid_step, method=method)[
                "matrix"][0][1]

        return run

    return {
        "grid_hy 1s (default)": via("grid_hy"),
        "grid_hy 0.5s": via("grid_hy", grid_step=0.5),
        "grid_hy 2s": via("grid_hy", grid_step=2.0, sample_step=2.0),
        "grid_hy 5s": via("grid_hy", grid_step=5.0, sample_step=5.0),
        "hy raw ticks": via("hy"),
        "grid 1s": via("grid", sample_step=1.0),
        "grid 5s": via("grid", sample_step=5.0),
        "bucketed 10s": via("bucketed", bucket_seconds=10.0),
        "bucketed 20s": via("bucketed", bucket_seconds=20.0),
        "bucketed 30s": via("bucketed", bucket_seconds=30.0),
    }


def synthetic(seeds: int, duration: float) -> None:
    """Print RMSE and mean error per method over rho x rate pairs x seeds."""
    methods = tracker_estimators(duration)
    methods["refresh-time RV"] = refresh_time_corr
    errors: dict[str, list[float]] = {name: [] for name in methods}
    worst: dict[str, float] = dict.fromkeys(methods, 0.0)
    by_rate: dict[str, dict[tuple[float, float], list[float]]] = {m: {} for m in methods}
    for rho in RHOS:
        for rates in RATES:
            for seed in range(seeds):
                ticks = correlated_ticks(rho, *rates, duration, seed=1000 + seed)
                for name, estimate in methods.items():
                    value = estimate(ticks, "X", "Y")
                    err = (value if value is not None else 0.0) - rho
                    errors[name].append(err)
                    worst[name] = max(worst[name], abs(err))
                    by_rate[name].setdefault(rates, []).append(err)
    print(f"\n## Synthetic: rho in {RHOS}, rates {RATES}, {seeds} seeds, "
          f"{duration:.0f} s of ticks, window = all of it\n")
    rate_cols = " | ".join(f"RMSE {x:g}/{y:g}" for x, y in RATES)
    print(f"| method | RMSE | mean error | max abs error | {rate_cols} |")
    print("|---|---:|---:|---:|" + "---:|" * len(RATES))
    for name, errs in errors.items():
        per_rate = " | ".join(f"{rmse(by_rate[name][r]):.3f}" for r in RATES)
        print(f"| {name} | {rmse(errs):.3f} | {statistics.fmean(errs):+.3f} | "
              f"{worst[name]:.3f} | {per_rate} |")


def rmse(errors: list[float]) -> float:
    return math.sqrt(statistics.fmean(e * e for e in errors))


def load_binance_trades() -> list[Tick]:
    """Read the BTCUSDT and ETHUSDT trade messages of the recording, ordered by trade time."""
    ticks: list[Tick] = []
    for name in ("btcusdt", "ethusdt"):
        with gzip.open(DATA / f"{name}_20240808.gz", "rt") as lines:
            for line in lines:
                if '@trade"' not in line:
                    continue
                data = json.loads(line.split(" ", 1)[1])["data"]
                ticks.append((data["s"], data["T"] / 1000.0, float(data["p"])))
    ticks.sort(key=lambda tick: tick[1])
    return ticks


def binance() -> None:
    """Print each method's BTC/ETH correlation on the recording and its distance to 5 s grid."""
    ticks = load_binance_trades()
    span = ticks[-1][1] - ticks[0][1]
    reference = grid_pearson(ticks, "BTCUSDT", "ETHUSDT", 5.0)
    assert reference is not None
    counts = {s: sum(1 for t in ticks if t[0] == s) for s in ("BTCUSDT", "ETHUSDT")}
    print(f"\n## Binance BTCUSDT/ETHUSDT trades, {span:.0f} s, {counts}\n")
    print(f"Reference: Pearson correlation of 5 s previous-tick grid returns = {reference:.3f}\n")
    print("| method | corr | minus 5 s grid |")
    print("|---|---:|---:|")
    methods = tracker_estimators(3600.0)
    methods["refresh-time RV"] = refresh_time_corr
    methods["hy raw ticks (direct)"] = raw_hy_direct
    for name, estimate in methods.items():
        value = estimate(ticks, "BTCUSDT", "ETHUSDT")
        shown = "None" if value is None else f"{value:.3f}"
        diff = "" if value is None else f"{value - reference:+.3f}"
        print(f"| {name} | {shown} | {diff} |")


def raw_hy_direct(ticks: list[Tick], a: str, b: str) -> float | None:
    """HY on every raw trade without the tracker (cross-checks the ``hy`` method)."""
    xs = dedupe_times([(ts, math.log(p)) for s, ts, p in ticks if s == a])
    ys = dedupe_times([(ts, math.log(p)) for s, ts, p in ticks if s == b])
    return hy_correlation(xs, ys)


def speed(n_ticks: int, n_symbols: int) -> None:
    """Print observe() and refresh costs on a generated multi-symbol stream."""
    rng = random.Random(7)
    symbols = [f"S{i:02d}" for i in range(n_symbols)]
    duration = 3600.0
    levels = [100.0] * n_symbols
    stream: list[Tick] = []
    t = 0.0
    for _ in range(n_ticks):
        t += rng.expovariate(n_ticks / duration)
        i = int(rng.random() * n_symbols)
        levels[i] *= math.exp(rng.gauss(0.0, 1e-4))
        stream.append((symbols[i], t, levels[i]))
    print(f"\n## Speed: {n_ticks} ticks, {n_symbols} symbols, {duration:.0f} s of event time, "
          f"matrix of all {n_symbols} every 2 s (CPU time)\n")
    print("| window | observe only (us/tick) | refreshes | ms per refresh | "
          "total us/tick incl. refreshes | bytes/symbol |")
    print("|---|---:|---:|---:|---:|---:|")
    for window in (300.0, 3600.0):
        cfg = CorrelationConfig(window=window, max_window=window)
        tracker = CorrelationTracker(cfg)
        observe = tracker.observe
        start = time.process_time()
        for symbol, ts, price in stream:
            observe(symbol, ts, price)
        observe_only = time.process_time() - start
        tracker = CorrelationTracker(cfg)
        observe = tracker.observe
        refreshes = 0
        in_matrix = 0.0
        next_refresh = 2.0
        start = time.process_time()
        for symbol, ts, price in stream:
            observe(symbol, ts, price)
            if ts >= next_refresh:
                began = time.process_time()
                tracker.matrix(symbols, ts)
                in_matrix += time.process_time() - began
                refreshes += 1
                next_refresh = ts + 2.0
        total = time.process_time() - start
        print(f"| {window:.0f} s | {observe_only / n_ticks * 1e6:.3f} | {refreshes} | "
              f"{in_matrix / refreshes * 1e3:.3f} | {total / n_ticks * 1e6:.3f} | "
              f"{tracker.bytes_per_symbol()} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--part", choices=("all", "synthetic", "binance", "speed"),
                        default="all", help="which evaluation to run")
    parser.add_argument("--seeds", type=int, default=5, help="synthetic seeds per cell")
    parser.add_argument("--duration", type=float, default=7200.0,
                        help="seconds of synthetic ticks per run (also the window)")
    parser.add_argument("--ticks", type=int, default=1_000_000, help="ticks in the speed run")
    parser.add_argument("--symbols", type=int, default=20, help="symbols in the speed run")
    args = parser.parse_args()
    if args.part in ("all", "synthetic"):
        synthetic(args.seeds, args.duration)
    if args.part in ("all", "binance"):
        binance()
    if args.part in ("all", "speed"):
        speed(args.ticks, args.symbols)


if __name__ == "__main__":
    main()
