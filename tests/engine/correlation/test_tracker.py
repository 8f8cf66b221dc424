"""CorrelationTracker: the JSON contract, bad and edge input, determinism, top-k."""

from __future__ import annotations

import itertools
import json
import math
import random
import sys

import pytest

from pulse.engine.correlation import CorrelationConfig, CorrelationTracker
from pulse.engine.correlation.synthetic import correlated_ticks

T0 = 1_700_000_000.0


def fed(ticks, config: CorrelationConfig | None = None) -> CorrelationTracker:
    tracker = CorrelationTracker(config)
    for symbol, ts, price in ticks:
        tracker.observe(symbol, ts, price)
    return tracker


@pytest.fixture(scope="module")
def pair_ticks() -> list[tuple[str, float, float]]:
    # One hour of two symbols correlated at 0.8, ticking once and twice a second.
    return correlated_ticks(0.8, 1.0, 2.0, 3600.0, seed=5, symbols=("BTC", "ETH"))


def test_matrix_has_the_documented_json_shape(pair_ticks) -> None:
    tracker = fed(pair_ticks)
    now = pair_ticks[-1][1]
    out = tracker.matrix(["BTC", "ETH"], now)
    assert set(out) == {"symbols", "matrix", "coverage", "status", "stderr", "method", "window",
                        "as_of", "horizon", "delay"}
    assert out["symbols"] == ["BTC", "ETH"]
    assert out["method"] == "kernel"
    assert out["window"] == 900.0
    assert (out["horizon"], out["delay"]) == (10.0, 30.0)
    assert out["stderr"][0][0] == out["stderr"][1][1] == 0.0
    assert out["stderr"][0][1] == out["stderr"][1][0]
    assert 0.005 < out["stderr"][0][1] < 0.05
    assert out["as_of"] == now
    assert out["matrix"][0][0] == out["matrix"][1][1] == 1.0
    assert out["matrix"][0][1] == out["matrix"][1][0]
    assert 0.7 < out["matrix"][0][1] < 0.9
    assert out["status"] == [["ok", "ok"], ["ok", "ok"]]
    # About one new sample a second for the slower symbol over 900 s.
    assert 500 < out["coverage"][0][1] <= 900
    json.dumps(out, allow_nan=False)


def test_unknown_symbols_get_none_rows_with_a_reason(pair_ticks) -> None:
    tracker = fed(pair_ticks)
    out = tracker.matrix(["BTC", "NOPE", "ETH"], pair_ticks[-1][1])
    assert out["matrix"][1] == [None, None, None]
    assert [row[1] for row in out["matrix"]] == [None, None, None]
    assert out["status"][1] == ["unknown_symbol"] * 3
    assert out["coverage"][1] == [0, 0, 0]
    assert out["matrix"][0][2] is not None


def test_a_silent_symbol_reports_insufficient_overlap_instead_of_vanishing(pair_ticks) -> None:
    ticks = [*pair_ticks, ("QUIET", pair_ticks[0][1], 50.0), ("QUIET", pair_ticks[0][1] + 5, 51.0)]
    tracker = fed(sorted(ticks, key=lambda t: t[1]))
    for method in ("kernel", "grid_hy", "grid", "bucketed"):
        out = tracker.matrix(["BTC", "QUIET", "ETH"], pair_ticks[-1][1], method=method)
        assert out["symbols"] == ["BTC", "QUIET", "ETH"]
        assert out["matrix"][0][1] is None
        assert out["status"][0][1] == out["status"][1][2] == "insufficient_overlap"
        assert out["coverage"][0][1] == 0
        assert out["matrix"][1][1] == 1.0
        assert out["status"][0][2] == "ok"


def test_flat_prices_give_none_with_reason_flat(pair_ticks) -> None:
    flat = [("PEG", ts, 1.0) for _, ts, _ in pair_ticks[::2]]
    tracker = fed(sorted([*pair_ticks, *flat], key=lambda t: t[1]))
    for method in ("kernel", "grid_hy", "grid", "bucketed"):
        out = tracker.matrix(["BTC", "PEG"], pair_ticks[-1][1], method=method)
        assert out["matrix"][0][1] is None
        assert out["status"][0][1] == "flat"
        assert out["coverage"][0][1] > 30


