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
    ("bad_asset", Tick("GOLD", "bonds", T0 + 1, 2000.0)),
    ("bad_symbol", Tick("", "crypto", T0 + 1, 2000.0)),
    ("bad_symbol", Tick(None, "crypto", T0 + 1, 2000.0)),  # type: ignore[arg-type]
    ("invalid", Tick(["ETH"], "crypto", T0 + 1, 2000.0)),  # type: ignore[arg-type]
    ("invalid", Tick("ETH", "crypto", T0 + 1e4, 2000.0, trade_id=[1])),  # type: ignore[arg-type]
    ("invalid", Tick("NEW", "crypto", T0 + 1, 2000.0, trade_id={})),  # type: ignore[arg-type]
    ("invalid", Tick("ETH", "crypto", T0 + 1, 2000.0, recv_ts="now")),  # type: ignore[arg-type]
]


def test_it_counts_each_bad_tick_under_its_reason_and_keeps_state_clean():
    dirty = Engine(EngineConfig(), tracker=FakeTracker())
    clean = Engine(EngineConfig(), tracker=FakeTracker())
    expected: dict[str, int] = {}
    for i, tick in enumerate(good_ticks()):
        clean.on_tick(tick)
        dirty.on_tick(tick)
        reason, bad = BAD[i % len(BAD)]
        assert dirty.on_tick(bad) == ()
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
    eng.on_tick(Tick("ETH", "crypto", T0 + 1, 11.0, trade_id=8))
    assert eng.on_tick(Tick("ETH", "crypto", T0 + 2, 12.0, trade_id=7)) == ()
    assert eng.stats()["rejected"]["duplicate"] == 1
    assert eng.snapshot("ETH")["last"] == 11.0


def test_it_forgets_trade_ids_beyond_the_configured_memory():
    eng = Engine(EngineConfig(duplicate_id_memory=3), tracker=FakeTracker())
    for i in range(5):
        eng.on_tick(Tick("ETH", "crypto", T0 + i, 10.0 + i, trade_id=i))
    eng.on_tick(Tick("ETH", "crypto", T0 + 6, 20.0, trade_id=0))  # evicted: accepted
    eng.on_tick(Tick("ETH", "crypto", T0 + 7, 21.0, trade_id=4))  # remembered: rejected
    assert eng.stats()["accepted"] == 6
    assert eng.stats()["rejected"]["duplicate"] == 1


def test_it_rejects_an_identical_consecutive_tick_without_trade_id():
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("EURUSD", "forex", T0, 1.1, size=None))
    assert eng.on_tick(Tick("EURUSD", "forex", T0, 1.1)) == ()
    eng.on_tick(Tick("EURUSD", "forex", T0, 1.2))  # same ts, new price: a real update
    eng.on_tick(Tick("EURUSD", "forex", T0 + 1, 1.2))  # same price later: a real tick
    assert eng.stats()["rejected"]["duplicate"] == 1
    assert eng.stats()["accepted"] == 3


def test_it_accepts_late_ticks_within_tolerance_at_the_last_timestamp():
    tracker = FakeTracker()
    eng = Engine(EngineConfig(out_of_order_tolerance=2.0), tracker=tracker)
    eng.on_tick(Tick("AAPL", "stocks", T0 + 10, 200.0))
    eng.on_tick(Tick("AAPL", "stocks", T0 + 8.5, 201.0))  # 1.5 s late: accepted
    eng.on_tick(Tick("AAPL", "stocks", T0 + 7.0, 202.0))  # 3 s late: rejected
    stats = eng.stats()
    assert stats["accepted"] == 2
    assert stats["late_accepted"] == 1
    assert stats["rejected"]["out_of_order"] == 1
    snap = eng.snapshot("AAPL")
    assert snap["last"] == 201.0
    assert snap["ts"] == T0 + 10
    assert tracker.observed[-1] == ("AAPL", T0 + 10, 201.0)


def test_it_rejects_exchange_times_far_ahead_of_receipt_time():
    eng = Engine(EngineConfig(future_tolerance=3600.0), tracker=FakeTracker())
    eng.on_tick(Tick("BTC", "crypto", T0, 100.0, recv_ts=T0 + 0.2))
    year = 86_400 * 365
    eng.on_tick(Tick("ETH", "crypto", T0 + year, 100.0, recv_ts=T0))  # new symbol, bogus ts
    eng.on_tick(Tick("BTC", "crypto", T0 + year, 100.0, recv_ts=T0 + 1))
    eng.on_tick(Tick("BTC", "crypto", T0 + 60, 101.0, recv_ts=T0 + 59))  # 1 s lead: fine
    eng.on_tick(Tick("BTC", "crypto", T0 + 86_400, 102.0))  # a day later, recv_ts = ts
    assert eng.stats()["rejected"]["future"] == 2
    assert eng.now == T0 + 86_400
    assert eng.symbols() == ["BTC"]


def test_it_converts_int_and_decimal_prices_to_float():
    from decimal import Decimal

    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("ETH", "crypto", int(T0), 2000))  # type: ignore[arg-type]
    eng.on_tick(Tick("ETH", "crypto", T0 + 61, Decimal("2100.5")))  # type: ignore[arg-type]
    eng.on_tick(Tick("ETH", "crypto", T0 + 62, True))  # type: ignore[arg-type]
    snap = eng.snapshot("ETH")
    assert snap["last"] == 2100.5 and type(snap["last"]) is float
    assert snap["ret_1m"] == pytest.approx(2100.5 / 2000 - 1)
    assert eng.stats()["rejected"]["invalid"] == 1


def test_it_ignores_a_bad_quote_but_keeps_the_trade():
    eng = Engine(tracker=FakeTracker())
    eng.on_tick(Tick("EURUSD", "forex", T0, 1.1, bid=1.0999, ask=1.1001))
    eng.on_tick(Tick("EURUSD", "forex", T0 + 1, 1.2, bid=float("nan"), ask="x"))  # type: ignore[arg-type]
    snap = eng.snapshot("EURUSD")
    assert snap["last"] == 1.2
    assert (snap["bid"], snap["ask"]) == (1.0999, 1.1001)
    assert snap["mid"] == pytest.approx(1.1)
