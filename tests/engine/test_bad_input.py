"""Bad ticks are rejected, counted per reason, and never change any state."""

from __future__ import annotations

import math

import pytest

from pulse.engine import Engine, EngineConfig, Tick
from tests.engine.fake_correlation import FakeTracker
from tests.engine.streams import T0


def good_ticks(n: int = 510) -> list[Tick]:
    return [Tick("ETH", "crypto", T0 + 0.7 * i, 2000.0 * math.exp(0.001 * math.sin(i)),
                 size=1.0 + i % 3, trade_id=i) for i in range(n)]


NOW = T0 + 1e4  # stands for "at the time of the good tick just before" (see restamp)

BAD = [
    ("nan", Tick("ETH", "crypto", T0 + 1, float("nan"))),
    ("inf", Tick("ETH", "crypto", T0 + 1, float("inf"))),
    ("inf", Tick("ETH", "crypto", T0 + 1, float("-inf"))),
    ("non_positive", Tick("ETH", "crypto", T0 + 1, 0.0)),
    ("non_positive", Tick("ETH", "crypto", T0 + 1, -5.0)),
    ("invalid", Tick("ETH", "crypto", T0 + 1, "2000.1")),  # type: ignore[arg-type]
    ("invalid", Tick("ETH", "crypto", T0 + 1, None)),  # type: ignore[arg-type]
    ("invalid", Tick("ETH", "crypto", None, 2000.0)),  # type: ignore[arg-type]
    ("bad_ts", Tick("ETH", "crypto", float("nan"), 2000.0)),
    ("bad_ts", Tick("ETH", "crypto", float("inf"), 2000.0)),
    ("bad_ts", Tick("ETH", "crypto", 1e300, 2000.0)),  # froze a symbol in replay
    ("bad_ts", Tick("ETH", "crypto", 100.0, 2000.0)),  # before 2000
    ("bad_ts", Tick("ETH", "crypto", T0 * 1000, 2000.0)),  # milliseconds: after 2100
    ("implausible", Tick("ETH", "crypto", T0 + 1, 1e300)),
    ("implausible", Tick("ETH", "crypto", T0 + 1, 1.7e308)),
    ("implausible", Tick("ETH", "crypto", T0 + 1, 1e-300)),
    ("implausible", Tick("ETH", "crypto", T0 + 1, 1e-320)),  # a denormal
    ("asset_mismatch", Tick("ETH", "forex", NOW, 2000.0)),  # another stream, same name
    ("future", Tick("ETH", "crypto", NOW, 2000.0, recv_ts=NOW - 6)),
    ("bad_asset", Tick("GOLD", "bonds", T0 + 1, 2000.0)),
    ("bad_symbol", Tick("", "crypto", T0 + 1, 2000.0)),
    ("bad_symbol", Tick(None, "crypto", T0 + 1, 2000.0)),  # type: ignore[arg-type]
    ("invalid", Tick(["ETH"], "crypto", T0 + 1, 2000.0)),  # type: ignore[arg-type]
    ("invalid", Tick("ETH", "crypto", NOW, 2000.0, trade_id=[1])),  # type: ignore[arg-type]
    ("invalid", Tick("NEW", "crypto", T0 + 1, 2000.0, trade_id={})),  # type: ignore[arg-type]
    ("invalid", Tick("ETH", "crypto", T0 + 1, 2000.0, recv_ts="now")),  # type: ignore[arg-type]
]


def restamp(bad: Tick, ts: float) -> Tick:
    """Return ``bad`` moved to ``ts`` if it is stamped ``NOW``, else ``bad`` itself."""
    if bad.ts != NOW:
        return bad
    shift = ts - NOW
    return Tick(bad.symbol, bad.asset, bad.ts + shift, bad.price, recv_ts=bad.recv_ts + shift,
                trade_id=bad.trade_id)


def test_it_counts_each_bad_tick_under_its_reason_and_keeps_state_clean():
    dirty = Engine(EngineConfig(), tracker=FakeTracker())
    clean = Engine(EngineConfig(), tracker=FakeTracker())
    expected: dict[str, int] = {}
    for i, tick in enumerate(good_ticks()):
        clean.on_tick(tick)
        dirty.on_tick(tick)
        reason, bad = BAD[i % len(BAD)]
        assert dirty.on_tick(restamp(bad, tick.ts)) == ()
        expected[reason] = expected.get(reason, 0) + 1
    stats = dirty.stats()
    assert stats["accepted"] == 510
    assert {k: v for k, v in stats["rejected"].items() if v} == expected
    assert dirty.symbols() == ["ETH"]
    assert dirty.snapshot("ETH") == clean.snapshot("ETH")
    assert dirty._tracker.observed == clean._tracker.observed


def test_it_rejects_a_repeated_trade_id_even_with_other_values():
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("ETH", "crypto", T0, 10.0, trade_id=7))
    eng.on_tick(Tick("ETH", "crypto", T0 + 1, 10.01, trade_id=8))
    assert eng.on_tick(Tick("ETH", "crypto", T0 + 2, 10.02, trade_id=7)) == ()
    assert eng.stats()["rejected"]["duplicate"] == 1
    assert eng.snapshot("ETH")["last"] == 10.01


