"""Every message sent to a browser or API client, built here and only here.

Each builder returns the JSON text of one message type on one socket (``page``:
``/ws/pulse/``, ``api``: ``/ws/api/``) and is registered in :data:`BUILDERS` under that
name; the schema of each is in ``pulse.realtime.schema`` (a test checks that both name the
same messages). Consumers send them through ``RelayConsumer.send_message``; alerts reach the
page through ingest (``pulse.alerts.notices``), pre-built here.

Snapshot rows and events arrive as JSON fragments serialized once by ingest, so
``snapshot`` and ``event`` are joined from strings without re-serializing anything (see
README, "WebSocket protocol"). That hot path stays a string format: checking a message
against its schema happens only when a test turns on :func:`check_messages`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from pulse.realtime import schema
from pulse.realtime.broadcast import dumps

PROTOCOL_VERSION = 1  # of the streaming API (``hello``'s ``protocol``)

# (socket, type) -> builder of that message
BUILDERS: dict[tuple[str, str], Callable[..., str]] = {}

_checking = False


def builds(kind: str, *sockets: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Register the decorated function as the builder of message ``kind`` on ``sockets``."""

    def register(builder: Callable[..., str]) -> Callable[..., str]:
        for socket in sockets:
            BUILDERS[socket, kind] = builder
        return builder

    return register


def check_messages(enabled: bool) -> None:
    """Check every message sockets opened from now on send against its schema (tests)."""
    global _checking
    _checking = enabled


def checking() -> bool:
    """Return whether new sockets check their outgoing messages."""
    return _checking


def check_outgoing(socket: str, text: str) -> None:
    """Raise ``schema.SchemaError`` unless ``text`` is a valid message of ``socket``."""
    schema.check(socket, "out", orjson.loads(text))


# Both sockets: relayed from ingest's pre-serialized fragments ---------------------------


@builds("snapshot", "page", "api")
def snapshot_text(seq: int, ts: float | None, full: bool, rows: Iterable[str]) -> str:
    """Return the ``snapshot`` message holding the given row fragments."""
    return (
        f'{{"type":"snapshot","seq":{seq},"ts":{dumps(ts)},"full":{dumps(full)},'
        f'"rows":[{",".join(rows)}]}}'
    )


@builds("event", "page", "api")
def event_text(seq: int, event_json: str) -> str:
    """Return the ``event`` message for one pre-serialized stress event."""
    return f'{{"type":"event","seq":{seq},"event":{event_json}}}'


# The page socket -------------------------------------------------------------------------


@builds("hello", "page")
def hello_text(
    username: str, watchlist: Mapping[str, Any] | None, symbols: list[str] | None
) -> str:
    """Return the first message a page gets: who it is and which symbols it will see."""
    return dumps(
        {"type": "hello", "user": username, "watchlist": watchlist, "symbols": symbols}
    )


@builds("watchlist", "page")
def watchlist_text(watchlist: Mapping[str, Any] | None, symbols: list[str] | None) -> str:
    """Return the ``watchlist`` message: the list's symbols changed while the page is open."""
    return dumps({"type": "watchlist", "watchlist": watchlist, "symbols": symbols})


@builds("health", "page")
def health_text(seq: int, health_json: str) -> str:
    """Return the ``health`` message (pre-serialized by ingest)."""
    return f'{{"type":"health","seq":{seq},"health":{health_json}}}'


@builds("correlation", "page")
def correlation_text(seq: int, correlation_json: str) -> str:
    """Return the ``correlation`` message."""
    return f'{{"type":"correlation","seq":{seq},"correlation":{correlation_json}}}'


@builds("history", "page")
def history_text(history_json: str) -> str:
    """Return the ``history`` message (recent price path per symbol)."""
    return f'{{"type":"history","history":{history_json}}}'


@builds("stats", "page")
def stats_text(stats: Mapping[str, Any]) -> str:
    """Return the ``stats`` message: this socket's own delivery counters."""
    return dumps({"type": "stats", **stats})


@builds("alert", "page")
def alert_text(rule: Mapping[str, Any], event: Mapping[str, Any], *, sound: bool,
               notify: bool) -> str:
    """Return the ``alert`` message of one fired rule (toast; sound and notification flags)."""
    return dumps({"type": "alert", "rule": dict(rule), "event": dict(event), "sound": sound,
                  "notify": notify})


@builds("alert_throttled", "page")
def alert_throttled_text(rule: Mapping[str, Any], suppressed: int, limit_per_minute: int) -> str:
    """Return the ``alert_throttled`` message: a rule hit its rate limit."""
    return dumps({"type": "alert_throttled", "rule": dict(rule), "suppressed": suppressed,
                  "limit_per_minute": limit_per_minute})


# The streaming API socket ----------------------------------------------------------------


@builds("hello", "api")
def api_hello_text(username: str, heartbeat: float, limits: Mapping[str, Any]) -> str:
    """Return the first message: who the token belongs to, heartbeat period and limits."""
    return dumps({"type": "hello", "protocol": PROTOCOL_VERSION, "user": username,
                  "heartbeat": heartbeat, "limits": dict(limits)})


@builds("subscribed", "api")
def subscribed_text(symbols: Iterable[str], watchlists: Mapping[int, Iterable[str]]) -> str:
    """Return the current subscriptions after a (un)subscribe or a watchlist edit."""
    return dumps({"type": "subscribed", "symbols": sorted(symbols),
                  "watchlists": [{"id": wid, "symbols": list(syms)}
                                 for wid, syms in sorted(watchlists.items())]})


@builds("heartbeat", "api")
def heartbeat_text(ts: float, backlog: int) -> str:
    """Return the periodic heartbeat (the client's unacknowledged count helps it tune acks)."""
    return dumps({"type": "heartbeat", "ts": ts, "backlog": backlog})


@builds("pong", "api")
def pong_text(request_id: Any, ts: float) -> str:
    """Return the answer to a client ``ping`` (its ``id`` echoed)."""
    return dumps({"type": "pong", "id": request_id, "ts": ts})


@builds("error", "api")
def error_text(code: str, detail: Any = None) -> str:
    """Return an ``error`` message: a bad request (the socket stays open) or a close reason."""
    return dumps({"type": "error", "error": code, "detail": detail})