def test_a_window_longer_than_the_data_uses_what_there_is() -> None:
    ticks = correlated_ticks(0.5, 2.0, 2.0, 200.0, seed=3)
    tracker = fed(ticks)
    out = tracker.matrix(["X", "Y"], ticks[-1][1], window=3600.0)
    assert out["window"] == 3600.0
    assert out["status"][0][1] == "ok"
    assert out["coverage"][0][1] <= 200
    assert -1.0 <= out["matrix"][0][1] <= 1.0


def test_windows_beyond_max_window_are_clamped_and_bad_queries_raise(pair_ticks) -> None:
    tracker = fed(pair_ticks[:100])
    now = pair_ticks[99][1]
    assert tracker.matrix(["BTC"], now, window=1e9)["window"] == 3600.0
    for bad in (0, -1.0, math.nan, math.inf, "60"):
        with pytest.raises(ValueError, match="window"):
            tracker.matrix(["BTC"], now, window=bad)
    with pytest.raises(ValueError, match="method"):
        tracker.matrix(["BTC"], now, method="pearson")
    with pytest.raises(ValueError, match="method"):
        tracker.matrix(["BTC"], now, method="hy")  # raw ticks are not kept by default
    with pytest.raises(ValueError, match="now"):
        tracker.matrix(["BTC"], math.nan)


def test_bad_ticks_are_ignored_without_poisoning_state(pair_ticks) -> None:
    clean = fed(pair_ticks)
    dirty = CorrelationTracker()
    for i, (symbol, ts, price) in enumerate(pair_ticks):
        if i % 97 == 0:
            for bad_ts, bad_price in ((ts, math.nan), (ts, math.inf), (ts, 0.0), (ts, -3.0),
                                      (math.nan, price), (math.inf, price)):
                dirty.observe(symbol, bad_ts, bad_price)
        dirty.observe(symbol, ts, price)
    now = pair_ticks[-1][1]
    assert dirty.matrix(["BTC", "ETH"], now) == clean.matrix(["BTC", "ETH"], now)


def test_a_slightly_late_tick_never_makes_sample_times_run_backwards() -> None:
    tracker = CorrelationTracker(CorrelationConfig(min_overlap=2))
    rng = random.Random(2)
    t = T0
    for _ in range(2000):
        t += rng.expovariate(2.0)
        late = t - 0.3 if rng.random() < 0.1 else t
        tracker.observe("A", late, 100 * math.exp(rng.gauss(0, 1e-3)))
        tracker.observe("B", t + 0.01, 100 * math.exp(rng.gauss(0, 1e-3)))
    out = tracker.matrix(["A", "B"], t + 1)
    assert out["status"][0][1] == "ok"
    g = tracker._grids["A"]
    times = [g.times[f % g.capacity] for f in range(g.oldest(), g.closed + 1)]
    assert times == sorted(times)


def test_same_input_gives_identical_output(pair_ticks) -> None:
    def run() -> list[dict]:
        tracker = CorrelationTracker(CorrelationConfig(raw_tick_capacity=10_000))
        outs = []
        for i, (symbol, ts, price) in enumerate(pair_ticks):
            tracker.observe(symbol, ts, price)
            if i % 1500 == 0:
                for method in ("kernel", "grid_hy", "grid", "bucketed", "hy"):
                    outs.append(tracker.matrix(["BTC", "ETH"], ts, method=method, window=300))
        return outs

    assert run() == run()


def test_every_method_lands_near_the_true_correlation_on_liquid_symbols(pair_ticks) -> None:
    tracker = fed(pair_ticks, CorrelationConfig(raw_tick_capacity=20_000, max_window=3600))
    now = pair_ticks[-1][1]
    for method in ("kernel", "grid_hy", "grid", "bucketed", "hy"):
        out = tracker.matrix(["BTC", "ETH"], now, method=method, window=3600)
        assert out["method"] == method
        assert out["status"][0][1] == "ok"
        assert 0.5 < out["matrix"][0][1] <= 0.95, method


