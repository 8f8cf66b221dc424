"""The Engine facade: snapshots, change tracking, stats, memory and correlation wiring."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from pulse.engine import Engine, EngineConfig, Tick
from pulse.engine.engine import NO_EVENTS
from tests.engine.fake_correlation import FakeTracker
from tests.engine.streams import T0, Driver
from tests.engine.test_stress_events import vol_spike_run

SNAPSHOT_KEYS = {"symbol", "asset", "last", "bid", "ask", "mid", "ts", "ret_1m", "ret_5m",
                 "ret_15m", "ref_age_1m", "ref_age_5m", "ref_age_15m", "vol_15m", "trend_15m",
                 "trend_t", "regime", "tick_rate", "staleness", "ticks"}


def test_a_quiet_tick_returns_the_shared_empty_result():
    eng = Engine(tracker=FakeTracker())
    assert eng.on_tick(Tick("BTC", "crypto", T0, 1.0)) is NO_EVENTS
    assert eng.on_tick(Tick("BTC", "crypto", T0 + 1, 1.0)) is NO_EVENTS


def test_snapshot_has_every_documented_key_and_is_strict_json():
    drv = Driver(Engine(tracker=FakeTracker()))
    drv.walk(1200, 5e-4)
    snap = drv.eng.snapshot("BTC")
    assert set(snap) >= SNAPSHOT_KEYS
    json.dumps(snap, allow_nan=False)
    assert all(snap[k] is not None for k in ("ret_15m", "vol_15m", "trend_15m", "trend_t"))
    assert snap["ref_age_15m"] >= 900.0
    assert 1.0 < snap["tick_rate"] < 3.0  # the walk ticks at 2/s on average
    # 5e-4 per sqrt(s) annualizes to about 2.8; a 15-minute estimate is within ~30%.
    assert 2.0 < snap["vol_15m"] < 3.6


def test_a_fresh_symbol_has_none_for_every_windowed_metric():
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("AAPL", "stocks", T0, 200.0, bid=199.9, ask=200.1))
    snap = eng.snapshot("AAPL")
    assert snap["last"] == 200.0 and snap["mid"] == pytest.approx(200.0)
    for key in ("ret_1m", "ref_age_1m", "vol_15m", "trend_15m", "trend_t"):
        assert snap[key] is None
    assert snap["regime"] == "unknown"
    assert eng.snapshot("MSFT") is None


def test_staleness_is_measured_against_the_engine_clock():
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("AAPL", "stocks", T0, 200.0))
    eng.on_tick(Tick("BTC", "crypto", T0 + 42.5, 60_000.0))
    assert eng.now == T0 + 42.5
    snaps = eng.snapshots()
    assert snaps["AAPL"]["staleness"] == pytest.approx(42.5)
    assert snaps["BTC"]["staleness"] == 0.0
    assert list(eng.snapshots(["BTC", "NOPE"])) == ["BTC"]


def test_take_changed_returns_symbols_with_accepted_ticks_since_last_call():
    eng = Engine(tracker=FakeTracker())
    assert eng.take_changed() == set()
    eng.on_tick(Tick("A", "crypto", T0, 1.0))
    eng.on_tick(Tick("B", "crypto", T0, 1.0))
    eng.on_tick(Tick("C", "crypto", T0, float("nan")))
    assert eng.take_changed() == {"A", "B"}
    eng.on_tick(Tick("B", "crypto", T0 + 1, 1.005))
    assert eng.take_changed() == {"B"}
    assert eng.take_changed() == set()
    assert eng.symbols() == ["A", "B"]
    assert eng.stats()["symbols"] == 2


def test_memory_per_symbol_does_not_grow_with_tick_rate_or_time():
    def run(rate: float, seconds: float) -> int:
        drv = Driver(Engine(tracker=FakeTracker()))
        drv.walk(seconds, 1e-4, rate=rate)
        return drv.eng.memory_bytes("BTC")

    slow, fast, longer = run(1.0, 1800), run(40.0, 1800), run(1.0, 7200)
    assert slow == fast == longer
    assert slow < 200_000


def test_memory_stays_bounded_over_a_long_gap():
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("AAPL", "stocks", T0, 200.0))
    before = eng.memory_bytes("AAPL")
    # A long weekend later, received live (a receipt time vouches for the jump in time).
    eng.on_tick(Tick("AAPL", "stocks", T0 + 3 * 86_400, 210.0, recv_ts=T0 + 3 * 86_400 + 0.2))
    snap = eng.snapshot("AAPL")
    assert eng.memory_bytes("AAPL") == before
    assert snap["ret_1m"] == pytest.approx(0.05)
    assert snap["ref_age_1m"] == pytest.approx(3 * 86_400)
    assert snap["vol_15m"] == 0.0  # flat grid over the window: no movement


def test_only_accepted_ticks_reach_the_correlation_tracker():
    tracker = FakeTracker()
    eng = Engine(tracker=tracker)
    eng.on_tick(Tick("A", "crypto", T0, 1.0))
    eng.on_tick(Tick("A", "crypto", T0 + 1, -1.0))
    eng.on_tick(Tick("A", "crypto", T0 + 2, 1.005))
    assert tracker.observed == [("A", T0, 1.0), ("A", T0 + 2, 1.005)]


def test_correlation_uses_the_normal_window_an_explicit_one_or_a_fixed_one():
    tracker = FakeTracker()
    eng = Engine(EngineConfig(corr_window=900, corr_window_high_vol=300), tracker=tracker)
    eng.on_tick(Tick("A", "crypto", T0, 1.0))
    result = eng.correlation(["A", "B"], base="A")
    assert result["window"] == 900.0 and result["as_of"] == T0
    assert result["base"] == "A" and result["base_regime"] == "unknown"
    eng.correlation(["A", "B"], base="A", window=120, method="bucketed_10")
    assert tracker.calls[-1][1] == {"symbols": ["A", "B"], "now": T0, "window": 120.0,
                                    "method": "bucketed_10", "bucket_seconds": None}
    fixed = Engine(EngineConfig(corr_window_fixed=60), tracker=FakeTracker())
    assert fixed.correlation(["A"], base="A")["window"] == 60.0
    assert eng.top_correlated("A", ["A", "B"], k=1) == []
    assert tracker.calls[-1] == ("top_k", {"base": "A", "symbols": ["A", "B"], "now": T0,
                                           "k": 1, "window": 900.0, "method": None,
                                           "bucket_seconds": None})


def test_correlation_lookback_follows_the_high_vol_setting_when_the_base_is_in_high_vol():
    drv = vol_spike_run()
    eng = drv.eng
    assert eng.regime("BTC") == "high_vol"
    # By default the lookback no longer shortens (a 300 s window doubled the error, see
    # docs/correlation.md); an operator's shorter setting still applies.
    assert eng.correlation_window("BTC") == eng.config.corr_window == 900.0
    eng.config = dataclasses.replace(eng.config, corr_window_high_vol=300.0)
    assert eng.correlation_window("BTC") == 300.0
    assert eng.correlation_window("BTC", window=77) == 77.0
    assert eng.correlation_window(None) == eng.config.corr_window


def test_the_real_correlation_tracker_is_wired_by_default():
    eng = Engine(EngineConfig())
    for i in range(600):
        ts = T0 + i * 0.5
        eng.on_tick(Tick("A", "crypto", ts, 100 * math.exp(0.001 * math.sin(i / 7))))
        eng.on_tick(Tick("B", "crypto", ts + 0.1, 50 * math.exp(0.001 * math.sin(i / 7))))
    result = eng.correlation(["A", "B"], base="A")
    assert result["symbols"] == ["A", "B"]
    assert len(result["matrix"]) == 2
    json.dumps(result, allow_nan=False)
