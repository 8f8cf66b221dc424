"""An event store that writes alert deliveries in the same transaction as the events.

Drop-in replacement for ``pulse.ingest.event_store.EventStore``: same batching, retries and
counters. Only events not already in the database are routed, so an event re-emitted after
a restart (same deterministic id) alerts nobody twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.db import transaction

from pulse.alerts.router import AlertRouter, Notice
from pulse.ingest.event_store import EventStore, event_from_dict
from pulse.models import Event

logger = logging.getLogger(__name__)

Notifier = Callable[[int, str], Awaitable[None]]


class AlertingEventStore(EventStore):
    """Persist events and route them to alert rules atomically; notify users after commit."""

    def __init__(self, router: AlertRouter, notifier: Notifier | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.router = router
        self.notifier = notifier
        self._notices: list[Notice] = []

    @database_sync_to_async
    def _write(self, batch: list[dict[str, Any]]) -> None:
        saved = self.router.state.copy()
        try:
            with transaction.atomic():
                objs = [event_from_dict(item) for item in batch]
                ids = [obj.event_id for obj in objs]
                existing = set(Event.objects.filter(event_id__in=ids)
                               .values_list("event_id", flat=True))
                Event.objects.bulk_create(objs, ignore_conflicts=True)
                fresh, seen = [], set(existing)
                for obj, item in zip(objs, batch, strict=True):
                    if obj.event_id not in seen:
                        seen.add(obj.event_id)
                        fresh.append(item)
                notices = self.router.route(fresh)
        except BaseException:
            self.router.state = saved  # the fires were rolled back with the rows
            raise
        self._notices.extend(notices)

    async def flush(self) -> int:
        """Write pending events (and their deliveries), then send the in-app notices."""
        written = await super().flush()
        notices, self._notices = self._notices, []
        if self.notifier is not None:
            for notice in notices:
                try:
                    await self.notifier(notice.user_id, notice.text)
                except Exception:  # a lost toast must not stop persistence
                    logger.exception("in-app alert for user %s failed", notice.user_id)
        return written

    def stats(self) -> dict[str, Any]:
        """Return the event store counters plus the router's."""
        return {**super().stats(), "alerts": self.router.stats()}