def test_it_forgets_trade_ids_beyond_the_configured_memory():
    eng = Engine(EngineConfig(duplicate_id_memory=3), tracker=FakeTracker())
    for i in range(5):
        eng.on_tick(Tick("ETH", "crypto", T0 + i, 10.0 + 0.01 * i, trade_id=i))
    eng.on_tick(Tick("ETH", "crypto", T0 + 6, 10.05, trade_id=0))  # evicted: accepted
    eng.on_tick(Tick("ETH", "crypto", T0 + 7, 10.06, trade_id=4))  # remembered: rejected
    assert eng.stats()["accepted"] == 6
    assert eng.stats()["rejected"]["duplicate"] == 1


def test_it_keeps_identical_consecutive_trades_without_trade_id():
    # Without an id, identical (ts, price, size) is what consecutive fills of one order look
    # like (11-15% of real Binance trades): only a provider id proves a duplicate.
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("BTC", "crypto", T0, 60_000.0, size=0.01))
    eng.on_tick(Tick("BTC", "crypto", T0, 60_000.0, size=0.01))
    eng.on_tick(Tick("BTC", "crypto", T0, 60_000.0, size=0.01))
    assert eng.stats()["rejected"]["duplicate"] == 0
    assert eng.stats()["accepted"] == 3
    assert eng.snapshot("BTC")["ticks"] == 3


def test_a_late_tick_within_tolerance_is_counted_but_never_replaces_a_newer_last():
    tracker = FakeTracker()
    eng = Engine(EngineConfig(out_of_order_tolerance=2.0), tracker=tracker)
    eng.on_tick(Tick("AAPL", "stocks", T0 + 10, 200.0))
    eng.on_tick(Tick("AAPL", "stocks", T0 + 9.0, 200.5))  # 1 s late: counted, not applied
    eng.on_tick(Tick("AAPL", "stocks", T0 + 7.0, 202.0))  # 3 s late: rejected
    stats = eng.stats()
    assert stats["accepted"] == 2
    assert stats["late_accepted"] == 1
    assert stats["rejected"]["out_of_order"] == 1
    snap = eng.snapshot("AAPL")
    assert snap["last"] == 200.0
    assert snap["ts"] == T0 + 10
    assert snap["ticks"] == 2  # a real trade: it counts toward the tick rate
    assert tracker.observed == [("AAPL", T0 + 10, 200.0)]


def test_it_rejects_exchange_times_far_ahead_of_receipt_time():
    eng = Engine(EngineConfig(future_tolerance=3600.0), tracker=FakeTracker())
    eng.on_tick(Tick("BTC", "crypto", T0, 100.0, recv_ts=T0 + 0.2))
    year = 86_400 * 365
    eng.on_tick(Tick("ETH", "crypto", T0 + year, 100.0, recv_ts=T0))  # new symbol, bogus ts
    eng.on_tick(Tick("BTC", "crypto", T0 + year, 100.0, recv_ts=T0 + 1))
    eng.on_tick(Tick("BTC", "crypto", T0 + 60, 101.0, recv_ts=T0 + 59))  # 1 s lead: fine
    eng.on_tick(Tick("BTC", "crypto", T0 + 86_400, 102.0, recv_ts=T0 + 86_400.5))  # a day later
    assert eng.stats()["rejected"]["future"] == 2
    assert eng.now == T0 + 86_400
    assert eng.symbols() == ["BTC"]


def test_it_converts_int_and_decimal_prices_to_float():
    from decimal import Decimal

    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("ETH", "crypto", int(T0), 2000))  # type: ignore[arg-type]
    eng.on_tick(Tick("ETH", "crypto", T0 + 61, Decimal("2010.5"),  # type: ignore[arg-type]
                     recv_ts=T0 + 61.1))
    eng.on_tick(Tick("ETH", "crypto", T0 + 62, True))  # type: ignore[arg-type]
    snap = eng.snapshot("ETH")
    assert snap["last"] == 2010.5 and type(snap["last"]) is float
    assert snap["ret_1m"] == pytest.approx(2010.5 / 2000 - 1)
    assert eng.stats()["rejected"]["invalid"] == 1


def test_it_ignores_a_bad_quote_but_keeps_the_trade():
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("EURUSD", "forex", T0, 1.1, bid=1.0999, ask=1.1001))
    eng.on_tick(Tick("EURUSD", "forex", T0 + 1, 1.1002, bid=float("nan"), ask="x"))  # type: ignore[arg-type]
    snap = eng.snapshot("EURUSD")
    assert snap["last"] == 1.1002
    assert (snap["bid"], snap["ask"]) == (1.0999, 1.1001)
    assert snap["mid"] == pytest.approx(1.1)


