"""Both sockets, driven by a real ingest, send only messages that match their schema.

With ``messages.check_messages(True)`` every socket opened checks each message it sends
(``RelayConsumer.send`` is swapped at connect, so production pays nothing): a message off
its schema raises in the consumer and fails the test at the next receive.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from pulse.alerts import notices
from pulse.alerts.matching import RuleSpec
from pulse.api import tokens
from pulse.api.consumer import ApiStreamConsumer
from pulse.models import WatchlistItem
from pulse.realtime import messages, schema
from pulse.realtime.broadcast import PULSE_GROUP, Publisher
from pulse_site.asgi import application
from tests.api.conftest import api_app
from tests.conftest import session_cookie_for
from tests.factories import instrument, make_watchlist
from tests.ingest_helpers import running_ingest
from tests.realtime.test_messages import warm_engine

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def checked():
    """Check every outgoing message of the sockets opened in these tests."""
    messages.check_messages(True)
    yield
    messages.check_messages(False)


async def received(comm: WebsocketCommunicator, socket: str, kind: str) -> dict:
    """Return the next message of ``kind``, checking every message on the way."""
    for _ in range(50):
        data = json.loads(await comm.receive_from(timeout=2))
        schema.check(socket, "out", data)
        if data["type"] == kind:
            return data
    raise AssertionError(f"no {kind} message")


async def send(comm: WebsocketCommunicator, socket: str, request: dict) -> None:
    """Send a client request, checked against the client-to-server schema first."""
    schema.check(socket, "in", request)
    await comm.send_to(text_data=json.dumps(request))


def add_symbol(watchlist, symbol: str, asset: str) -> None:
    WatchlistItem.objects.create(watchlist=watchlist, instrument=instrument(symbol, asset),
                                 position=99)


async def test_every_message_on_the_page_socket_matches_its_schema(alice):
    tech = await sync_to_async(make_watchlist)(alice, "Tech", [("stocks", "AAPL"),
                                                               ("stocks", "MSFT")], True)
    engine, events = warm_engine()
    cookie = await database_sync_to_async(session_cookie_for)(alice)
    async with running_ingest(engine) as pipeline:
        comm = WebsocketCommunicator(application, "/ws/pulse/?base=MSFT&bucket=20", headers=[
            (b"origin", b"http://localhost"), (b"host", b"localhost"),
            (b"cookie", cookie.encode())])
        assert (await comm.connect())[0]
        await received(comm, "page", "hello")
        await received(comm, "page", "snapshot")
        await received(comm, "page", "correlation")
        await pipeline.publisher.event(events[0])
        await received(comm, "page", "event")
        await pipeline.publish_health()
        await received(comm, "page", "health")
        await send(comm, "page", {"action": "history", "symbols": ["AAPL"], "seconds": 900,
                                  "step": 15})
        await received(comm, "page", "history")
        await send(comm, "page", {"action": "stats"})
        await received(comm, "page", "stats")
        rule = RuleSpec(id=1, owner_id=alice.pk, name="AAPL moves")
        notify = notices.LayerNotifier(get_channel_layer())
        await notify(alice.pk, notices.alert_text(rule, events[0]))
        await received(comm, "page", "alert")
        await notify(alice.pk, notices.throttle_text(rule, 3))
        await received(comm, "page", "alert_throttled")
        await sync_to_async(add_symbol)(tech, "BTC-USD", "crypto")
        await received(comm, "page", "watchlist")
        await send(comm, "page", {"action": "correlation", "base": "AAPL", "bucket": None})
        await received(comm, "page", "correlation")
        await send(comm, "page", {"action": "resync"})
        await received(comm, "page", "snapshot")
        await comm.disconnect()


async def test_a_message_off_its_schema_fails_loudly_when_checking(alice):
    cookie = await database_sync_to_async(session_cookie_for)(alice)
    comm = WebsocketCommunicator(application, "/ws/pulse/", headers=[
        (b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie.encode())])
    assert (await comm.connect())[0]
    await received(comm, "page", "hello")
    # A row without its metrics: what a producer bug would send.
    bad = Publisher.snapshot_message(1, 1.0, False, {"AAPL": {"symbol": "AAPL"}})
    await get_channel_layer().group_send(PULSE_GROUP, {**bad, "src": "test"})
    with pytest.raises(schema.SchemaError, match="field 'asset' missing"):
        await comm.receive_from(timeout=2)


class QuickHeartbeat(ApiStreamConsumer):
    heartbeat_interval = 0.1


async def test_every_message_on_the_api_socket_matches_its_schema(alice):
    for symbol, asset in [("AAPL", "stocks"), ("MSFT", "stocks"), ("BTC-USD", "crypto")]:
        await sync_to_async(instrument)(symbol, asset)
    watchlist = await sync_to_async(make_watchlist)(alice, "Tech", [("stocks", "MSFT")])
    token = (await sync_to_async(tokens.create)(alice, "bot"))[1]
    engine, events = warm_engine()
    async with running_ingest(engine) as pipeline:
        comm = WebsocketCommunicator(api_app(QuickHeartbeat), f"/ws/api/?token={token}")
        assert (await comm.connect())[0]
        await received(comm, "api", "hello")
        await send(comm, "api", {"action": "subscribe", "symbols": ["AAPL"]})
        await received(comm, "api", "subscribed")
        await received(comm, "api", "snapshot")
        await send(comm, "api", {"action": "subscribe", "watchlist": watchlist.pk})
        await received(comm, "api", "subscribed")
        await pipeline.publisher.event(events[0])
        await received(comm, "api", "event")
        await send(comm, "api", {"action": "ping", "id": "p1"})
        assert (await received(comm, "api", "pong"))["id"] == "p1"
        await send(comm, "api", {"action": "ack", "received": 3})
        await received(comm, "api", "heartbeat")
        await send(comm, "api", {"action": "unsubscribe", "all": True})
        await received(comm, "api", "subscribed")
        await comm.send_to(text_data=json.dumps({"action": "dance"}))
        assert (await received(comm, "api", "error"))["error"] == "unknown_action"
        await send(comm, "api", {"action": "resync"})
        await comm.disconnect()
