"""Evaluate the correlation estimators; print the evidence tables of docs/correlation.md.

Usage (from the repository root)::

    .venv/bin/python bench/corr_eval.py                 # everything (about a minute)
    .venv/bin/python bench/corr_eval.py --part synthetic --seeds 5
    .venv/bin/python bench/corr_eval.py --part binance
    .venv/bin/python bench/corr_eval.py --part speed
    .venv/bin/python bench/corr_eval.py --part leadlag
    .venv/bin/python bench/corr_eval.py --part windows

1. Synthetic: two Brownian log prices with a known correlation observed at independent
   Poisson times (rates 0.2/s to 5/s), several seeds; RMSE and mean error per method, and
   for the default method how well its standard error predicts its actual error.
2. Binance: BTCUSDT vs ETHUSDT trades of the recorded session in ../shared/data; each
   method against the 5- and 10-second previous-tick grid correlations.
3. Lead-lag: one asset on two venues (the second quotes the first 50-500 ms late, with
   microstructure noise and bursty ticks); each method against the 5/10 s grid references.
4. Windows: RMSE of the default method over the last 300, 600 and 900 s (the regime-aware
   lookback) on the synthetic grid of correlations and tick rates.
5. Speed: observe() cost per tick and matrix() refresh cost for a 20-symbol watchlist
   refreshed every 2 s of event time, with 5- and 60-minute windows; bytes per symbol;
   for the default method and for ``grid_hy`` (the previous default) in the same run.

Pure Python (numpy is not installed in the project venv); numbers are printed, not asserted.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
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
from pulse.engine.correlation.kernel import path_values
from pulse.engine.correlation.synthetic import correlated_ticks, lagged_venue_ticks

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


def bartlett_kernel(window: float) -> Callable[[list[Tick], str, str], float | None]:
    """The kernel as first shipped (commit 83d6894): plain overlapping ``H``-second returns
    of the same interpolated paths, same horizon rule; the "before" of the triangular
    pre-averaging that replaced it."""

    def run(ticks: list[Tick], a: str, b: str) -> float | None:
        cfg = CorrelationConfig(window=window, max_window=window, min_overlap=2)
        tracker = CorrelationTracker(cfg)
        for symbol, ts, price in ticks:
            tracker.observe(symbol, ts, price)
        now = ticks[-1][1] + cfg.grid_step
        out = tracker.matrix([a, b], now)  # closes the grids, picks the horizon
        if out["matrix"][0][1] is None:
            return None
        horizon = round(out["horizon"])
        gap = cfg.gap_cells()
        last = int(now // cfg.grid_step) - 1 - gap
        first = last - round(out["window"]) + 1
        series = []
        for name in (a, b):
            p = path_values(tracker._grids[name], first - horizon, last, gap)
            series.append([p[i] - p[i - horizon] for i in range(horizon, len(p))])
        rx, ry = series
        return sum(x * y for x, y in zip(rx, ry, strict=True)) / math.sqrt(
            sum(x * x for x in rx) * sum(y * y for y in ry))

    return run


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
            out = tracker.matrix([a, b], ticks[-1][1] + cfg.grid_step, method=method)
            if out["status"][0][1] == "out_of_range":
                return math.nan  # an unbounded comparison method overshot [-1, 1]
            return out["matrix"][0][1]

        return run

    return {
        "kernel (default)": via("kernel"),
        "kernel Bartlett (before)": bartlett_kernel(window),
        "kernel fixed H=10s": via("kernel", horizons=(10.0,)),
        "kernel fixed H=20s": via("kernel", horizons=(20.0,)),
        "kernel fixed H=30s": via("kernel", horizons=(30.0,)),
        "grid_hy 1s (previous default)": via("grid_hy"),
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


def synthetic(seeds: int, duration: float, seed_base: int = 1000,
              only: tuple[str, ...] = ()) -> None:
    """Print RMSE and mean error per method over rho x rate pairs x seeds, then how well
    the default method's standard error predicts its errors.

    ``seed_base`` moves the seeds (1000 is the documented protocol; other bases show the
    spread of the RMSE itself); ``only`` keeps the methods whose name starts with one of
    these prefixes (quicker reruns)."""
    methods = tracker_estimators(duration)
    methods["refresh-time RV"] = refresh_time_corr
    if only:
        methods = {name: f for name, f in methods.items() if name.startswith(only)}
    errors: dict[str, list[float]] = {name: [] for name in methods}
    worst: dict[str, float] = dict.fromkeys(methods, 0.0)
    overshoots: dict[str, int] = dict.fromkeys(methods, 0)
    by_rate: dict[str, dict[tuple[float, float], list[float]]] = {m: {} for m in methods}
    for rho in RHOS:
        for rates in RATES:
            for seed in range(seeds):
                ticks = correlated_ticks(rho, *rates, duration, seed=seed_base + seed)
                for name, estimate in methods.items():
                    value = estimate(ticks, "X", "Y")
                    if value is not None and math.isnan(value):
                        overshoots[name] += 1
                        value = math.copysign(1.0, rho)  # what clipping used to show
                    err = (value if value is not None else 0.0) - rho
                    errors[name].append(err)
                    worst[name] = max(worst[name], abs(err))
                    by_rate[name].setdefault(rates, []).append(err)
    print(f"\n## Synthetic: rho in {RHOS}, rates {RATES}, {seeds} seeds from {seed_base}, "
          f"{duration:.0f} s of ticks, window = all of it\n")
    rate_cols = " | ".join(f"RMSE {x:g}/{y:g}" for x, y in RATES)
    print(f"| method | RMSE | mean error | max abs error | out of [-1, 1] | {rate_cols} |")
    print("|---|---:|---:|---:|---:|" + "---:|" * len(RATES))
    for name, errs in errors.items():
        per_rate = " | ".join(f"{rmse(by_rate[name][r]):.3f}" for r in RATES)
        print(f"| {name} | {rmse(errs):.3f} | {statistics.fmean(errs):+.3f} | "
              f"{worst[name]:.3f} | {overshoots[name]} | {per_rate} |")
    calibration(seeds, duration, seed_base)


def calibration(seeds: int, duration: float, seed_base: int = 1000) -> None:
    """Print, per tick-rate pair, the default method's RMSE beside its mean reported
    standard error, and how often the 95% Fisher interval holds the true correlation."""
    cfg = CorrelationConfig(window=duration, max_window=duration, min_overlap=2)
    print("\nDefault method's uncertainty: RMSE vs mean reported stderr, and coverage of "
          "the 95% interval tanh(atanh(rho) +- 1.96 se / (1 - rho^2))\n")
    print("| rates | RMSE | mean stderr | 95% interval holds the truth |")
    print("|---|---:|---:|---:|")
    total = hits = 0
    for rates in RATES:
        errs: list[float] = []
        ses: list[float] = []
        inside = 0
        for rho in RHOS:
            for seed in range(seeds):
                ticks = correlated_ticks(rho, *rates, duration, seed=seed_base + seed)
                tracker = CorrelationTracker(cfg)
                for symbol, ts, price in ticks:
                    tracker.observe(symbol, ts, price)
                out = tracker.matrix(["X", "Y"], ticks[-1][1] + 1.0)
                value, se = out["matrix"][0][1], out["stderr"][0][1]
                errs.append(value - rho)
                ses.append(se)
                half = 1.96 * se / (1.0 - value * value)
                z = math.atanh(max(-0.999999, min(0.999999, value)))
                inside += math.tanh(z - half) <= rho <= math.tanh(z + half)
        total += len(errs)
        hits += inside
        print(f"| {rates[0]:g}/{rates[1]:g} | {rmse(errs):.3f} | {statistics.fmean(ses):.3f} | "
              f"{inside}/{len(errs)} |")
    print(f"| all | | | {hits}/{total} = {hits / total:.0%} |")


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
    reference10 = grid_pearson(ticks, "BTCUSDT", "ETHUSDT", 10.0)
    assert reference is not None and reference10 is not None
    counts = {s: sum(1 for t in ticks if t[0] == s) for s in ("BTCUSDT", "ETHUSDT")}
    print(f"\n## Binance BTCUSDT/ETHUSDT trades, {span:.0f} s, {counts}\n")
    print(f"Reference: Pearson correlation of 5 s previous-tick grid returns = {reference:.3f}, "
          f"of 10 s returns = {reference10:.3f}\n")
    print("| method | corr | minus 5 s grid | minus 10 s grid |")
    print("|---|---:|---:|---:|")
    methods = tracker_estimators(3600.0)
    methods["refresh-time RV"] = refresh_time_corr
    methods["hy raw ticks (direct)"] = raw_hy_direct
    for name, estimate in methods.items():
        value = estimate(ticks, "BTCUSDT", "ETHUSDT")
        if value is None or math.isnan(value):
            print(f"| {name} | {'out of [-1, 1]' if value else 'None'} | | |")
            continue
        print(f"| {name} | {value:.3f} | {value - reference:+.3f} | "
              f"{value - reference10:+.3f} |")


def raw_hy_direct(ticks: list[Tick], a: str, b: str) -> float | None:
    """HY on every raw trade without the tracker (cross-checks the ``hy`` method)."""
    xs = dedupe_times([(ts, math.log(p)) for s, ts, p in ticks if s == a])
    ys = dedupe_times([(ts, math.log(p)) for s, ts, p in ticks if s == b])
    return hy_correlation(xs, ys)


def leadlag(seeds: int, duration: float) -> None:
    """Print each method on one asset quoted by two venues, the second lagging the first."""
    methods = tracker_estimators(duration)
    lags = (0.05, 0.2, 0.5)
    print(f"\n## Lead-lag: one asset on two venues, venue B = venue A's efficient price "
          f"lagged by {', '.join(f'{lag * 1000:.0f}' for lag in lags)} ms, noise 1e-4 "
          f"(log) per print, bursty ticks at 20/s and 10/s, {duration:.0f} s, "
          f"{seeds} seeds; true efficient correlation 1\n")
    print("| method | " + " | ".join(f"{lag * 1000:.0f} ms: mean (min..max)" for lag in lags)
          + " | out of [-1, 1] |")
    print("|---|" + "---:|" * (len(lags) + 1))
    runs = {lag: [lagged_venue_ticks(duration, seed, lag=lag, rate_a=20.0, rate_b=10.0)
                  for seed in range(seeds)] for lag in lags}
    refs = {}
    for step in (5.0, 10.0):
        refs[step] = {lag: [grid_pearson(t, "SPOT", "PERP", step) or 0.0 for t in runs[lag]]
                      for lag in lags}
    for step, by_lag in refs.items():
        cells = " | ".join(f"{statistics.fmean(v):.3f} ({min(v):.3f}..{max(v):.3f})"
                           for v in by_lag.values())
        print(f"| reference: {step:.0f} s grid Pearson | {cells} | |")
    for name, estimate in methods.items():
        over = 0
        cells = []
        for lag in lags:
            values = []
            for ticks in runs[lag]:
                value = estimate(ticks, "SPOT", "PERP")
                if value is None or math.isnan(value):
                    over += value is not None
                    continue
                values.append(value)
            cells.append(f"{statistics.fmean(values):.3f} ({min(values):.3f}..{max(values):.3f})"
                         if values else "-")
        print(f"| {name} | {' | '.join(cells)} | {over} |")
    clean_runs = 6
    print(f"\nNoise-free prints (900 s, {clean_runs} seeds per lag, default 900 s window): "
          "how often the previous default leaves [-1, 1], and the kernel's largest value\n")
    print("| lag | grid_hy out of [-1, 1] | kernel max |")
    print("|---|---:|---:|")
    for lag in lags:
        over = 0
        top = -1.0
        for seed in range(clean_runs):
            ticks = lagged_venue_ticks(900.0, seed, lag=lag, noise=0.0, rate_a=20.0,
                                       rate_b=10.0)
            tracker = CorrelationTracker()
            for symbol, ts, price in ticks:
                tracker.observe(symbol, ts, price)
            now = ticks[-1][1] + 1.0
            hy = tracker.matrix(["SPOT", "PERP"], now, method="grid_hy")
            over += hy["status"][0][1] == "out_of_range"
            top = max(top, tracker.matrix(["SPOT", "PERP"], now)["matrix"][0][1])
        print(f"| {lag * 1000:.0f} ms | {over}/{clean_runs} | {top:.4f} |")


def windows(seeds: int) -> None:
    """Print RMSE over the last 300/600/900 s of one-hour streams (the regime-aware lookback
    is 300 s or 900 s), for the default method and the previous default ``grid_hy``."""
    print(f"\n## Windows: the last W seconds of 3600 s of ticks, rho in {RHOS}, "
          f"rates {RATES}, {seeds} seeds\n")
    print("| method | window | RMSE | mean stderr | RMSE 0.2/0.2 | RMSE 5/5 | "
          "95% interval holds the truth |")
    print("|---|---|---:|---:|---:|---:|---:|")
    lookbacks = (300.0, 600.0, 900.0)
    methods = ("kernel", "grid_hy")
    errs: dict[tuple[str, float], list[float]] = {}
    ses: dict[tuple[str, float], list[float]] = {}
    slow: dict[tuple[str, float], list[float]] = {}
    fast: dict[tuple[str, float], list[float]] = {}
    held: dict[tuple[str, float], int] = {}
    for rho in RHOS:
        for rates in RATES:
            for seed in range(seeds):
                ticks = correlated_ticks(rho, *rates, 3600.0, seed=2000 + seed)
                tracker = CorrelationTracker(CorrelationConfig(min_overlap=2))
                for symbol, ts, price in ticks:
                    tracker.observe(symbol, ts, price)
                for method, w in itertools.product(methods, lookbacks):
                    out = tracker.matrix(["X", "Y"], ticks[-1][1] + 1.0, window=w,
                                         method=method)
                    value = out["matrix"][0][1]
                    if value is None:  # out of range: what clipping used to show
                        value = math.copysign(1.0, rho)
                    key = (method, w)
                    err = value - rho
                    errs.setdefault(key, []).append(err)
                    se = out["stderr"][0][1] or 0.0
                    ses.setdefault(key, []).append(se)
                    z = math.atanh(max(-0.999999, min(0.999999, value)))
                    half = 1.96 * se / max(1e-9, 1.0 - value * value)
                    held[key] = held.get(key, 0) + (math.tanh(z - half) <= rho
                                                    <= math.tanh(z + half))
                    if rates == (0.2, 0.2):
                        slow.setdefault(key, []).append(err)
                    if rates == (5.0, 5.0):
                        fast.setdefault(key, []).append(err)
    for key in itertools.product(methods, lookbacks):
        print(f"| {key[0]} | {key[1]:.0f} s | {rmse(errs[key]):.3f} | "
              f"{statistics.fmean(ses[key]):.3f} | {rmse(slow[key]):.3f} | "
              f"{rmse(fast[key]):.3f} | {held[key] / len(errs[key]):.0%} |")


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
    print("| method | window | observe only (us/tick) | refreshes | ms per refresh | "
          "total us/tick incl. refreshes | bytes/symbol |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for method, window in itertools.product(("grid_hy", "kernel"), (300.0, 3600.0)):
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
                tracker.matrix(symbols, ts, method=method)
                in_matrix += time.process_time() - began
                refreshes += 1
                next_refresh = ts + 2.0
        total = time.process_time() - start
        print(f"| {method} | {window:.0f} s | {observe_only / n_ticks * 1e6:.3f} | {refreshes} | "
              f"{in_matrix / refreshes * 1e3:.3f} | {total / n_ticks * 1e6:.3f} | "
              f"{tracker.bytes_per_symbol()} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--part", choices=("all", "synthetic", "binance", "leadlag", "windows",
                                           "speed"),
                        default="all", help="which evaluation to run")
    parser.add_argument("--seeds", type=int, default=5, help="synthetic seeds per cell")
    parser.add_argument("--duration", type=float, default=7200.0,
                        help="seconds of synthetic ticks per run (also the window)")
    parser.add_argument("--seed-base", type=int, default=1000,
                        help="first synthetic seed (1000 = the documented protocol)")
    parser.add_argument("--methods", default="",
                        help="synthetic: comma-separated name prefixes to run (default all)")
    parser.add_argument("--ticks", type=int, default=1_000_000, help="ticks in the speed run")
    parser.add_argument("--symbols", type=int, default=20, help="symbols in the speed run")
    args = parser.parse_args()
    if args.part in ("all", "synthetic"):
        only = tuple(m.strip() for m in args.methods.split(",") if m.strip())
        synthetic(args.seeds, args.duration, args.seed_base, only)
    if args.part in ("all", "binance"):
        binance()
    if args.part in ("all", "leadlag"):
        leadlag(args.seeds, 3600.0)
    if args.part in ("all", "windows"):
        windows(args.seeds)
    if args.part in ("all", "speed"):
        speed(args.ticks, args.symbols)


if __name__ == "__main__":
    main()
