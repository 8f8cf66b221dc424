"""The recorder: what it keeps per cell of what the engine accepted, restarts, retention,
database outages."""

from __future__ import annotations

import math

import pytest
from channels.db import database_sync_to_async

from pulse.durable import recorder as recorder_module
from pulse.durable.codec import Cell, decode, encode
from pulse.durable.durations import parse_duration
from pulse.durable.recorder import Recorder
from pulse.engine import Engine, EngineConfig
from pulse.engine.tick import Tick
from pulse.models import RecordedMinute
from tests.durable.streams import T0


def btc(ts: float, price: float, **kw) -> Tick:
    return Tick("BTC-USD", "crypto", ts, price, **kw)


def attached(config: EngineConfig | None = None, **kw) -> tuple[Engine, Recorder]:
    engine, rec = Engine(config), Recorder(config, **kw)
    rec.attach(engine)
    return engine, rec


def test_a_cell_keeps_its_last_tick_its_quote_and_its_count():
    engine, rec = attached()
    engine.on_tick(btc(T0 + 0.1, 100.0, bid=99.0, ask=101.0))
    engine.on_tick(btc(T0 + 0.5, 100.2))
    engine.on_tick(btc(T0 + 1.2, 100.3))
    (_, _, start, cells), = [r for r in rec.take_rows() if r[0] == "BTC-USD"]
    assert start == T0
    # The quote is the one known at the cell's last tick (quotes persist, like the engine's).
    assert sorted(cells) == [Cell(0, 2, T0 + 0.5, 100.2, 99.0, 101.0),
                             Cell(1, 1, T0 + 1.2, 100.3, 99.0, 101.0)]
    assert rec.take_rows() == []  # nothing changed since


def test_ticks_the_engine_rejects_are_not_recorded():
    engine, rec = attached(EngineConfig(future_tolerance=10.0))
    for tick in [btc(T0, math.nan), btc(T0, -1.0), btc(T0, math.inf), btc(T0, "100"),
                 btc(math.nan, 100.0), Tick("", "crypto", T0, 1.0), Tick("X", "bonds", T0, 1.0),
                 btc(T0 + 100, 100.0, recv_ts=T0)]:
        engine.on_tick(tick)
    assert engine.stats()["accepted"] == 0
    assert rec.observed == 0 and rec.take_rows() == []


def test_late_ticks_count_at_the_newer_last_and_only_trade_ids_dedupe():
    engine, rec = attached(EngineConfig(out_of_order_tolerance=2.0))
    engine.on_tick(btc(T0 + 10.5, 100.0, trade_id=1))
    engine.on_tick(btc(T0 + 9.9, 100.1, trade_id=2))  # late within tolerance: counted at 10.5
    engine.on_tick(btc(T0 + 5.0, 100.2, trade_id=3))  # too old: rejected
    engine.on_tick(btc(T0 + 11.0, 100.3, trade_id=2))  # duplicate trade id: rejected
    engine.on_tick(btc(T0 + 12.0, 100.4, size=1.0))
    engine.on_tick(btc(T0 + 12.0, 100.4, size=1.0))  # same time, price and size: a trade
    (_, _, _, cells), = rec.take_rows()
    assert sorted(cells) == [Cell(10, 2, T0 + 10.5, 100.0, None, None),
                             Cell(12, 2, T0 + 12.0, 100.4, None, None)]
    assert sum(c.count for c in cells) == engine.stats()["accepted"] == 4


def test_a_symbol_the_engine_restarts_starts_over_in_the_recording():
    engine, rec = attached()
    engine.on_tick(btc(T0, 1000.0))  # x10 on the very first print
    for i in range(1, 6):
        engine.on_tick(btc(T0 + i, 100.0 + 0.01 * i))
    assert engine.stats()["reanchored"] == 1 and rec.stats()["restarts"] == 1
    (_, _, _, cells), = rec.take_rows()
    assert max(c.price for c in cells) < 101.0
    assert sum(c.count for c in cells) == engine.snapshot("BTC-USD")["ticks"] == 5


