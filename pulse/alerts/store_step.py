"""The event store's alert step: route newly stored events to rules, toast after commit.

``RouteAlerts`` runs after ``SaveEvents`` in the transaction that stores a batch of events
(``pulse.ingest.event_store``), so it only sees events new to the database: an event and
its delivery rows (the webhook queue the ``Dispatcher`` drains) commit together, and an
event re-emitted after a restart alerts nobody twice. In-app toasts go out once committed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pulse.alerts.firing import FiringState
from pulse.alerts.router import AlertRouter, Notice
from pulse.ingest.event_store import EventBatch, StoreStep

logger = logging.getLogger(__name__)

Notifier = Callable[[int, str], Awaitable[None]]


class RouteAlerts(StoreStep):
    """Write the deliveries of a batch's events; send their in-app notices after commit."""

    def __init__(self, router: AlertRouter, notifier: Notifier | None = None) -> None:
        self.router = router
        self.notifier = notifier
        self._notices: list[Notice] = []
        self._before: tuple[FiringState, int] = (router.state, 0)  # set by each handle()

    def handle(self, events: EventBatch) -> EventBatch:
        """Route ``events`` to every user's rules (deliveries, cooldowns); pass them on."""
        self._before = (self.router.state.copy(), len(self._notices))
        self._notices.extend(self.router.route(events))
        return events

    def rolled_back(self) -> None:
        """Restore the firing state and drop the notices: the fires were rolled back."""
        state, notices = self._before
        self.router.state = state
        del self._notices[notices:]

    async def committed(self) -> None:
        """Send the in-app notices of the committed batches (a failed one is logged)."""
        notices, self._notices = self._notices, []
        if self.notifier is None:
            return
        for notice in notices:
            try:
                await self.notifier(notice.user_id, notice.text)
            except Exception:  # a lost toast must not stop persistence
                logger.exception("in-app alert for user %s failed", notice.user_id)

    def stats(self) -> dict[str, Any]:
        """Return the router's counters under ``alerts``."""
        return {"alerts": self.router.stats()}
