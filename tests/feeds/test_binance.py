"""Binance feed: pure parser on raw frames, then the live client against a fake server."""

from __future__ import annotations

import asyncio
import gzip
import json
import math
import time

import pytest

from pulse.engine.tick import CRYPTO, Tick
from pulse.feeds.base import FeedConfigError, FeedState, SymbolRef, TickQueue
from pulse.feeds.binance import Ack, BinanceFeed, parse_message
from pulse.feeds.frames import Rejected
from tests.conftest import SHARED_DATA
from tests.feeds.servers import (
    FAST,
    FakeBinance,
    binance_trade,
    queued,
    running,
)
from tests.waiting import until

BTC = SymbolRef(CRYPTO, "BTCUSDT")
ETH = SymbolRef(CRYPTO, "ETHUSDT")
RECORDING = SHARED_DATA / "btcusdt_20240808.gz"


# --------------------------------------------------------------------------- parser


def test_it_parses_a_combined_stream_trade_into_a_tick() -> None:
    raw = ('{"stream":"btcusdt@trade","data":{"e":"trade","E":1723075200123,"s":"BTCUSDT",'
           '"t":3716893845,"p":"56843.99000000","q":"0.00100000","T":1723075200122,"m":true}}')
    assert parse_message(raw, 1723075201.0) == [
        Tick("BTCUSDT", CRYPTO, 1723075200.122, 56843.99, recv_ts=1723075201.0, size=0.001,
             provider="binance", trade_id=3716893845)
    ]


def test_it_accepts_raw_stream_payloads_and_bytes() -> None:
    raw = b'{"e":"trade","E":1,"s":"ETHUSDT","t":7,"p":"2500.5","q":"1","T":1723075200000}'
    [tick] = parse_message(raw, 0.0)
    assert (tick.symbol, tick.price, tick.trade_id, tick.ts) == ("ETHUSDT", 2500.5, 7,
                                                                 1723075200.0)


def test_it_ignores_non_trade_events_without_counting_them_as_errors() -> None:
    raw = ('{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1,"s":"BTCUSDT",'
           '"b":"1","B":"1","a":"2","A":"1"}}')
    assert parse_message(raw, 0.0) == []


def test_it_parses_method_replies_as_acks() -> None:
    assert parse_message('{"result":null,"id":3}', 0.0) == Ack(3)
    assert parse_message('{"error":{"code":2,"msg":"Invalid request"},"id":4}', 0.0) == Ack(
        4, "2 Invalid request")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("{not json", "bad_json"),
        (b"\xff\xfe", "bad_encoding"),
        ("[1, 2]", "not_an_object"),
        ('{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"q":"1","T":1}}',
         "missing_field"),
        ('{"e":"trade","s":"BTCUSDT","t":1,"p":"NaN","q":"1","T":1723075200000}', "bad_number"),
        ('{"e":"trade","s":"BTCUSDT","t":1,"p":"-5","q":"1","T":1723075200000}',
         "nonpositive_price"),
        ('{"e":"trade","s":"BTCUSDT","t":1,"p":"5","q":"-1","T":1723075200000}',
         "negative_size"),
        ('{"e":"trade","s":"BTCUSDT","t":"x","p":"5","q":"1","T":1723075200000}',
         "bad_trade_id"),
        ('{"e":"trade","s":"BTCUSDT","t":1,"p":"5","q":"1","T":"soon"}', "bad_timestamp"),
        ('{"e":"trade","s":"BTCUSDT","t":1,"p":1e999,"q":"1","T":1723075200000}', "bad_number"),
    ],
)
def test_it_rejects_malformed_frames_with_a_reason(raw: str | bytes, reason: str) -> None:
    result = parse_message(raw, 0.0)
    assert isinstance(result, Rejected)
    assert result.reason == reason


@pytest.mark.shared_data
def test_every_recorded_trade_message_parses_into_exactly_one_tick() -> None:
    trades = ticks = 0
    last_id = None
    with gzip.open(RECORDING, "rt") as lines:
        for n, line in enumerate(lines):
            if n >= 20_000:
                break
            _, _, raw = line.partition(" ")
            stream = json.loads(raw).get("stream")
            if stream is None:  # the recorder's REST depth snapshots, not websocket frames
                continue
            is_trade = stream.endswith("@trade")
            result = parse_message(raw, 0.0)
            assert not isinstance(result, Rejected | Ack)
            trades += is_trade
            ticks += len(result)
            for tick in result:
                assert math.isfinite(tick.price) and tick.price > 0
                assert last_id is None or tick.trade_id == last_id + 1  # no gap in the recording
                last_id = tick.trade_id
    assert trades > 100
    assert ticks == trades


