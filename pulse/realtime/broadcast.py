"""The one place that names channel-layer groups and message types, and the publisher.

Ingest publishes here; consumers (``pulse.realtime.relay``) relay to browsers and API
clients, whose messages are built in ``pulse.realtime.messages``. Every relayed message
carries a ``seq`` (the publisher's sequence number, so a gap means lost messages).
Snapshot rows and events are serialized once, at publish time, as per-symbol JSON fragments:
a consumer filters by the symbols its user may see and joins the fragments into one message
without re-serializing anything (see README, "WebSocket protocol").

Channel-layer message types (``type`` maps to a consumer handler, dots become underscores);
every one also carries ``src``, the publishing ingest process, whose ``seq`` it is:

- ``pulse.snapshot``: ``{"seq", "ts", "full", "rows": {symbol: row_json}}``
- ``pulse.event``: ``{"seq", "symbol", "event": event_json}``
- ``pulse.health``: ``{"seq", "health": health_json}``
- ``pulse.correlation``: ``{"seq", "correlation": correlation_json}``
- ``pulse.request_snapshot`` (to the control group): ``{"reply_to": channel_name}``
- ``pulse.request_correlation`` (to the control group): ``{"reply_to", "symbols", "base",
  "method", "bucket"}``; answered on ``reply_to`` with a ``pulse.correlation`` reply
- ``pulse.request_history`` (to the control group): ``{"reply_to", "symbols", "seconds",
  "step"}``; answered on ``reply_to`` with ``pulse.history``: ``{"seq", "history": json}``

- ``pulse.grid_samples`` (to the grid group, between ingest shards only):
  ``{"src", "samples": json}``, the correlation grid samples of the sender's own symbols
  (``pulse.ingest.grid_exchange``)

Sent by the web processes and ingest to other groups:

- ``pulse.alert`` (to a user's group): ``{"text": alert_json}``, an ``alert`` or
  ``alert_throttled`` message built by ``pulse.realtime.messages``, relayed verbatim
- ``watchlist.changed`` (to a user's group): one of their watchlists changed
- ``user.logout`` (to a user's group): close every socket of that user
- ``api.token_revoked`` (to a token's group): ``{"token": id}``; close its sockets
- ``api.going_away`` (to the API group): the server is shutting down

Replies (``"reply": true``) reach one consumer outside the group sequence. The client-facing
schema is ``pulse.realtime.schema``, with an example per message type in
``docs/websocket.md`` and ``docs/api.md``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import orjson

logger = logging.getLogger(__name__)

PULSE_GROUP = "pulse"  # every client socket: ingest's broadcasts
CONTROL_GROUP = "pulse-control"  # ingest processes: requests of the consumers
GRID_GROUP = "pulse-grid"  # ingest shards only: each other's correlation grid samples
API_GROUP = "pulse-api"  # every API socket: server-wide notices

SNAPSHOT = "pulse.snapshot"
EVENT = "pulse.event"
HEALTH = "pulse.health"
CORRELATION = "pulse.correlation"
HISTORY = "pulse.history"
REQUEST_SNAPSHOT = "pulse.request_snapshot"
# To a user's group when one of their watchlists changes (sockets re-read it at once).
WATCHLIST_CHANGED = "watchlist.changed"
REQUEST_CORRELATION = "pulse.request_correlation"
REQUEST_HISTORY = "pulse.request_history"
GRID_SAMPLES = "pulse.grid_samples"
ALERT = "pulse.alert"
USER_LOGOUT = "user.logout"
TOKEN_REVOKED = "api.token_revoked"
GOING_AWAY = "api.going_away"

_GROUP_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def group_name(*parts: str | int) -> str:
    """Return a valid Channels group name built from ``parts`` (e.g. ``user-42``).

    Group names may only hold ASCII letters, digits, ``-``, ``_`` and ``.`` and must stay
    under 100 characters, so anything else (``BTC/USD``) is replaced.
    """
    name = "-".join(_GROUP_UNSAFE.sub("_", str(part)) for part in parts)
    return name[:99]


def user_group(user_id: int) -> str:
    """Return the group every socket of one user joins (used to revoke them on logout)."""
    return group_name("user", user_id)


def token_group(token_id: int) -> str:
    """Return the group of the API sockets authenticated with token ``token_id``."""
    return group_name("api-token", token_id)


def dumps(data: Any) -> str:
    """Serialize ``data`` to compact JSON text; NaN and infinities become ``null``."""
    return orjson.dumps(data).decode()


class Publisher:
    """Send pulse messages to the channel layer with a monotonically increasing ``seq``.

    A failed send (Redis restarting) is logged and counted, never raised: ingest keeps
    computing and the next keyframe repairs clients.
    """

    def __init__(self, layer: Any, source: str = "ingest") -> None:
        self.layer = layer
        # Several ingest processes (shards) may publish at once: each numbers its own
        # messages, and consumers track sequence numbers per source.
        self.source = source
        self.seq = 0
        self.sent = 0
        self.failed = 0

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    async def _group_send(self, message: dict[str, Any]) -> bool:
        message["src"] = self.source
        try:
            await self.layer.group_send(PULSE_GROUP, message)
        except Exception as exc:  # any layer failure must not stop ingest
            self.failed += 1
            if self.failed == 1 or self.failed % 100 == 0:
                logger.warning("broadcast failed (%d so far): %s", self.failed, exc)
            return False
        self.sent += 1
        return True

    @staticmethod
    def snapshot_message(
        seq: int, ts: float | None, full: bool, snapshots: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Return the channel-layer snapshot message with each row serialized once."""
        rows = {symbol: dumps(row) for symbol, row in snapshots.items()}
        return {"type": SNAPSHOT, "seq": seq, "ts": ts, "full": full, "rows": rows}

    async def snapshots(
        self, snapshots: Mapping[str, Mapping[str, Any]], ts: float | None, *, full: bool
    ) -> bool:
        """Broadcast snapshot rows (only changed symbols unless ``full``)."""
        if not snapshots and not full:
            return True
        message = self.snapshot_message(self._next_seq(), ts, full, snapshots)
        return await self._group_send(message)

    async def reply_snapshot(
        self, channel: str, snapshots: Mapping[str, Mapping[str, Any]], ts: float | None
    ) -> bool:
        """Send a full snapshot to one consumer channel (a page that just connected)."""
        message = self.snapshot_message(self.seq, ts, True, snapshots)
        message["reply"] = True
        message["src"] = self.source
        try:
            await self.layer.send(channel, message)
        except Exception as exc:
            logger.info("snapshot reply to %s failed: %s", channel, exc)
            return False
        return True

    async def reply(self, channel: str, kind: str, payload_json: str) -> bool:
        """Send one consumer channel the answer to its request (``kind``: correlation, history).

        The payload is pre-serialized JSON text (it may come from a cache shared by pages).
        """
        message = {"type": f"pulse.{kind}", "seq": self.seq, "reply": True,
                   "src": self.source, kind: payload_json}
        try:
            await self.layer.send(channel, message)
        except Exception as exc:
            logger.info("%s reply to %s failed: %s", kind, channel, exc)
            return False
        return True

    async def event(self, event: Mapping[str, Any]) -> bool:
        """Broadcast one stress event at once."""
        message = {
            "type": EVENT,
            "seq": self._next_seq(),
            "symbol": event.get("symbol", ""),
            "event": dumps(event),
        }
        return await self._group_send(message)

    async def health(self, health: Mapping[str, Any]) -> bool:
        """Broadcast feed health, engine counters and uptime."""
        message = {"type": HEALTH, "seq": self._next_seq(), "health": dumps(health)}
        return await self._group_send(message)

    async def correlation(self, correlation: Mapping[str, Any]) -> bool:
        """Broadcast the latest correlation matrix."""
        message = {
            "type": CORRELATION,
            "seq": self._next_seq(),
            "correlation": dumps(correlation),
        }
        return await self._group_send(message)
