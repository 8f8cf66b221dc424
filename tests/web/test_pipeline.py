"""The ingest pipeline with real persistence: events stored once, watchlists followed live."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from channels.db import database_sync_to_async

from pulse.engine import Engine, EngineConfig
from pulse.engine.tick import Tick
from pulse.feeds.base import SymbolRef, TickQueue
from pulse.feeds.simulator import SimulatorFeed
from pulse.ingest.event_store import EventStore, SaveEvents, StoreStep
from pulse.ingest.pipeline import Intervals, PulsePipeline, assign_symbols
from pulse.ingest.symbols import async_watchlist_symbols, parse_symbols, watchlist_symbols
from pulse.models import Event, IngestStatus, Instrument, Watchlist, WatchlistItem
from pulse.ops.health import ingest_report
from tests.waiting import until

T0 = 1_767_625_200.0  # 2026-01-05 15:00 UTC


def crash_ticks() -> list[Tick]:
    """Ten calm minutes of BTC then a 3 % drop: fires a move event in percent mode."""
    ticks = [Tick("BTC-USD", "crypto", T0 + i, 60_000.0 + (i % 2)) for i in range(600)]
    ticks += [Tick("BTC-USD", "crypto", T0 + 600 + i, 58_200.0) for i in range(5)]
    return ticks


def percent_engine() -> Engine:
    return Engine(EngineConfig.from_mapping({"threshold_mode": "percent"}))


class FlakyStore(EventStore):
    """An event store whose database fails the first ``failures`` writes."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures_left = failures

    async def _write(self, batch):
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("database is restarting")
        await super()._write(batch)


@pytest.mark.django_db(transaction=True)
async def test_events_are_persisted_once_even_when_the_database_fails_first():
    store = FlakyStore(failures=1)
    pipeline = PulsePipeline(percent_engine(), TickQueue(), {}, store=store)
    pipeline.process(crash_ticks())
    assert pipeline.emitted >= 1
    assert await pipeline.persist() == 0  # database down: nothing lost, all still pending
    assert store.stats()["pending"] == pipeline.emitted
    assert "database is restarting" in store.stats()["last_error"]
    assert await pipeline.persist() == pipeline.emitted
    # The same ticks through a fresh engine (a restart replaying them) give the same event
    # ids, and writing them again creates no duplicates.
    again = percent_engine()
    replayed = [e.to_dict() for t in crash_ticks() for e in again.on_tick(t)]
    for data in replayed:
        store.add(data)
    await store.flush()
    rows = await database_sync_to_async(list)(Event.objects.all())
    assert len(rows) == pipeline.emitted
    row = rows[0]
    assert row.symbol == "BTC-USD" and row.asset_class == "crypto"
    assert row.type.startswith("move") and row.direction == "down"
    assert row.details["ref_price"] > row.price and row.message


class Audit(StoreStep):
    """A step after SaveEvents that fails once, then remembers what it was handed."""

    def __init__(self) -> None:
        self.fail, self.seen, self.undone, self.commits = True, [], 0, 0

    def handle(self, events):
        if self.fail:
            self.fail = False
            raise ConnectionError("database went away mid-transaction")
        self.seen += [e["id"] for e in events]
        return events

    def rolled_back(self):
        self.undone += 1

    async def committed(self):
        self.commits += 1


@pytest.mark.django_db(transaction=True)
async def test_store_steps_share_one_transaction_and_see_each_new_event_once():
    audit = Audit()
    store = EventStore([SaveEvents(), audit])
    engine = percent_engine()
    events = [e.to_dict() for t in crash_ticks() for e in engine.on_tick(t)]
    for data in events:
        store.add(data)
    assert await store.flush() == 0  # the second step failed: the rows rolled back too
    assert audit.undone == 1 and await database_sync_to_async(Event.objects.count)() == 0
    assert await store.flush() == len(events)
    for data in events:  # the same events again (a restart re-firing them)
        store.add(data)
    assert await store.flush() == len(events)
    assert audit.seen == [e["id"] for e in events]  # handed on once, when new
    assert audit.commits == 3