# --------------------------------------------------------------------------- live client


def test_it_refuses_symbols_binance_cannot_serve() -> None:
    with pytest.raises(FeedConfigError, match="crypto:BTC-USD"):
        BinanceFeed([SymbolRef(CRYPTO, "BTC-USD")], TickQueue())
    with pytest.raises(FeedConfigError, match="unknown option"):
        BinanceFeed([BTC], TickQueue(), base_ulr="ws://x")


async def test_it_streams_trades_from_the_combined_stream_url() -> None:
    queue = TickQueue()
    async with FakeBinance() as server:
        feed = BinanceFeed([BTC, ETH], queue, base_url=server.url, **FAST)
        async with running(feed):
            await server.wait_until(lambda: server.live)
            conn = server.live[0]
            assert conn.path == "/stream"
            assert conn.subscribed == {"btcusdt@trade", "ethusdt@trade"}
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE)
            await server.send(binance_trade("BTCUSDT", 10, "60000.5"))
            await server.send(binance_trade("ETHUSDT", 20, "2500.25"))
            await server.wait_until(lambda: len(queue) == 2)
        assert [(t.symbol, t.price, t.trade_id) for t in queued(queue)] == [
            ("BTCUSDT", 60000.5, 10), ("ETHUSDT", 2500.25, 20)]
        assert feed.counters.clock_offset is not None
        assert feed.counters.state is FeedState.STOPPED
        assert not server.live  # stop() closed the socket


async def test_it_subscribes_and_unsubscribes_on_the_open_connection() -> None:
    queue = TickQueue()
    async with FakeBinance() as server:
        feed = BinanceFeed([BTC], queue, base_url=server.url, **FAST)
        async with running(feed):
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE)
            feed.set_symbols([ETH])
            conn = server.live[0]
            await server.wait_until(lambda: conn.subscribed == {"ethusdt@trade"})
            assert conn.sent_actions("method") == ["UNSUBSCRIBE", "SUBSCRIBE"]
            assert len(server.connections) == 1  # no reconnect needed for a change


async def test_it_reconnects_resubscribes_dedupes_and_counts_the_gap() -> None:
    queue = TickQueue()
    async with FakeBinance() as server:
        feed = BinanceFeed([BTC], queue, base_url=server.url, **FAST)
        async with running(feed):
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE)
            feed.set_symbols([BTC, ETH])  # a live change must survive the reconnect
            await server.wait_until(lambda: len(server.live[0].subscribed) == 2)
            for trade_id in (1, 2, 3):
                await server.send(binance_trade("BTCUSDT", trade_id))
            await server.wait_until(lambda: len(queue) == 3)
            server.drop()  # abrupt: no close frame
            await server.wait_until(lambda: len(server.live) == 1)
            reconnected = server.live[0]
            assert reconnected.subscribed == {"btcusdt@trade", "ethusdt@trade"}
            # The new connection replays 2-3 (duplicates), then skips 4-5 (a gap).
            for trade_id in (2, 3, 6, 7):
                await server.send(binance_trade("BTCUSDT", trade_id))
            await server.wait_until(lambda: len(queue) == 5)
        assert [t.trade_id for t in queued(queue)] == [1, 2, 3, 6, 7]
        assert feed.counters.duplicates == 2
        assert feed.counters.gaps == 1
        assert feed.counters.reconnects == 1


async def test_it_counts_and_survives_hostile_frames() -> None:
    queue = TickQueue()
    async with FakeBinance() as server:
        feed = BinanceFeed([BTC], queue, base_url=server.url, max_size=4096, **FAST)
        async with running(feed):
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE)
            for frame in ("{oops", "null", '{"stream":"btcusdt@trade","data":{"e":"trade"}}',
                          binance_trade("BTCUSDT", 1, "NaN"), binance_trade("BTCUSDT", 2, "-1"),
                          '{"error":{"code":2,"msg":"Invalid request"},"id":9}'):
                await server.send(frame)
            await server.send("x" * 10_000)  # over max_size: the client closes with 1009
            await server.wait_until(lambda: len(server.connections) == 2 and server.live)
            await server.send(binance_trade("BTCUSDT", 3, "60001"))
            await server.wait_until(lambda: len(queue) == 1)
        failures = feed.counters.parse_failures
        assert failures == {"bad_json": 1, "not_an_object": 1, "missing_field": 1,
                            "bad_number": 1, "nonpositive_price": 1, "provider_error": 1,
                            "frame_too_large": 1}
        assert queued(queue)[0].price == 60001.0


