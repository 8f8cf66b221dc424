"""A symbol the engine restarts (clock reset, re-anchor) restarts its correlation grid too, so
its correlation samples resume at once instead of stalling on the bogus time or price."""

from __future__ import annotations

import math

import pytest

from pulse.engine import Engine, Tick
from tests.engine.test_plausibility import pair_stream


def feed(eng: Engine, ticks: list[Tick]) -> None:
    for tick in ticks:
        eng.on_tick(tick)


def coverage(eng: Engine) -> int:
    return eng.correlation(["A", "B"], window=300, method="grid")["coverage"][0][1]


def test_correlation_resumes_right_after_a_clock_reset():
    ticks = pair_stream(12.0, seed=5)
    cut = next(i for i, t in enumerate(ticks) if t.ts >= ticks[0].ts + 360 and t.symbol == "A")
    eng = Engine()
    feed(eng, ticks[:cut])
    bogus = ticks[cut - 1].ts + 40.0  # replay stamp ahead, but under time_leap: A freezes
    eng.on_tick(Tick("A", "crypto", bogus, ticks[cut].price))
    reset_at = None
    for tick in ticks[cut:]:
        eng.on_tick(tick)
        if reset_at is None and eng.stats()["clock_resets"]:
            reset_at = tick.ts
        if reset_at is not None and tick.ts > reset_at + 5.0:
            break
    assert reset_at is not None and reset_at < bogus - 30.0
    before = coverage(eng)
    rest = [t for t in ticks[cut:] if reset_at + 5.0 < t.ts <= reset_at + 20.0]
    feed(eng, rest)
    # Still well before the bogus time: A's samples follow real time again.
    assert eng.now < bogus - 10.0
    assert coverage(eng) >= before + 3  # 5 s grid returns: every one since the reset
    a_history = eng.history("A", 60, 1)
    assert a_history[-1][0] <= eng.now
    assert a_history[-1][1] == pytest.approx(eng.snapshot("A")["last"], rel=1e-9)


def test_a_reanchored_first_print_leaves_no_trace_in_correlation():
    ticks = pair_stream(12.0, seed=6)
    first_a = next(i for i, t in enumerate(ticks) if t.symbol == "A")
    bad = ticks[first_a]
    dirty = list(ticks)
    dirty[first_a] = Tick("A", "crypto", bad.ts, bad.price * 10.0)  # x10 first print
    clean_eng, dirty_eng = Engine(), Engine()
    feed(clean_eng, ticks[:first_a] + ticks[first_a + 1:])
    feed(dirty_eng, dirty)
    assert dirty_eng.stats()["reanchored"] == 1
    # The x10 price was applied for a moment; the grid must not keep it as A's first sample.
    assert max(p for _, p in dirty_eng.history("A", 3600, 1)) < bad.price * 1.5
    clean = clean_eng.correlation(["A", "B"], window=900)["matrix"][0][1]
    got = dirty_eng.correlation(["A", "B"], window=900)["matrix"][0][1]
    assert clean is not None and got is not None
    assert math.isclose(got, clean, abs_tol=0.05)


def test_a_forgotten_symbol_leaves_the_tracker_and_can_start_again_earlier():
    from pulse.engine.correlation import CorrelationTracker

    tracker = CorrelationTracker()
    t0 = 1_767_625_200.0
    for i in range(600):
        tracker.observe("A", t0 + i, 100.0 * math.exp(0.001 * math.sin(i)))
        tracker.observe("B", t0 + i + 0.5, 50.0 * math.exp(0.001 * math.sin(i)))
    tracker.observe("A", t0 + 900.0, 100.0)  # a bogus time
    assert tracker.matrix(["A", "B"], t0 + 600, method="grid")["status"][0][1] == "ok"
    tracker.forget("A")
    assert tracker.symbols() == ["B"]
    assert tracker.matrix(["A", "B"], t0 + 600, method="grid")["status"][0][1] == \
        "unknown_symbol"
    tracker.observe("A", t0 + 601.0, 100.0)  # earlier than the bogus time: a fresh grid
    assert tracker.history("A", 60, 1) == [[t0 + 601.0, 100.0]]


def test_a_forgotten_symbol_leaves_no_cached_kernel_path_behind():
    """The kernel books cache each symbol's last path values; a restarted symbol's new grid
    must be read afresh, exactly as a tracker that never saw the old one."""
    from pulse.engine.correlation import CorrelationTracker

    t0 = 1_767_625_200.0

    def path_b(tr: CorrelationTracker, upto: int) -> None:
        for i in range(upto):
            tr.observe("B", t0 + i + 0.5, 50.0 * math.exp(0.002 * math.sin(i / 7.0)))

    used = CorrelationTracker()
    fresh = CorrelationTracker()
    path_b(used, 1200)
    path_b(fresh, 1200)
    for i in range(600):  # A's first life, read by a kernel query (fills the caches)
        used.observe("A", t0 + i, 100.0 * math.exp(0.002 * math.cos(i / 3.0)))
    assert used.matrix(["A", "B"], t0 + 600, window=300)["status"][0][1] == "ok"
    used.forget("A")
    for i in range(600, 900):  # A's second life: another path, from a later time
        price = 100.0 * math.exp(0.002 * math.sin(i / 7.0 + 0.3))
        used.observe("A", t0 + i, price)
        fresh.observe("A", t0 + i, price)
    # One window later: the new window starts right after the cell the cached path ended.
    got = used.matrix(["A", "B"], t0 + 900, window=300)
    want = fresh.matrix(["A", "B"], t0 + 900, window=300)
    assert got["method"] == "kernel" and got["status"][0][1] == "ok"
    assert got["matrix"][0][1] == pytest.approx(want["matrix"][0][1], abs=1e-9)
    assert got["coverage"][0][1] == want["coverage"][0][1]
