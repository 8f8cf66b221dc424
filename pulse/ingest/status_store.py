"""Publish this ingest process's health to the database (read by the health endpoints)."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from typing import Any

from channels.db import database_sync_to_async

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
