"""EODHD feed: pure parsers on raw frames, then the live client against a fake EODHD server."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from pulse.engine.tick import CRYPTO, FOREX, STOCKS, Tick
from pulse.feeds.base import FeedConfigError, FeedState, SymbolRef, TickQueue
from pulse.feeds.eodhd import (
    Data,
    EodhdFeed,
    Status,
    parse_message,
)
from pulse.feeds.frames import Rejected
from pulse.feeds.market_hours import forex_open, us_stocks_open
from tests.feeds.servers import FAST, FakeEodhd, eodhd_us_trade, queued, running
from tests.waiting import until

AAPL, TSLA = SymbolRef(STOCKS, "AAPL"), SymbolRef(STOCKS, "TSLA")
EURUSD = SymbolRef(FOREX, "EURUSD")
BTC, ETH = SymbolRef(CRYPTO, "BTC-USD"), SymbolRef(CRYPTO, "ETH-USD")
KEY = "good-key"


def utc(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


# --------------------------------------------------------------------------- parsers


def test_it_parses_a_us_trade_and_keeps_the_market_status() -> None:
    raw = '{"s":"AAPL","p":227.31,"v":100,"c":[12,37],"dp":false,"ms":"open","t":1723118400123}'
    assert parse_message("us", raw, 1723118400.5) == Data(
        [Tick("AAPL", STOCKS, 1723118400.123, 227.31, recv_ts=1723118400.5, size=100.0,
              provider="eodhd")], "open")


def test_it_prices_a_us_quote_at_the_mid_and_keeps_bid_and_ask() -> None:
    raw = '{"s":"AAPL","ap":227.32,"as":3,"bp":227.30,"bs":2,"t":1723118400123}'
    [tick] = parse_message("us-quote", raw, 0.0).ticks
    assert tick.price == pytest.approx(227.31)
    assert (tick.bid, tick.ask, tick.asset) == (227.30, 227.32, STOCKS)


def test_it_prices_forex_at_the_mid_because_forex_frames_have_no_p() -> None:
    raw = ('{"s":"EURUSD","a":1.09213,"b":"1.09211","dc":"0.1467","dd":"0.0016","ppms":false,'
           '"t":1723118400123}')
    [tick] = parse_message("forex", raw, 0.0).ticks
    assert tick.price == pytest.approx(1.09212)
    assert (tick.symbol, tick.asset, tick.bid, tick.ask) == ("EURUSD", FOREX, 1.09211, 1.09213)


def test_it_parses_crypto_numbers_sent_as_strings() -> None:
    raw = '{"s":"BTC-USD","p":"56843.99","q":"0.0012","dc":"1.25","dd":"702.1","t":1723118400123}'
    [tick] = parse_message("crypto", raw, 0.0).ticks
    assert (tick.symbol, tick.asset, tick.price, tick.size) == ("BTC-USD", CRYPTO, 56843.99,
                                                                 0.0012)


def test_it_reads_status_frames_with_status_code_or_status() -> None:
    assert parse_message("us", '{"status_code":200,"message":"Authorized"}', 0.0).authorized
    assert parse_message("forex", '{"status":401,"message":"Unauthorized"}', 0.0) == Status(
        401, "Unauthorized")
    assert parse_message("crypto", '{"status":"422"}', 0.0) == Status(422, "422")


@pytest.mark.parametrize(
    ("endpoint", "raw", "reason"),
    [
        ("us", "not json", "bad_json"),
        ("us", '"a string"', "not_an_object"),
        ("us", '{"s":"AAPL","v":1,"t":1723118400123}', "missing_field"),
        ("us", '{"s":"AAPL","p":"NaN","t":1723118400123}', "bad_number"),
        ("us", '{"s":"AAPL","p":-1,"t":1723118400123}', "nonpositive_price"),
        ("us", '{"s":"AAPL","p":1,"v":-5,"t":1723118400123}', "negative_size"),
        ("us", '{"s":"AAPL","p":1,"t":"yesterday"}', "bad_timestamp"),
        ("us", '{"p":1,"t":1723118400123}', "missing_field"),
        ("forex", '{"s":"EURUSD","p":1.09,"t":1723118400123}', "missing_field"),
        ("forex", '{"s":"EURUSD","a":1.0,"b":1.1,"t":1723118400123}', "crossed_quote"),
        ("forex", '{"s":"EURUSD","a":"Infinity","b":1.1,"t":1723118400123}', "bad_number"),
        ("us-quote", '{"s":"AAPL","ap":0,"bp":1,"t":1723118400123}', "nonpositive_price"),
        ("crypto", '{"s":"BTC-USD","p":"12abc","q":"1","t":1723118400123}', "bad_number"),
        ("crypto", '{"s":"BTC-USD","p":true,"q":"1","t":1723118400123}', "bad_number"),
    ],
)
def test_it_rejects_malformed_frames_with_a_reason(endpoint: str, raw: str, reason: str) -> None:
    result = parse_message(endpoint, raw, 0.0)
    assert isinstance(result, Rejected)
    assert result.reason == reason


def test_it_knows_when_us_stocks_and_forex_trade() -> None:
    assert us_stocks_open(utc(2024, 8, 8, 14, 0))  # Thursday 10:00 New York
    assert not us_stocks_open(utc(2024, 8, 8, 21, 0))  # Thursday 17:00 New York
    assert not us_stocks_open(utc(2024, 8, 10, 15, 0))  # Saturday
    assert forex_open(utc(2024, 8, 9, 20, 0))  # Friday 16:00 New York
    assert not forex_open(utc(2024, 8, 9, 21, 30))  # Friday 17:30 New York: closed
    assert not forex_open(utc(2024, 8, 11, 20, 0))  # Sunday 16:00 New York
    assert forex_open(utc(2024, 8, 11, 21, 30))  # Sunday 17:30 New York: reopened


# --------------------------------------------------------------------------- configuration


def test_it_requires_an_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EODHD_API_KEY", raising=False)
    with pytest.raises(FeedConfigError, match="EODHD_API_KEY"):
        EodhdFeed([AAPL], TickQueue())


def test_it_reads_key_and_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EODHD_API_KEY", "env-key")
    monkeypatch.setenv("EODHD_WS_URL", "ws://127.0.0.1:9/ws")
    feed = EodhdFeed([AAPL], TickQueue())
    assert (feed.api_key, feed.base_url) == ("env-key", "ws://127.0.0.1:9/ws")


def test_it_enforces_the_symbol_budget_at_start() -> None:
    refs = [SymbolRef(STOCKS, f"S{i}") for i in range(51)]
    with pytest.raises(FeedConfigError, match=r"51 symbols requested.*allows 50"):
        EodhdFeed(refs, TickQueue(), api_key=KEY)


def test_it_keeps_within_the_budget_when_a_watchlist_grows_too_far() -> None:
    feed = EodhdFeed([AAPL], TickQueue(), api_key=KEY, symbol_limit=3)
    feed.set_symbols([AAPL, TSLA, EURUSD, BTC])
    assert sum(len(feed.routed(ep)) for ep in ("us", "forex", "crypto")) == 3
    assert "budget exceeded: 4 symbols requested" in feed.counters.reason


def test_it_routes_symbols_by_asset_class_and_quotes_option() -> None:
    feed = EodhdFeed([AAPL, EURUSD, BTC], TickQueue(), api_key=KEY, quotes=True)
    assert {name: sorted(feed.routed(name)) for name in ("us", "us-quote", "forex", "crypto")} == {
        "us": ["AAPL"], "us-quote": ["AAPL"], "forex": ["EURUSD"], "crypto": ["BTC-USD"]}


# --------------------------------------------------------------------------- live client


async def test_it_streams_every_endpoint_over_its_own_socket() -> None:
    queue = TickQueue()
    async with FakeEodhd() as server:
        feed = EodhdFeed([AAPL, EURUSD, BTC], queue, api_key=KEY, base_url=f"{server.url}/ws",
                         **FAST)
        async with running(feed):
            # LIVE means connected; the subscribe frames may still be on their way.
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE and all(
                (conn := server.live_on(ep)) and conn.subscribed
                for ep in ("us", "forex", "crypto")))
            us, fx, cx = (server.live_on(ep) for ep in ("us", "forex", "crypto"))
            assert us and fx and cx and server.live_on("us-quote") is None
            assert (us.subscribed, fx.subscribed, cx.subscribed) == ({"AAPL"}, {"EURUSD"},
                                                                     {"BTC-USD"})
            assert us.received == [{"action": "subscribe", "symbols": "AAPL"}]
            await server.send(eodhd_us_trade("AAPL", 227.5, ms="extended-hours"), us)
            await server.send('{"s":"EURUSD","a":"1.0922","b":"1.0920","t":1723118400123}', fx)
            await server.send('{"s":"BTC-USD","p":"60000.5","q":"0.1","t":1723118400123}', cx)
            await until(lambda: len(queue) == 3)
        ticks = {t.symbol: t for t in queued(queue)}
        assert ticks["AAPL"].price == 227.5
        assert ticks["EURUSD"].price == pytest.approx(1.0921)
        assert ticks["BTC-USD"].size == 0.1
        health = feed.health()
        assert health["market_status"] == {"AAPL": "extended-hours"}
        assert health["ticks"] == 3 and health["state"] == "stopped"


async def test_it_fails_clearly_on_a_bad_key_without_a_reconnect_storm() -> None:
    async with FakeEodhd() as server:
        feed = EodhdFeed([AAPL, BTC], TickQueue(), api_key="wrong-secret",
                         base_url=f"{server.url}/ws", **FAST)
        async with running(feed):
            await server.wait_until(lambda: feed.counters.state is FeedState.FAILED)
            await server.wait_until(lambda: server.auth_failures == 2)
            # A window, not a wait: nothing may happen in it (dozens of fast back-offs fit).
            await asyncio.sleep(0.3)
            assert server.auth_failures == 2  # one attempt per endpoint, no retry
            reason = feed.counters.reason
            assert "401" in reason and "EODHD_API_KEY" in reason
            assert "wrong-secret" not in reason
            assert feed.counters.reconnects == 0


async def test_it_never_subscribes_before_authorized() -> None:
    async with FakeEodhd(authorize_delay=0.2) as server:
        feed = EodhdFeed([AAPL], TickQueue(), api_key=KEY, base_url=f"{server.url}/ws", **FAST)
        async with running(feed):
            await server.wait_until(lambda: server.live and server.live[0].subscribed)
        assert server.early == []
        assert len(server.connections) == 1


async def test_the_fake_server_drops_a_client_that_subscribes_too_early() -> None:
    async with FakeEodhd(authorize_delay=0.5) as server:
        async with connect(f"{server.url}/ws/us?api_token={KEY}") as ws:
            await ws.send('{"action":"subscribe","symbols":"AAPL"}')
            assert json.loads(await ws.recv())["status_code"] == 500
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert len(server.early) == 1


async def test_it_reconnects_and_resubscribes_after_an_abrupt_disconnect() -> None:
    queue = TickQueue()
    async with FakeEodhd() as server:
        feed = EodhdFeed([AAPL, TSLA, BTC], queue, api_key=KEY, base_url=f"{server.url}/ws",
                         **FAST)
        async with running(feed):
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE)
            await server.send(eodhd_us_trade("AAPL"), server.live_on("us"))
            await until(lambda: len(queue) == 1)
            server.drop(server.live_on("us"))
            await server.wait_until(lambda: len(server.endpoint_conns("us")) == 2
                                    and server.live_on("us") and server.live_on("us").subscribed)
            again = server.live_on("us")
            assert again.received == [{"action": "subscribe", "symbols": "AAPL,TSLA"}]
            assert server.early == []
            await server.send(eodhd_us_trade("TSLA", 250.0), again)
            await until(lambda: len(queue) == 2)
            assert len(server.endpoint_conns("crypto")) == 1  # the other socket was untouched
        assert feed.counters.reconnects == 1


async def test_it_applies_watchlist_changes_on_the_open_sockets() -> None:
    async with FakeEodhd() as server:
        feed = EodhdFeed([AAPL, EURUSD], TickQueue(), api_key=KEY,
                         base_url=f"{server.url}/ws", **FAST)
        async with running(feed):
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE)
            us = server.live_on("us")
            feed.set_symbols([TSLA, BTC])
            await server.wait_until(lambda: us.subscribed == {"TSLA"}
                                    and server.live_on("crypto")
                                    and server.live_on("crypto").subscribed == {"BTC-USD"}
                                    and server.live_on("forex") is None)
            assert us.received[1:] == [{"action": "unsubscribe", "symbols": "AAPL"},
                                       {"action": "subscribe", "symbols": "TSLA"}]
            assert len(server.endpoint_conns("us")) == 1
            # The forex socket had nothing left to stream, so it was closed, not kept idle.
            # The server can see the close before the feed's task has finished closing it.
            await until(lambda: feed.health()["endpoints"]["forex"] == "idle")
            feed.set_symbols([TSLA, BTC, EURUSD])
            await server.wait_until(lambda: server.live_on("forex")
                                    and server.live_on("forex").subscribed == {"EURUSD"})
        assert feed.counters.reconnects == 0


async def test_it_counts_and_survives_malformed_and_hostile_frames() -> None:
    queue = TickQueue()
    async with FakeEodhd() as server:
        feed = EodhdFeed([EURUSD], queue, api_key=KEY, base_url=f"{server.url}/ws",
                         max_size=4096, **FAST)
        async with running(feed):
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE)
            fx = server.live_on("forex")
            for frame in ("{", "[]", '{"s":"EURUSD","p":1.1,"t":1723118400123}',
                          '{"s":"EURUSD","a":NaN,"b":1.1,"t":1723118400123}',
                          '{"s":"EURUSD","a":-1,"b":-2,"t":1723118400123}',
                          '{"s":"GBPUSD","a":1.3,"b":1.2,"t":1723118400123}'):
                await server.send(frame, fx)
            await server.send("[" * 5000, fx)  # over max_size: the client drops the socket
            await server.wait_until(lambda: len(server.endpoint_conns("forex")) == 2
                                    and server.live_on("forex")
                                    and server.live_on("forex").subscribed)
            await server.send('{"s":"EURUSD","a":1.2,"b":1.1,"t":1723118400123}',
                              server.live_on("forex"))
            await until(lambda: len(queue) == 1)
        assert feed.counters.parse_failures == {
            "bad_json": 1, "not_an_object": 1, "missing_field": 1, "bad_number": 1,
            "nonpositive_price": 1, "unexpected_symbol": 1, "frame_too_large": 1}


async def test_it_fails_on_a_symbol_limit_status_and_retries_when_symbols_change() -> None:
    async with FakeEodhd(symbol_limit=1) as server:
        feed = EodhdFeed([AAPL, TSLA], TickQueue(), api_key=KEY, base_url=f"{server.url}/ws",
                         **FAST)
        async with running(feed):
            await server.wait_until(lambda: feed.counters.state is FeedState.FAILED)
            assert "422" in feed.counters.reason
            feed.set_symbols([AAPL])
            await server.wait_until(lambda: feed.counters.state is FeedState.LIVE and (
                (conn := server.live_on("us")) is not None and conn.subscribed == {"AAPL"}))


def test_the_watchdog_ignores_quiet_markets_but_not_quiet_crypto() -> None:
    feed = EodhdFeed([AAPL, EURUSD, BTC], TickQueue(), api_key=KEY, silence_timeout=30.0)
    limits = {ep.name: ep for ep in feed.endpoints}
    saturday = utc(2024, 8, 10, 15, 0)
    thursday_session = utc(2024, 8, 8, 14, 0)
    assert limits["us"].silence_limit(saturday) is None
    assert limits["forex"].silence_limit(saturday) is None
    assert limits["crypto"].silence_limit(saturday) == 30.0
    assert limits["us"].silence_limit(thursday_session) == 30.0
    assert limits["forex"].silence_limit(thursday_session) == 30.0


async def test_it_stops_promptly_while_waiting_for_authorized() -> None:
    async with FakeEodhd(authorize_delay=30.0) as server:
        feed = EodhdFeed([AAPL], TickQueue(), api_key=KEY, base_url=f"{server.url}/ws",
                         handshake_timeout=30.0)
        async with running(feed):  # requires run() to return within 3 s of stop()
            await server.wait_until(lambda: server.live)
            assert feed.counters.state is FeedState.CONNECTING
        assert feed.counters.state is FeedState.STOPPED
        await server.wait_until(lambda: not server.live)


# --------------------------------------------------------------------------- time and dedupe


def now_ms(offset: float = 0.0) -> int:
    return int((time.time() + offset) * 1000)


async def test_a_reconnect_drops_only_the_resent_overlap_and_keeps_identical_genuine_trades(
) -> None:
    queue = TickQueue()
    async with FakeEodhd() as server:
        feed = EodhdFeed([AAPL], queue, api_key=KEY, base_url=f"{server.url}/ws", **FAST)
        async with running(feed):
            await server.wait_until(lambda: server.live_on("us") and
                                    server.live_on("us").subscribed)
            t0 = now_ms()
            # Normal flow: three identical trades (one order filling three resting orders)
            # are genuine and must all arrive; nothing without an id is deduped here.
            before = [eodhd_us_trade("AAPL", 190.5, t=t0)] * 3 + [
                eodhd_us_trade("AAPL", 190.6, t=t0 + 5)]
            for frame in before:
                await server.send(frame, server.live_on("us"))
            await until(lambda: len(queue) == 4)
            server.drop(server.live_on("us"))
            await server.wait_until(lambda: len(server.endpoint_conns("us")) == 2
                                    and server.live_on("us") and server.live_on("us").subscribed)
            # The server re-sends its last trades (two of the three identical ones and the
            # 190.6), then new trades, one of them identical in ts, price and size to an
            # earlier one: only the re-sent copies go.
            after = [eodhd_us_trade("AAPL", 190.5, t=t0)] * 2 + [
                eodhd_us_trade("AAPL", 190.6, t=t0 + 5), eodhd_us_trade("AAPL", 190.7, t=t0 + 9),
                eodhd_us_trade("AAPL", 190.7, t=t0 + 9)]
            for frame in after:
                await server.send(frame, server.live_on("us"))
            await until(lambda: feed.counters.messages >= len(before) + len(after))
            await until(lambda: len(queue) == 6)
        assert [t.price for t in queued(queue)] == [190.5, 190.5, 190.5, 190.6, 190.7, 190.7]
        assert feed.counters.duplicates == 3
        assert feed.health()["duplicates"] == 3


@pytest.mark.slow
async def test_a_future_stamped_trade_is_dropped_and_a_skewed_provider_clock_recovers() -> None:
    queue = TickQueue()
    async with FakeEodhd() as server:
        feed = EodhdFeed([BTC], queue, api_key=KEY, base_url=f"{server.url}/ws",
                         clock_tolerance=5.0, **FAST)
        async with running(feed):
            await server.wait_until(lambda: server.live_on("crypto") and
                                    server.live_on("crypto").subscribed)
            conn = server.live_on("crypto")

            async def send(price: float, ahead: float) -> None:
                await server.send(json.dumps({"s": "BTC-USD", "p": price, "q": 0.1,
                                              "t": now_ms(ahead)}), conn)

            await send(60000.0, 0.0)
            await send(66000.0, 3500.0)  # the tick that froze a symbol
            await send(60001.0, 0.0)
            await until(lambda: feed.counters.messages >= 3)
            await until(lambda: len(queue) == 2)
            assert [t.price for t in queued(queue)] == [60000.0, 60001.0]
            assert feed.health()["clock_skew"] == 1
            # Now the provider's clock jumps 30 s ahead for good: the feed follows it within
            # seconds (2 s of agreeing ticks) instead of rejecting everything forever.
            began = time.time()
            price = 60002.0
            while len(queue) < 3:
                await send(price, 30.0)
                price += 1.0
                await asyncio.sleep(0.1)  # pacing: a re-anchor needs 2 s of receipt time
                assert time.time() - began < 4.0, "the feed did not follow the clock shift"
        health = feed.health()
        assert health["clock_resets"] == 1 and health["clock_skew"] > 1
        last = queued(queue)[-1]
        assert last.ts <= last.recv_ts + 1.0  # corrected into our time frame for the engine
