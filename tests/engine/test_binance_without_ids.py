"""Trades without a provider id are never dropped as duplicates (real Binance recording)."""

from __future__ import annotations

import pytest

from pulse.engine import Engine
from pulse.feeds.replay import merge_by_time, read_binance
from tests.conftest import BINANCE_FILES as FILES
from tests.conftest import SHARED_DATA as DATA
from tests.engine.fake_correlation import FakeTracker

pytestmark = pytest.mark.shared_data


def test_trades_sharing_ts_price_and_size_are_all_accepted_without_ids():
    ticks = list(merge_by_time(read_binance(DATA / f) for f in FILES))
    last: dict[str, tuple] = {}
    repeats = 0
    for t in ticks:
        key = (t.ts, t.price, t.size)
        repeats += last.get(t.symbol) == key
        last[t.symbol] = key
        t.trade_id = None  # as from a feed that sends no trade ids
    # Consecutive fills of one order: the old (ts, price, size) rule dropped all of these.
    assert repeats > 0.1 * len(ticks)
    eng = Engine(tracker=FakeTracker())
    for t in ticks:
        eng.on_tick(t)
    stats = eng.stats()
    assert stats["rejected"]["duplicate"] == 0
    assert stats["accepted"] == len(ticks)
    assert sum(stats["rejected"].values()) == 0
