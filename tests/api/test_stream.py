"""The streaming API socket: token auth, subscriptions, relay, limits and every close code."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from pulse.api import close_codes, revocation, tokens
from pulse.api.consumer import ApiStreamConsumer
from pulse.api.limits import StreamLimits, TokenBucket
from pulse.realtime.broadcast import PULSE_GROUP, dumps
from pulse.realtime.flow_control import SendWindow
from tests.api.conftest import api_app, running_ingest, session_cookie
from tests.factories import instrument, make_watchlist

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def market():
    """Known instruments (the socket refuses unknown symbols)."""
    for symbol, asset in [("AAPL", "stocks"), ("MSFT", "stocks"), ("BTC-USD", "crypto"),
                          ("EURUSD", "forex")]:
        await sync_to_async(instrument)(symbol, asset)


async def new_token(user) -> str:
    return (await sync_to_async(tokens.create)(user, "bot"))[1]


def socket(token: str | None = None, *, header: bool = False, consumer=None,
           extra_headers: list | None = None) -> WebsocketCommunicator:
    """Return a communicator for /ws/api/ with ``token`` in the query or the header."""
    headers = list(extra_headers or [])
    url = "/ws/api/"
    if token and header:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    elif token:
        url += f"?token={token}"
    return WebsocketCommunicator(api_app(consumer), url, headers=headers)


async def receive(comm: WebsocketCommunicator) -> dict:
    return json.loads(await comm.receive_from(timeout=2))


async def receive_type(comm: WebsocketCommunicator, kind: str) -> dict:
    for _ in range(50):
        message = await receive(comm)
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


async def opened(comm: WebsocketCommunicator) -> dict:
    ok, _ = await comm.connect()
    assert ok
    hello = await receive(comm)
    assert hello["type"] == "hello"
    return hello


async def closed_with(comm: WebsocketCommunicator, code: int) -> dict:
    """Return the ``error`` message that must precede a close with ``code``."""
    error = await receive(comm)
    assert error["type"] == "error", error
    close = await comm.receive_output(timeout=2)
    assert close["type"] == "websocket.close" and close["code"] == code, close
    return error


async def publish_event(symbol: str, event_id: str, seq: int = 1) -> None:
    await get_channel_layer().group_send(PULSE_GROUP, {
        "type": "pulse.event", "seq": seq, "src": "test", "symbol": symbol,
        "event": dumps({"id": event_id, "symbol": symbol, "type": "move_1m"})})


# Authentication: 4401 -------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "mp_abcdefgh_" + "x" * 43, "garbage"])
async def test_it_closes_4401_without_a_valid_token(token):
    comm = socket(token)
    ok, _ = await comm.connect()
    assert ok  # accepted first, so the client can read why it is closed
    error = await closed_with(comm, close_codes.CLOSE_UNAUTHENTICATED)
    assert error["error"] == "unauthenticated"


async def test_it_ignores_the_session_cookie(alice):
    cookie = await sync_to_async(session_cookie)(alice)
    comm = socket(extra_headers=[(b"cookie", cookie.encode()),
                                 (b"origin", b"http://evil.example.com")])
    await comm.connect()
    await closed_with(comm, close_codes.CLOSE_UNAUTHENTICATED)


async def test_it_accepts_the_token_in_the_query_or_the_header_without_origin(alice):
    raw = await new_token(alice)
    for comm in (socket(raw), socket(raw, header=True)):
        hello = await opened(comm)
        assert hello["user"] == "alice" and hello["protocol"] == 1
        assert hello["limits"] == StreamLimits().as_dict()
        await comm.disconnect()


async def test_a_revoked_token_closes_open_sockets_with_4401_and_cannot_reconnect(alice):
    token, raw = await sync_to_async(tokens.create)(alice, "bot")
    comm = socket(raw)
    await opened(comm)
    await sync_to_async(revocation.revoke)(token)
    error = await closed_with(comm, close_codes.CLOSE_UNAUTHENTICATED)
    assert error["error"] == "token_revoked"
    again = socket(raw)
    await again.connect()
    await closed_with(again, close_codes.CLOSE_UNAUTHENTICATED)


class QuickHeartbeat(ApiStreamConsumer):
    heartbeat_interval = 0.05


async def test_it_sends_heartbeats_and_answers_pings(alice):
    comm = socket(await new_token(alice), consumer=QuickHeartbeat)
    hello = await opened(comm)
    assert hello["heartbeat"] == 0.05
    beat = await receive_type(comm, "heartbeat")
    assert beat["backlog"] >= 1
    await comm.send_to(text_data=json.dumps({"action": "ping", "id": "p-1"}))
    pong = await receive_type(comm, "pong")
    assert pong["id"] == "p-1"
    await comm.disconnect()


async def test_an_expired_token_is_noticed_at_the_next_heartbeat(alice):
    token, raw = await sync_to_async(tokens.create)(alice, "bot")
    comm = socket(raw, consumer=QuickHeartbeat)
    await opened(comm)
    from django.utils import timezone

    from pulse.models import ApiToken
    # It expires while connected (no notification): the next heartbeat's check notices.
    await sync_to_async(ApiToken.objects.filter(pk=token.pk).update)(expires_at=timezone.now())
    for _ in range(20):
        message = await receive(comm)
        if message["type"] == "error":
            break
    assert message["error"] == "token_revoked"
    assert (await comm.receive_output(timeout=2))["code"] == close_codes.CLOSE_UNAUTHENTICATED


# Subscriptions and relay ----------------------------------------------------------------


async def test_it_relays_only_subscribed_symbols_snapshots_and_events(alice, market):
    comm = socket(await new_token(alice))
    await opened(comm)
    async with running_ingest() as pipeline:
        await comm.send_to(text_data=json.dumps(
            {"action": "subscribe", "symbols": ["aapl", "BTC-USD"]}))
        subscribed = await receive(comm)
        assert subscribed == {"type": "subscribed", "symbols": ["AAPL", "BTC-USD"],
                              "watchlists": []}
        snapshot = await receive_type(comm, "snapshot")
        assert snapshot["full"] is True
        assert sorted(r["symbol"] for r in snapshot["rows"]) == ["AAPL", "BTC-USD"]
        await pipeline.publisher.snapshots(
            {"MSFT": {"symbol": "MSFT"}, "AAPL": {"symbol": "AAPL", "last": 1.0}}, 1.0,
            full=False)
        update = await receive_type(comm, "snapshot")
        assert update["rows"] == [{"symbol": "AAPL", "last": 1.0}]
        await publish_event("MSFT", "not-mine", seq=pipeline.publisher.seq + 1)
        await publish_event("AAPL", "mine", seq=pipeline.publisher.seq + 2)
        event = await receive_type(comm, "event")
        assert event["event"]["id"] == "mine"  # the MSFT event was not relayed
        await comm.send_to(text_data=json.dumps({"action": "unsubscribe", "symbols": ["AAPL"]}))
        assert (await receive_type(comm, "subscribed"))["symbols"] == ["BTC-USD"]
        await publish_event("AAPL", "after-unsubscribe", seq=pipeline.publisher.seq + 3)
        assert await comm.receive_nothing(timeout=0.2)
    await comm.disconnect()


async def test_it_subscribes_to_the_callers_watchlist_and_follows_its_edits(alice, market):
    tech = await sync_to_async(make_watchlist)(alice, "Tech", [("stocks", "MSFT")])
    comm = socket(await new_token(alice), consumer=QuickHeartbeat)
    await opened(comm)
    await comm.send_to(text_data=json.dumps({"action": "subscribe", "watchlist": tech.pk}))
    subscribed = await receive_type(comm, "subscribed")
    assert subscribed["watchlists"] == [{"id": tech.pk, "symbols": ["MSFT"]}]
    await sync_to_async(make_watchlist)(alice, "Other", [("stocks", "AAPL")])
    from pulse.models import WatchlistItem
    await sync_to_async(WatchlistItem.objects.create)(
        watchlist=tech, instrument=await sync_to_async(instrument)("AAPL"), position=1)
    edited = await receive_type(comm, "subscribed")
    assert edited["watchlists"] == [{"id": tech.pk, "symbols": ["MSFT", "AAPL"]}]
    await comm.disconnect()


async def test_alice_cannot_subscribe_to_bobs_watchlist_4403(alice, bob, market):
    bobs = await sync_to_async(make_watchlist)(bob, "Bob's", [("stocks", "AAPL")])
    comm = socket(await new_token(alice))
    await opened(comm)
    await comm.send_to(text_data=json.dumps({"action": "subscribe", "watchlist": bobs.pk}))
    error = await closed_with(comm, close_codes.CLOSE_FORBIDDEN)
    assert error["error"] == "forbidden_watchlist"


async def test_unknown_or_inactive_symbols_close_4403(alice, market):
    from pulse.models import Instrument
    await sync_to_async(Instrument.objects.filter(symbol="EURUSD").update)(active=False)
    for symbols in (["NOPE"], ["AAPL", "EURUSD"]):
        comm = socket(await new_token(alice))
        await opened(comm)
        await comm.send_to(text_data=json.dumps({"action": "subscribe", "symbols": symbols}))
        error = await closed_with(comm, close_codes.CLOSE_FORBIDDEN)
        assert error["error"] == "forbidden_symbol" and symbols[-1] in error["detail"]


@pytest.mark.parametrize("request_", [
    "not json", "[1]", {"action": "dance"}, {"action": "subscribe"},
    {"action": "subscribe", "symbols": "AAPL"}, {"action": "subscribe", "symbols": ["A B"]},
    {"action": "subscribe", "watchlist": "3"}, {"action": "subscribe", "watchlist": True},
])
async def test_malformed_requests_get_an_error_and_the_socket_stays_open(alice, request_):
    comm = socket(await new_token(alice))
    await opened(comm)
    text = request_ if isinstance(request_, str) else json.dumps(request_)
    await comm.send_to(text_data=text)
    assert (await receive(comm))["type"] == "error"
    await comm.send_to(text_data=json.dumps({"action": "ping"}))
    assert (await receive(comm))["type"] == "pong"
    await comm.disconnect()


# Limits: 4413, 4429, subscriptions, 4408, 4503 ------------------------------------------


async def test_a_message_over_4_kib_closes_4413(alice):
    comm = socket(await new_token(alice))
    await opened(comm)
    await comm.send_to(text_data=json.dumps({"action": "ping", "pad": "x" * 4096}))
    error = await closed_with(comm, close_codes.CLOSE_TOO_LARGE)
    assert error["error"] == "message_too_large"


async def test_a_message_of_exactly_the_limit_is_accepted(alice):
    comm = socket(await new_token(alice))
    await opened(comm)
    base = json.dumps({"action": "ping", "pad": ""})
    await comm.send_to(text_data=json.dumps({"action": "ping", "pad": "x" * (4096 - len(base))}))
    assert (await receive(comm))["type"] == "pong"
    await comm.disconnect()


class FrozenClock(ApiStreamConsumer):
    """Time does not pass: the bucket never refills, so exactly ``burst`` messages pass."""

    clock = staticmethod(lambda: 100.0)


async def test_more_than_the_burst_of_messages_closes_4429(alice):
    comm = socket(await new_token(alice), consumer=FrozenClock)
    await opened(comm)
    for i in range(20):
        await comm.send_to(text_data=json.dumps({"action": "ping", "id": i}))
        assert (await receive(comm))["id"] == i
    await comm.send_to(text_data=json.dumps({"action": "ping", "id": 20}))
    error = await closed_with(comm, close_codes.CLOSE_RATE_LIMITED)
    assert error["error"] == "rate_limited"


def test_the_rate_limit_allows_the_sustained_rate_and_refuses_faster():
    bucket = TokenBucket(rate=10.0, burst=20)
    assert all(bucket.allow(i * 0.1) for i in range(200))  # 10/s for 20 s: all allowed
    fast = TokenBucket(rate=10.0, burst=20)
    allowed = sum(fast.allow(i * 0.05) for i in range(200))  # 20/s for 10 s
    assert 20 + 95 <= allowed <= 20 + 100  # the burst, then 10/s


class TwoSymbols(ApiStreamConsumer):
    limits = StreamLimits(max_symbols=2)


async def test_subscriptions_beyond_the_symbol_limit_are_refused(alice, market):
    comm = socket(await new_token(alice), consumer=TwoSymbols)
    await opened(comm)
    await comm.send_to(text_data=json.dumps({"action": "subscribe", "symbols": ["AAPL", "MSFT"]}))
    assert (await receive_type(comm, "subscribed"))["symbols"] == ["AAPL", "MSFT"]
    await comm.send_to(text_data=json.dumps({"action": "subscribe", "symbols": ["EURUSD"]}))
    error = await receive_type(comm, "error")
    assert error["error"] == "too_many_symbols"
    await comm.send_to(text_data=json.dumps({"action": "subscribe", "symbols": ["AAPL"]}))
    assert (await receive_type(comm, "subscribed"))["symbols"] == ["AAPL", "MSFT"]
    await comm.disconnect()


class NarrowWindow(ApiStreamConsumer):
    window_factory = staticmethod(lambda: SendWindow(pause_above=3, resume_below=1,
                                                     close_above=6))


async def test_a_client_that_does_not_acknowledge_is_closed_4408(alice, market):
    comm = socket(await new_token(alice), consumer=NarrowWindow)
    await opened(comm)
    await comm.send_to(text_data=json.dumps({"action": "subscribe", "symbols": ["AAPL"]}))
    await receive_type(comm, "subscribed")
    for seq in range(1, 20):
        await publish_event("AAPL", f"e{seq}", seq=seq)
    outputs = []
    while True:
        output = await comm.receive_output(timeout=2)
        outputs.append(output)
        if output["type"] == "websocket.close":
            break
    assert output["code"] == close_codes.CLOSE_TOO_SLOW
    events = [o for o in outputs if '"type":"event"' in o.get("text", "")]
    assert len(events) <= 6  # bounded: never buffered for the slow client


async def test_a_client_that_acknowledges_keeps_receiving(alice, market):
    comm = socket(await new_token(alice), consumer=NarrowWindow)
    await opened(comm)
    await comm.send_to(text_data=json.dumps({"action": "subscribe", "symbols": ["AAPL"]}))
    received = 2
    await receive_type(comm, "subscribed")
    for seq in range(1, 20):
        await publish_event("AAPL", f"e{seq}", seq=seq)
        assert (await receive_type(comm, "event"))["event"]["id"] == f"e{seq}"
        received += 1
        await comm.send_to(text_data=json.dumps({"action": "ack", "received": received}))
    await comm.disconnect()


async def test_a_server_going_away_closes_4503(alice):
    comm = socket(await new_token(alice))
    await opened(comm)
    await revocation.announce_going_away()
    error = await closed_with(comm, close_codes.CLOSE_GOING_AWAY)
    assert error["error"] == "going_away"


async def test_the_page_socket_is_unchanged_and_still_checks_origins(alice):
    from channels.auth import AuthMiddlewareStack
    from channels.routing import URLRouter
    from channels.security.websocket import AllowedHostsOriginValidator

    from pulse.api.routing import with_api
    from pulse.routing import websocket_urlpatterns
    app = with_api(AllowedHostsOriginValidator(AuthMiddlewareStack(
        URLRouter(websocket_urlpatterns))))
    raw = await new_token(alice)
    page = WebsocketCommunicator(app, f"/ws/pulse/?token={raw}",
                                 headers=[(b"origin", b"http://evil.example.com"),
                                          (b"host", b"localhost")])
    ok, _ = await page.connect()
    assert not ok
    page = WebsocketCommunicator(app, f"/ws/pulse/?token={raw}",
                                 headers=[(b"origin", b"http://localhost"),
                                          (b"host", b"localhost")])
    ok, _ = await page.connect()
    assert ok and (await page.receive_output())["code"] == 4401  # tokens do not log pages in
    api = WebsocketCommunicator(app, f"/ws/api/?token={raw}")
    assert (await opened(api))["user"] == "alice"
    await api.disconnect()
    await asyncio.sleep(0)
