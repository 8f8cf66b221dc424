"""Publish this ingest process's health to the database (read by the health endpoints)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from channels.db import database_sync_to_async

from pulse.ingest.services import Service, every
from pulse.models import IngestStatus


def default_instance() -> str:
    """Return a name for this ingest process: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@database_sync_to_async
def save_status(instance: str, health: dict[str, Any]) -> None:
    """Store ``health`` as the latest report of ``instance``."""
    IngestStatus.objects.update_or_create(
        instance=instance, defaults={"updated_at": datetime.now(UTC), "health": health}
    )


@database_sync_to_async
def remove_status(instance: str) -> None:
    """Forget ``instance`` (it stopped cleanly, so it is not "stale", just gone)."""
    IngestStatus.objects.filter(instance=instance).delete()


class StatusWriter(Service):
    """Store ``health()`` as ``instance``'s report every ``interval`` s; remove it on stop.

    An ingest service (``pulse.ingest.services``) without a health section of its own: it
    writes the whole health document, which ``/health/`` and the dashboard read.
    """

    def __init__(self, instance: str, health: Callable[[], dict[str, Any]], *,
                 interval: float = 5.0) -> None:
        self.instance = instance
        self.read_health = health
        self.interval = interval

    async def save(self) -> None:
        """Store the current health document."""
        await save_status(self.instance, self.read_health())

    async def run(self, stop: asyncio.Event) -> None:
        """Save every :attr:`interval` seconds until ``stop`` is set."""
        await every(stop, self.interval, self.save)

    async def stop(self) -> None:
        """Remove the report: this process stopped cleanly (gone, not stale)."""
        with contextlib.suppress(Exception):
            await remove_status(self.instance)