def test_the_default_future_tolerance_is_seconds_not_an_hour():
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("BTC", "crypto", T0, 100.0, recv_ts=T0))
    eng.on_tick(Tick("BTC", "crypto", T0 + 3500, 100.0, recv_ts=T0 + 1))  # froze BTC before
    eng.on_tick(Tick("BTC", "crypto", T0 + 10, 100.1, recv_ts=T0 + 6))  # 4 s lead: latency
    assert eng.stats()["rejected"]["future"] == 1
    assert eng.snapshot("BTC")["last"] == 100.1
    assert eng.now == T0 + 10


def replay_with_one_bogus_stamp(lead: float) -> Engine:
    """Return an engine fed a replayed stream (recv_ts = ts) of BTC and ETH at 2 ticks/s
    where one BTC tick is stamped ``lead`` seconds ahead."""
    eng = Engine(tracker=FakeTracker())
    for i in range(120):
        ts = T0 + 0.5 * i
        eng.on_tick(Tick("ETH", "crypto", ts, 3000.0 + 0.01 * (i % 7)))
        if i == 40:
            eng.on_tick(Tick("BTC", "crypto", ts + lead, 60_000.0))
        eng.on_tick(Tick("BTC", "crypto", ts + 0.1, 60_000.0 + (i % 5)))
    return eng


def test_a_far_future_stamp_in_replay_waits_and_is_refuted_by_the_next_tick():
    eng = Engine(tracker=FakeTracker())
    for i in range(20):
        eng.on_tick(Tick("ETH", "crypto", T0 + i, 3000.0))
        if i == 10:  # one bogus stamp a day ahead; no receipt clock to catch it
            assert eng.on_tick(Tick("BTC", "crypto", T0 + 86_400 + i, 60_000.0)) == ()
            assert eng.now == T0 + i  # never dragged
        eng.on_tick(Tick("BTC", "crypto", T0 + i + 0.5, 60_000.0 + i))
    stats = eng.stats()
    assert stats["time_leaps"] == 1 and stats["rejected"]["bad_ts"] == 1
    assert stats["rejected"]["out_of_order"] == 0 and stats["clock_resets"] == 0
    assert eng.snapshot("BTC")["last"] == 60_019.0
    assert eng.now == T0 + 19.5


def test_a_jump_in_time_confirmed_by_the_next_tick_is_a_gap_not_a_bad_stamp():
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("AAPL", "stocks", T0, 200.0))
    eng.on_tick(Tick("AAPL", "stocks", T0 + 64 * 3600, 201.0))  # Monday open, no recv time
    assert eng.snapshot("AAPL")["last"] == 200.0  # waits for one more tick
    eng.on_tick(Tick("AAPL", "stocks", T0 + 64 * 3600 + 5, 201.5))
    snap = eng.snapshot("AAPL")
    assert (snap["last"], snap["ticks"]) == (201.5, 3)
    assert eng.stats()["time_leaps"] == 1 and sum(eng.stats()["rejected"].values()) == 0


def test_a_symbol_frozen_by_a_future_stamp_in_replay_recovers_within_seconds():
    # 30 s ahead: not far enough ahead of the stream to wait (time_leap 60 s), so BTC's
    # last ts is bogus and its next ticks are out of order until the clock reset.
    eng = replay_with_one_bogus_stamp(30.0)
    stats = eng.stats()
    assert stats["clock_resets"] == 1
    # Rejected as out of order for at most clock_reset_seconds (3 s) of the stream's clock.
    assert stats["rejected"]["out_of_order"] <= 8
    assert eng.snapshot("BTC")["ts"] == T0 + 0.5 * 119 + 0.1
    assert eng.snapshot("BTC")["last"] == 60_000.0 + 119 % 5
    # Engine.now (which drives every symbol's staleness) is back on the stream's clock.
    assert eng.now == T0 + 0.5 * 119 + 0.1
    assert eng.snapshot("ETH")["staleness"] == pytest.approx(0.1)


def test_a_reconnect_backlog_of_old_ticks_does_not_reset_a_healthy_symbol():
    eng = Engine(tracker=FakeTracker())
    for i in range(20):
        ts = T0 + i
        eng.on_tick(Tick("BTC", "crypto", ts, 60_000.0, recv_ts=ts + 0.1))
    # The feed re-sends 10 s of old trades 10 s later: out of order, but BTC's last ts is
    # behind the receipt clock, so it is not the bogus one.
    for i in range(10):
        eng.on_tick(Tick("BTC", "crypto", T0 + i, 60_000.0, recv_ts=T0 + 20 + i))
    assert eng.stats()["clock_resets"] == 0
    assert eng.stats()["rejected"]["out_of_order"] == 10
    assert eng.snapshot("BTC")["ts"] == T0 + 19


def test_asset_mismatch_never_mixes_two_streams_into_one_symbol():
    eng = Engine(tracker=FakeTracker())
    for i in range(10):
        eng.on_tick(Tick("SOL-USD", "crypto", T0 + i, 150.0 + 0.01 * i))
        eng.on_tick(Tick("SOL-USD", "forex", T0 + i + 0.5, 1.17))  # another instrument
    snap = eng.snapshot("SOL-USD")
    assert eng.stats()["rejected"]["asset_mismatch"] == 10
    assert (snap["asset"], snap["last"], snap["ticks"]) == ("crypto", 150.09, 10)
