"""Sharded ingest over the channel layer: shards share grid samples, one shard answers.

Two pipelines stand for ``runpulse --shard 0/2`` and ``--shard 1/2`` on one channel layer.
Their grid exchanges publish to the grid group; the test delivers what the group carries
through each pipeline's own request dispatch, as the control loop does.
"""

from __future__ import annotations

import orjson
import pytest
from channels.layers import get_channel_layer

from pulse.engine import Engine
from pulse.engine.tick import Tick
from pulse.feeds.base import TickQueue
from pulse.ingest.grid_exchange import CORRELATION_LAG, GridExchange
from pulse.ingest.pipeline import PulsePipeline
from pulse.realtime.broadcast import GRID_GROUP, GRID_SAMPLES
from tests.web.test_consumer import RecordingPublisher

T0 = 1_700_000_000.0
SHARD_OF = {"AAPL": 0, "MSFT": 0, "BTC-USD": 1, "ETH-USD": 1}
ASSET = {"AAPL": "stocks", "MSFT": "stocks", "BTC-USD": "crypto", "ETH-USD": "crypto"}


def correlated_ticks(seconds: int) -> list[Tick]:
    """One tick a second per symbol; every path shares one common factor."""
    prices = dict.fromkeys(SHARD_OF, 100.0)
    ticks = []
    for t in range(seconds):
        common = ((t * 7919) % 13 - 6) / 6000.0
        for i, symbol in enumerate(SHARD_OF):
            own = ((t * (31 + 17 * i)) % 11 - 5) / 20000.0
            prices[symbol] *= 1.0 + common + own
            ticks.append(Tick(symbol, ASSET[symbol], T0 + t + 0.1 * i, prices[symbol]))
    return ticks


async def deliver(layer, channel: str, pipelines: list[PulsePipeline]) -> int:
    """Hand every message waiting on ``channel`` to every pipeline; return how many."""
    count = 0
    queue = layer.channels.get(channel)  # the in-memory layer's per-channel queue
    while queue is not None and not queue.empty():
        message = await layer.receive(channel)
        count += 1
        for pipeline in pipelines:
            await pipeline.answer_request(message)
    return count


def make_shard(layer, index: int) -> PulsePipeline:
    engine = Engine()
    exchange = GridExchange(engine, layer, f"ingest-{index}", leader=index == 0)
    return PulsePipeline(engine, TickQueue(10), {}, grid_exchange=exchange,
                         publisher=RecordingPublisher())


async def run_shards(layer, listener: str, pipelines: list[PulsePipeline],
                     ticks: list[Tick]) -> None:
    """Feed each tick to its shard (dropped while that shard is not running); once a
    second of event time, every shard publishes and the group's messages are delivered."""
    for i, tick in enumerate(ticks):
        index = SHARD_OF[tick.symbol]
        if index < len(pipelines):
            pipelines[index].engine.on_tick(tick)
        if i % 4 == 3:  # four ticks a second
            for pipeline in pipelines:
                await pipeline.grid_exchange.publish()
            await deliver(layer, listener, pipelines)


@pytest.fixture
async def grid_layer():
    layer = get_channel_layer()
    listener = await layer.new_channel("test-grid.")
    await layer.group_add(GRID_GROUP, listener)
    yield layer, listener
    await layer.group_discard(GRID_GROUP, listener)


@pytest.fixture
async def shards(grid_layer):
    layer, listener = grid_layer
    pipelines = [make_shard(layer, 0), make_shard(layer, 1)]
    await run_shards(layer, listener, pipelines, correlated_ticks(1200))
    return layer, listener, pipelines


async def test_one_shard_answers_with_every_shards_symbols(shards):
    _, _, (stocks, crypto) = shards
    assert stocks.engine.symbols() == ["AAPL", "MSFT"]
    assert stocks.engine.correlation_symbols() == sorted(SHARD_OF)
    assert stocks.engine.correlation_lag == CORRELATION_LAG
    request = {"type": "pulse.request_correlation", "reply_to": "page-1",
               "symbols": ["AAPL", "BTC-USD", "ETH-USD", "MSFT"], "base": "BTC-USD"}
    for pipeline in (stocks, crypto):
        await pipeline.answer_request(request)
    assert stocks.publisher.replies == []  # the base's shard answers, and only it
    [(channel, _, corr)] = crypto.publisher.replies
    assert channel == "page-1" and corr["base"] == "BTC-USD"
    assert corr["symbols"] == ["AAPL", "BTC-USD", "ETH-USD", "MSFT"]
    cross = corr["matrix"][0][1]  # AAPL (shard 0) x BTC-USD (shard 1)
    assert cross is not None and cross > 0.5 and corr["status"][0][1] == "ok"
    assert "AAPL" in {row["symbol"] for row in corr["top"]}  # top-3 spans both shards


async def test_a_whole_market_request_gets_one_full_answer(shards):
    _, _, (stocks, crypto) = shards
    request = {"type": "pulse.request_correlation", "reply_to": "page-2", "symbols": None,
               "base": None}
    for pipeline in (stocks, crypto):
        await pipeline.answer_request(request)
    assert crypto.publisher.replies == []  # no base: the leader (shard 0) answers
    [(_, _, corr)] = stocks.publisher.replies
    assert corr["symbols"] == sorted(SHARD_OF)
    assert all(v is not None for row in corr["matrix"] for v in row)
    # A base nobody follows: still exactly one answer, from the leader.
    await crypto.answer_request({**request, "symbols": ["ETH-USD", "NOPE"], "base": "NOPE"})
    await stocks.answer_request({**request, "symbols": ["ETH-USD", "NOPE"], "base": "NOPE"})
    assert len(crypto.publisher.replies) == 0 and len(stocks.publisher.replies) == 2


