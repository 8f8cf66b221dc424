"""Every message to a browser or API client has a schema, a builder, and matches its schema.

Each outgoing message is built with its real builder from real producers (a warmed engine's
rows, events, correlation and history; a pipeline's health; an alert rule), then checked
against ``pulse.realtime.schema``, the way Zulip's ``event_schema`` tests do. A type without
a schema, a schema without a builder, or a builder without an example here fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from channels.consumer import get_handler_name

from pulse.alerts import notices
from pulse.alerts.matching import RuleSpec
from pulse.api.consumer import ApiStreamConsumer
from pulse.api.limits import StreamLimits
from pulse.engine import Engine
from pulse.engine.tick import Tick
from pulse.feeds.base import TickQueue
from pulse.ingest.page_queries import PageQueries
from pulse.ingest.pipeline import PulsePipeline
from pulse.live.consumer import PulseConsumer
from pulse.realtime import broadcast, messages, schema
from pulse.realtime.broadcast import Publisher, dumps
from pulse.realtime.flow_control import SendWindow

MARKET = {"AAPL": "stocks", "MSFT": "stocks", "BTC-USD": "crypto"}


def warm_engine(seconds: int = 1200) -> tuple[Engine, list[dict]]:
    """Return an engine fed one tick per second per symbol, and the events a jump fired."""
    engine = Engine()
    prices = dict.fromkeys(MARKET, 100.0)
    for t in range(seconds):
        common = ((t * 7919) % 13 - 6) / 6000.0
        for i, (symbol, asset) in enumerate(MARKET.items()):
            prices[symbol] *= 1.0 + common + ((t * (31 + 17 * i)) % 11 - 5) / 20000.0
            ts = 1_700_000_000.0 + t + 0.1 * i
            engine.on_tick(Tick(symbol, asset, ts, prices[symbol], recv_ts=ts))
    fired = []
    for t in range(seconds, seconds + 5):  # a confirmed jump (a lone print is held back)
        ts = 1_700_000_000.0 + t
        fired += engine.on_tick(Tick("AAPL", "stocks", ts, prices["AAPL"] * 1.05, recv_ts=ts))
    return engine, [event.to_dict() for event in fired]


@pytest.fixture(scope="module")
def examples() -> dict[tuple[str, str], Callable[[], str]]:
    """Return, per (socket, type), a function building that message from real producers."""
    engine, events = warm_engine()
    assert events, "the jump must fire a stress event"
    rows = Publisher.snapshot_message(7, 1.0, True, engine.snapshots())["rows"]
    queries = PageQueries(engine)
    symbols = list(MARKET)
    rule = RuleSpec(id=1, owner_id=1, name="AAPL moves", sound=True)
    limits = StreamLimits().as_dict()

    def snapshot() -> str:
        return messages.snapshot_text(7, 1_700_000_000.5, True, rows.values())

    def event() -> str:
        return messages.event_text(8, dumps(events[0]))

    def health() -> str:
        pipeline = PulsePipeline(engine, TickQueue(10), {})
        return messages.health_text(9, dumps(pipeline.health()))

    return {
        ("page", "hello"): lambda: messages.hello_text("alice", {"id": 3, "name": "Tech"},
                                                       symbols),
        ("page", "watchlist"): lambda: messages.watchlist_text(None, None),
        ("page", "snapshot"): snapshot,
        ("page", "event"): event,
        ("page", "health"): health,
        ("page", "correlation"): lambda: messages.correlation_text(10, queries.correlation(
            symbols, "MSFT", window=None, method="bucketed", bucket=20)),
        ("page", "history"): lambda: messages.history_text(queries.history(symbols, 900, 15)),
        ("page", "stats"): lambda: messages.stats_text(SendWindow().stats()),
        ("page", "alert"): lambda: notices.alert_text(rule, events[0]),
        ("page", "alert_throttled"): lambda: notices.throttle_text(rule, 4),
        ("api", "hello"): lambda: messages.api_hello_text("alice", 15.0, limits),
        ("api", "subscribed"): lambda: messages.subscribed_text(
            {"AAPL"}, {3: ("MSFT", "AAPL")}),
        ("api", "snapshot"): snapshot,
        ("api", "event"): event,
        ("api", "heartbeat"): lambda: messages.heartbeat_text(1_700_000_000.0, 2),
        ("api", "pong"): lambda: messages.pong_text("p1", 1_700_000_000.0),
        ("api", "error"): lambda: messages.error_text("too_slow", "1001 messages"),
    }


def outgoing_schemas() -> set[tuple[str, str]]:
    return {(socket, kind) for (socket, way), types in schema.SCHEMAS.items() if way == "out"
            for kind in types}


def test_every_message_type_has_a_schema_a_builder_and_an_example(examples):
    assert set(messages.BUILDERS) == outgoing_schemas()
    assert set(examples) == outgoing_schemas()


@pytest.mark.parametrize("key", sorted(outgoing_schemas()), ids="-".join)
def test_each_message_built_by_its_producer_matches_its_schema(examples, key):
    socket, kind = key
    data = json.loads(examples[key]())
    assert data["type"] == kind
    schema.check(socket, "out", data)


@pytest.mark.parametrize("engine", [warm_engine(1500)[0], Engine()], ids=["warm", "cold"])
def test_the_kernel_correlation_matches_too_even_before_the_first_tick(engine):
    text = PageQueries(engine).correlation(list(MARKET), None, window=None, method=None,
                                           bucket=None)
    schema.check("page", "out", json.loads(messages.correlation_text(1, text)))


@pytest.mark.parametrize(("change", "error"), [
    (lambda m: m.pop("seq"), "field 'seq' missing"),
    (lambda m: m.update(extra=1), "unexpected field 'extra'"),
    (lambda m: m.update(full="yes"), "bool expected"),
    (lambda m: m["rows"][0].pop("last"), "field 'last' missing"),
    (lambda m: m["rows"][0].update(ret_2h=True), "number expected"),
    (lambda m: m.update(type="snapshots"), "unknown type"),
])
def test_the_schema_rejects_what_the_page_would_misread(examples, change, error):
    data = json.loads(examples["page", "snapshot"]())
    change(data)
    with pytest.raises(schema.SchemaError, match=error):
        schema.check("page", "out", data)


def test_every_group_message_a_socket_receives_has_a_handler():
    shared = [broadcast.SNAPSHOT, broadcast.EVENT, broadcast.HEALTH, broadcast.CORRELATION,
              broadcast.HISTORY]
    page = [*shared, broadcast.ALERT, broadcast.WATCHLIST_CHANGED, broadcast.USER_LOGOUT]
    api = [*shared, broadcast.TOKEN_REVOKED, broadcast.GOING_AWAY]
    for consumer, types in [(PulseConsumer, page), (ApiStreamConsumer, api)]:
        for kind in types:
            assert hasattr(consumer, get_handler_name({"type": kind})), (consumer, kind)


def test_the_consumers_build_messages_only_through_the_messages_module():
    import inspect

    import pulse.api.consumer
    import pulse.live.consumer
    import pulse.realtime.relay

    # The only writes to a socket: the base's send_message, and the API's error before close.
    allowed = {"text_data=text", "text_data=msg.error_text(error, detail)"}
    for module in (pulse.live.consumer, pulse.api.consumer, pulse.realtime.relay):
        source = inspect.getsource(module)
        writes = set(re.findall(r"self\.send\((text_data=[^\n]*?)\)\n", source))
        assert writes <= allowed, (module.__name__, writes - allowed)
        literals = re.findall(r'\{"type": ?"', source)
        assert not literals, f"{module.__name__} builds a message itself"
