"""Deliver pending webhook rows: timeout, retries with exponential backoff, delivery log.

The rows are the queue, so a restarted dispatcher resumes where the last one stopped. Each
step is a method tests call directly; ``run`` only loops until asked to stop. As an ingest
service (``pulse.ingest.services``) it runs next to the engine and reports under
``webhooks`` in the health document.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async

from pulse.alerts import delivery_store
from pulse.alerts.signing import body_bytes
from pulse.alerts.webhook import Outcome, send
from pulse.feeds.backoff import capped_exponential
from pulse.ingest.services import Service

logger = logging.getLogger(__name__)


class Dispatcher(Service):
    """Claim due deliveries, send them concurrently, record each outcome."""

    name = "webhooks"

    def __init__(self, *, timeout: float = 10.0, max_attempts: int = 8,
                 backoff_base: float = 5.0, backoff_cap: float = 3600.0, jitter: bool = True,
                 allow_private: bool = False, concurrency: int = 8, batch: int = 50,
                 lease: float | None = None, clock: Callable[[], float] = time.time,
                 sender: Callable[..., Outcome] = send) -> None:
        if max_attempts < 1 or timeout <= 0 or backoff_base <= 0:
            raise ValueError("max_attempts >= 1, timeout > 0 and backoff_base > 0 required")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.jitter = jitter
        self.allow_private = allow_private
        self.batch = batch
        # A claim outlives the request's timeout, so a slow send is never claimed twice.
        self.lease = lease if lease is not None else 2.0 * timeout + 5.0
        self.clock = clock
        self.sender = sender
        self._slots = asyncio.Semaphore(concurrency)
        self.sent = 0
        self.delivered = 0
        self.failed = 0

    def retry_delay(self, attempt: int) -> float:
        """Return the backoff after failed attempt ``attempt`` (1-based): base * 2**(attempt-1),
        capped, then jittered over its upper half (a retry never comes much earlier than planned).
        """
        delay = capped_exponential(max(0, attempt - 1), self.backoff_base, self.backoff_cap)
        return delay * random.uniform(0.5, 1.0) if self.jitter else delay

    async def run_once(self) -> int:
        """Send every delivery due now (one claim batch); return how many were attempted."""
        claimed = await database_sync_to_async(delivery_store.claim_due)(
            self.clock(), self.lease, self.batch)
        if claimed:
            await asyncio.gather(*(self._deliver(item) for item in claimed))
        return len(claimed)

    async def _deliver(self, item: delivery_store.Claimed) -> None:
        async with self._slots:
            if not item.active:
                outcome = Outcome(False, None, "endpoint disabled", permanent=True)
            else:
                outcome = await asyncio.to_thread(
                    self.sender, item.url, item.secret, body_bytes(item.payload),
                    event_id=item.event_id, delivery_id=item.id, attempt=item.attempt,
                    timeout=self.timeout, allow_private=self.allow_private)
            self.sent += 1
        now = self.clock()
        if outcome.ok:
            self.delivered += 1
            await database_sync_to_async(delivery_store.record_success)(
                item.id, outcome.status, now)
            return
        retry_at = None
        if not outcome.permanent and item.attempt < self.max_attempts:
            retry_at = now + self.retry_delay(item.attempt)
        else:
            self.failed += 1
        await database_sync_to_async(delivery_store.record_failure)(
            item.id, outcome.status, outcome.error, retry_at)

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Call :meth:`run_once` every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:
                logger.exception("webhook dispatch failed")
                busy = 0
            if busy >= self.batch:
                continue  # more are due: do not wait
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    def health(self) -> dict[str, Any]:
        """Return :meth:`stats` as the ``webhooks`` section of the health document."""
        return self.stats()

    def stats(self) -> dict[str, Any]:
        """Return counters for the health document."""
        return {"sent": self.sent, "delivered": self.delivered, "failed": self.failed}