async def test_it_reconnects_when_a_crypto_stream_goes_silent() -> None:
    async with FakeBinance() as server:
        feed = BinanceFeed([BTC], TickQueue(), base_url=server.url, silence_timeout=0.2,
                           **FAST)
        async with running(feed):
            await server.wait_until(lambda: len(server.connections) >= 2)
            assert feed.counters.reconnects >= 1


async def test_it_rolls_the_connection_over_at_its_maximum_age() -> None:
    async with FakeBinance() as server:
        feed = BinanceFeed([BTC], TickQueue(), base_url=server.url, max_age=0.2, **FAST)
        async with running(feed):
            await server.wait_until(lambda: len(server.connections) >= 2)
            await server.wait_until(lambda: server.live)
            assert server.live[-1].subscribed == {"btcusdt@trade"}


async def test_it_stops_promptly_while_backing_off_from_a_dead_server() -> None:
    async with FakeBinance() as server:
        url = server.url
    # The server is gone: every connect is refused.
    feed = BinanceFeed([BTC], TickQueue(), base_url=url, backoff_base=5.0, backoff_cap=5.0)
    async with running(feed):
        await until(lambda: feed.counters.state is FeedState.BACKING_OFF)
        assert "retry in" in feed.counters.reason
    assert feed.counters.state is FeedState.STOPPED


async def test_it_waits_at_least_a_minute_when_rate_limited_on_connect() -> None:
    async with FakeBinance() as server:
        server.http_status = 429
        feed = BinanceFeed([BTC], TickQueue(), base_url=server.url, **FAST)
        async with running(feed):
            await until(lambda: feed.counters.state is FeedState.BACKING_OFF)
            assert feed.counters.reason == "HTTP 429 (rate limited); retry in 60.0s"
        assert server.refused == 1


async def test_it_fails_without_retrying_when_the_upgrade_is_forbidden() -> None:
    async with FakeBinance() as server:
        server.http_status = 403
        feed = BinanceFeed([BTC], TickQueue(), base_url=server.url, **FAST)
        async with running(feed):
            await until(lambda: feed.counters.state is FeedState.FAILED)
            assert "HTTP 403" in feed.counters.reason
        assert server.refused == 1


async def test_cancelling_run_closes_the_socket() -> None:
    async with FakeBinance() as server:
        feed = BinanceFeed([BTC], TickQueue(), base_url=server.url, **FAST)
        task = asyncio.create_task(feed.run())
        await server.wait_until(lambda: server.live)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await server.wait_until(lambda: not server.live)


def test_it_caps_streams_per_connection_and_reports_the_excess() -> None:
    feed = BinanceFeed([BTC], TickQueue())
    feed.set_symbols([SymbolRef(CRYPTO, f"C{i:04d}USDT") for i in range(1030)])
    assert len(feed.endpoint.wanted()) == 1024
    assert "1030 symbols requested, Binance allows 1024" in feed.counters.reason


async def test_a_trade_stamped_far_ahead_of_receipt_is_dropped_and_counted() -> None:
    queue = TickQueue()
    async with FakeBinance() as server:
        feed = BinanceFeed([BTC], queue, base_url=server.url, **FAST)
        async with running(feed):
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE)
            ahead = int((time.time() + 3500) * 1000)
            await server.send(binance_trade("BTCUSDT", 1, "60000.00"))
            await server.send(binance_trade("BTCUSDT", 2, "66000.00", ts_ms=ahead))
            await server.send(binance_trade("BTCUSDT", 3, "60001.00"))
            await server.wait_until(lambda: feed.counters.messages == 3 and len(queue) == 2)
        assert [t.trade_id for t in queued(queue)] == [1, 3]
        assert feed.health()["clock_skew"] == 1
        assert feed.counters.gaps == 0  # the dropped trade was received, not missed
