"""ClockGuard: live ticks checked against receipt time with a robust, self-healing offset."""

from __future__ import annotations

import pytest

from pulse.engine.config import EngineConfig
from pulse.engine.engine import Engine
from pulse.engine.tick import CRYPTO, Tick
from pulse.feeds.base import FeedConfigError, FeedCounters
from pulse.feeds.clock import ClockGuard
from pulse.feeds.connection import ConnectionOptions

T0 = 1_767_625_200.0
LATENCY = 0.08


def tick(recv: float, ahead: float = 0.0, symbol: str = "BTC-USD") -> Tick:
    """A tick received at ``recv`` whose exchange time is ``ahead`` s past the usual latency."""
    return Tick(symbol, CRYPTO, recv - LATENCY + ahead, 100.0, recv_ts=recv)


def stream(guard: ClockGuard, start: float, seconds: float, *, rate: float = 4.0,
           ahead: float = 0.0, symbol: str = "BTC-USD") -> list[bool]:
    """Offer ``seconds`` of ticks at ``rate`` per second; return which were admitted."""
    n = int(seconds * rate)
    return [guard.admit(tick(start + i / rate, ahead, symbol)) for i in range(n)]


def test_a_tick_far_ahead_of_receipt_is_dropped_and_counted_while_the_stream_goes_on() -> None:
    counters = FeedCounters()
    guard = ClockGuard(counters)
    assert all(stream(guard, T0, 10))
    assert not guard.admit(tick(T0 + 10, ahead=3500.0))  # the tick that froze a symbol
    assert not guard.admit(tick(T0 + 10.1, ahead=6.0))  # just past the 5 s tolerance
    assert all(stream(guard, T0 + 10.25, 10))
    assert counters.clock_skew == 2
    assert counters.clock_resets == 0
    assert guard.offset("BTC-USD") == pytest.approx(LATENCY, abs=0.01)


def test_a_single_skewed_tick_within_tolerance_barely_moves_the_offset() -> None:
    counters = FeedCounters()
    guard = ClockGuard(counters)
    stream(guard, T0, 10)
    assert guard.admit(tick(T0 + 10, ahead=4.9))  # plausible: kept
    assert guard.offset("BTC-USD") == pytest.approx(LATENCY - 0.05 * 4.9, abs=0.01)
    assert counters.clock_offset == pytest.approx(LATENCY, abs=0.3)


def test_a_provider_clock_30s_ahead_from_the_start_is_followed_within_seconds() -> None:
    counters = FeedCounters()
    guard = ClockGuard(counters)
    admitted = stream(guard, T0, 10, rate=4.0, ahead=30.0)
    first = admitted.index(True)
    assert first / 4.0 <= 2.5  # recovered within the 2 s re-anchor span plus one tick
    assert all(admitted[first:])
    assert counters.clock_skew == first and counters.clock_resets == 1
    # Accepted ticks are moved into our time frame, so the engine does not reject them
    # as future-stamped: their ts lands on the receipt time (latency and skew are one offset).
    t = tick(T0 + 11, ahead=30.0)
    assert guard.admit(t)
    assert t.ts == pytest.approx(t.recv_ts, abs=0.05)
    assert counters.clock_corrected >= 1


def test_an_exchange_clock_that_jumps_ahead_mid_stream_recovers_and_a_jump_back_too() -> None:
    counters = FeedCounters()
    guard = ClockGuard(counters)
    assert all(stream(guard, T0, 20))
    jumped = stream(guard, T0 + 20, 10, ahead=45.0)
    assert not jumped[0] and all(jumped[jumped.index(True):])
    assert jumped.index(True) / 4.0 <= 2.5
    # The clock jumps back: nothing is dropped, and these ticks are not shifted (they already
    # agree with receipt time); the offset follows after the 30 s a run behind must span.
    back = [tick(T0 + 30 + i / 4) for i in range(4 * 40)]
    assert all(guard.admit(t) for t in back)
    assert all(t.recv_ts - t.ts == pytest.approx(LATENCY) for t in back)
    assert guard.offset("BTC-USD") == pytest.approx(LATENCY, abs=0.05)
    assert counters.clock_resets == 2


