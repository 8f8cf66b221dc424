"""Every snapshot metric against a brute-force reference computed from the raw ticks."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulse.engine import Engine, EngineConfig, Tick
from pulse.engine.config import horizon_label
from tests.engine import reference as ref
from tests.engine.fake_correlation import FakeTracker

YEAR = 31_536_000.0
# Short windows so that random streams wrap the ring, cross gaps longer than it and fill
# every window many times over within a hundred ticks.
SMALL = {"return_horizons": (5, 20), "vol_window": 20, "vol_return_step": 4,
         "robust_return_step": 4,
         "vol_min_returns": 3, "trend_window": 15, "trend_min_points": 3, "rate_window": 10,
         "baseline_lag": 8, "spike_window": 12, "regime_every": 10, "move_horizons": (5, 20),
         # The input defences (tested on their own) would hold some of these ticks.
         "future_tolerance": None, "plausibility_k": None, "time_leap": None}

spacing = st.one_of(st.just(0.0), st.floats(0.001, 0.9), st.floats(1.0, 5.0),
                    st.floats(5.0, 150.0))


@st.composite
def streams(draw) -> list[tuple[float, float]]:
    """Draw a stream of (ts, price) with ties, bursts, irregular spacing and long gaps."""
    n = draw(st.integers(2, 90))
    ts = 1_700_000_000.0 + draw(st.floats(0.0, 1.0))
    logp = math.log(draw(st.floats(0.5, 50_000.0)))
    out = []
    for _ in range(n):
        ts += draw(spacing)
        logp += draw(st.floats(-0.03, 0.03))
        out.append((ts, math.exp(logp)))
    return out


def feed(cfg: EngineConfig, ticks: list[tuple[float, float]]):
    """Yield (engine, accepted-prefix) after every tick of a crypto stream."""
    eng = Engine(cfg, tracker=FakeTracker())
    for i, (ts, price) in enumerate(ticks):
        eng.on_tick(Tick("X", "crypto", ts, price, size=float(i)))
        yield eng, ticks[: i + 1]


def assert_same_variance(got: float, expected: float, seen) -> None:
    """Compare annualized vols on the variance scale.

    The rolling sum adds and later subtracts each squared return, so its rounding error is
    relative to the largest squared return that passed through, not to the current sum.
    """
    logs = [math.log(p) for _, p in seen]
    biggest = (max(logs) - min(logs)) ** 2 * YEAR
    assert abs(got**2 - expected**2) <= 1e-9 * expected**2 + 1e-13 * biggest


def assert_matches_reference(cfg: EngineConfig, eng: Engine, seen) -> None:
    snap = eng.snapshot("X")
    g = cfg.grid_step
    for w in cfg.return_horizons:
        label = f"{round(w)}s"
        expected = ref.ret_ref(seen, w, g)
        if expected is None:
            assert snap[f"ret_{label}"] is None and snap[f"ref_age_{label}"] is None
        else:
            assert snap[f"ret_{label}"] == pytest.approx(expected[0], rel=1e-12, abs=1e-15)
            assert snap[f"ref_age_{label}"] == pytest.approx(expected[1], abs=1e-9)
    vol = ref.realized_vol(seen, cfg.vol_window, cfg.vol_return_step, cfg.vol_min_returns,
                           YEAR, g)
    if vol is None:
        assert snap["vol_15m"] is None
    else:
        assert_same_variance(snap["vol_15m"], vol, seen)
    trend = ref.ols_trend(seen, cfg.trend_window, cfg.trend_min_points, g)
    if trend is None:
        assert snap["trend_15m"] is None and snap["trend_t"] is None
    else:
        slope, t, share = trend
        assert snap["trend_15m"] == pytest.approx(slope, rel=1e-6, abs=1e-6)
        if share > 1e-6:
            assert snap["trend_t"] == pytest.approx(t, rel=1e-5, abs=1e-6)
    assert snap["tick_rate"] == pytest.approx(ref.tick_rate(seen, cfg.rate_window, g))
    assert snap["ticks"] == len(seen)
    assert snap["last"] == seen[-1][1]
    assert snap["ts"] == seen[-1][0]
    assert snap["staleness"] == 0.0


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(streams())
def test_metrics_match_brute_force_on_random_streams(ticks):
    cfg = EngineConfig(**SMALL)
    for i, (eng, seen) in enumerate(feed(cfg, ticks)):
        if i % 7 == 0 or i == len(ticks) - 1:
            assert_matches_reference(cfg, eng, seen)


@settings(max_examples=40, deadline=None)
@given(streams(), st.sampled_from([0.25, 0.5, 2.0]))
def test_metrics_match_brute_force_on_other_grid_steps(ticks, g):
    cfg = EngineConfig(**{**SMALL, "grid_step": g, "return_horizons": (8 * g, 20 * g),
                          "vol_window": 20 * g, "vol_return_step": 4 * g,
                          "robust_return_step": 4 * g,
                          "trend_window": 16 * g, "rate_window": 10 * g,
                          "baseline_lag": 8 * g, "spike_window": 12 * g,
                          "regime_every": 10 * g, "move_horizons": (8 * g, 20 * g)})
    *_, (eng, seen) = feed(cfg, ticks)
    snap = eng.snapshot("X")
    expected = ref.ret_ref(seen, 20 * g, g)
    label = "ret_" + horizon_label(20 * g)
    if expected is None:
        assert snap[label] is None
    else:
        assert snap[label] == pytest.approx(expected[0], rel=1e-12, abs=1e-15)
    vol = ref.realized_vol(seen, 20 * g, 4 * g, cfg.vol_min_returns, YEAR, g)
    assert (snap["vol_15m"] is None) == (vol is None)
    if vol is not None:
        assert_same_variance(snap["vol_15m"], vol, seen)
    assert snap["tick_rate"] == pytest.approx(ref.tick_rate(seen, 10 * g, g))


def test_long_stream_keeps_running_sums_exact():
    # Many ring wrap-arounds and periodic recomputes: drift would show up here.
    cfg = EngineConfig(**SMALL)
    ticks = []
    ts, price = 1_700_000_000.3, 100.0
    for i in range(3000):
        ts += 0.37 if i % 11 else 3.1
        price *= math.exp(0.004 * math.sin(i * 1.7))
        ticks.append((ts, price))
    eng = Engine(cfg, tracker=FakeTracker())
    for ts, price in ticks:
        eng.on_tick(Tick("X", "crypto", ts, price))
    assert_matches_reference(cfg, eng, ticks)


def test_returns_use_the_last_price_strictly_before_the_reference_grid_time():
    cfg = EngineConfig(**SMALL)
    eng = Engine(cfg, tracker=FakeTracker())
    # Cells are [k, k+1). At now=120.5 the 5 s reference is the close of cell 114, i.e. the
    # last tick before t=115: the tick at 114.9, not the one exactly at 115.0.
    t = 1_700_000_000.0  # a whole number of cells: event times before 2000 are bad_ts
    for ts, price in [(100.0, 1.0), (114.9, 2.0), (115.0, 3.0), (120.5, 4.0)]:
        eng.on_tick(Tick("X", "crypto", t + ts, price))
    snap = eng.snapshot("X")
    assert snap["ret_5s"] == pytest.approx(4.0 / 2.0 - 1.0)
    assert snap["ref_age_5s"] == pytest.approx(120.5 - 114.9)
    # The 20 s reference would be cell 99, before the first tick: no return yet.
    assert snap["ret_20s"] is None
    assert snap["ref_age_20s"] is None
    eng.on_tick(Tick("X", "crypto", t + 121.0, 5.0))
    assert eng.snapshot("X")["ret_20s"] == pytest.approx(5.0 / 1.0 - 1.0)
    assert eng.snapshot("X")["ref_age_20s"] == pytest.approx(21.0)


@st.composite
def dirty_streams(draw) -> list[tuple[float, object]]:
    """Draw a stream mixing good ticks with late, very late and malformed ones."""
    good = draw(streams())
    out: list[tuple[float, object]] = []
    for ts, price in good:
        out.append((ts, price))
        kind = draw(st.sampled_from(["none"] * 6 + ["late", "very_late", "nan", "zero",
                                                      "neg", "text"]))
        if kind == "late":
            out.append((ts - draw(st.floats(0.0, 1.9)), price * 1.01))
        elif kind == "very_late":
            out.append((ts - draw(st.floats(2.1, 50.0)), price * 0.99))
        elif kind != "none":
            out.append((ts, {"nan": float("nan"), "zero": 0.0, "neg": -price,
                             "text": "1.0"}[kind]))
    return out


def accepted_reference(raw, tolerance: float) -> list[tuple[float, float]]:
    """Apply the documented acceptance rules to ``raw``: what the engine should keep."""
    kept: list[tuple[float, float]] = []
    for ts, price in raw:
        if not isinstance(price, float) or not 0.0 < price < math.inf:
            continue
        if kept and ts < kept[-1][0]:
            if ts < kept[-1][0] - tolerance:
                continue
            # Late within tolerance: counted as a tick, but the newer price stays last.
            ts, price = kept[-1]
        kept.append((ts, price))
    return kept


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(dirty_streams())
def test_bad_and_late_ticks_leave_metrics_equal_to_the_clean_reference(raw):
    cfg = EngineConfig(**SMALL)
    eng = Engine(cfg, tracker=FakeTracker())
    for i, (ts, price) in enumerate(raw):
        eng.on_tick(Tick("X", "crypto", ts, price, size=float(i)))  # type: ignore[arg-type]
    kept = accepted_reference(raw, cfg.out_of_order_tolerance)
    assert eng.stats()["accepted"] == len(kept)
    assert eng.stats()["accepted"] + sum(eng.stats()["rejected"].values()) == len(raw)
    assert_matches_reference(cfg, eng, kept)
