"""The engine on the recorded Binance session (real trades, real microstructure)."""

from __future__ import annotations

import gzip
import json

import pytest

from pulse.engine import Engine, Tick
from tests.conftest import SHARED_DATA as DATA
from tests.engine import reference as ref
from tests.engine.fake_correlation import FakeTracker

pytestmark = pytest.mark.shared_data


def load_trades() -> list[Tick]:
    """Return the BTC and ETH trades as ticks, in local receipt order."""
    ticks = []
    for name in ("btcusdt", "ethusdt"):
        with gzip.open(DATA / f"{name}_20240808.gz", "rt") as f:
            for line in f:
                recv_ns, payload = line.split(" ", 1)
                if "@trade" not in payload[:40]:
                    continue
                d = json.loads(payload)["data"]
                ticks.append(Tick(d["s"], "crypto", d["T"] / 1000.0, float(d["p"]),
                                  recv_ts=int(recv_ns) / 1e9, size=float(d["q"]),
                                  provider="binance", trade_id=d["t"]))
    ticks.sort(key=lambda t: t.recv_ts)
    return ticks


@pytest.fixture(scope="module")
def trades() -> list[Tick]:
    return load_trades()


def test_it_accepts_every_recorded_trade_and_reports_sane_metrics(trades):
    eng = Engine(tracker=FakeTracker())
    for tick in trades:
        eng.on_tick(tick)
    stats = eng.stats()
    assert stats["accepted"] == len(trades) > 10_000
    assert sum(stats["rejected"].values()) == 0
    for symbol in ("BTCUSDT", "ETHUSDT"):
        snap = eng.snapshot(symbol)
        own = [(t.ts, t.price) for t in trades if t.symbol == symbol]
        # Grid vol of a volatile August 2024 session: tens of percent, not the thousands
        # that tick-to-tick noise annualization would give.
        assert 0.2 < snap["vol_15m"] < 1.5
        assert snap["tick_rate"] == pytest.approx(ref.tick_rate(own, 60.0, 1.0))
        assert snap["ret_5m"] == pytest.approx(ref.ret_ref(own, 300.0, 1.0)[0])
        assert snap["vol_15m"] == pytest.approx(
            ref.realized_vol(own, 900.0, 60.0, 60, 31_536_000.0, 1.0), rel=1e-9)


def test_a_replayed_overlap_after_reconnect_is_rejected_as_duplicates(trades):
    eng = Engine(tracker=FakeTracker())
    half = len(trades) // 2
    for tick in trades[:half]:
        eng.on_tick(tick)
    before = eng.snapshots()
    # A reconnect re-delivers the last 500 trades: same ids, slightly older timestamps.
    for tick in trades[half - 500:half]:
        assert eng.on_tick(tick) == ()
    rejected = eng.stats()["rejected"]
    assert rejected["duplicate"] + rejected["out_of_order"] == 500
    assert rejected["duplicate"] > 0
    assert eng.snapshots() == before