def test_top_k_ranks_by_correlation_and_skips_base_and_missing() -> None:
    t = T0
    rng = random.Random(9)
    tracker = CorrelationTracker()
    base = 0.0
    follow = {"HI": 0.95, "MID": 0.6, "NEG": -0.7, "NOISE": 0.0}
    levels = dict.fromkeys(follow, 0.0)
    for _ in range(4000):
        t += 0.5
        shock = rng.gauss(0, 1e-3)
        base += shock
        tracker.observe("BASE", t, 100 * math.exp(base))
        for name, rho in follow.items():
            levels[name] += rho * shock + math.sqrt(1 - rho * rho) * rng.gauss(0, 1e-3)
            tracker.observe(name, t + 0.1, 100 * math.exp(levels[name]))
    top = tracker.top_k("BASE", ["BASE", "NEG", "HI", "GHOST", "MID", "NOISE"], t + 1, k=3)
    assert [row["symbol"] for row in top] == ["HI", "MID", "NOISE"]
    assert top[0]["corr"] > top[1]["corr"] > top[2]["corr"]
    assert all(row["coverage"] >= 30 for row in top)
    assert all(0.0 < row["stderr"] < 0.2 for row in top)
    assert tracker.top_k("GHOST", ["HI"], t + 1) == []
    assert len(tracker.top_k("BASE", ["NEG", "HI"], t + 1, k=10)) == 2
    with pytest.raises(ValueError, match="k"):
        tracker.top_k("BASE", ["HI"], t + 1, k=-1)


def test_memory_per_symbol_is_bounded_by_window_over_step() -> None:
    tracker = CorrelationTracker(CorrelationConfig(window=300.0, max_window=600.0))
    for i in range(200_000):
        tracker.observe("FAST", T0 + i * 0.01, 100.0 + (i % 7))
    g = tracker._grids["FAST"]
    # max_window cells plus four buckets of the longest per-query bucket (30 s) of slack.
    assert len(g.logp) == len(g.times) == g.capacity <= 600 + 4 * 30 + 4
    assert tracker.bytes_per_symbol() == 16 * g.capacity


def test_a_query_may_choose_its_own_bucket_size() -> None:
    tracker = CorrelationTracker(CorrelationConfig(window=900.0, min_overlap=10))
    for i in range(1200):
        tracker.observe("A", T0 + i, 100.0 + (i % 13))
        tracker.observe("B", T0 + i + 0.5, 50.0 + (i % 13))
    now = T0 + 1200
    for bucket in (10, 20, 30):
        out = tracker.matrix(["A", "B"], now, method="bucketed", bucket_seconds=bucket)
        assert out["bucket_seconds"] == bucket
        assert out["coverage"][0][1] <= 900 // bucket
    assert tracker.config.bucket_seconds == 10.0  # the configuration itself is untouched
    for bad in (0, -10, 31, 2.5, True, "20"):
        with pytest.raises(ValueError, match="bucket_seconds"):
            tracker.matrix(["A", "B"], now, method="bucketed", bucket_seconds=bad)


def test_history_samples_the_grid_oldest_first_and_bounds_the_points() -> None:
    tracker = CorrelationTracker(CorrelationConfig())
    for i in range(3000):
        tracker.observe("A", T0 + i * 0.5, 100.0 + i * 0.01)
    points = tracker.history("A", seconds=600, step=10)
    assert 59 <= len(points) <= 62
    assert all(b[0] - a[0] == 10 for a, b in itertools.pairwise(points[:-1]))
    assert points[-1] == [T0 + 2999 * 0.5, 100.0 + 2999 * 0.01]
    assert len(tracker.history("A", seconds=3600, step=1, max_points=100)) <= 101
    assert tracker.history("NOPE") == []


def test_importing_the_package_does_not_pull_in_django() -> None:
    import subprocess

    code = ("import sys, pulse.engine.correlation; "
            "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
