"""Ask ingest for live state from a web process: request over ``pulse-control``, await the reply.

Snapshots and price history live in the ingest process (or processes: shards each follow
some symbols). A view creates a reply channel, sends the same request the page consumer
sends, and collects the answers: the first one, then the other shards' until every ingest
process that reports its status (``IngestStatus``, whose ``instance`` is the publisher's
``src``) has answered, or a short grace period ends. No answer within the timeout means
ingest is not running.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Any

import orjson
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from pulse.models import IngestStatus
from pulse.ops.health import STALE_AFTER
from pulse.realtime import broadcast

TIMEOUT = 3.0  # seconds to wait for the first answer
# Seconds to wait for the other shards after the first answer, unless every live ingest
# process has already answered.
SHARD_GRACE = 0.25


class IngestUnavailable(Exception):
    """No ingest process answered in time."""


@database_sync_to_async
def live_sources() -> set[str]:
    """Return the ingest processes that reported recently (each answers requests)."""
    since = timezone.now() - dt.timedelta(seconds=STALE_AFTER)
    return set(IngestStatus.objects.filter(updated_at__gte=since)
               .values_list("instance", flat=True))


async def _ask(kind: str, **fields: Any) -> list[dict[str, Any]]:
    expected = await live_sources()
    layer = get_channel_layer()
    channel = await layer.new_channel("api-request.")
    await layer.group_send(broadcast.CONTROL_GROUP,
                           {"type": kind, "reply_to": channel, **fields})
    try:
        first = await asyncio.wait_for(layer.receive(channel), TIMEOUT)
    except TimeoutError:
        raise IngestUnavailable from None
    replies = [first]
    answered = {first.get("src")}
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SHARD_GRACE):
            # A process that does not follow the requested symbols never answers a history
            # request: the grace period bounds the wait for it.
            while not (expected and expected <= answered):
                reply = await layer.receive(channel)
                replies.append(reply)
                answered.add(reply.get("src"))
    return replies


async def snapshots() -> dict[str, Any]:
    """Return ``{"seq", "ts", "rows": {symbol: row}}`` merged over every ingest shard."""
    replies = await _ask(broadcast.REQUEST_SNAPSHOT)
    rows: dict[str, Any] = {}
    ts, seq = None, 0
    for reply in replies:
        if reply.get("type") != broadcast.SNAPSHOT:
            continue
        rows.update({s: orjson.loads(text) for s, text in reply["rows"].items()})
        seq = max(seq, reply.get("seq") or 0)
        if reply.get("ts") is not None:
            ts = max(ts or 0.0, reply["ts"])
    return {"seq": seq, "ts": ts, "rows": rows}


async def history(symbols: list[str], seconds: float, step: float) -> dict[str, Any]:
    """Return ``{"seconds", "step", "series": {symbol: [[ts, price], ...]}}``.

    Raises :class:`IngestUnavailable` when no shard follows these symbols or none answers.
    """
    replies = await _ask(broadcast.REQUEST_HISTORY, symbols=symbols, seconds=seconds, step=step)
    merged: dict[str, Any] = {"seconds": seconds, "step": step, "series": {}}
    for reply in replies:
        if reply.get("type") == broadcast.HISTORY:
            merged["series"].update(orjson.loads(reply["history"]).get("series") or {})
    return merged


async def correlation(symbols: list[str] | None, base: str | None,
                      bucket: int | None) -> dict[str, Any]:
    """Return the correlation answer a dashboard gets (matrix, coverage, status, stderr,
    top) for ``symbols`` (None: every symbol ingest follows), as in docs/websocket.md.

    Exactly one ingest process answers (the one following ``base``, or the shard leader).
    Raises :class:`IngestUnavailable` when none answers.
    """
    replies = await _ask(broadcast.REQUEST_CORRELATION, symbols=symbols, base=base,
                         method=None, bucket=bucket)
    for reply in replies:
        if reply.get("type") == broadcast.CORRELATION:
            return orjson.loads(reply["correlation"])
    raise IngestUnavailable