async def test_the_health_document_counts_the_exchange(shards):
    _, _, (stocks, crypto) = shards
    health = crypto.health()["grid_exchange"]
    assert health["published"] > 1100 and health["publish_failed"] == 0
    assert health["received"] == stocks.grid_exchange.published  # its own are skipped
    assert health["placed"] > 2000 and health["late"] == 0 and health["rejected"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("samples", [
    "not json", "[1, 2]", '{"AAPL": "x"}', '{"AAPL": [[1, 2]]}', '{"AAPL": [[1.5, 2, 3]]}',
    '{"AAPL": [[1, "2", 3]]}', '{"": [[1, 2, 3]]}', '{"AAPL": [[1, 2, NaN]]}', None,
    orjson.dumps({"X" * 33: [[1, 2, 3]]}).decode(),
])
async def test_malformed_batches_are_counted_and_ignored(shards, samples):
    _, _, (stocks, _) = shards
    before = stocks.engine.correlation_symbols()
    await stocks.answer_request({"type": GRID_SAMPLES, "src": "ingest-9", "samples": samples})
    assert stocks.grid_exchange.rejected == 1
    assert stocks.engine.correlation_symbols() == before


async def test_own_batches_and_own_symbols_are_not_imported(shards):
    _, _, (stocks, _) = shards
    batch = orjson.dumps({"AAPL": [[T0 + 5000, T0 + 5000.5, 1.0]],
                          "NEW-SYM": [[T0 + 5000, T0 + 5000.5, 1.0]]}).decode()
    assert stocks.grid_exchange.receive({"src": "ingest-0", "samples": batch}) == 0
    assert stocks.grid_exchange.receive({"src": "ingest-1", "samples": batch}) == 1
    assert "NEW-SYM" in stocks.engine.correlation_symbols()
    assert stocks.engine.history("AAPL")[-1][1] != 1.0  # own symbol left alone


async def test_a_shard_started_later_gets_the_others_history(grid_layer):
    layer, listener = grid_layer
    stocks = make_shard(layer, 0)
    ticks = correlated_ticks(1200)
    await run_shards(layer, listener, [stocks], ticks[:2400])  # 10 minutes alone
    crypto = make_shard(layer, 1)
    await run_shards(layer, listener, [stocks, crypto], ticks[2400:2480])  # 20 s together
    assert crypto.grid_exchange.stats()["sources_synced"] == 1
    corr = crypto.engine.correlation(["AAPL", "MSFT"])
    # Ten minutes of AAPL/MSFT, not twenty seconds (the kernel's window ends its 30 s
    # interpolation gap before the newest cell, so a little under 600).
    assert corr["coverage"][0][1] > 550
    assert stocks.grid_exchange.stats()["sources_synced"] == 1


async def test_batches_from_a_source_never_seen_in_full_wait_for_its_full_batch(grid_layer):
    layer, _ = grid_layer
    stocks, crypto = make_shard(layer, 0), make_shard(layer, 1)
    for tick in correlated_ticks(120):
        if SHARD_OF[tick.symbol] == 0:
            stocks.engine.on_tick(tick)
    _, samples = stocks.engine.export_correlation_samples({})
    partial = {"type": GRID_SAMPLES, "src": "ingest-0", "full": False,
               "samples": orjson.dumps(samples).decode()}
    crypto.grid_exchange.resend_pending = False
    assert crypto.grid_exchange.receive(partial, now=100.0) == 0
    assert crypto.engine.correlation_symbols() == []
    assert crypto.grid_exchange.resend_pending  # asks the sources for a full batch
    crypto.grid_exchange.resend_pending = False
    crypto.grid_exchange.receive(partial, now=105.0)
    assert not crypto.grid_exchange.resend_pending  # at most one request per 10 s
    assert crypto.grid_exchange.receive({**partial, "full": True}, now=106.0) > 100
    assert crypto.engine.correlation_symbols() == ["AAPL", "MSFT"]


async def test_big_batches_are_split_and_a_failed_send_is_repeated(grid_layer, monkeypatch):
    import pulse.ingest.grid_exchange as grid_exchange

    layer, listener = grid_layer
    monkeypatch.setattr(grid_exchange, "MAX_ROWS_PER_MESSAGE", 150)
    stocks = make_shard(layer, 0)
    for tick in correlated_ticks(200):
        if SHARD_OF[tick.symbol] == 0:
            stocks.engine.on_tick(tick)
    real_send = layer.group_send

    async def broken(group, message):
        raise ConnectionError("redis restarting")

    monkeypatch.setattr(layer, "group_send", broken)
    assert await stocks.grid_exchange.publish() == 0
    assert stocks.grid_exchange.publish_failed == 1 and stocks.grid_exchange.full_pending
    monkeypatch.setattr(layer, "group_send", real_send)
    sent = await stocks.grid_exchange.publish()
    assert sent > 300  # both symbols' ~197 cells each, still the full batch
    messages = []
    while (queue := layer.channels.get(listener)) is not None and not queue.empty():
        messages.append(await layer.receive(listener))
    assert len(messages) == 2 and all(m["full"] and m["resend"] for m in messages)
    assert [list(orjson.loads(m["samples"])) for m in messages] == [["AAPL"], ["MSFT"]]
