"""Warm start: an engine restarted from the recording matches one that never stopped."""

from __future__ import annotations

import math

import pytest
from channels.db import database_sync_to_async

from pulse.durable.recorder import Recorder
from pulse.durable.warm_start import warm_start
from pulse.engine import Engine
from pulse.feeds.base import TickQueue
from pulse.ingest.event_store import EventStore
from pulse.ingest.pipeline import PulsePipeline
from pulse.models import Event, RecordedMinute
from tests.durable.streams import T0, two_symbol_ticks

SYMBOLS = ["BTC-USD", "ETH-USD"]
CORR_TOL = 1e-9  # rolling sums re-summed on a different query schedule: rounding only


def run_through(engine: Engine, ticks, recorder: Recorder | None = None) -> list[dict]:
    if recorder is not None:
        recorder.attach(engine)
    events = []
    for tick in ticks:
        events += [e.to_dict() for e in engine.on_tick(tick)]
    return events


def assert_same_state(expected: Engine, actual: Engine, *, counts: bool = True) -> None:
    for symbol in SYMBOLS:
        a, b = expected.snapshot(symbol), actual.snapshot(symbol)
        if not counts:
            for key in ("ticks", "tick_rate"):
                a.pop(key), b.pop(key)
        assert a == b, symbol
    ca = expected.correlation(SYMBOLS, base=SYMBOLS[0])
    cb = actual.correlation(SYMBOLS, base=SYMBOLS[0])
    assert ca["coverage"] == cb["coverage"] and ca["status"] == cb["status"]
    assert math.isclose(ca["matrix"][0][1], cb["matrix"][0][1], abs_tol=CORR_TOL)
    assert expected.history("BTC-USD", 1800, 10) == actual.history("BTC-USD", 1800, 10)


@pytest.mark.django_db(transaction=True)
async def test_metrics_after_a_kill_9_restart_equal_an_uninterrupted_run():
    ticks = two_symbol_ticks()
    cut = len(ticks) * 2 // 3 + 1  # mid-cell, mid-minute
    uninterrupted = Engine()
    live_events = run_through(uninterrupted, ticks)

    crashed, recorder = Engine(), Recorder()
    events_before = run_through(crashed, ticks[:cut], recorder)
    await recorder.flush()
    del crashed  # kill -9: engine state gone, only the recording survives

    restarted, recorder2 = Engine(), Recorder()
    recorder2.attach(restarted)  # as runpulse does: the warm-up itself is not recorded
    report = await warm_start(restarted, T0 - 60, recorder=recorder2)
    assert report.ticks == cut and report.symbols == 2
    assert recorder2.observed == 0 and restarted.on_accept == recorder2.record
    events_after = run_through(restarted, ticks[cut:])
    assert_same_state(uninterrupted, restarted)
    assert restarted.regime("BTC-USD") == uninterrupted.regime("BTC-USD") != "unknown"
    # The stream fires events; after the restart the same ones fire, none twice.
    assert live_events and [e["id"] for e in events_before + events_after] == [
        e["id"] for e in live_events]

    # The restarted recorder extended the open minute: the recording is the whole stream.
    await recorder2.flush()
    total = await database_sync_to_async(
        lambda: sum(RecordedMinute.objects.values_list("ticks", flat=True)))()
    assert total == len(ticks)


@pytest.mark.django_db(transaction=True)
async def test_warm_start_without_counts_matches_all_but_tick_counts():
    ticks = two_symbol_ticks(seconds=1200)
    uninterrupted, recorder = Engine(), Recorder()
    run_through(uninterrupted, ticks, recorder)
    await recorder.flush()
    restarted = Engine()
    report = await warm_start(restarted, T0, counts=False)
    assert report.ticks < len(ticks)  # one tick per active cell
    assert_same_state(uninterrupted, restarted, counts=False)
    assert restarted.snapshot("BTC-USD")["ticks"] < uninterrupted.snapshot("BTC-USD")["ticks"]


@pytest.mark.django_db(transaction=True)
async def test_events_fired_during_warm_up_are_neither_persisted_nor_broadcast():
    ticks = two_symbol_ticks()
    first, recorder = Engine(), Recorder()
    assert run_through(first, ticks, recorder)  # the live run fired events
    await recorder.flush()

    class Publisher:
        sent: list = []

        async def event(self, data):
            self.sent.append(data)

    engine, store, publisher = Engine(), EventStore(), Publisher()
    pipeline = PulsePipeline(engine, TickQueue(), {}, store=store, publisher=publisher)
    report = await warm_start(engine, T0)
    assert report.events_dropped > 0
    await pipeline.publish_events()
    assert await pipeline.persist() == 0
    assert publisher.sent == [] and pipeline.emitted == 0
    assert await database_sync_to_async(Event.objects.count)() == 0
    assert engine.take_changed() == set()  # warm-up does not trigger a snapshot flood


@pytest.mark.django_db(transaction=True)
async def test_warm_start_of_a_shard_loads_only_its_symbols_and_skips_gaps():
    ticks = two_symbol_ticks(seconds=600)
    recorder = Recorder()
    run_through(Engine(), ticks, recorder)
    await recorder.flush()
    engine = Engine()
    report = await warm_start(engine, T0 - 3 * 3600, symbols=["ETH-USD"], chunk_minutes=1)
    assert engine.symbols() == ["ETH-USD"]
    assert report.ticks == sum(t.symbol == "ETH-USD" for t in ticks)


@pytest.mark.django_db(transaction=True)
async def test_warm_start_from_an_empty_recording_is_a_no_op():
    engine = Engine()
    report = await warm_start(engine, T0)
    assert report.ticks == 0 and engine.symbols() == [] and engine.now is None
