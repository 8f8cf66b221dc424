"""The recording is what the engine accepted: a bad print it held and rejected is absent, a
held level shift it confirmed is there at the times it was applied, a late tick counts at the
newer last it did not replace, identical id-less trades all count; and a warm start from the
recording reproduces the engine's closes."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from pulse.durable.recorder import Recorder
from pulse.durable.recording_store import MinuteRow, save_minutes
from pulse.durable.warm_start import warm_start
from pulse.engine import Engine
from pulse.engine.correlation import CorrelationTracker
from pulse.engine.tick import Tick
from tests.durable.streams import T0, two_symbol_ticks
from tests.durable.test_warm_start import assert_same_state

BTC = "BTC-USD"


class SpyTracker(CorrelationTracker):
    """The real tracker, remembering every tick the engine applied to it."""

    def __init__(self) -> None:
        super().__init__()
        self.applied: list[tuple[str, float, float]] = []

    def observe(self, symbol: str, ts: float, price: float) -> None:
        self.applied.append((symbol, ts, price))
        super().observe(symbol, ts, price)


def first_btc(ticks: list[Tick], after: float) -> int:
    return next(i for i, t in enumerate(ticks) if t.symbol == BTC and t.ts >= after)


def last_of_cell(ticks: list[Tick], after: float) -> int:
    """Return the index of the first BTC tick from ``after`` that is the last BTC tick of
    its 1 s cell, with room for a tick 1 ms later in the same cell."""
    for i, t in enumerate(ticks):
        if t.symbol == BTC and t.ts >= after and t.ts % 1.0 < 0.99:
            nxt = next(u for u in ticks[i + 1:] if u.symbol == BTC)
            if int(nxt.ts) > int(t.ts):
                return i
    raise AssertionError("no such tick")


def dirty_stream() -> tuple[list[Tick], dict[str, Tick]]:
    """Return the two-symbol stream with four kinds of trouble in BTC, and those ticks."""
    ticks = two_symbol_ticks(seconds=1200)
    faults: dict[str, Tick] = {}
    # From 800 s on BTC trades 5% higher: the first tick of the new level is held until
    # the following ticks confirm it.
    shift = first_btc(ticks, T0 + 800)
    for i in range(shift, len(ticks)):
        t = ticks[i]
        if t.symbol == BTC:
            ticks[i] = Tick(BTC, "crypto", t.ts, round(t.price * 1.05, 2), size=t.size)
    faults["shift"] = ticks[shift]
    # Each fault below is the last BTC tick of its cell, where it would set the close.
    # A x10 print right after a BTC trade: held, then rejected by the next trade.
    i = last_of_cell(ticks, T0 + 400)
    faults["bad"] = Tick(BTC, "crypto", ticks[i].ts + 1e-3, ticks[i].price * 10.0)
    ticks.insert(i + 1, faults["bad"])
    # A late trade: stamped 0.5 s before the BTC trade it arrives after.
    i = last_of_cell(ticks, T0 + 500)
    faults["late"] = Tick(BTC, "crypto", ticks[i].ts - 0.5, ticks[i].price - 7.0)
    ticks.insert(i + 1, faults["late"])
    # Two identical trades without an id (same time, price and size): both real.
    i = last_of_cell(ticks, T0 + 600)
    t = ticks[i]
    faults["twin"] = Tick(BTC, "crypto", t.ts, t.price, size=t.size)
    ticks.insert(i + 1, faults["twin"])
    return ticks, faults


def closes(applied: list[tuple[str, float, float]], step: float) -> dict:
    """Return {(symbol, cell): (ts, price)} of the last applied tick of every cell."""
    out = {}
    for symbol, ts, price in applied:
        out[symbol, int(ts // step)] = (ts, price)
    return out


def by_cell(rows: list[MinuteRow], step: float) -> dict:
    """Return {(symbol, cell): recorded cell} of some minute rows."""
    out = {}
    for symbol, _, start, cells in rows:
        for c in cells:
            out[symbol, round(start / step) + c.offset] = c
    return out


@pytest.mark.django_db(transaction=True)
async def test_the_recording_is_what_the_engine_applied_and_warm_starts_to_its_closes():
    ticks, faults = dirty_stream()
    spy = SpyTracker()
    live, rec = Engine(tracker=spy), Recorder()
    rec.attach(live)
    for tick in ticks:
        live.on_tick(tick)
    stats = live.stats()
    assert stats["rejected"]["outlier"] == 1 and stats["late_accepted"] == 1
    assert stats["held"] >= 2 and stats["confirmed"] >= 1
    assert sum(stats["rejected"].values()) == 1
    assert stats["accepted"] == len(ticks) - 1

    rows = rec.take_rows()
    cells = by_cell(rows, rec.step)
    # Each cell's close is the last tick the engine applied in it, and nothing else.
    want = closes(spy.applied, rec.step)
    assert {key: (c.ts, c.price) for key, c in cells.items()} == want
    # Every accepted tick is counted once (late and identical ones too).
    for symbol in ("BTC-USD", "ETH-USD"):
        assert sum(c.count for (s, _), c in cells.items() if s == symbol) == \
            live.snapshot(symbol)["ticks"]
    # The faults, one by one.
    assert all(c.price < faults["bad"].price / 5 for c in cells.values())
    shift = faults["shift"]
    assert cells[BTC, int(shift.ts // rec.step)].price >= shift.price * 0.99
    late = faults["late"]
    late_cell = cells[BTC, int((late.ts + 0.5) // rec.step)]
    assert late_cell.price == late.price + 7.0 and late_cell.ts == late.ts + 0.5
    assert all(c.price != late.price for c in cells.values())
    twin = faults["twin"]
    assert cells[BTC, int(twin.ts // rec.step)][1:4] == (
        sum(t.symbol == BTC and int(t.ts) == int(twin.ts) for t in ticks), twin.ts, twin.price)

    # Written and read back, the recording gives the engine the same closes.
    await database_sync_to_async(save_minutes)(rows)
    restarted = Engine()
    report = await warm_start(restarted, T0 - 60)
    assert report.ticks == stats["accepted"]
    assert_same_state(live, restarted)
    assert restarted.stats()["rejected"]["outlier"] == 0
