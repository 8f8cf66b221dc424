"""The browser WebSocket: login required, origins checked, each user sees only their symbols."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from pulse.engine import Engine
from pulse.engine.tick import Tick
from pulse.feeds.base import TickQueue
from pulse.ingest.pipeline import PulsePipeline
from pulse.live.consumer import PulseConsumer, restrict_correlation
from pulse.models import Instrument, Watchlist, WatchlistItem
from pulse.realtime.broadcast import CONTROL_GROUP, PULSE_GROUP, Publisher
from pulse_site.asgi import application
from tests.conftest import session_cookie_for
from tests.ingest_helpers import running_ingest
from tests.waiting import until

pytestmark = pytest.mark.django_db(transaction=True)

ROW_AAPL = {"symbol": "AAPL", "asset": "stocks", "last": 190.5, "ret_1m": 0.001}
ROW_EUR = {"symbol": "EURUSD", "asset": "forex", "last": 1.08, "ret_1m": -0.0002}


session_cookie = database_sync_to_async(session_cookie_for)


@database_sync_to_async
def make_watchlist(user, name: str, symbols: list[tuple[str, str]], default: bool = True):
    watchlist = Watchlist.objects.create(owner=user, name=name, is_default=default)
    for i, (asset, symbol) in enumerate(symbols):
        instrument, _ = Instrument.objects.get_or_create(asset_class=asset, symbol=symbol)
        WatchlistItem.objects.create(watchlist=watchlist, instrument=instrument, position=i)
    return watchlist


def communicator(cookie: str | None = None, origin: str = "http://localhost", query: str = ""):
    headers = [(b"origin", origin.encode()), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, "/ws/pulse/" + query, headers=headers)


async def connected(comm: WebsocketCommunicator) -> dict:
    ok, _ = await comm.connect()
    assert ok
    hello = json.loads(await comm.receive_from())
    assert hello["type"] == "hello"
    return hello


async def test_it_refuses_anonymous_sockets_with_close_code_4401():
    comm = communicator()
    ok, _ = await comm.connect()
    assert ok  # accepted first so the page can learn why it is closed
    assert (await comm.receive_output())["code"] == 4401
    await comm.disconnect()


async def test_it_rejects_other_origins():
    comm = communicator(origin="http://evil.example.com")
    ok, _ = await comm.connect()
    assert not ok


async def test_a_logged_in_user_receives_snapshots(alice):
    comm = communicator(await session_cookie(alice))
    hello = await connected(comm)
    assert hello["user"] == "alice" and hello["symbols"] is None  # no watchlist: whole market
    await Publisher(get_channel_layer()).snapshots(
        {"AAPL": ROW_AAPL, "EURUSD": ROW_EUR}, 1_700_000_000.0, full=False
    )
    message = json.loads(await comm.receive_from())
    assert message["type"] == "snapshot" and message["seq"] == 1
    assert {row["symbol"] for row in message["rows"]} == {"AAPL", "EURUSD"}
    assert message["rows"][0]["last"] in (190.5, 1.08)
    await comm.disconnect()


async def test_it_sends_only_the_symbols_of_the_users_watchlist(alice):
    await make_watchlist(alice, "Tech", [("stocks", "AAPL")])
    comm = communicator(await session_cookie(alice))
    hello = await connected(comm)
    assert hello["symbols"] == ["AAPL"] and hello["watchlist"]["name"] == "Tech"
    publisher = Publisher(get_channel_layer())
    await publisher.snapshots({"EURUSD": ROW_EUR}, 1.0, full=False)  # not visible: dropped
    await publisher.snapshots({"AAPL": ROW_AAPL, "EURUSD": ROW_EUR}, 2.0, full=False)
    message = json.loads(await comm.receive_from())
    assert [row["symbol"] for row in message["rows"]] == ["AAPL"]
    await publisher.event({"symbol": "EURUSD", "type": "move_1m"})
    await publisher.event({"symbol": "AAPL", "type": "move_1m", "id": "AAPL|move_1m|up|1"})
    event = json.loads(await comm.receive_from())
    assert event["type"] == "event" and event["event"]["symbol"] == "AAPL"
    assert await comm.receive_nothing()
    await comm.disconnect()


async def test_bob_cannot_open_alices_watchlist(alice, bob):
    alices = await make_watchlist(alice, "Secret", [("crypto", "BTC-USD")])
    comm = communicator(await session_cookie(bob), query=f"?watchlist={alices.pk}")
    ok, _ = await comm.connect()
    assert ok
    assert (await comm.receive_output())["code"] == 4403
    comm = communicator(await session_cookie(bob), query="?watchlist=not-a-number")
    await comm.connect()
    assert (await comm.receive_output())["code"] == 4403


async def test_health_messages_reach_every_user(alice):
    comm = communicator(await session_cookie(alice))
    await connected(comm)
    await Publisher(get_channel_layer()).health({"uptime": 5.0, "feeds": {}})
    message = json.loads(await comm.receive_from())
    assert message == {"type": "health", "seq": 1, "health": {"uptime": 5.0, "feeds": {}}}
    await comm.disconnect()


async def test_logout_closes_the_users_open_sockets(alice):
    from asgiref.sync import sync_to_async
    from django.test import Client

    cookie = await session_cookie(alice)
    comm = communicator(cookie)
    await connected(comm)
    client = Client()
    client.cookies["sessionid"] = cookie.split("=", 1)[1]
    await sync_to_async(client.post)("/accounts/logout/")
    assert (await comm.receive_output())["code"] == 4401


def test_restrict_correlation_keeps_only_visible_rows_and_columns():
    corr = {"symbols": ["A", "B", "C"],
            "matrix": [[1, 0.5, None], [0.5, 1, 0.2], [None, 0.2, 1]],
            "coverage": [[9, 8, 0], [8, 9, 7], [0, 7, 9]], "method": "m"}
    out = restrict_correlation(corr, frozenset({"A", "C"}))
    assert out["symbols"] == ["A", "C"]
    assert out["matrix"] == [[1, None], [None, 1]]
    assert out["coverage"] == [[9, 0], [0, 9]] and out["method"] == "m"


# Helpers for the request/reply tests -----------------------------------------------------


@contextlib.asynccontextmanager
async def control_channel():
    """Listen on the control group like ingest does; leave it afterwards."""
    layer = get_channel_layer()
    channel = await layer.new_channel("test-control.")
    await layer.group_add(CONTROL_GROUP, channel)
    try:
        yield layer, channel
    finally:
        await layer.group_discard(CONTROL_GROUP, channel)


async def next_request(layer, channel, kind: str) -> dict:
    """Return the next control request of type ``kind`` (others are skipped)."""
    for _ in range(20):
        message = await asyncio.wait_for(layer.receive(channel), timeout=2)
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} request")


def warm_engine(symbols: dict[str, str], seconds: int = 1200) -> Engine:
    """Return an engine fed one tick per second per symbol, with correlated paths."""
    engine = Engine()
    prices = dict.fromkeys(symbols, 100.0)
    for t in range(seconds):
        common = ((t * 7919) % 13 - 6) / 6000.0
        for i, (symbol, asset) in enumerate(symbols.items()):
            own = ((t * (31 + 17 * i)) % 11 - 5) / 20000.0
            prices[symbol] *= 1.0 + common + own
            ts = 1_700_000_000.0 + t + 0.1 * i
            engine.on_tick(Tick(symbol, asset, ts, prices[symbol], recv_ts=ts))
    return engine


async def receive_type(comm: WebsocketCommunicator, kind: str) -> dict:
    """Return the next message of ``kind`` on the socket, skipping others."""
    for _ in range(50):
        message = json.loads(await comm.receive_from(timeout=2))
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


async def drain(comm: WebsocketCommunicator) -> list[dict]:
    """Return every output the socket has produced until it goes quiet for 0.3 s.

    ``receive_nothing`` is used to wait because a timed-out ``receive_output`` cancels the
    application.
    """
    outputs = []
    while not await comm.receive_nothing(timeout=0.3):
        outputs.append(await comm.receive_output())
    return outputs


MARKET = {"AAPL": "stocks", "MSFT": "stocks", "BTC-USD": "crypto", "EURUSD": "forex"}


# Schema: one test per message type --------------------------------------------------------


async def test_hello_names_the_user_the_watchlist_and_its_symbols(alice):
    watchlist = await make_watchlist(alice, "Tech", [("stocks", "AAPL"), ("stocks", "MSFT")])
    comm = communicator(await session_cookie(alice))
    hello = await connected(comm)
    assert hello == {"type": "hello", "user": "alice",
                     "watchlist": {"id": watchlist.pk, "name": "Tech"},
                     "symbols": ["AAPL", "MSFT"]}
    await comm.disconnect()


async def test_correlation_replies_cover_the_pages_symbols_base_and_bucket(alice):
    await make_watchlist(alice, "Mixed", [("stocks", "AAPL"), ("stocks", "MSFT"),
                                          ("crypto", "BTC-USD")])
    async with running_ingest(warm_engine(MARKET)):
        comm = communicator(await session_cookie(alice), query="?base=MSFT&bucket=20")
        await connected(comm)
        message = await receive_type(comm, "correlation")
        corr = message["correlation"]
        assert corr["symbols"] == ["AAPL", "BTC-USD", "MSFT"]  # never EURUSD: not in the list
        assert corr["base"] == "MSFT" and corr["method"] == "bucketed" and corr["bucket"] == 20
        assert len(corr["matrix"]) == 3 and corr["matrix"][0][0] == 1.0
        assert corr["coverage"][0][1] > 0
        # Standard errors are restricted to the page's symbols like the matrix.
        assert [len(row) for row in corr["stderr"]] == [3, 3, 3]
        assert corr["stderr"][0][0] == 0.0 and 0.0 < corr["stderr"][0][2] < 1.0
        assert [t["symbol"] for t in corr["top"]] and all(
            t["symbol"] in {"AAPL", "BTC-USD"} for t in corr["top"])
        # The page switches to the default estimator and another base without reconnecting.
        await comm.send_to(text_data=json.dumps({"action": "correlation", "base": "AAPL",
                                                 "bucket": None}))
        corr = (await receive_type(comm, "correlation"))["correlation"]
        assert corr["base"] == "AAPL" and corr["method"] == "kernel" and corr["bucket"] is None
        await comm.disconnect()


async def test_history_replies_carry_only_visible_symbols(alice, bob):
    await make_watchlist(alice, "Tech", [("stocks", "AAPL"), ("stocks", "MSFT")])
    await make_watchlist(bob, "Bobs", [("crypto", "BTC-USD")])
    async with running_ingest(warm_engine(MARKET)):
        comm = communicator(await session_cookie(alice))
        await connected(comm)
        await comm.send_to(text_data=json.dumps({
            "action": "history", "symbols": ["AAPL", "BTC-USD"], "seconds": 900, "step": 15}))
        message = await receive_type(comm, "history")
        series = message["history"]["series"]
        assert set(series) == {"AAPL"}  # BTC-USD is not alice's: not even requested
        points = series["AAPL"]
        assert 55 <= len(points) <= 62
        assert all(b[0] > a[0] for a, b in itertools.pairwise(points))
        assert all(p[1] > 0 for p in points)
        await comm.disconnect()


async def test_bad_history_and_correlation_requests_are_ignored(alice):
    await make_watchlist(alice, "Tech", [("stocks", "AAPL"), ("stocks", "MSFT")])
    async with control_channel() as (layer, control):
        comm = communicator(await session_cookie(alice))
        await connected(comm)
        await next_request(layer, control, "pulse.request_correlation")
        for bad in ['{"action": "history", "symbols": "AAPL"}',
                    '{"action": "history", "symbols": ["AAPL"], "seconds": 99999}',
                    '{"action": "history", "symbols": ["AAPL"], "step": 0}',
                    '{"action": "history", "symbols": ["AAPL"], "step": true}',
                    "not json", "[1, 2]", '{"action": "nope"}', "x" * 5000,
                    '{"action": "ack", "received": "lots"}']:
            await comm.send_to(text_data=bad)
        await comm.send_to(text_data=json.dumps(
            {"action": "correlation", "base": {"x": 1}, "bucket": 7}))
        request = await next_request(layer, control, "pulse.request_correlation")
        assert request["base"] is None and request["bucket"] is None  # bad values dropped
        assert await comm.receive_nothing(timeout=0.3)
        await comm.disconnect()


async def test_a_watchlist_edited_while_the_page_is_open_is_applied_live(alice, bob):
    # Pushed by the save signal: the periodic re-read (every 60 s) cannot be what delivers it.
    bobs = await make_watchlist(bob, "Bob's", [("crypto", "ETH-USD")])
    bob_comm = communicator(await session_cookie(bob))
    await connected(bob_comm)
    watchlist = await make_watchlist(alice, "Tech", [("stocks", "AAPL")])
    comm = communicator(await session_cookie(alice))
    await connected(comm)

    @database_sync_to_async
    def add_msft() -> None:
        instrument = Instrument.objects.create(asset_class="stocks", symbol="MSFT")
        WatchlistItem.objects.create(watchlist=watchlist, instrument=instrument, position=1)

    await add_msft()
    message = await receive_type(comm, "watchlist")
    assert message["symbols"] == ["AAPL", "MSFT"] and message["watchlist"]["name"] == "Tech"
    await Publisher(get_channel_layer()).snapshots(
        {"MSFT": {"symbol": "MSFT", "last": 400.0}}, 1.0, full=False)
    snapshot = await receive_type(comm, "snapshot")
    assert [row["symbol"] for row in snapshot["rows"]] == ["MSFT"]
    await comm.disconnect()
    # alice's edit told only alice's sockets; bob's page heard nothing about it.
    assert await bob_comm.receive_nothing(timeout=0.3)
    assert bobs.owner_id == bob.pk
    await bob_comm.disconnect()


async def test_a_change_that_sends_no_signal_is_picked_up_by_the_slow_reread(alice,
                                                                           monkeypatch):
    monkeypatch.setattr(PulseConsumer, "refresh_interval", 0.05)
    monkeypatch.setattr(PulseConsumer, "reread_interval", 0.1)
    watchlist = await make_watchlist(alice, "Tech", [("stocks", "AAPL")])
    comm = communicator(await session_cookie(alice))
    await connected(comm)
    await database_sync_to_async(
        Watchlist.objects.filter(pk=watchlist.pk).update)(name="Renamed")  # no signal
    message = await receive_type(comm, "watchlist")
    assert message["watchlist"]["name"] == "Renamed"
    await comm.disconnect()


async def test_the_symbol_page_socket_sees_only_its_symbol_and_unknown_ones_are_refused(alice):
    await database_sync_to_async(Instrument.objects.create)(asset_class="stocks", symbol="AAPL")
    comm = communicator(await session_cookie(alice), query="?symbol=AAPL")
    hello = await connected(comm)
    assert hello["symbols"] == ["AAPL"] and hello["watchlist"] is None
    await Publisher(get_channel_layer()).snapshots({"AAPL": ROW_AAPL, "EURUSD": ROW_EUR}, 1.0,
                                                   full=False)
    message = await receive_type(comm, "snapshot")
    assert [row["symbol"] for row in message["rows"]] == ["AAPL"]
    await comm.disconnect()
    comm = communicator(await session_cookie(alice), query="?symbol=NOPE")
    await comm.connect()
    assert (await comm.receive_output())["code"] == 4404


async def test_alice_never_receives_bobs_symbols_over_the_socket(alice, bob):
    await make_watchlist(alice, "Tech", [("stocks", "AAPL"), ("stocks", "MSFT")])
    await make_watchlist(bob, "Secret", [("crypto", "BTC-USD"), ("forex", "EURUSD")])
    async with running_ingest(warm_engine(MARKET)):
        comm = communicator(await session_cookie(alice))
        await connected(comm)
        publisher = Publisher(get_channel_layer(), "ingest-b")
        await publisher.snapshots({"BTC-USD": {"symbol": "BTC-USD"}, "EURUSD": ROW_EUR}, 1.0,
                                  full=False)
        await publisher.event({"symbol": "BTC-USD", "type": "move_1m"})
        await comm.send_to(text_data=json.dumps({"action": "correlation", "base": "BTC-USD"}))
        seen: list[str] = []  # up to the correlation reply (it comes from ingest's task)...
        while not any(json.loads(m)["type"] == "correlation" for m in seen):
            seen.append((await comm.receive_output(timeout=2))["text"])
        seen += [o["text"] for o in await drain(comm)]  # ...and anything still on its way
        text = "".join(seen)
        assert "BTC-USD" not in text and "EURUSD" not in text and "Secret" not in text
        assert any(json.loads(m)["type"] == "correlation" for m in seen)
        await comm.disconnect()


async def test_interleaved_sources_do_not_resync_but_a_gap_in_one_source_does(alice):
    async with control_channel() as (layer, control):
        comm = communicator(await session_cookie(alice))
        await connected(comm)
        await next_request(layer, control, "pulse.request_snapshot")  # the one on connect
        for seq, source in [(1, "a"), (1, "b"), (2, "b"), (2, "a"), (3, "a"), (3, "b")]:
            message = Publisher.snapshot_message(seq, 1.0, False, {"AAPL": ROW_AAPL})
            message["src"] = source
            await layer.group_send(PULSE_GROUP, message)
        for _ in range(6):
            await comm.receive_from()
        requests = []
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                requests.append(await asyncio.wait_for(layer.receive(control), timeout=0.3))
        assert not [r for r in requests if r["type"] == "pulse.request_snapshot"]
        gap = Publisher.snapshot_message(6, 2.0, False, {"AAPL": ROW_AAPL})
        gap["src"] = "b"
        await layer.group_send(PULSE_GROUP, gap)
        request = await next_request(layer, control, "pulse.request_snapshot")
        assert request["reply_to"].startswith("specific.")
        await comm.disconnect()


# Slow clients ---------------------------------------------------------------------------------


async def test_a_page_that_does_not_read_gets_snapshots_dropped_but_every_event(alice):
    async with control_channel() as (layer, control):
        earlier = set(layer.groups.get(PULSE_GROUP, {}))  # other tests' leftover sockets
        comm = communicator(await session_cookie(alice))
        await connected(comm)
        publisher = Publisher(layer)

        def read_by_the_consumer() -> bool:  # what was sent to it left the layer's queue
            mine = set(layer.groups.get(PULSE_GROUP, {})) - earlier
            return all(layer.channels[c].empty() for c in mine if c in layer.channels)

        for _ in range(300):
            await publisher.snapshots({"AAPL": ROW_AAPL}, 1.0, full=False)
            # Paced: the in-memory layer itself drops beyond 100 queued messages.
            await until(read_by_the_consumer, interval=0, what="the consumer reading the layer")
        for i in range(3):
            await publisher.event({"symbol": "AAPL", "type": "move_1m", "id": f"e{i}"})
        messages = [json.loads(o["text"]) for o in await drain(comm)]
        kinds = [m["type"] for m in messages]
        # Bounded: sends stop once 200 messages are unacknowledged; events still get through.
        assert kinds.count("snapshot") <= 200
        assert kinds.count("event") == 3
        await comm.send_to(text_data=json.dumps({"action": "stats"}))
        stats = json.loads(await comm.receive_from())
        assert stats["type"] == "stats" and stats["paused"] is True
        assert stats["dropped_snapshots"] >= 300 - 200 and stats["events_while_behind"] == 3
        # Catching up resumes snapshots with a full resync (dropped ones are not replayed).
        received = len(messages) + 2  # + hello and stats
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(layer.receive(control), timeout=0.2)
                continue
            break
        await comm.send_to(text_data=json.dumps({"action": "ack", "received": received}))
        request = await next_request(layer, control, "pulse.request_snapshot")
        assert request["type"] == "pulse.request_snapshot"
        await publisher.snapshots({"AAPL": ROW_AAPL}, 3.0, full=False)
        assert (await receive_type(comm, "snapshot"))["ts"] == 3.0
        await comm.disconnect()


async def test_a_page_far_behind_is_closed_rather_than_buffered(alice, monkeypatch):
    from functools import partial

    from pulse.realtime.flow_control import SendWindow

    monkeypatch.setattr(PulseConsumer, "window_factory", partial(SendWindow, close_above=20))
    comm = communicator(await session_cookie(alice))
    await connected(comm)
    publisher = Publisher(get_channel_layer())
    for i in range(30):
        await publisher.event({"symbol": "AAPL", "type": "move_1m", "id": f"e{i}"})
    outputs = await drain(comm)
    closes = [o for o in outputs if o["type"] == "websocket.close"]
    assert closes and closes[0]["code"] == 4408
    assert sum(1 for o in outputs if o["type"] == "websocket.send") <= 21


def test_flow_control_ignores_acks_that_are_not_plausible_counts():
    from pulse.realtime.flow_control import SendWindow

    window = SendWindow(pause_above=2, resume_below=1)
    for _ in range(4):
        window.note_sent()
    assert not window.allow_snapshot() and window.paused
    for bad in ["3", True, -1, 99, 2.5, None]:
        assert window.ack(bad) is False
    assert window.acked == 0
    assert window.ack(4) is True  # caught up after dropping: resync once
    assert window.allow_snapshot() and window.ack(4) is False


# Ingest's side of the request/reply: bounded, cached, never mutating the engine ------------


def test_page_queries_are_cached_per_parameters_for_the_refresh_interval():
    from pulse.ingest.page_queries import PageQueries

    now = [0.0]
    queries = PageQueries(warm_engine(MARKET, 600), ttl=2.0, clock=lambda: now[0])
    first = queries.correlation(["AAPL", "MSFT"], "AAPL", window=None, method=None, bucket=None)
    again = queries.correlation(["MSFT", "AAPL"], "AAPL", window=None, method=None, bucket=None)
    assert first == again and queries.computed == 1 and queries.hits == 1
    queries.correlation(["AAPL", "MSFT"], "AAPL", window=None, method="bucketed", bucket=30)
    assert queries.computed == 2  # other parameters, other answer
    now[0] = 2.5
    queries.correlation(["AAPL", "MSFT"], "AAPL", window=None, method=None, bucket=None)
    assert queries.computed == 3  # expired


def test_a_bucket_size_per_query_leaves_the_engines_configuration_unchanged():
    from pulse.ingest.page_queries import PageQueries

    engine = warm_engine(MARKET, 1500)
    config = engine._tracker.config
    queries = PageQueries(engine)
    for bucket in (10, 20, 30):
        corr = json.loads(queries.correlation(list(MARKET), "AAPL", window=None,
                                              method="bucketed", bucket=bucket))
        assert corr["bucket"] == bucket and corr["method"] == "bucketed"
        # Long enough for min_overlap (30) + 10 returns, never shorter than the default.
        assert corr["window"] == max(900, bucket * 40)
        assert corr["coverage"][0][1] == corr["window"] // bucket  # one return per bucket
        assert corr["matrix"][0][1] is not None
    assert engine._tracker.config is config


def test_history_is_bounded_and_empty_for_unknown_symbols():
    engine = warm_engine({"AAPL": "stocks"}, 1200)
    points = engine.history("AAPL", seconds=3600, step=1)
    assert len(points) <= 720 + 1
    assert points[-1][0] == pytest.approx(1_700_000_000.0 + 1199)
    assert all(a[0] < b[0] for a, b in itertools.pairwise(points))
    assert engine.history("NOPE") == []


def test_malformed_correlation_requests_are_rejected():
    from pulse.ingest.page_queries import clean_correlation_request

    assert clean_correlation_request({"symbols": "AAPL"}) is None
    assert clean_correlation_request({"symbols": [1, 2]}) is None
    assert clean_correlation_request({"bucket": 15}) is None
    assert clean_correlation_request({"method": "magic"}) is None
    assert clean_correlation_request({"base": 3}) is None
    ok = clean_correlation_request({"symbols": ["A", "A", "B"], "bucket": 20})
    assert ok == {"symbols": ["A", "B"], "base": None, "bucket": 20, "method": "bucketed"}


class RecordingPublisher:
    """Stands in for :class:`Publisher`: records replies instead of sending them."""

    def __init__(self) -> None:
        self.replies: list[tuple[str, str, dict]] = []

    async def reply(self, channel: str, kind: str, payload_json: str) -> bool:
        self.replies.append((channel, kind, json.loads(payload_json)))
        return True


async def test_only_the_shard_that_follows_the_base_symbol_answers_a_correlation_request():
    stocks = PulsePipeline(warm_engine({"AAPL": "stocks", "MSFT": "stocks"}, 300),
                           TickQueue(10), {}, publisher=RecordingPublisher())
    crypto = PulsePipeline(warm_engine({"BTC-USD": "crypto"}, 300), TickQueue(10), {},
                           publisher=RecordingPublisher())
    request = {"type": "pulse.request_correlation", "reply_to": "page-1",
               "symbols": ["AAPL", "BTC-USD", "MSFT"], "base": "MSFT", "bucket": None}
    for pipeline in (stocks, crypto):
        await pipeline.answer_request(request)
    assert crypto.publisher.replies == []
    [(channel, kind, corr)] = stocks.publisher.replies
    assert channel == "page-1" and kind == "correlation"
    assert corr["symbols"] == ["AAPL", "MSFT"] and corr["base"] == "MSFT"
    await stocks.answer_request({**request, "bucket": 15, "reply_to": "page-2"})
    await stocks.answer_request({"type": "pulse.request_history", "reply_to": "page-3",
                                 "symbols": ["AAPL"], "seconds": -5, "step": 1})
    assert len(stocks.publisher.replies) == 1  # malformed requests get no reply


async def test_a_channel_layer_failure_on_connect_closes_with_try_again(alice, monkeypatch):
    layer = get_channel_layer()

    async def broken_group_add(group, channel):
        raise ConnectionError("redis restarting")

    monkeypatch.setattr(layer, "group_add", broken_group_add)
    comm = communicator(await session_cookie(alice))
    ok, _ = await comm.connect()
    assert ok
    assert (await comm.receive_output())["code"] == 1013  # the page retries with backoff
    await comm.disconnect()


async def test_alerts_reach_only_their_owners_dashboard(alice, bob):
    from pulse.alerts.notices import LayerNotifier

    alice_comm = communicator(await session_cookie(alice))
    await connected(alice_comm)
    bob_comm = communicator(await session_cookie(bob))
    await connected(bob_comm)
    text = json.dumps({"type": "alert", "rule": {"id": 1, "name": "BTC swings"},
                       "event": {"symbol": "BTC-USD", "message": "BTC-USD fell 3 %"},
                       "sound": True, "notify": False})
    await LayerNotifier(get_channel_layer())(alice.pk, text)
    message = await receive_type(alice_comm, "alert")
    assert message["rule"]["name"] == "BTC swings" and message["sound"] is True
    assert await bob_comm.receive_nothing(timeout=0.3)
    await alice_comm.disconnect()
    await bob_comm.disconnect()
