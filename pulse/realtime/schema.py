"""The schema of every message on both client sockets, as small checker objects.

Modelled on Zulip's ``zerver/lib/data_types.py`` and ``event_schema.py``: a schema is a tree
of tiny objects (:class:`Dict`, :class:`List`, :class:`Opt`, ...) that each check one value
and describe themselves in a word or two. ``SCHEMAS`` names every message by socket
(``page``: ``/ws/pulse/``, ``api``: ``/ws/api/``), direction (``out``: server to client,
``in``: client to server) and ``type`` (``action`` for requests). Tests build each outgoing
message with its real builder (``pulse.realtime.messages``) and check it here; the docs'
tables are checked against :func:`markdown` (``python -m pulse.realtime.schema --markdown``).

Pure Python and no Django: checking costs nothing unless a caller asks for it.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class SchemaError(ValueError):
    """A value does not match its schema (the message names the path to it)."""


class Type:
    """One checker: ``check(path, value)`` raises :class:`SchemaError`; ``describe()``."""

    def check(self, path: str, value: Any) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Scalar(Type):
    """A JSON scalar of one Python type (``bool`` is never a number)."""

    name: str
    types: tuple[type, ...]

    def check(self, path: str, value: Any) -> None:
        if isinstance(value, bool) and bool not in self.types:
            raise SchemaError(f"{path}: {self.name} expected, got {value!r}")
        if not isinstance(value, self.types):
            raise SchemaError(f"{path}: {self.name} expected, got {type(value).__name__}")

    def describe(self) -> str:
        return self.name


STR = Scalar("string", (str,))
INT = Scalar("integer", (int,))
NUM = Scalar("number", (int, float))
BOOL = Scalar("bool", (bool,))


@dataclass(frozen=True)
class AnyValue(Type):
    """Anything JSON can hold (a field whose content is documented elsewhere)."""

    name: str = "any"

    def check(self, path: str, value: Any) -> None:
        return None

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class Equals(Type):
    """Exactly one value (the ``type`` of a message)."""

    value: Any

    def check(self, path: str, value: Any) -> None:
        if value != self.value or type(value) is not type(self.value):
            raise SchemaError(f"{path}: {self.value!r} expected, got {value!r}")

    def describe(self) -> str:
        return repr(self.value).replace("'", '"')


@dataclass(frozen=True)
class OneOf(Type):
    """One of a few values (an enumeration)."""

    values: tuple[Any, ...]

    def check(self, path: str, value: Any) -> None:
        if isinstance(value, bool) or value not in self.values:
            raise SchemaError(f"{path}: one of {self.values!r} expected, got {value!r}")

    def describe(self) -> str:
        return " \\| ".join(repr(v).replace("'", '"') for v in self.values)


@dataclass(frozen=True)
class Opt(Type):
    """``null`` or the inner type."""

    inner: Type

    def check(self, path: str, value: Any) -> None:
        if value is not None:
            self.inner.check(path, value)

    def describe(self) -> str:
        return f"{self.inner.describe()} or null"


@dataclass(frozen=True)
class List(Type):
    """A JSON array of one type."""

    item: Type

    def check(self, path: str, value: Any) -> None:
        if not isinstance(value, list):
            raise SchemaError(f"{path}: list expected, got {type(value).__name__}")
        for i, item in enumerate(value):
            self.item.check(f"{path}[{i}]", item)

    def describe(self) -> str:
        return f"list of {self.item.describe()}"


@dataclass(frozen=True)
class Map(Type):
    """A JSON object keyed by strings (e.g. symbols) with values of one type."""

    value: Type
    key: str = "key"

    def check(self, path: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise SchemaError(f"{path}: object expected, got {type(value).__name__}")
        for key, item in value.items():
            if not isinstance(key, str):
                raise SchemaError(f"{path}: string keys expected, got {key!r}")
            self.value.check(f"{path}.{key}", item)

    def describe(self) -> str:
        return f"{{{self.key}: {self.value.describe()}}}"


@dataclass(frozen=True)
class Dict(Type):
    """A JSON object with named fields.

    ``required`` and ``optional`` map field names to types; ``patterns`` maps a regular
    expression to the type of every other field whose name matches it (the engine's
    per-horizon fields such as ``ret_15m``). Unknown fields are an error unless ``extra``
    gives their type.
    """

    required: Mapping[str, Type]
    optional: Mapping[str, Type] = field(default_factory=dict)
    patterns: Mapping[str, Type] = field(default_factory=dict)
    extra: Type | None = None
    name: str = "object"

    def check(self, path: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise SchemaError(f"{path}: object expected, got {type(value).__name__}")
        for key, kind in self.required.items():
            if key not in value:
                raise SchemaError(f"{path}: field {key!r} missing")
            kind.check(f"{path}.{key}", value[key])
        for key, item in value.items():
            if key in self.required:
                continue
            kind = self.optional.get(key) or self._pattern_type(key) or self.extra
            if kind is None:
                raise SchemaError(f"{path}: unexpected field {key!r}")
            kind.check(f"{path}.{key}", item)

    def _pattern_type(self, key: str) -> Type | None:
        for pattern, kind in self.patterns.items():
            if re.fullmatch(pattern, key):
                return kind
        return None

    def fields(self) -> list[str]:
        """Return the names of every declared field (patterns as written)."""
        return [*self.required, *self.optional, *self.patterns]

    def describe(self) -> str:
        return self.name


# Payloads -----------------------------------------------------------------------------

OPT_NUM = Opt(NUM)
WATCHLIST = Dict({"id": INT, "name": STR}, name="watchlist")
# ``StressEvent.to_dict()`` of the engine (README, "Stress events").
EVENT = Dict({
    "id": STR, "symbol": STR, "asset": STR, "type": STR, "direction": OneOf(("up", "down")),
    "severity": STR, "ts": NUM, "value": OPT_NUM, "threshold": OPT_NUM, "z": OPT_NUM,
    "window": NUM, "regime": STR, "ref_price": OPT_NUM, "ref_age": OPT_NUM, "price": NUM,
    "also": List(STR), "span": OPT_NUM, "gap": BOOL, "episode": STR, "episode_seq": INT,
    "message": STR,
}, name="event")
# One snapshot row (README, "Metrics"); the horizons and move rules are configurable, so
# their fields are matched by name.
ROW = Dict({
    "symbol": STR, "asset": STR, "last": NUM, "bid": OPT_NUM, "ask": OPT_NUM, "mid": OPT_NUM,
    "ts": NUM, "vol_15m": OPT_NUM, "trend_15m": OPT_NUM, "trend_t": OPT_NUM, "regime": STR,
    "regime_z": OPT_NUM, "vol_baseline": OPT_NUM, "tick_rate": NUM, "staleness": OPT_NUM,
    "ticks": INT,
}, patterns={r"ret_\w+": OPT_NUM, r"ref_age_\w+": OPT_NUM, r"z_\w+": OPT_NUM}, name="row")
# Feed health (README, "Operations"): optional services report under their own key, and
# each feed's counters are the feed's, so only the frame is fixed here.
HEALTH = Dict({
    "started_at": NUM, "uptime": NUM, "ticks": INT,
    "queue": Dict({"depth": INT, "max": INT, "dropped": INT}, name="queue"),
    "feeds": Map(Map(AnyValue(), "counter"), "feed"), "engine": Map(AnyValue(), "counter"),
    "lag": Dict({"last": NUM, "max": NUM}, name="lag"),
    "flushes": Dict({"count": INT, "rows": INT}, name="flushes"),
    "events": Dict({"emitted": INT, "persisted": INT}, name="events"),
    "unrouted": List(AnyValue()),
}, extra=Opt(AnyValue("object")), name="health")
GRID = List(List(OPT_NUM))
# Before ingest has seen a tick the answer is the bare frame (no window, as_of, base_regime).
CORRELATION = Dict({
    "symbols": List(STR), "matrix": GRID, "coverage": List(List(INT)),
    "status": List(List(STR)), "stderr": GRID, "method": Opt(STR), "base": Opt(STR),
    "bucket": Opt(INT),
    "top": List(Dict({"symbol": STR, "corr": OPT_NUM, "coverage": INT, "stderr": OPT_NUM},
                     name="top item")),
}, optional={"window": NUM, "as_of": NUM, "base_regime": Opt(STR), "horizon": NUM,
             "delay": NUM, "bucket_seconds": NUM}, name="correlation")
HISTORY = Dict({"seconds": NUM, "step": NUM, "series": Map(List(List(NUM)), "symbol")},
               name="history")
RULE = Dict({"id": INT, "name": STR}, name="rule")
ALERT_EVENT = Dict({key: Opt(AnyValue()) for key in (
    "id", "symbol", "asset", "type", "direction", "severity", "ts", "value", "z", "window",
    "price", "message")}, name="event summary")
LIMITS = Dict({"max_message_bytes": INT, "max_symbols": INT, "rate_per_second": NUM,
               "burst": INT}, name="limits")


def message(kind: str, key: str = "type", **fields: Type) -> Dict:
    """Return the schema of a message whose ``key`` (``type`` or ``action``) is ``kind``."""
    return Dict({key: Equals(kind), **fields}, name=kind)


def request(action: str, optional: Mapping[str, Type] | None = None, **fields: Type) -> Dict:
    """Return the schema of a client request ``{"action": action, ...}``."""
    return Dict({"action": Equals(action), **fields}, optional=dict(optional or {}),
                name=action)


SNAPSHOT = message("snapshot", seq=INT, ts=OPT_NUM, full=BOOL, rows=List(ROW))
EVENT_MESSAGE = message("event", seq=INT, event=EVENT)
ACK = request("ack", received=INT)
RESYNC = request("resync")
SYMBOLS = List(STR)

# (socket, direction) -> {type or action: schema}
SCHEMAS: dict[tuple[str, str], dict[str, Dict]] = {
    ("page", "out"): {
        "hello": message("hello", user=STR, watchlist=Opt(WATCHLIST), symbols=Opt(SYMBOLS)),
        "watchlist": message("watchlist", watchlist=Opt(WATCHLIST), symbols=Opt(SYMBOLS)),
        "snapshot": SNAPSHOT,
        "event": EVENT_MESSAGE,
        "health": message("health", seq=INT, health=HEALTH),
        "correlation": message("correlation", seq=INT, correlation=CORRELATION),
        "history": message("history", history=HISTORY),
        "stats": message("stats", sent=INT, acked=INT, backlog=INT, paused=BOOL,
                         dropped_snapshots=INT, events_sent=INT, events_while_behind=INT),
        "alert": message("alert", rule=RULE, event=ALERT_EVENT, sound=BOOL, notify=BOOL),
        "alert_throttled": message("alert_throttled", rule=RULE, suppressed=INT,
                                   limit_per_minute=INT),
    },
    ("page", "in"): {
        "ack": ACK,
        "resync": RESYNC,
        "correlation": request("correlation", optional={"base": Opt(STR),
                                                        "bucket": Opt(OneOf((10, 20, 30)))}),
        "history": request("history", symbols=SYMBOLS, optional={"seconds": NUM,
                                                                 "step": NUM}),
        "stats": request("stats"),
    },
    ("api", "out"): {
        "hello": message("hello", protocol=INT, user=STR, heartbeat=NUM, limits=LIMITS),
        "subscribed": message("subscribed", symbols=SYMBOLS, watchlists=List(
            Dict({"id": INT, "symbols": SYMBOLS}, name="watchlist"))),
        "snapshot": SNAPSHOT,
        "event": EVENT_MESSAGE,
        "heartbeat": message("heartbeat", ts=NUM, backlog=INT),
        "pong": message("pong", id=AnyValue(), ts=NUM),
        "error": message("error", error=STR, detail=AnyValue()),
    },
    ("api", "in"): {
        "subscribe": request("subscribe", optional={"symbols": SYMBOLS, "watchlist": INT}),
        "unsubscribe": request("unsubscribe", optional={"symbols": SYMBOLS, "watchlist": INT,
                                                        "all": BOOL}),
        "ping": request("ping", optional={"id": AnyValue()}),
        "ack": ACK,
        "resync": RESYNC,
    },
}


def check(socket: str, direction: str, data: Any) -> None:
    """Raise :class:`SchemaError` unless ``data`` is a valid message of that socket and way."""
    key = "type" if direction == "out" else "action"
    if not isinstance(data, dict):
        raise SchemaError(f"{socket} message: object expected, got {type(data).__name__}")
    schema = SCHEMAS[socket, direction].get(data.get(key))  # type: ignore[arg-type]
    if schema is None:
        raise SchemaError(f"{socket} message: unknown {key} {data.get(key)!r}")
    schema.check(f"{socket}:{data[key]}", data)


# Documentation ------------------------------------------------------------------------

TITLES = {("page", "out"): "Server to page", ("page", "in"): "Page to server",
          ("api", "out"): "Server to client", ("api", "in"): "Client to server"}


def markdown(socket: str) -> str:
    """Return the message tables of ``socket``: one row per message, its fields and types."""
    lines: list[str] = []
    for (name, direction), schemas in SCHEMAS.items():
        if name != socket:
            continue
        key = "type" if direction == "out" else "action"
        lines += [f"#### {TITLES[name, direction]}", "", f"| `{key}` | Fields |", "| --- | --- |"]
        for kind, schema in schemas.items():
            fields = [f"`{f}`: {t.describe()}" for f, t in schema.required.items() if f != key]
            fields += [f"`{f}` (optional): {t.describe()}" for f, t in schema.optional.items()]
            lines.append(f"| `{kind}` | {'; '.join(fields) or '(none)'} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print the message tables of a socket (``--markdown page`` or ``--markdown api``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", choices=("page", "api"), required=True,
                        help="print the message tables of this socket as Markdown")
    print(markdown(parser.parse_args(argv).markdown), end="")


if __name__ == "__main__":
    main()
