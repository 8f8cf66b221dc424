"""Batched, idempotent persistence of stress events, off the hot path, as a list of steps.

The engine hands events over as they fire; ``flush`` takes them in batches and runs the
store's *steps* over each batch in one database transaction: :class:`SaveEvents` first (the
rows, and only the events new to the database go on), then whatever the builder added, such
as routing to alert rules (``pulse.alerts.store_step.RouteAlerts``). A database error rolls
the whole batch back and keeps it for the next flush (nothing lost, on kill -9 either: the
events and everything derived from them commit together or not at all), and the unique
``event_id`` makes a retried write a no-op (nothing duplicated, nothing alerted twice).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from channels.db import database_sync_to_async
from django.db import transaction

from pulse.models import Event

logger = logging.getLogger(__name__)

_COLUMNS = ("symbol", "type", "direction", "severity", "value", "threshold", "z", "window",
            "regime", "price")

EventBatch = list[dict[str, Any]]


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


class StoreStep:
    """One named step of storing a batch of events; the defaults do nothing.

    :meth:`handle` runs in the database thread inside the batch's transaction and returns
    the events the next step sees. If the transaction rolls back, every step that ran gets
    :meth:`rolled_back` (undo in-memory effects); after a flush, :meth:`committed` acts
    outside the database (for example, sends in-app toasts).
    """

    def handle(self, events: EventBatch) -> EventBatch:
        """Do this step's writes for ``events``; return the events to pass on."""
        return events

    def rolled_back(self) -> None:
        """Forget what the last :meth:`handle` did in memory: its writes were rolled back."""

    async def committed(self) -> None:
        """Act on what was committed since the last call (outside the transaction)."""

    def stats(self) -> dict[str, Any]:
        """Return counters to merge into the store's stats (none by default)."""
        return {}


class SaveEvents(StoreStep):
    """Insert the batch's event rows; pass on only the events not already stored.

    An event re-emitted after a restart (same deterministic id) is stored once and is not
    passed on, so the steps after this one (alert routing) act on each event exactly once.
    """

    def handle(self, events: EventBatch) -> EventBatch:
        """Insert ``events`` (conflicts ignored); return those new to the database."""
        objs = [event_from_dict(item) for item in events]
        seen = set(Event.objects.filter(event_id__in=[obj.event_id for obj in objs])
                   .values_list("event_id", flat=True))
        Event.objects.bulk_create(objs, ignore_conflicts=True)
        fresh = []
        for obj, item in zip(objs, events, strict=True):
            if obj.event_id not in seen:
                seen.add(obj.event_id)
                fresh.append(item)
        return fresh


class EventStore:
    """Queue events and store them in batches through ``steps``; count written and waiting.

    ``steps`` default to ``[SaveEvents()]``; the first step should be :class:`SaveEvents`.
    """

    def __init__(self, steps: Sequence[StoreStep] | None = None, *, max_pending: int = 100_000,
                 batch_size: int = 500) -> None:
        self.steps: list[StoreStep] = list(steps) if steps is not None else [SaveEvents()]
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
        """Store every pending event; return how many were written (0 on a database error).

        Then let each step act on what was committed (also after an error: the batches
        written before it stay committed).
        """
        written = await self._flush_batches()
        for step in self.steps:
            try:
                await step.committed()
            except Exception:  # e.g. a lost toast must not stop persistence
                logger.exception("after-commit work of %s failed", type(step).__name__)
        return written

    async def _flush_batches(self) -> int:
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
    def _write(self, batch: EventBatch) -> None:
        """Run every step over ``batch`` in one transaction (all committed, or none)."""
        ran: list[StoreStep] = []
        try:
            with transaction.atomic():
                events = batch
                for step in self.steps:
                    ran.append(step)
                    events = step.handle(events)
        except BaseException:
            for step in reversed(ran):
                step.rolled_back()
            raise

    def stats(self) -> dict[str, Any]:
        """Return counters for the summary and health messages (plus each step's)."""
        stats: dict[str, Any] = {
            "persisted": self.persisted,
            "pending": len(self.pending),
            "dropped": self.dropped,
            "failures": self.failures,
            "last_error": self.last_error,
        }
        for step in self.steps:
            stats.update(step.stats())
        return stats