def test_a_clock_reset_drops_the_bogus_time_from_the_recording_and_its_clock():
    engine, rec = attached()
    for i in range(20):
        engine.on_tick(btc(T0 + i, 100.0, recv_ts=T0 + i))
    # A stamp 30 s ahead (a replay without receipt times): BTC freezes until the reset.
    engine.on_tick(Tick("ETH-USD", "crypto", T0 + 19.5, 3000.0, recv_ts=T0 + 19.5))
    engine.on_tick(btc(T0 + 50.0, 100.0, recv_ts=T0 + 50.0))
    assert rec.latest_ts == T0 + 50.0
    for i in range(20, 40):
        engine.on_tick(btc(T0 + i, 100.1, recv_ts=T0 + i))
    assert engine.stats()["clock_resets"] == 1
    assert rec.latest_ts == engine.snapshot("BTC-USD")["ts"] < T0 + 40
    rows = {r[0]: r for r in rec.take_rows()}
    assert max(c.ts for c in rows["BTC-USD"][3]) < T0 + 40


def test_codec_round_trips_and_rejects_garbage():
    cells = [Cell(59, 3, T0 + 59.9, 1.5, None, 2.0), Cell(0, 1, T0, 1.0, 0.5, None)]
    assert decode(encode(cells)) == sorted(cells)
    for bad in (b"", b"\x09abc", b"\x01not-zlib", encode(cells)[:-3]):
        with pytest.raises(ValueError):
            decode(bad)


def test_durations_parse_and_reject_nonsense():
    assert parse_duration("1h") == 3600 and parse_duration("2h30m") == 9000
    assert parse_duration("45s") == 45 and parse_duration("1.5d") == 129600
    for bad in ("", "1", "h", "-1h", "0m", "1h foo", "1w"):
        with pytest.raises(ValueError):
            parse_duration(bad)


@pytest.mark.django_db(transaction=True)
async def test_flush_writes_one_row_per_symbol_minute_and_rewrites_the_open_minute():
    engine, rec = attached()
    for i in range(150):  # 2.5 minutes, one tick a second
        engine.on_tick(btc(T0 + i, 100.0 + 0.01 * i))
        engine.on_tick(Tick("EURUSD", "forex", T0 + i + 0.5, 1.1, bid=1.0999, ask=1.1001))
    assert await rec.flush() == 6
    engine.on_tick(btc(T0 + 150, 101.5))
    assert await rec.flush() == 1  # only the open minute changed
    rows = await database_sync_to_async(
        lambda: list(RecordedMinute.objects.filter(symbol="BTC-USD").values_list(
            "cells", "ticks", "data")))()
    assert [(c, t) for c, t, _ in rows] == [(60, 60), (60, 60), (31, 31)]
    assert decode(rows[-1][2])[-1] == Cell(30, 1, T0 + 150, 101.5, None, None)


@pytest.mark.django_db(transaction=True)
async def test_retention_prunes_minutes_older_than_the_window_by_event_time():
    engine, rec = attached(retention=600.0)
    for minute in range(30):
        engine.on_tick(btc(T0 + 60 * minute, 100.0))
    await rec.flush()
    deleted = await rec.prune()
    starts = await database_sync_to_async(
        lambda: list(RecordedMinute.objects.values_list("start", flat=True)))()
    assert deleted == 30 - len(starts)
    assert min(s.timestamp() for s in starts) >= T0 + 29 * 60 - 600 - 60
    assert len(starts) <= 12


@pytest.mark.django_db(transaction=True)
async def test_a_database_outage_keeps_the_rows_for_the_next_flush(monkeypatch):
    engine, rec = attached()
    for i in range(90):
        engine.on_tick(btc(T0 + i, 100.0))

    def down(rows):
        raise ConnectionError("database is restarting")

    monkeypatch.setattr(recorder_module, "save_minutes", down)
    assert await rec.flush() == 0
    assert rec.stats()["failures"] == 1 and "restarting" in rec.stats()["last_error"]
    monkeypatch.undo()
    assert await rec.flush() == 2
    ticks = await database_sync_to_async(
        lambda: sorted(RecordedMinute.objects.values_list("ticks", flat=True)))()
    assert ticks == [30, 60]


def test_retention_must_be_positive():
    with pytest.raises(ValueError):
        Recorder(retention=0)
