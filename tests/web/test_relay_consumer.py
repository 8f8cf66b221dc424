"""The relay consumers dispatch without Channels' per-message thread hop, safely.

Channels runs ``close_old_connections`` in the executor thread before every handler; at a
thousand pages that hop cost half of a daphne process (see ``pulse.realtime.relay``). These
tests pin both halves of the trade: relayed messages make no hop, and the consumers' own
database work still cleans up stale connections around each query.
"""

from __future__ import annotations

import inspect
import json
import re

import channels.consumer
import channels.db
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

import pulse.api.consumer
import pulse.live.consumer
from pulse.realtime.broadcast import Publisher
from pulse.realtime.relay import RelayConsumer
from pulse_site.asgi import application
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

ROW = {"symbol": "AAPL", "asset": "stocks", "last": 190.5, "ret_1m": 0.001}


def page_socket(cookie: str) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"),
               (b"cookie", cookie.encode())]
    return WebsocketCommunicator(application, "/ws/pulse/", headers=headers)


async def test_relayed_messages_make_no_thread_hop(alice, monkeypatch):
    hops = []

    async def counting_cleanup() -> None:
        hops.append(1)

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counting_cleanup)
    comm = page_socket(await database_sync_to_async(session_cookie_for)(alice))
    ok, _ = await comm.connect()
    assert ok
    assert json.loads(await comm.receive_from())["type"] == "hello"
    publisher = Publisher(get_channel_layer())
    for second in range(5):
        await publisher.snapshots({"AAPL": ROW}, 1_700_000_000.0 + second, full=False)
    await publisher.event({"symbol": "AAPL", "type": "move_1m", "id": "AAPL|move_1m|up|1"})
    kinds = [json.loads(await comm.receive_from())["type"] for _ in range(6)]
    assert kinds == ["snapshot"] * 5 + ["event"]
    await comm.disconnect()
    assert hops == []  # upstream dispatch would have hopped once per message (8 here)


async def test_the_consumers_database_work_still_closes_stale_connections(alice, monkeypatch):
    cleanups = []
    real = channels.db.close_old_connections

    def counting_close(**kwargs) -> None:
        cleanups.append(1)
        real(**kwargs)

    monkeypatch.setattr(channels.db, "close_old_connections", counting_close)
    found, _, symbols = await pulse.live.consumer.PulseConsumer()._load_watchlist(alice, None)
    assert found and symbols is None
    assert len(cleanups) == 2  # before and after the query, in the thread that ran it
    comm = page_socket(await database_sync_to_async(session_cookie_for)(alice))
    ok, _ = await comm.connect()
    assert ok
    assert json.loads(await comm.receive_from())["type"] == "hello"
    await comm.disconnect()
    assert len(cleanups) > 2 + 2  # the connect's lookups got theirs too


@pytest.mark.parametrize("module", [pulse.live.consumer, pulse.api.consumer])
def test_relay_consumers_reach_the_database_only_through_database_sync_to_async(module):
    source = inspect.getsource(module)
    plain = re.findall(r"(?<!database_)sync_to_async", source)
    assert plain == [], f"{module.__name__} uses sync_to_async without connection cleanup"
    classes = [obj for obj in vars(module).values()
               if inspect.isclass(obj) and obj.__module__ == module.__name__
               and issubclass(obj, channels.consumer.AsyncConsumer)]
    assert classes and all(issubclass(cls, RelayConsumer) for cls in classes)


async def test_an_unknown_message_type_is_an_error_as_upstream():
    consumer = RelayConsumer()
    with pytest.raises(ValueError, match=r"No handler for message type pulse\.nonsense"):
        await consumer.dispatch({"type": "pulse.nonsense"})
