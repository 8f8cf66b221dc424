"""SimulatorFeed on the real event loop: opening ticks, pacing, live symbol changes, options."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from pulse.engine.tick import ASSET_CLASSES, CRYPTO, FOREX, STOCKS, Tick
from pulse.feeds.base import FeedConfigError, FeedState, SymbolRef, TickQueue
from pulse.feeds.simulator import SimulatorFeed
from pulse.feeds.universe import DEFAULT_UNIVERSE, start_price
from tests.waiting import until

BTC = SymbolRef(CRYPTO, "BTC-USD")
ACME = SymbolRef(STOCKS, "ACME")


async def drain(queue: TickQueue) -> list[Tick]:
    """Return everything queued now (get_batch does not suspend when ticks are queued)."""
    return await queue.get_batch(1_000_000) if len(queue) else []


async def test_it_emits_an_opening_tick_per_symbol_then_streams_live():
    queue = TickQueue()
    feed = SimulatorFeed(DEFAULT_UNIVERSE, queue, seed=1, rate_scale=20, stock_hours="always")
    began = time.time()
    task = asyncio.create_task(feed.run())
    await until(lambda: len(queue) >= len(DEFAULT_UNIVERSE) + 50)
    assert feed.counters.state == FeedState.LIVE
    feed.stop()
    await asyncio.wait_for(task, timeout=2.0)
    ticks = await drain(queue)
    opening = ticks[: len(DEFAULT_UNIVERSE)]
    assert sorted(t.symbol for t in opening) == sorted(r.symbol for r in DEFAULT_UNIVERSE)
    for tick in opening:
        assert tick.price == pytest.approx(start_price(SymbolRef(tick.asset, tick.symbol)),
                                           rel=1e-4)
    live = ticks[len(DEFAULT_UNIVERSE):]
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(live))
    ended = time.time()
    for tick in ticks:
        assert began <= tick.ts <= tick.recv_ts <= ended
        assert tick.provider == "simulator"
    assert feed.counters.state == FeedState.STOPPED
    assert feed.counters.ticks == len(ticks) == feed.counters.messages
    assert feed.health()["symbols"] == len(DEFAULT_UNIVERSE)


async def test_it_starts_new_symbols_at_once_and_stops_removed_ones():
    queue = TickQueue()
    feed = SimulatorFeed([BTC], queue, seed=2, rate_scale=50, stock_hours="always")
    task = asyncio.create_task(feed.run())
    await until(lambda: len(queue) >= 20)
    await drain(queue)
    feed.set_symbols([ACME])
    # The new symbol's opening tick is queued synchronously, before any await.
    (opening,) = await drain(queue)
    assert opening.symbol == "ACME" and opening.asset == STOCKS
    assert 10 <= opening.price <= 500
    await until(lambda: len(queue) >= 20)
    feed.stop()
    await asyncio.wait_for(task, timeout=2.0)
    assert {t.symbol for t in await drain(queue)} == {"ACME"}


async def test_it_uses_symbols_set_before_it_runs():
    queue = TickQueue()
    feed = SimulatorFeed([], queue, seed=3, rate_scale=50, stock_hours="always")
    feed.set_symbols([SymbolRef(FOREX, "EURUSD"), BTC])
    task = asyncio.create_task(feed.run())
    await until(lambda: len(queue) >= 30)
    feed.stop()
    await asyncio.wait_for(task, timeout=2.0)
    ticks = await drain(queue)
    assert {t.symbol for t in ticks} == {"EURUSD", "BTC-USD"}
    assert all(t.bid is not None and t.bid < t.ask for t in ticks if t.asset == FOREX)


async def test_it_stops_promptly_even_when_nothing_is_due():
    queue = TickQueue()
    feed = SimulatorFeed([ACME], queue, seed=4, rate_scale=0.001, stock_hours="always")
    task = asyncio.create_task(feed.run())
    await until(lambda: len(queue) == 1)  # the opening tick only
    feed.stop()
    await asyncio.wait_for(task, timeout=1.0)
    assert feed.counters.state == FeedState.STOPPED


async def test_it_shares_the_loop_with_a_consumer_at_very_high_rates():
    queue = TickQueue()
    feed = SimulatorFeed(DEFAULT_UNIVERSE, queue, seed=5, rate_scale=1000, stock_hours="always")
    task = asyncio.create_task(feed.run())
    batches = []
    async with asyncio.timeout(5.0):
        while sum(batches) < 5000 or len(batches) < 5:
            batches.append(len(await queue.get_batch()))
    feed.stop()
    await asyncio.wait_for(task, timeout=2.0)
    assert queue.dropped == 0


def test_it_accepts_every_asset_class_and_takes_string_options():
    feed = SimulatorFeed([], TickQueue(), seed="42", rate_scale="2.5", jumps="0")
    assert (feed.seed, feed.rate_scale, feed.jumps) == (42, 2.5, 0.0)
    assert all(feed.accepts(SymbolRef(asset, "X")) for asset in ASSET_CLASSES)
    assert not feed.accepts(SymbolRef("bonds", "X"))


def test_it_picks_and_remembers_a_seed_when_none_is_given():
    seeds = {SimulatorFeed([], TickQueue()).seed for _ in range(5)}
    assert len(seeds) > 1 and all(isinstance(s, int) for s in seeds)


@pytest.mark.parametrize(("options", "message"), [
    ({"seed": "x"}, "seed"),
    ({"rate_scale": "-1"}, "rate_scale"),
    ({"rate_scale": 0}, "rate_scale"),
    ({"rate_scale": "inf"}, "rate_scale"),
    ({"jumps": -1}, "jumps"),
    ({"stock_hours": "lse"}, "stock_hours"),
    ({"history": -5}, "history"),
])
def test_it_rejects_bad_options(options, message):
    with pytest.raises(FeedConfigError, match=message):
        SimulatorFeed([], TickQueue(), **options)


async def test_history_backfills_the_past_in_order_without_overflowing_the_queue():
    queue = TickQueue(maxsize=2_000)
    feed = SimulatorFeed(DEFAULT_UNIVERSE, queue, seed=3, history=900, stock_hours="always")
    began = time.time()
    task = asyncio.create_task(feed.run())
    seen: list[Tick] = []
    async with asyncio.timeout(10.0):
        while not seen or seen[-1].ts < began - 5:
            seen.extend(await queue.get_batch(500))
    feed.stop()
    await asyncio.wait_for(task, timeout=2.0)
    assert queue.dropped == 0 and len(seen) > 5_000
    first = seen[: len(DEFAULT_UNIVERSE)]
    assert {t.symbol for t in first} == {r.symbol for r in DEFAULT_UNIVERSE}
    assert began - 901 <= first[0].ts <= began - 899
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(seen))
    past = [t for t in seen if t.ts < began - 1]
    assert past and all(t.recv_ts == t.ts for t in past)  # as if recorded live
