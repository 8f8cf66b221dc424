"""The bad-print filter: a suspect print is held; later ticks reject it (``outlier``) or
confirm the new level, so bad prints never reach the metrics and real moves still fire."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulse.engine import Engine, EngineConfig, Tick
from tests.engine.fake_correlation import FakeTracker
from tests.engine.streams import T0, Driver

SIGMA = 3e-4  # per-second log std (about 170% annualized): a lively crypto pair


def pair_stream(minutes: float, seed: int = 3, rate: float = 2.0) -> list[Tick]:
    """Two crypto symbols A and B (one-factor correlation ~0.8) at ``rate`` ticks/s each,
    merged in event-time order."""
    rng = random.Random(seed)
    ticks = []
    log_a = log_b = math.log(100.0)
    ts = T0
    end = T0 + minutes * 60.0
    while ts < end:
        dt = rng.expovariate(2 * rate)
        ts += dt
        common = rng.gauss(0.0, SIGMA * math.sqrt(dt))
        log_a += 0.9 * common + rng.gauss(0.0, 0.45 * SIGMA * math.sqrt(dt))
        log_b += 0.9 * common + rng.gauss(0.0, 0.45 * SIGMA * math.sqrt(dt))
        if rng.random() < 0.5:
            ticks.append(Tick("A", "crypto", ts, math.exp(log_a)))
        else:
            ticks.append(Tick("B", "crypto", ts, math.exp(log_b)))
    return ticks


def with_bad_print(ticks: list[Tick], at: float, factor: float) -> list[Tick]:
    """Insert one A print of ``last A price * factor`` as the last tick of its 1 s cell,
    after event time ``at``."""
    for i, t in enumerate(ticks):
        if t.symbol != "A" or t.ts < at:
            continue
        nxt = next(u for u in ticks[i + 1:] if u.symbol == "A")
        cell_end = math.floor(t.ts) + 1.0
        if nxt.ts >= cell_end and cell_end - 0.001 > t.ts:
            bad = Tick("A", "crypto", cell_end - 0.001, t.price * factor)
            j = next(k for k in range(i + 1, len(ticks)) if ticks[k].ts > bad.ts)
            return [*ticks[:j], bad, *ticks[j:]]
    raise AssertionError("no insertion point")


def run(ticks: list[Tick], checkpoints: list[float]) -> tuple[list, list, Engine]:
    """Feed ``ticks`` to a default engine (real correlation tracker); return the events,
    and (snapshots, correlation) at each checkpoint time."""
    eng = Engine()
    events = []
    seen = []
    marks = iter(checkpoints)
    mark = next(marks)
    for t in ticks:
        while mark is not None and t.ts >= mark:
            corr = eng.correlation(["A", "B"])["matrix"]
            seen.append((eng.snapshots(), corr))
            mark = next(marks, None)
        events.extend(e.to_dict() for e in eng.on_tick(t))
    return events, seen, eng


BASE = pair_stream(70.0)
INJECT = T0 + 45 * 60.0  # baseline, regime and correlation are warm by then
CHECKS = [INJECT + 30.0 * k for k in range(1, 31)]  # every 30 s for the next 15 minutes
CLEAN = run(BASE, CHECKS)


@pytest.mark.parametrize("factor", [10.0, 0.1, 1e300, 1e-300])
def test_a_single_bad_print_never_reaches_metrics_events_or_correlation(factor):
    events, seen, eng = run(with_bad_print(BASE, INJECT, factor), CHECKS)
    clean_events, clean_seen, _ = CLEAN
    assert events == clean_events
    for (snaps, corr), (clean_snaps, clean_corr) in zip(seen, clean_seen, strict=True):
        for symbol in ("A", "B"):
            got, want = snaps[symbol], clean_snaps[symbol]
            for key in ("vol_15m", "vol_baseline"):
                assert want[key] is not None
                assert got[key] == pytest.approx(want[key], rel=0.05)
            assert got["regime"] == want["regime"]
        assert clean_corr[0][1] is not None and clean_corr[0][1] > 0.5
        assert corr[0][1] == pytest.approx(clean_corr[0][1], rel=0.05)
    rejected = eng.stats()["rejected"]
    assert rejected["outlier" if factor in (10.0, 0.1) else "implausible"] == 1
    assert sum(rejected.values()) == 1


def test_clean_streams_hold_nothing():
    _, _, eng = CLEAN
    stats = eng.stats()
    assert stats["held"] == 0 and sum(stats["rejected"].values()) == 0


def warm(symbol: str = "BTC", asset: str = "crypto", price: float = 100.0,
         sigma: float = 5e-4, rate: float = 2.0, minutes: float = 40.0) -> Driver:
    drv = Driver(Engine(tracker=FakeTracker()), symbol=symbol, asset=asset, price=price)
    drv.walk(minutes * 60.0, sigma, rate=rate)
    assert drv.eng.snapshot(symbol)["vol_baseline"] is not None
    return drv


def test_a_genuine_level_shift_is_confirmed_within_seconds_and_fires_its_event():
    drv = warm(sigma=5e-5)
    start = drv.ts
    assert drv.jump(5.0) == []  # held: far outside the band
    assert drv.eng.snapshot("BTC")["last"] < drv.price
    fired = drv.walk(5.0, 5e-5)  # the following ticks stay at the new level
    moves = [e for e in fired if e.type.startswith("move_")]
    assert moves and moves[0].direction == "up" and moves[0].ts <= start + 5.0
    assert moves[0].value == pytest.approx(0.05, rel=0.05)
    assert drv.eng.snapshot("BTC")["last"] == drv.price
    stats = drv.eng.stats()
    assert stats["held"] >= 3 and stats["confirmed"] == stats["held"]
    assert stats["rejected"]["outlier"] == 0


def test_a_crash_through_several_levels_is_confirmed_not_rejected():
    drv = warm(sigma=5e-5)
    for _ in range(4):  # -3% per tick, four times: each tick is beyond the band below
        drv.jump(-3.0, dt=0.3)
    drv.walk(2.0, 5e-5)  # then it trades at the bottom
    assert drv.eng.snapshot("BTC")["last"] == drv.price
    assert drv.eng.stats()["rejected"]["outlier"] == 0
    assert any(e.direction == "down" for e in drv.events)


def test_a_suspect_overtaken_by_one_on_the_other_side_is_rejected_too():
    drv = warm(sigma=5e-5)
    level = drv.price
    drv.tick(level * 10)
    drv.tick(level * 0.1)
    drv.tick(level * 1.0001)
    stats = drv.eng.stats()
    assert stats["rejected"]["outlier"] == 2 and stats["held"] == 2
    assert drv.eng.snapshot("BTC")["last"] == level * 1.0001


def test_held_prints_are_bounded_and_need_later_timestamps_to_confirm():
    drv = warm(sigma=5e-5)
    level = drv.price
    for _ in range(20):  # one fat-finger order sweeping 20 fills at the same ms
        drv.tick(level * 1.2, dt=0.0)
    assert drv.eng.stats()["confirmed"] == 0
    assert len(drv.eng._states["BTC"].guard.held) == EngineConfig().plausibility_max_held
    drv.tick(level)  # the market is still where it was
    stats = drv.eng.stats()
    assert stats["rejected"]["outlier"] == 20
    assert drv.eng.snapshot("BTC")["last"] == level


def test_a_new_level_that_opens_with_a_burst_of_fills_still_confirms():
    # A sweep fills more than plausibility_max_held orders at one millisecond, and the
    # market then trades at the new level: the burst must not block the confirmation.
    drv = warm(sigma=5e-5)
    level = drv.price * 1.05
    for _ in range(20):
        drv.tick(level, dt=0.0)
    drv.walk(3.0, 5e-5)
    assert drv.eng.snapshot("BTC")["last"] == drv.price
    assert drv.price == pytest.approx(level, rel=0.01)
    stats = drv.eng.stats()
    assert stats["confirmed"] >= EngineConfig().plausibility_max_held
    # Only the burst's fills beyond the bound are lost.
    assert stats["rejected"]["outlier"] == 20 - EngineConfig().plausibility_max_held


def test_a_quiet_forex_symbol_holds_no_ordinary_tick_but_catches_bad_prints():
    drv = warm("EURUSD", "forex", price=1.1, sigma=1.5e-5, rate=1.0, minutes=60.0)
    assert drv.eng.stats()["held"] == 0
    bad = Tick("EURUSD", "forex", drv.ts + 0.5, drv.price * 1.02)  # 2% on a 0.01%/s pair
    assert drv.eng.on_tick(bad) == ()
    drv.walk(60.0, 1.5e-5, rate=1.0)
    assert drv.eng.stats()["rejected"]["outlier"] == 1
    drv.jump(0.6)  # a real news move: stays
    fired = drv.walk(10.0, 1.5e-5, rate=1.0)
    assert drv.eng.snapshot("EURUSD")["last"] == drv.price
    assert [e.direction for e in fired if e.type.startswith("move_")][:1] == ["up"]


def test_a_low_tick_rate_stock_keeps_its_real_moves():
    drv = warm("ACME", "stocks", price=50.0, sigma=2e-4, rate=0.1, minutes=120.0)
    assert drv.eng.stats()["rejected"]["outlier"] == 0
    start = drv.ts
    drv.jump(5.0, dt=10.0)
    drv.tick(dt=10.0)  # one tick 10 s later at the new level confirms it
    assert drv.eng.snapshot("ACME")["last"] == drv.price
    assert drv.eng.snapshot("ACME")["ts"] == start + 20.0
    assert any(e.type.startswith("move_") and e.ts == start + 10.0 for e in drv.events)


def test_a_new_symbol_whose_first_print_is_bad_reanchors_itself():
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("NEW", "crypto", T0, 1000.0))  # x10 on the very first print
    for i in range(1, 6):
        eng.on_tick(Tick("NEW", "crypto", T0 + i, 100.0 + 0.01 * i))
    snap = eng.snapshot("NEW")
    stats = eng.stats()
    assert snap["last"] == pytest.approx(100.05)
    assert snap["ticks"] == 5 and stats["accepted"] == 5
    assert stats["reanchored"] == 1 and stats["rejected"]["outlier"] == 1


def test_the_filter_can_be_switched_off():
    eng = Engine(EngineConfig(plausibility_k=None), tracker=FakeTracker())
    eng.on_tick(Tick("X", "crypto", T0, 100.0))
    eng.on_tick(Tick("X", "crypto", T0 + 1, 1000.0))
    assert eng.snapshot("X")["last"] == 1000.0 and eng.stats()["held"] == 0


@st.composite
def walks_with_bad_prints(draw) -> tuple[list[tuple[float, float]], dict[int, float]]:
    """Draw a crypto random walk (steps below the 1% band floor, gaps up to a minute) and
    isolated bad prints: {index of the good tick it follows: factor}."""
    n = draw(st.integers(5, 120))
    ts = T0 + draw(st.floats(0.0, 1.0))
    price = draw(st.floats(0.01, 50_000.0))
    walk = []
    for _ in range(n):
        ts += draw(st.one_of(st.just(0.0), st.floats(0.001, 2.0), st.floats(2.0, 60.0)))
        price *= 1.0 + draw(st.floats(-0.005, 0.005))
        walk.append((ts, price))
    factor = st.one_of(st.floats(3.0, 1e4), st.floats(1e-4, 1 / 3))
    bad = draw(st.dictionaries(st.integers(0, n - 1), factor, max_size=n // 3))
    return walk, bad


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(walks_with_bad_prints())
def test_isolated_bad_prints_never_change_state_or_events(case):
    walk, bad = case
    clean = Engine(tracker=FakeTracker())
    dirty = Engine(tracker=FakeTracker())
    clean_events, dirty_events = [], []
    for i, (ts, price) in enumerate(walk):
        clean_events += [e.to_dict() for e in clean.on_tick(Tick("X", "crypto", ts, price))]
        dirty_events += [e.to_dict() for e in dirty.on_tick(Tick("X", "crypto", ts, price))]
        if i in bad:  # right after a good tick, at its time: beyond the band either way
            bad_tick = Tick("X", "crypto", ts, price * bad[i])
            dirty_events += [e.to_dict() for e in dirty.on_tick(bad_tick)]
    assert dirty.snapshot("X") == clean.snapshot("X")
    assert dirty_events == clean_events
    stats = dirty.stats()
    assert stats["rejected"]["outlier"] == len(bad) - (len(walk) - 1 in bad)
    assert stats["accepted"] == len(walk) and stats["confirmed"] == 0
