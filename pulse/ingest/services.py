"""Optional parts of an ingest process, registered with the pipeline: start, run, stop, health.

The recorder, the webhook dispatcher, the grid exchange between shards, the status writer
and the metrics server each implement :class:`Service`, and the builder registers the ones
the options ask for (``pulse.ingest.builder``). ``PulsePipeline.run`` starts them in
registration order before the feeds, runs each one's :meth:`Service.run` next to the engine,
and after the queue is drained and the events are flushed, stops them in reverse order;
``PulsePipeline.health`` reports each under its :attr:`Service.name`. No Django here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

# Health sections of the optional services: present in every health document (null when
# the service is not running), because the dashboard, /health/ and the summary read them.
OPTIONAL_SECTIONS = ("recording", "webhooks", "grid_exchange")


class ServiceError(Exception):
    """A service could not start (for example, its port is taken); the message says why."""


class Service:
    """One optional part of ingest; every method has a do-nothing default.

    ``name`` is the service's section in the health document ("" for none).
    """

    name = ""

    async def start(self) -> None:
        """Get ready before the feeds start; raise :class:`ServiceError` if impossible."""

    async def run(self, stop: asyncio.Event) -> None:
        """Do the periodic work until ``stop`` is set (the pipeline also cancels it)."""

    async def stop(self) -> None:
        """Finish on the way out, after the pipeline drained the queue and flushed events."""

    def health(self) -> dict[str, Any] | None:
        """Return this service's section of the health document."""
        return None


async def every(stop: asyncio.Event, interval: float, step: Callable[[], Awaitable[Any]]) -> None:
    """Await ``step()`` every ``interval`` seconds until ``stop`` is set; log its failures.

    A failing step is logged and tried again next time: a periodic job must outlive a
    database or channel-layer outage.
    """
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
        else:
            return
        try:
            await step()
        except Exception:
            logger.exception("periodic step %s failed", getattr(step, "__name__", step))
