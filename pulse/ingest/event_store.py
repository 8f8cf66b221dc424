"""Batched, idempotent persistence of stress events, off the hot path.

The engine hands events over as they fire; ``flush`` writes them in one bulk insert. A
database error keeps the batch for the next flush (nothing lost), and the unique
``event_id`` makes a retried write a no-op (nothing duplicated).
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import UTC, datetime
from typing import Any

from channels.db import database_sync_to_async

from pulse.models import Event

logger = logging.getLogger(__name__)

_COLUMNS = ("symbol", "type", "direction", "severity", "value", "threshold", "z", "window",
            "regime", "price")


def event_from_dict(data: dict[str, Any]) -> Event:
    """Return an unsaved :class:`Event` built from the engine's ``StressEvent.to_dict()``."""
    fields = {name: data.get(name) for name in _COLUMNS}
    for name in ("direction", "regime"):
        fields[name] = fields[name] or ""
    return Event(
        event_id=str(data["id"])[:160],
        asset_class=data.get("asset", ""),
        ts=datetime.fromtimestamp(float(data["ts"]), tz=UTC),
        message=str(data.get("message", ""))[:300],
        details=data,
        **fields,
    )


class EventStore:
    """Queue events and write them in batches; count what was written and what waits."""

    def __init__(self, max_pending: int = 100_000, batch_size: int = 500) -> None:
        self.max_pending = max_pending
        self.batch_size = batch_size
        self.pending: deque[dict[str, Any]] = deque()
        self.persisted = 0
        self.dropped = 0
        self.failures = 0
        self.last_error = ""

    def add(self, event: dict[str, Any]) -> None:
        """Queue one event dict for the next flush (bounded: oldest dropped and counted)."""
        if len(self.pending) >= self.max_pending:
            self.pending.popleft()
            self.dropped += 1
        self.pending.append(event)

    async def flush(self) -> int:
        """Write every pending event; return how many were written (0 on a database error)."""
        written = 0
        while self.pending:
            batch = [self.pending[i] for i in range(min(self.batch_size, len(self.pending)))]
            try:
                await self._write(batch)
            except Exception as exc:  # keep the batch; the database may come back
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.warning("could not persist %d events (will retry): %s",
                               len(batch), self.last_error)
                return written
            # Drop exactly the written items: while the write ran, a full queue may have
            # dropped old items from the front, so counting would remove unwritten ones.
            for item in batch:
                if self.pending and self.pending[0] is item:
                    self.pending.popleft()
            written += len(batch)
            self.persisted += len(batch)
        self.last_error = ""
        return written

    @database_sync_to_async
    def _write(self, batch: list[dict[str, Any]]) -> None:
        Event.objects.bulk_create([event_from_dict(item) for item in batch],
                                  ignore_conflicts=True)

    def stats(self) -> dict[str, Any]:
        """Return counters for the summary and health messages."""
        return {
            "persisted": self.persisted,
            "pending": len(self.pending),
            "dropped": self.dropped,
            "failures": self.failures,
            "last_error": self.last_error,
        }
