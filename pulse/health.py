"""Health endpoints: ``/health/`` (details, login required) and ``/healthz`` (probe, public)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Return feed health, engine counters and ingest liveness as JSON."""
    return JsonResponse(ingest_report())


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer a load balancer's probe: 200 if this web process can reach its database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "database_unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
