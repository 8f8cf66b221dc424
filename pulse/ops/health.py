"""Ingest liveness as the web processes see it: each ingest process's latest report and its age.

Served by ``/health/`` (``pulse.ops.views``) and ``/api/v1/health``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pulse.models import IngestStatus

STALE_AFTER = 30.0  # seconds without a report before an ingest process counts as stale


def ingest_report(now: datetime | None = None) -> dict[str, Any]:
    """Return every ingest process's latest health with its age, and an overall status.

    ``ok``: at least one fresh ingest report and no failed feed; ``degraded``: a feed failed
    or a report is stale; ``no_ingest``: nothing reports (ingest is not running).
    """
    now = now or datetime.now(UTC)
    processes = []
    status = "ok"
    for row in IngestStatus.objects.all():
        age = (now - row.updated_at).total_seconds()
        stale = age > STALE_AFTER
        failed = sorted(
            name for name, feed in (row.health.get("feeds") or {}).items()
            if feed.get("state") == "failed"
        )
        if stale or failed:
            status = "degraded"
        processes.append({"instance": row.instance, "age": round(age, 1), "stale": stale,
                          "failed_feeds": failed, "health": row.health})
    if not processes:
        status = "no_ingest"
    return {"status": status, "checked_at": now.isoformat(), "ingest": processes}
