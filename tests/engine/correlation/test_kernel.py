"""The default ``kernel`` estimator: exact streaming, bounds, PSD, lead-lag, uncertainty.

The brute-force reference here shares no code with the package: it samples raw ticks
previous-tick per 1 s cell, interpolates by the documented rule and sums products of
overlapping returns with plain loops. Positive semi-definiteness is checked with a tiny
Cholesky factorisation (numpy is not a dependency).
"""

from __future__ import annotations

import math
import random
import statistics

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pulse.engine.correlation import CorrelationConfig, CorrelationTracker
from pulse.engine.correlation.synthetic import correlated_ticks, lagged_venue_ticks
from tests.engine.correlation.fresh import assert_matches_fresh

Ticks = list[tuple[float, float]]


def brute_path(ticks: Ticks, lo: int, hi: int, gap: float) -> list[float]:
    """Bounded-interpolation log price at the end of cells ``lo..hi`` (1 s cells)."""
    last_in_cell: dict[int, tuple[float, float]] = {}
    for t, p in ticks:
        last_in_cell[int(t // 1.0)] = (t, math.log(p))
    obs = [last_in_cell[c] for c in sorted(last_in_cell)]
    out = []
    for cell in range(lo, hi + 1):
        end = cell + 1.0
        before = [o for o in obs if o[0] < end]
        after = [o for o in obs if o[0] >= end]
        if not before:
            out.append(obs[0][1])
            continue
        a, xa = before[-1]
        if not after or after[0][0] - end >= gap:
            out.append(xa)
            continue
        b, xb = after[0]
        s = max(a, b - gap)
        out.append(xa if end <= s else xa + (end - s) / (b - s) * (xb - xa))
    return out


def brute_kernel(tx: Ticks, ty: Ticks, lo: int, hi: int, horizon: int,
                 gap: float) -> tuple[float, float, float]:
    """Return (sum rx ry, sum rx^2, sum ry^2) of the pre-averaged returns ending in lo..hi:
    the 1 s path increments of the last ``2K - 1`` cells (``K = horizon // 2``) weighted
    by the triangle 1, 2, .., K, .., 2, 1 and divided by K."""
    half = max(1, horizon // 2)
    weights = [min(j, 2 * half - j) for j in range(1, 2 * half)]
    px = brute_path(tx, lo - 2 * half + 1, hi, gap)
    py = brute_path(ty, lo - 2 * half + 1, hi, gap)

    def pre_averaged(path: list[float]) -> list[float]:
        steps = [path[i] - path[i - 1] for i in range(1, len(path))]
        return [sum(w * s for w, s in zip(weights, steps[i - len(weights) + 1:i + 1],
                                          strict=True)) / half
                for i in range(len(weights) - 1, len(steps))]

    rx = pre_averaged(px)
    ry = pre_averaged(py)
    assert len(rx) == hi - lo + 1
    return (sum(a * b for a, b in zip(rx, ry, strict=True)), sum(a * a for a in rx),
            sum(b * b for b in ry))


def random_ticks(rng: random.Random, rate: float, duration: float,
                 quiet: tuple[float, float] | None = None) -> Ticks:
    t = rng.expovariate(rate)
    price = 100.0
    out = []
    while t < duration:
        if quiet is None or not quiet[0] <= t < quiet[1]:
            price *= math.exp(rng.gauss(0.0, 1e-3))
            out.append((t, price))
        t += rng.expovariate(rate)
    return out


def full_block(matrix: list[list[float | None]]) -> list[list[float]]:
    """Return the largest block of symbols found greedily whose every pair has a number."""
    keep = [i for i in range(len(matrix)) if matrix[i][i] is not None]
    while True:
        missing = {i: sum(matrix[i][j] is None for j in keep) for i in keep}
        if not missing or max(missing.values()) == 0:
            return [[matrix[i][j] for j in keep] for i in keep]
        keep.remove(max(missing, key=lambda i: (missing[i], i)))


def test_the_psd_check_can_fail() -> None:
    assert min_pivot([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]) < 0
    assert min_pivot([[1.0, 0.9], [0.9, 1.0]]) > 0
    assert full_block([[1.0, None, 0.5], [None, 1.0, None], [0.5, None, 1.0]]) == [
        [1.0, 0.5], [0.5, 1.0]]


def min_pivot(matrix: list[list[float]], jitter: float = 1e-9) -> float:
    """Cholesky of ``matrix + jitter * I``: returns the smallest pivot (negative means the
    matrix has an eigenvalue below ``-jitter``)."""
    n = len(matrix)
    low = [[0.0] * n for _ in range(n)]
    smallest = 1.0
    for i in range(n):
        for j in range(i + 1):
            s = matrix[i][j] + (jitter if i == j else 0.0)
            s -= sum(low[i][k] * low[j][k] for k in range(j))
            if i == j:
                smallest = min(smallest, s)
                if s <= 0.0:
                    return s
                low[i][i] = math.sqrt(s)
            else:
                low[i][j] = s / low[j][j]
    return smallest


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), rate_x=st.sampled_from([0.1, 0.4, 1.0, 3.0]),
       rate_y=st.sampled_from([0.1, 0.4, 1.0, 3.0]), window=st.sampled_from([20.0, 45.0, 90.0]),
       horizon=st.sampled_from([2.0, 5.0]), gap=st.sampled_from([3.0, 10.0]))
# A symbol whose first tick lands in the cell still open at a query (its path before that
# cell is not final yet, so its path tail must not be cached).
@pytest.mark.slow
@example(seed=2016, rate_x=0.1, rate_y=0.1, window=20.0, horizon=2.0, gap=3.0)
def test_streamed_kernel_sums_match_brute_force_after_every_refresh(
        seed: int, rate_x: float, rate_y: float, window: float, horizon: float,
        gap: float) -> None:
    rng = random.Random(seed)
    tx = random_ticks(rng, rate_x, 240.0, quiet=(60.0, 110.0))
    ty = random_ticks(rng, rate_y, 240.0)
    if len(tx) < 2 or len(ty) < 2:
        return
    cfg = CorrelationConfig(window=window, max_window=300.0, min_overlap=2,
                            horizons=(horizon,), interp_gap=gap)
    tracker = CorrelationTracker(cfg)
    stream = sorted([("X", t, p) for t, p in tx] + [("Y", t, p) for t, p in ty],
                    key=lambda tick: tick[1])
    next_query = 7.0
    checked = 0
    for s, t, p in stream:
        while t >= next_query:
            tracker.matrix(["X", "Y"], next_query)
            book = tracker._books[("kernel", 1, round(window), round(horizon))]
            hi = int(next_query // 1.0) - 1 - round(gap)
            seen_x = [(a, b) for a, b in tx if a < next_query]
            seen_y = [(a, b) for a, b in ty if a < next_query]
            if seen_x and seen_y and hi >= int(max(seen_x[0][0], seen_y[0][0])):
                cov, vx, vy = brute_kernel(seen_x, seen_y, hi - round(window) + 1, hi,
                                           round(horizon), gap)
                assert book.pairs[("X", "Y")].sums[0] == pytest.approx(cov, rel=1e-9,
                                                                       abs=1e-15)
                assert book.symbols["X"].sums[2] == pytest.approx(vx, rel=1e-9, abs=1e-15)
                assert book.symbols["Y"].sums[2] == pytest.approx(vy, rel=1e-9, abs=1e-15)
                checked += 1
            next_query += rng.choice([0.5, 3.0, 11.0])
        tracker.observe(s, t, p)
    assert checked > 0


def async_market(rng: random.Random, n: int, duration: float) -> list[tuple[str, float, float]]:
    """Several symbols of one factor at mixed tick rates, with bursts, silences, a flat
    symbol, late copies of another symbol (lead-lag) and a price jump."""
    factor = [0.0]
    times = [0.0]
    t = 0.0
    while t < duration:
        t += 0.25
        times.append(t)
        factor.append(factor[-1] + rng.gauss(0.0, 5e-4))

    def level(at: float) -> float:
        return factor[min(len(factor) - 1, max(0, int(at / 0.25)))]

    ticks: list[tuple[str, float, float]] = []
    for i in range(n):
        kind = rng.choice(["normal", "normal", "lagged", "slow", "flat", "bursty"])
        rate = {"slow": 0.05, "bursty": 0.3}.get(kind, rng.choice([0.3, 1.0, 4.0]))
        beta = rng.uniform(-1.5, 1.5)
        lag = rng.uniform(0.05, 2.0) if kind == "lagged" else 0.0
        own = 0.0
        t = rng.uniform(0.0, 30.0)
        quiet_from = rng.uniform(0.0, duration)
        quiet_to = quiet_from + rng.choice([0.0, 40.0, 200.0])
        while t < duration:
            own += rng.gauss(0.0, 3e-4)
            if rng.random() < 0.002:
                own += rng.choice([-0.05, 0.05])  # a jump
            if not quiet_from <= t < quiet_to:
                price = 50.0 if kind == "flat" else 100.0 * math.exp(beta * level(t - lag) + own)
                ticks.append((f"S{i}", t, price))
            if kind == "bursty" and rng.random() < 0.8:
                t += rng.expovariate(40.0)
            else:
                t += rng.expovariate(rate)
    ticks.sort(key=lambda tick: tick[1])
    return ticks


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(2, 6),
       window=st.sampled_from([60.0, 120.0, 300.0]))
def test_every_value_is_in_bounds_and_the_matrix_is_positive_semi_definite(
        seed: int, n: int, window: float) -> None:
    rng = random.Random(seed)
    ticks = async_market(rng, n, 420.0)
    tracker = CorrelationTracker(CorrelationConfig(window=window, max_window=600.0,
                                                   min_overlap=5))
    names = [f"S{i}" for i in range(n)] + ["NEVER"]
    next_query = 40.0
    queried = 0
    for symbol, ts, price in ticks:
        if ts >= next_query:
            out = tracker.matrix(names, next_query)
            queried += 1
            matrix, status, stderr = out["matrix"], out["status"], out["stderr"]
            for i in range(len(names)):
                for j in range(len(names)):
                    v = matrix[i][j]
                    assert (v is None) == (status[i][j] != "ok")
                    if v is not None:
                        assert -1.0 <= v <= 1.0
                        assert stderr[i][j] is None or 0.0 <= stderr[i][j] < 1.0
            block = full_block(matrix)
            assert min_pivot(block) >= -1e-9
            next_query += rng.choice([1.0, 7.0, 30.0])
        tracker.observe(symbol, ts, price)
    assert queried > 0


def test_a_lagging_venue_reads_near_its_grid_reference_and_never_above_one() -> None:
    # One asset on two venues, the second 50 ms late, no noise: the previous default
    # (Hayashi-Yoshida over grid variances) overshot 1 here, as ETH spot vs perp did.
    ticks = lagged_venue_ticks(900.0, 0, lag=0.05, noise=0.0, rate_a=20.0, rate_b=10.0)
    tracker = CorrelationTracker()
    for symbol, ts, price in ticks:
        tracker.observe(symbol, ts, price)
    now = ticks[-1][1] + 1.0
    hy = tracker.matrix(["SPOT", "PERP"], now, method="grid_hy")
    assert hy["matrix"][0][1] is None and hy["status"][0][1] == "out_of_range"
    out = tracker.matrix(["SPOT", "PERP"], now)
    assert out["method"] == "kernel" and out["horizon"] == 10.0
    assert 0.95 < out["matrix"][0][1] < 1.0
    assert out["stderr"][0][1] < 0.01


@pytest.mark.slow
@pytest.mark.parametrize("lag", [0.05, 0.2, 0.5])
def test_lead_lag_with_noise_lands_near_the_10s_grid_correlation(lag: float) -> None:
    ticks = lagged_venue_ticks(3600.0, 1, lag=lag, rate_a=20.0, rate_b=10.0)
    tracker = CorrelationTracker(CorrelationConfig(window=3600.0))
    for symbol, ts, price in ticks:
        tracker.observe(symbol, ts, price)
    value = tracker.matrix(["SPOT", "PERP"], ticks[-1][1] + 1.0)["matrix"][0][1]
    reference = grid_pearson(ticks, 10.0)
    assert abs(value - reference) < 0.05
    assert value < 1.0


def grid_pearson(ticks: list[tuple[str, float, float]], step: float) -> float:
    """Pearson correlation of previous-tick ``step``-second returns of SPOT and PERP."""
    last: dict[str, float] = {}
    rows: list[tuple[float, float]] = []
    boundary = (ticks[0][1] // step + 1) * step
    for symbol, ts, price in ticks:
        while ts >= boundary:
            if len(last) == 2:
                rows.append((last["SPOT"], last["PERP"]))
            boundary += step
        last[symbol] = math.log(price)
    rx = [rows[i][0] - rows[i - 1][0] for i in range(1, len(rows))]
    ry = [rows[i][1] - rows[i - 1][1] for i in range(1, len(rows))]
    return statistics.correlation(rx, ry)


def test_the_horizon_follows_the_slowest_symbol_with_data() -> None:
    fast = correlated_ticks(0.6, 2.0, 2.0, 1200.0, seed=1, symbols=("A", "B"))
    slow = correlated_ticks(0.6, 0.1, 2.0, 1200.0, seed=2, symbols=("C", "D"))
    tracker = CorrelationTracker()
    for symbol, ts, price in sorted(fast + slow, key=lambda tick: tick[1]):
        tracker.observe(symbol, ts, price)
    now = fast[-1][1] + 1.0
    assert tracker.matrix(["A", "B"], now)["horizon"] == 10.0
    both = tracker.matrix(["A", "B", "C"], now)
    assert both["horizon"] == 30.0  # 0.1 ticks/s: 10 s between observations
    assert both["delay"] == 30.0
    assert both["status"][0][2] == "ok"


@pytest.mark.slow
@pytest.mark.parametrize(("rate", "duration"), [(1.0, 1800.0), (0.2, 3600.0), (5.0, 900.0)])
def test_the_standard_error_predicts_the_spread_across_seeds(rate: float,
                                                             duration: float) -> None:
    values = []
    errors = []
    for seed in range(24):
        ticks = correlated_ticks(0.5, rate, rate, duration, seed=seed)
        tracker = CorrelationTracker(CorrelationConfig(window=duration, max_window=3600.0))
        for symbol, ts, price in ticks:
            tracker.observe(symbol, ts, price)
        out = tracker.matrix(["X", "Y"], ticks[-1][1] + 1.0)
        values.append(out["matrix"][0][1])
        errors.append(out["stderr"][0][1])
    spread = statistics.stdev(values)
    predicted = statistics.fmean(errors)
    assert 0.6 < spread / predicted < 1.6, (spread, predicted)
    assert abs(statistics.fmean(values) - 0.5) < 2 * predicted


def test_the_window_ends_one_interpolation_gap_before_now() -> None:
    ticks = correlated_ticks(0.8, 2.0, 2.0, 600.0, seed=4)
    tracker = CorrelationTracker(CorrelationConfig(min_overlap=5))
    late = [("L", ticks[-1][1] - 20.0 + i, 10.0 + i % 3) for i in range(20)]
    for symbol, ts, price in sorted(ticks + late, key=lambda tick: tick[1]):
        tracker.observe(symbol, ts, price)
    out = tracker.matrix(["X", "L"], ticks[-1][1] + 1.0)
    # L's ticks all lie in the last 30 s, after the kernel's (final) window ends.
    assert out["delay"] == 30.0
    assert out["status"][0][1] == "insufficient_overlap" and out["coverage"][0][1] == 0


def test_pairs_refreshed_at_different_times_match_a_fresh_tracker() -> None:
    # Watchlists that share symbols: a symbol's cached path tail is reused by the next
    # refresh only when it continues where it stopped; pairs asked for less often start
    # earlier and must recompute, and every answer must equal one computed from scratch.
    rng = random.Random(5)
    streams = {"A": random_ticks(rng, 2.0, 900.0), "B": random_ticks(rng, 0.7, 900.0),
               "C": random_ticks(rng, 3.0, 900.0, quiet=(300.0, 420.0))}
    stream = sorted(((s, t, p) for s, ticks in streams.items() for t, p in ticks),
                    key=lambda tick: tick[1])
    cfg = CorrelationConfig(window=240.0, max_window=600.0, min_overlap=5)
    rolling = CorrelationTracker(cfg)
    lists = [["A", "B"], ["A", "C"], ["A", "B", "C"], ["C", "B"]]
    next_query = 40.0
    compared = 0
    for s, t, p in stream:
        if t >= next_query:
            symbols = lists[compared % len(lists)]
            assert_matches_fresh(rolling, stream, symbols, t, "horizon")
            compared += 1
            next_query = t + rng.choice([1.0, 3.0, 17.0])
        rolling.observe(s, t, p)
    assert compared > 40
