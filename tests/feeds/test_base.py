"""The feed contract: symbol parsing, the bounded queue and waiting for room."""

from __future__ import annotations

import asyncio

import pytest

from pulse.engine.tick import Tick
from pulse.feeds.base import Feed, FeedCounters, SymbolRef, TickQueue


def tick(i: int) -> Tick:
    return Tick("BTC-USD", "crypto", 1_700_000_000.0 + i, 60_000.0)


@pytest.mark.parametrize(("text", "ref"), [
    ("crypto:btc-usd", SymbolRef("crypto", "BTC-USD")),
    (" Stocks : aapl ", SymbolRef("stocks", "AAPL")),
    ("forex:EURUSD", SymbolRef("forex", "EURUSD")),
])
def test_symbol_refs_parse_and_normalize(text, ref):
    assert SymbolRef.parse(text) == ref
    assert str(ref) == f"{ref.asset}:{ref.symbol}"


@pytest.mark.parametrize(("text", "message"), [
    ("AAPL", "expected CLASS:SYMBOL"),
    ("bonds:US10Y", "unknown asset class"),
    ("stocks:", "expected CLASS:SYMBOL"),
    ("stocks:A B", "invalid symbol"),
    ("stocks:<script>", "invalid symbol"),
    ("crypto:" + "X" * 40, "invalid symbol"),
])
def test_bad_symbol_refs_are_rejected_with_the_reason(text, message):
    with pytest.raises(ValueError, match=message):
        SymbolRef.parse(text)


async def test_a_full_queue_drops_and_counts_instead_of_growing():
    queue = TickQueue(maxsize=3)
    counters = FeedCounters()
    results = [queue.offer(tick(i), counters) for i in range(5)]
    assert results == [True, True, True, False, False]
    assert len(queue) == 3 and queue.dropped == 2 and counters.dropped == 2
    assert [t.ts for t in await queue.get_batch()] == [tick(i).ts for i in range(3)]
    assert queue.high_water == 3


async def test_get_batch_waits_for_the_first_tick_and_respects_the_limit():
    queue = TickQueue()
    waiter = asyncio.create_task(queue.get_batch(limit=2))
    await asyncio.sleep(0.01)  # a window, not a wait: it must not return in it
    assert not waiter.done()
    for i in range(3):
        queue.offer(tick(i))
    assert len(await waiter) == 2 and len(queue) == 1


async def test_wait_for_room_returns_once_the_consumer_drains():
    queue = TickQueue(maxsize=4)
    feed = Feed([], queue)
    for i in range(4):
        feed.emit(tick(i))
    waiting = asyncio.create_task(feed.wait_for_room())
    await asyncio.sleep(0.01)  # a window, not a wait: it must not return in it
    assert not waiting.done()
    await queue.get_batch(limit=3)
    assert await asyncio.wait_for(waiting, 1.0) is False


async def test_wait_for_room_returns_when_the_feed_stops():
    queue = TickQueue(maxsize=2)
    feed = Feed([], queue)
    feed.emit(tick(0))
    feed.emit(tick(1))
    waiting = asyncio.create_task(feed.wait_for_room())
    await asyncio.sleep(0.01)  # let it start waiting (a task has no "waiting" signal)
    feed.stop()
    assert await asyncio.wait_for(waiting, 1.0) is True


def test_queue_size_must_be_positive():
    with pytest.raises(ValueError):
        TickQueue(0)
