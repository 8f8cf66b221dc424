"""Hayashi-Yoshida: the O(n) walk and the streamed grid form against brute force.

The brute-force references here share no code with the package: they sample the raw ticks
previous-tick on the grid by scanning every tick and sum ``dX_i * dY_j`` over every pair of
overlapping intervals with a double loop.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulse.engine.correlation import CorrelationConfig, CorrelationTracker
from pulse.engine.correlation.hayashi_yoshida import dedupe_times, hy_correlation, hy_covariance
from tests.engine.correlation.fresh import assert_matches_fresh

Obs = list[tuple[float, float]]


def naive_hy(xs: Obs, ys: Obs) -> float:
    """Sum dX dY over every overlapping pair of intervals (the definition, O(n*m))."""
    total = 0.0
    for i in range(1, len(xs)):
        for j in range(1, len(ys)):
            if xs[i - 1][0] < ys[j][0] and ys[j - 1][0] < xs[i][0]:
                total += (xs[i][1] - xs[i - 1][1]) * (ys[j][1] - ys[j - 1][1])
    return total


def random_obs(rng: random.Random, n: int, *, grid: float | None = None) -> Obs:
    t = 0.0
    p = 0.0
    out = []
    for _ in range(n):
        t += rng.expovariate(1.0)
        p += rng.gauss(0.0, 1.0)
        out.append((round(t / grid) * grid if grid else t, p))
    return dedupe_times(out)


@pytest.mark.parametrize("seed", range(8))
def test_the_linear_walk_equals_the_double_loop(seed: int) -> None:
    rng = random.Random(seed)
    # A coarse time grid on some seeds makes ties between the two series' times likely.
    grid = 0.5 if seed % 2 else None
    xs = random_obs(rng, rng.randint(2, 60), grid=grid)
    ys = random_obs(rng, rng.randint(2, 60), grid=grid)
    assert hy_covariance(xs, ys) == pytest.approx(naive_hy(xs, ys), rel=1e-12, abs=1e-12)
    assert hy_covariance(ys, xs) == pytest.approx(naive_hy(xs, ys), rel=1e-12, abs=1e-12)


def test_it_is_zero_for_series_that_never_overlap() -> None:
    xs = [(0.0, 0.0), (1.0, 1.0), (2.0, 3.0)]
    ys = [(5.0, 0.0), (6.0, 2.0)]
    assert hy_covariance(xs, ys) == 0.0
    assert hy_covariance(xs[:1], ys) == 0.0


def test_identical_series_correlate_perfectly_and_flat_gives_none() -> None:
    xs = [(0.0, 0.0), (1.0, 1.0), (2.5, -1.0), (3.0, 2.0)]
    assert hy_correlation(xs, xs) == pytest.approx(1.0)
    assert hy_correlation(xs, [(0.0, 4.0), (2.0, 4.0)]) is None


def test_dedupe_keeps_the_last_observation_of_a_timestamp() -> None:
    assert dedupe_times([(1.0, 1.0), (1.0, 2.0), (2.0, 3.0)]) == [(1.0, 2.0), (2.0, 3.0)]


# --- the streamed grid form ------------------------------------------------------------


def sampled(ticks: list[tuple[float, float]], step: float, last_cell: int) -> list[tuple]:
    """Previous-tick samples at each cell end up to ``last_cell``: (time, log price, cell).

    Only cells where a new tick arrived give an observation (repeats are the same one).
    """
    out: list[tuple] = []
    j = -1
    first_cell = int(ticks[0][0] // step)
    for cell in range(first_cell, last_cell + 1):
        while j + 1 < len(ticks) and int(ticks[j + 1][0] // step) <= cell:
            j += 1
        if j >= 0 and (not out or out[-1][0] != ticks[j][0]):
            out.append((ticks[j][0], math.log(ticks[j][1]), cell))
    return out


def brute_grid_hy(tx: list, ty: list, step: float, lo: int, hi: int) -> tuple:
    """Return (cov, rv_x, rv_y, n_x, n_y) of grid HY over cells ``lo..hi``.

    A pair of overlapping increments belongs to the window when the later of the two cells
    their increments end in lies in it; an increment of one symbol belongs when its end
    cell does.
    """
    xs = sampled(tx, step, hi)
    ys = sampled(ty, step, hi)
    cov = 0.0
    for i in range(1, len(xs)):
        for j in range(1, len(ys)):
            if (lo <= max(xs[i][2], ys[j][2]) <= hi
                    and xs[i - 1][0] < ys[j][0] and ys[j - 1][0] < xs[i][0]):
                cov += (xs[i][1] - xs[i - 1][1]) * (ys[j][1] - ys[j - 1][1])

    def own(obs: list) -> tuple[float, int]:
        incs = [obs[i][1] - obs[i - 1][1] for i in range(1, len(obs)) if lo <= obs[i][2] <= hi]
        return sum(d * d for d in incs), len(incs)

    (vx, nx), (vy, ny) = own(xs), own(ys)
    return cov, vx, vy, nx, ny


def random_ticks(rng: random.Random, rate: float, duration: float, *, tie_grid: float = 0.0,
                 quiet: tuple[float, float] | None = None) -> list[tuple[float, float]]:
    t = rng.expovariate(rate)
    price = 100.0
    out = []
    while t < duration:
        if quiet is None or not quiet[0] <= t < quiet[1]:
            price *= math.exp(rng.gauss(0.0, 1e-3))
            out.append((round(t / tie_grid) * tie_grid if tie_grid else t, price))
        t += rng.expovariate(rate)
    return out


def merged(streams: dict[str, list]) -> list[tuple[str, float, float]]:
    # Stable sort on time only: same-time ticks of a symbol keep their order.
    return sorted(((s, t, p) for s, ticks in streams.items() for t, p in ticks),
                  key=lambda tick: tick[1])


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), rate_x=st.sampled_from([0.1, 0.4, 1.0, 3.0]),
       rate_y=st.sampled_from([0.1, 0.4, 1.0, 3.0]), window=st.sampled_from([20.0, 45.0, 90.0]),
       ties=st.booleans())
def test_streamed_grid_hy_matches_brute_force_after_every_refresh(
        seed: int, rate_x: float, rate_y: float, window: float, ties: bool) -> None:
    rng = random.Random(seed)
    tie_grid = 0.25 if ties else 0.0
    tx = random_ticks(rng, rate_x, 240.0, tie_grid=tie_grid, quiet=(60.0, 110.0))
    ty = random_ticks(rng, rate_y, 240.0, tie_grid=tie_grid)
    if len(tx) < 2 or len(ty) < 2:
        return
    cfg = CorrelationConfig(window=window, max_window=300.0, min_overlap=2)
    tracker = CorrelationTracker(cfg)
    stream = merged({"X": tx, "Y": ty})
    next_query = 7.0
    checked = 0
    for s, t, p in stream:
        while t >= next_query:
            # Query the state before this tick: every tick so far is at or before now.
            tracker.matrix(["X", "Y"], next_query, method="grid_hy")
            book = tracker._books[("grid_hy", 1, round(window), 0)]
            hi = int(next_query // 1.0) - 1
            seen_x = [(a, b) for a, b in tx if a < next_query]
            seen_y = [(a, b) for a, b in ty if a < next_query]
            if seen_x and seen_y:
                cov, vx, vy, nx, ny = brute_grid_hy(seen_x, seen_y, 1.0, hi - round(window) + 1,
                                                    hi)
                assert book.pairs[("X", "Y")].sums[0] == pytest.approx(cov, rel=1e-9,
                                                                       abs=1e-15)
                assert book.symbols["X"].sums[2] == pytest.approx(vx, rel=1e-9, abs=1e-15)
                assert book.symbols["Y"].sums[2] == pytest.approx(vy, rel=1e-9, abs=1e-15)
                assert round(book.symbols["X"].sums[0]) == nx
                assert round(book.symbols["Y"].sums[0]) == ny
                checked += 1
            next_query += rng.choice([0.5, 3.0, 11.0])
        tracker.observe(s, t, p)
    assert checked > 0


@pytest.mark.parametrize("method", ["kernel", "grid_hy", "grid", "bucketed"])
def test_incremental_sums_equal_a_fresh_tracker_over_the_same_window(method: str) -> None:
    rng = random.Random(11)
    streams = {name: random_ticks(rng, rate, 1500.0)
               for name, rate in (("A", 0.3), ("B", 2.0), ("C", 0.08))}
    stream = merged(streams)
    symbols = ["A", "B", "C"]
    rolling = CorrelationTracker(CorrelationConfig(window=300.0, min_overlap=3))
    next_query = 5.0
    compared = 0
    for s, t, p in stream:
        if t >= next_query:
            assert_matches_fresh(rolling, stream, symbols, t, "coverage", method=method)
            compared += 1
            next_query = t + rng.choice([2.0, 37.0, 400.0])
        rolling.observe(s, t, p)
    assert compared > 10


@pytest.mark.parametrize("k", [1, 3, 10])
def test_value_at_returns_the_last_k_cell_sample_at_or_before_t(k: int) -> None:
    rng = random.Random(k)
    ticks = random_ticks(rng, 0.7, 400.0)
    tracker = CorrelationTracker(CorrelationConfig(window=300.0, max_window=600.0))
    for t, p in ticks:
        tracker.observe("X", t, p)
    tracker.matrix(["X"], 401.0)
    g = tracker._grids["X"]
    # The sampled observations on the k-cell clock: the last tick before each k-cell end.
    ends = [((c // k) * k + k - 1) for c in range(g.first_cell, g.closed + 1)
            if c % k == k - 1]
    obs = []
    for end in ends:
        before = [(t, p) for t, p in ticks if int(t // 1.0) <= end]
        if before and (not obs or obs[-1][0] != before[-1][0]):
            obs.append((before[-1][0], math.log(before[-1][1])))
    for _ in range(200):
        t = rng.uniform(ticks[0][0] - 5.0, 399.0)
        at_or_before = [p for s, p in obs if s <= t]
        want = at_or_before[-1] if at_or_before else obs[0][1]
        assert g.value_at(t, k) == want
