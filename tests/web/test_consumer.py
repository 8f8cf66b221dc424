"""The browser WebSocket: login required, origins checked, each user sees only their symbols."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from pulse.broadcast import PULSE_GROUP, Publisher
from pulse.consumers import restrict_correlation
from pulse.models import Instrument, Watchlist, WatchlistItem
from pulse_site.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ROW_AAPL = {"symbol": "AAPL", "asset": "stocks", "last": 190.5, "ret_1m": 0.001}
ROW_EUR = {"symbol": "EURUSD", "asset": "forex", "last": 1.08, "ret_1m": -0.0002}


@database_sync_to_async
def session_cookie(user) -> str:
    """Return a Cookie header value for a logged-in session of ``user``."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"sessionid={store.session_key}"


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


async def test_a_sequence_gap_makes_the_consumer_ask_ingest_for_a_full_snapshot(alice):
    layer = get_channel_layer()
    control = await layer.new_channel("test-control.")
    await layer.group_add("pulse-control", control)
    comm = communicator(await session_cookie(alice))
    await connected(comm)
    first = await layer.receive(control)  # the request every new socket makes
    assert first["type"] == "pulse.request_snapshot"
    message = Publisher.snapshot_message(1, 1.0, False, {"AAPL": ROW_AAPL})
    await layer.group_send(PULSE_GROUP, message)
    await comm.receive_from()
    await layer.group_send(PULSE_GROUP, Publisher.snapshot_message(5, 2.0, False, {}))
    again = await layer.receive(control)
    assert again["reply_to"] == first["reply_to"]
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