def test_a_network_stall_that_delivers_ticks_late_does_not_cost_the_ticks_after_it() -> None:
    counters = FeedCounters()
    guard = ClockGuard(counters)
    assert all(stream(guard, T0, 10))
    stalled = [Tick("BTC-USD", CRYPTO, T0 + 10 + i / 4 - LATENCY, 100.0, recv_ts=T0 + 18 + i / 4)
               for i in range(4 * 20)]  # 20 s of ticks arriving 8 s late
    assert all(guard.admit(t) for t in stalled)
    assert all(stream(guard, T0 + 38.1, 10))  # timely again: none dropped
    assert counters.clock_skew == 0 and counters.clock_resets == 0


def test_old_ticks_replayed_in_a_burst_after_a_reconnect_pass_and_do_not_move_the_offset() -> None:
    counters = FeedCounters()
    guard = ClockGuard(counters)
    stream(guard, T0, 10)
    burst = [guard.admit(Tick("BTC-USD", CRYPTO, T0 + 10 - 60 + i * 0.01, 100.0,
                              recv_ts=T0 + 10 + i * 0.001)) for i in range(50)]
    assert all(burst)  # far behind: the engine decides what is too late
    assert counters.clock_resets == 0
    assert all(stream(guard, T0 + 10.1, 5))
    assert guard.offset("BTC-USD") == pytest.approx(LATENCY, abs=0.01)


def test_ticks_ahead_that_disagree_with_each_other_never_reanchor() -> None:
    counters = FeedCounters()
    guard = ClockGuard(counters)
    stream(guard, T0, 5)
    bogus = [guard.admit(tick(T0 + 5 + i, ahead=100.0 * (i + 1))) for i in range(20)]
    assert not any(bogus)
    assert counters.clock_skew == 20 and counters.clock_resets == 0


def test_offsets_are_per_symbol_so_one_venue_clock_cannot_shift_another() -> None:
    counters = FeedCounters()
    guard = ClockGuard(counters)
    for i in range(40):
        assert guard.admit(tick(T0 + i / 4, symbol="AAPL"))
        guard.admit(tick(T0 + i / 4 + 0.01, ahead=30.0, symbol="MSFT"))
    assert guard.offset("AAPL") == pytest.approx(LATENCY, abs=0.01)
    assert guard.offset("MSFT") == pytest.approx(LATENCY - 30.0, abs=0.05)


def test_a_bad_tolerance_is_refused() -> None:
    with pytest.raises(ValueError):
        ClockGuard(FeedCounters(), tolerance=0)


def test_bad_clock_options_are_refused_by_every_live_feed() -> None:
    for options in ({"clock_tolerance": 0}, {"clock_tolerance": float("nan")},
                    {"overlap_window": -1.0}):
        with pytest.raises(FeedConfigError):
            ConnectionOptions.from_options(options)


def test_behind_the_guard_a_future_stamped_tick_cannot_freeze_the_engine() -> None:
    """The fault that motivated the guard, end to end with the engine as it is configured."""
    engine = Engine(EngineConfig())
    guard = ClockGuard(FeedCounters())
    for i in range(60):
        t = Tick("BTCUSDT", CRYPTO, T0 + i - LATENCY, 60000.0 + i, recv_ts=T0 + i, trade_id=i)
        if i == 30:  # 3,500 s ahead: inside the engine's old 3,600 s future tolerance
            t = Tick("BTCUSDT", CRYPTO, T0 + i + 3500, 66000.0, recv_ts=T0 + i, trade_id=i)
        if guard.admit(t):
            engine.on_tick(t)
    snapshot = engine.snapshot("BTCUSDT")
    assert snapshot is not None and snapshot["last"] == 60059.0