async def test_snapshots_are_coalesced_to_changed_symbols():
    sent = []

    class Recorder:
        async def snapshots(self, snaps, ts, *, full):
            sent.append((sorted(snaps), full))

    pipeline = PulsePipeline(Engine(), TickQueue(), {}, publisher=Recorder())
    pipeline.process([Tick("AAPL", "stocks", T0, 200.0), Tick("AAPL", "stocks", T0 + 1, 201.0),
                      Tick("EURUSD", "forex", T0 + 1, 1.08)])
    assert await pipeline.flush_snapshots() == 2
    assert await pipeline.flush_snapshots() == 0  # nothing changed: nothing sent
    pipeline.process([Tick("AAPL", "stocks", T0 + 2, 202.0)])
    await pipeline.flush_snapshots()
    await pipeline.flush_snapshots(full=True)
    assert sent == [(["AAPL", "EURUSD"], False), (["AAPL"], False), (["AAPL", "EURUSD"], True)]


def test_symbols_are_routed_to_the_first_feed_that_accepts_them():
    class CryptoOnly(SimulatorFeed):
        def accepts(self, ref):
            return ref.asset == "crypto"

    crypto = CryptoOnly([], TickQueue())
    routes, unrouted = assign_symbols([crypto], parse_symbols("crypto:BTC-USD,stocks:AAPL"))
    assert routes[crypto] == {SymbolRef("crypto", "BTC-USD")}
    assert unrouted == [SymbolRef("stocks", "AAPL")]


@database_sync_to_async
def add_to_watchlist(user, asset: str, symbol: str) -> WatchlistItem:
    watchlist, _ = Watchlist.objects.get_or_create(owner=user, name="Live", is_default=True)
    instrument, _ = Instrument.objects.get_or_create(asset_class=asset, symbol=symbol)
    return WatchlistItem.objects.create(watchlist=watchlist, instrument=instrument)


@pytest.mark.django_db(transaction=True)
async def test_adding_a_symbol_to_a_watchlist_subscribes_it_without_a_restart(alice):
    await add_to_watchlist(alice, "crypto", "BTC-USD")
    queue = TickQueue()
    feed = SimulatorFeed([], queue, seed=1, rate_scale=20, stock_hours="always")
    pipeline = PulsePipeline(Engine(), queue, {"simulator": feed},
                             symbol_source=async_watchlist_symbols,
                             intervals=Intervals(symbol_poll=0.2))
    task = asyncio.create_task(pipeline.run(duration=20))
    await until(lambda: "BTC-USD" in pipeline.engine.symbols())
    assert "ACME" not in pipeline.engine.symbols()
    item = await add_to_watchlist(alice, "stocks", "ACME")
    await until(lambda: "ACME" in pipeline.engine.symbols())
    await database_sync_to_async(item.delete)()
    await until(lambda: SymbolRef("stocks", "ACME") not in feed.symbols)
    pipeline.stop()
    await asyncio.wait_for(task, timeout=10)
    assert pipeline.ticks > 0


@pytest.mark.django_db
def test_without_watchlists_ingest_follows_the_built_in_universe(alice):
    refs = watchlist_symbols()
    assert len(refs) >= 17 and {r.asset for r in refs} == {"stocks", "forex", "crypto"}


@pytest.mark.django_db
def test_health_requires_login_and_reports_ingest_status(client, alice):
    assert client.get("/health/").status_code == 302
    client.force_login(alice)
    assert client.get("/health/").json()["status"] == "no_ingest"
    now = datetime.now(UTC)
    IngestStatus.objects.create(instance="host:1", updated_at=now,
                                health={"feeds": {"simulator": {"state": "live"}}})
    assert client.get("/health/").json()["status"] == "ok"
    IngestStatus.objects.create(
        instance="host:2", updated_at=now,
        health={"feeds": {"eodhd": {"state": "failed", "reason": "401 Unauthorized"}}})
    report = client.get("/health/").json()
    assert report["status"] == "degraded"
    assert report["ingest"][1]["failed_feeds"] == ["eodhd"]
    IngestStatus.objects.filter(instance="host:2").delete()
    IngestStatus.objects.filter(instance="host:1").update(updated_at=now - timedelta(minutes=5))
    assert ingest_report()["ingest"][0]["stale"] is True


@pytest.mark.django_db
def test_healthz_is_public_and_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
