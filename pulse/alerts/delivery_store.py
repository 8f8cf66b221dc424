"""Database steps of the dispatcher: claim due deliveries with a lease, record outcomes.

Claiming is a conditional UPDATE per row (state pending, lease free), so two dispatchers
(two shards, or a restarted one) never send the same row at the same time, on SQLite and
PostgreSQL alike. A dispatcher killed mid-send leaves the lease to expire; the row is then
claimed again and resent with the same event id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import F, Q

from pulse.models import AlertDelivery

PENDING = AlertDelivery.State.PENDING


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass(frozen=True)
class Claimed:
    """A delivery this dispatcher holds: what to send and where."""

    id: int
    event_id: str
    payload: dict[str, Any]
    url: str
    secret: str
    active: bool
    attempt: int


def claim_due(now: float, lease: float, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due pending deliveries (oldest first) and count the attempt."""
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=_dt(now))
    due = (AlertDelivery.objects.filter(state=PENDING, endpoint__isnull=False)
           .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=_dt(now)))
           .filter(free).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    mine = []
    for pk in list(due):
        if AlertDelivery.objects.filter(free, pk=pk, state=PENDING).update(
                lease_until=_dt(now + lease), attempts=F("attempts") + 1):
            mine.append(pk)
    rows = (AlertDelivery.objects.filter(pk__in=mine).select_related("endpoint")
            .order_by("id"))
    return [Claimed(r.pk, r.event_id, r.payload, r.endpoint.url, r.endpoint.secret,
                    r.endpoint.active, r.attempts) for r in rows]


def record_success(pk: int, status: int | None, now: float) -> None:
    """Mark a delivery delivered."""
    AlertDelivery.objects.filter(pk=pk).update(
        state=AlertDelivery.State.DELIVERED, delivered_at=_dt(now), last_status=status,
        last_error="", lease_until=None)


def record_failure(pk: int, status: int | None, error: str, retry_at: float | None) -> None:
    """Schedule a retry at ``retry_at``, or mark the delivery failed when it is None."""
    fields: dict[str, Any] = {"last_status": status, "last_error": error[:300],
                              "lease_until": None}
    if retry_at is None:
        fields["state"] = AlertDelivery.State.FAILED
    else:
        fields["next_attempt_at"] = _dt(retry_at)
    AlertDelivery.objects.filter(pk=pk).update(**fields)


def retry_now(pk: int, owner_id: int, now: float) -> bool:
    """Put the owner's failed delivery back in the queue (from the delivery log page)."""
    return bool(AlertDelivery.objects.filter(
        pk=pk, owner_id=owner_id, state=AlertDelivery.State.FAILED, endpoint__isnull=False,
    ).update(state=PENDING, next_attempt_at=_dt(now), attempts=0, lease_until=None))

