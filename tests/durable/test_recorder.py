"""The recorder: what it keeps per cell, what it refuses, retention, database outages."""

from __future__ import annotations

import math

import pytest
from channels.db import database_sync_to_async

from pulse.durable import recorder as recorder_module
from pulse.durable.codec import Cell, decode, encode
from pulse.durable.durations import parse_duration
from pulse.durable.recorder import Recorder
from pulse.engine import EngineConfig
from pulse.engine.tick import Tick
from pulse.models import RecordedMinute
from tests.durable.streams import T0


def btc(ts: float, price: float, **kw) -> Tick:
    return Tick("BTC-USD", "crypto", ts, price, **kw)


def test_a_cell_keeps_its_last_tick_its_quote_and_its_count():
    rec = Recorder()
    rec.observe(btc(T0 + 0.1, 100.0, bid=99.0, ask=101.0))
    rec.observe(btc(T0 + 0.5, 102.0))
    rec.observe(btc(T0 + 1.2, 103.0))
    (_, _, start, cells), = [r for r in rec.take_rows() if r[0] == "BTC-USD"]
    assert start == T0
    # The quote is the one known at the cell's last tick (quotes persist, like the engine's).
    assert sorted(cells) == [Cell(0, 2, T0 + 0.5, 102.0, 99.0, 101.0),
                             Cell(1, 1, T0 + 1.2, 103.0, 99.0, 101.0)]
    assert rec.take_rows() == []  # nothing changed since


def test_bad_ticks_are_not_recorded():
    rec = Recorder(EngineConfig(future_tolerance=10.0))
    for tick in [btc(T0, math.nan), btc(T0, -1.0), btc(T0, math.inf), btc(T0, "100"),
                 btc(math.nan, 100.0), Tick("", "crypto", T0, 1.0), Tick("X", "bonds", T0, 1.0),
                 btc(T0 + 100, 100.0, recv_ts=T0)]:
        rec.observe(tick)
    assert rec.observed == 0 and rec.take_rows() == []


def test_late_ticks_move_to_the_last_time_and_stale_or_duplicate_ones_are_dropped():
    rec = Recorder(EngineConfig(out_of_order_tolerance=2.0))
    rec.observe(btc(T0 + 10.5, 100.0, trade_id=1))
    rec.observe(btc(T0 + 9.9, 101.0, trade_id=2))  # late but within tolerance: kept at 10.5
    rec.observe(btc(T0 + 5.0, 102.0, trade_id=3))  # too old: dropped
    rec.observe(btc(T0 + 11.0, 103.0, trade_id=2))  # duplicate trade id: dropped
    rec.observe(btc(T0 + 12.0, 104.0, size=1.0))
    rec.observe(btc(T0 + 12.0, 104.0, size=1.0))  # same time, price and size: dropped
    (_, _, _, cells), = rec.take_rows()
    assert sorted(cells) == [Cell(10, 2, T0 + 10.5, 101.0, None, None),
                             Cell(12, 1, T0 + 12.0, 104.0, None, None)]


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
    rec = Recorder()
    for i in range(150):  # 2.5 minutes, one tick a second
        rec.observe(btc(T0 + i, 100.0 + i))
        rec.observe(Tick("EURUSD", "forex", T0 + i + 0.5, 1.1, bid=1.0999, ask=1.1001))
    assert await rec.flush() == 6
    rec.observe(btc(T0 + 150, 1.0))
    assert await rec.flush() == 1  # only the open minute changed
    rows = await database_sync_to_async(
        lambda: list(RecordedMinute.objects.filter(symbol="BTC-USD").values_list(
            "cells", "ticks", "data")))()
    assert [(c, t) for c, t, _ in rows] == [(60, 60), (60, 60), (31, 31)]
    assert decode(rows[-1][2])[-1] == Cell(30, 1, T0 + 150, 1.0, None, None)


@pytest.mark.django_db(transaction=True)
async def test_retention_prunes_minutes_older_than_the_window_by_event_time():
    rec = Recorder(retention=600.0)
    for minute in range(30):
        rec.observe(btc(T0 + 60 * minute, 100.0))
    await rec.flush()
    deleted = await rec.prune()
    starts = await database_sync_to_async(
        lambda: list(RecordedMinute.objects.values_list("start", flat=True)))()
    assert deleted == 30 - len(starts)
    assert min(s.timestamp() for s in starts) >= T0 + 29 * 60 - 600 - 60
    assert len(starts) <= 12


@pytest.mark.django_db(transaction=True)
async def test_a_database_outage_keeps_the_rows_for_the_next_flush(monkeypatch):
    rec = Recorder()
    for i in range(90):
        rec.observe(btc(T0 + i, 100.0))

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
