"""Coinbase feed: pure parser on raw frames, then the live client against a fake server."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pulse.engine.tick import CRYPTO
from pulse.feeds.base import FeedConfigError, FeedState, SymbolRef, TickQueue
from pulse.feeds.coinbase import CoinbaseFeed, Control, Ticker, iso_seconds, parse_message
from pulse.feeds.frames import Rejected
from tests.feeds.servers import FAST, FakeCoinbase, coinbase_ticker, queued, running
from tests.waiting import until

BTC, ETH = SymbolRef(CRYPTO, "BTC-USD"), SymbolRef(CRYPTO, "ETH-USD")


# --------------------------------------------------------------------------- parser


def test_it_parses_a_ticker_with_string_numbers_and_iso_time() -> None:
    raw = ('{"type":"ticker","trade_id":20153558,"sequence":3262786978,'
           '"time":"2017-09-02T17:05:49.250000Z","product_id":"BTC-USD","price":"4388.01",'
           '"side":"buy","last_size":"0.03","best_bid":"4388","best_ask":"4388.01"}')
    result = parse_message(raw, 1504372000.0)
    assert isinstance(result, Ticker)
    tick = result.tick
    assert result.sequence == 3262786978
    assert (tick.symbol, tick.asset, tick.price, tick.bid, tick.ask, tick.size) == (
        "BTC-USD", CRYPTO, 4388.01, 4388.0, 4388.01, 0.03)
    assert tick.ts == dt.datetime(2017, 9, 2, 17, 5, 49, 250000, tzinfo=dt.UTC).timestamp()
    assert (tick.trade_id, tick.provider, tick.recv_ts) == (20153558, "coinbase", 1504372000.0)


def test_it_converts_iso_times_including_nanoseconds_and_offsets() -> None:
    assert iso_seconds("1970-01-01T00:00:01.5Z") == 1.5
    assert iso_seconds("1970-01-01T00:00:01.123456789Z") == pytest.approx(1.123456)
    assert iso_seconds("1970-01-01T01:00:00+01:00") == 0.0
    assert iso_seconds("noon") == Rejected("bad_timestamp", "'noon'")


def test_it_returns_heartbeats_subscriptions_and_errors_as_controls() -> None:
    heartbeat = ('{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD",'
                 '"time":"2014-11-07T08:19:28.464459Z"}')
    assert parse_message(heartbeat, 0.0) == Control("heartbeat", "BTC-USD")
    assert parse_message('{"type":"subscriptions","channels":[]}', 0.0) == Control(
        "subscriptions")
    error = '{"type":"error","message":"Failed to subscribe","reason":"XYZ is not valid"}'
    assert parse_message(error, 0.0) == Control("error",
                                                message="Failed to subscribe XYZ is not valid")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("}{", "bad_json"),
        ("42", "not_an_object"),
        ('{"product_id":"BTC-USD"}', "missing_field"),
        ('{"type":"ticker","sequence":1,"price":"1","time":"2024-08-08T12:00:00Z"}',
         "missing_field"),
        ('{"type":"ticker","product_id":"BTC-USD","price":"1","time":"2024-08-08T12:00:00Z"}',
         "missing_field"),
        ('{"type":"ticker","product_id":"BTC-USD","sequence":1,"price":"nan",'
         '"time":"2024-08-08T12:00:00Z"}', "bad_number"),
        ('{"type":"ticker","product_id":"BTC-USD","sequence":1,"price":"0",'
         '"time":"2024-08-08T12:00:00Z"}', "nonpositive_price"),
        ('{"type":"ticker","product_id":"BTC-USD","sequence":1,"price":"5","time":12}',
         "bad_timestamp"),
        ('{"type":"ticker","product_id":"BTC-USD","sequence":"x","price":"5",'
         '"time":"2024-08-08T12:00:00Z"}', "bad_number"),
        ('{"type":"ticker","product_id":"BTC-USD","sequence":1,"price":"5",'
         '"time":"2024-08-08T12:00:00Z","best_bid":"-3"}', "nonpositive_price"),
    ],
)
def test_it_rejects_malformed_frames_with_a_reason(raw: str, reason: str) -> None:
    result = parse_message(raw, 0.0)
    assert isinstance(result, Rejected)
    assert result.reason == reason


# --------------------------------------------------------------------------- live client


def test_it_refuses_symbols_and_options_it_cannot_serve() -> None:
    with pytest.raises(FeedConfigError, match="crypto:BTCUSDT"):
        CoinbaseFeed([SymbolRef(CRYPTO, "BTCUSDT")], TickQueue())
    with pytest.raises(FeedConfigError, match="gap_field"):
        CoinbaseFeed([BTC], TickQueue(), gap_field="time")


async def test_it_subscribes_at_once_and_streams_tickers() -> None:
    queue = TickQueue()
    async with FakeCoinbase(subscribe_timeout=0.3) as server:
        feed = CoinbaseFeed([BTC, ETH], queue, base_url=server.url, **FAST)
        async with running(feed):
            await server.wait_until(lambda: server.live and server.live[0].subscribed)
            conn = server.live[0]
            assert conn.received == [{"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"],
                                      "channels": ["ticker", "heartbeat"]}]
            await server.send(coinbase_ticker("BTC-USD", 100, 7, "60000.5"))
            await server.send(json.dumps({"type": "heartbeat", "sequence": 101,
                                          "last_trade_id": 7, "product_id": "BTC-USD",
                                          "time": "2024-08-08T12:00:01Z"}))
            await server.send(coinbase_ticker("ETH-USD", 500, 9, "2500"))
            await until(lambda: len(queue) == 2)
            await until(lambda: feed.counters.messages == 4)  # subscriptions + 3
        assert [(t.symbol, t.price, t.trade_id) for t in queued(queue)] == [
            ("BTC-USD", 60000.5, 7), ("ETH-USD", 2500.0, 9)]
        assert server.late_closes == 0
        assert feed.counters.parse_failures == {}


async def test_it_applies_watchlist_changes_on_the_open_socket() -> None:
    async with FakeCoinbase() as server:
        feed = CoinbaseFeed([BTC], TickQueue(), base_url=server.url, **FAST)
        async with running(feed):
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE)
            feed.set_symbols([ETH, SymbolRef(CRYPTO, "SOLUSDT")])
            conn = server.live[0]
            await server.wait_until(lambda: conn.subscribed == {"ETH-USD"})
            assert [m["type"] for m in conn.received] == ["subscribe", "unsubscribe",
                                                          "subscribe"]
            assert "not a Coinbase product: crypto:SOLUSDT" in feed.counters.reason
            assert len(server.connections) == 1


async def test_it_resubscribes_after_a_drop_and_drops_the_replayed_ticker() -> None:
    queue = TickQueue()
    async with FakeCoinbase() as server:
        feed = CoinbaseFeed([BTC], queue, base_url=server.url, **FAST)
        async with running(feed):
            await server.wait_until(lambda: server.live and server.live[0].subscribed)
            await server.send(coinbase_ticker("BTC-USD", 100, 7))
            await until(lambda: len(queue) == 1)
            server.drop()
            await server.wait_until(lambda: len(server.connections) == 2 and server.live
                                    and server.live[0].subscribed == {"BTC-USD"})
            # The snapshot ticker after subscribing repeats the last match: a duplicate.
            await server.send(coinbase_ticker("BTC-USD", 100, 7))
            await server.send(coinbase_ticker("BTC-USD", 140, 10))  # trades 8-9 were missed
            await until(lambda: len(queue) == 2)
        assert [t.trade_id for t in queued(queue)] == [7, 10]
        assert feed.counters.duplicates == 1
        assert feed.counters.gaps == 1
        assert feed.counters.reconnects == 1


async def test_it_counts_sequence_gaps_per_product_when_asked() -> None:
    queue = TickQueue()
    async with FakeCoinbase() as server:
        feed = CoinbaseFeed([BTC, ETH], queue, base_url=server.url, gap_field="sequence",
                            **FAST)
        async with running(feed):
            await server.wait_until(lambda: server.live and server.live[0].subscribed)
            for product, sequence in (("BTC-USD", 1), ("ETH-USD", 50), ("BTC-USD", 2),
                                      ("ETH-USD", 51), ("BTC-USD", 5), ("ETH-USD", 51)):
                await server.send(coinbase_ticker(product, sequence, sequence))
            await until(lambda: feed.counters.messages == 7)
        assert feed.counters.gaps == 1  # BTC 2 -> 5
        assert feed.counters.duplicates == 1  # ETH 51 again
        assert len(queue) == 5


async def test_it_counts_and_survives_malformed_hostile_and_error_frames() -> None:
    queue = TickQueue()
    async with FakeCoinbase() as server:
        feed = CoinbaseFeed([BTC], queue, base_url=server.url, max_size=2048, **FAST)
        async with running(feed):
            await server.wait_until(lambda: server.live and server.live[0].subscribed)
            for frame in ("not json", "[]", '{"type":"ticker","product_id":"BTC-USD"}',
                          coinbase_ticker("BTC-USD", 1, 1, "-5"),
                          '{"type":"error","message":"Failed to subscribe","reason":"bad"}',
                          b"\x80\x81"):
                await server.send(frame)
            await server.send(json.dumps({"type": "ticker", "pad": "x" * 5000}))
            await server.wait_until(lambda: len(server.connections) == 2 and server.live
                                    and server.live[0].subscribed)
            await server.send(coinbase_ticker("BTC-USD", 2, 2, "61000"))
            await until(lambda: len(queue) == 1)
        assert feed.counters.parse_failures == {
            "bad_json": 1, "not_an_object": 1, "missing_field": 1, "nonpositive_price": 1,
            "provider_error": 1, "bad_encoding": 1, "frame_too_large": 1}
        assert queued(queue)[0].price == 61000.0
