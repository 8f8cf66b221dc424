"""Turn newly persisted events into alert deliveries, in the transaction that stores them.

``AlertRouter.route`` runs in the database thread inside the event store's transaction (the
``RouteAlerts`` step of ``pulse.alerts.store_step``): an event row and its delivery rows are
committed together, so a crash can never leave an event without its alerts or alerts
without their event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import F

from pulse.alerts.firing import FIRE, THROTTLED, FiringState
from pulse.alerts.matching import ONCE, RuleSpec, event_matches, is_active
from pulse.alerts.notices import alert_text, throttle_text, webhook_payload
from pulse.alerts.rules import load_specs
from pulse.models import AlertCooldown, AlertDelivery, AlertRule


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass(frozen=True)
class Notice:
    """One in-app message for one user, sent after the transaction commits."""

    user_id: int
    text: str


class AlertRouter:
    """Match events against every user's rules and write the resulting deliveries."""

    def __init__(self, *, clock: Callable[[], float] = time.time,
                 specs: Callable[[], list[RuleSpec]] = load_specs) -> None:
        self.clock = clock
        self.load_specs = specs
        self.state = FiringState()
        self.fired = 0
        self.throttled = 0
        self.deliveries = 0

    def route(self, events: list[dict[str, Any]]) -> list[Notice]:
        """Write deliveries for ``events``; return the in-app notices to send on commit.

        Synchronous ORM: call inside ``transaction.atomic()`` in the database thread. On an
        exception the caller restores :attr:`state` (see ``RouteAlerts.rolled_back``).
        """
        if not events:
            return []
        now = self.clock()
        specs = self.load_specs()
        if not self.state.restored:
            self.state.restore(list(AlertCooldown.objects.values_list(
                "rule_id", "symbol", "last_event_ts")))
        for spec in specs:
            if spec.armed:
                self.state.rearmed(spec.id)
        rows: list[AlertDelivery] = []
        notices: list[Notice] = []
        fired: set[int] = set()
        throttled: dict[int, tuple[RuleSpec, dict[str, Any], int]] = {}
        cooldowns: dict[tuple[int, str], float] = {}  # (rule, symbol) -> last fire, this batch
        for event in events:
            for spec in specs:
                if not is_active(spec, now) or not event_matches(spec, event):
                    continue
                decision = self.state.decide(spec, event, now)
                if decision == FIRE:
                    fired.add(spec.id)
                    if spec.mode != ONCE:
                        cooldowns[spec.id, str(event.get("symbol"))] = float(event.get("ts") or 0)
                    payload = webhook_payload(spec, event, now)
                    rows += [AlertDelivery(owner_id=spec.owner_id, rule_id=spec.id,
                                           endpoint_id=endpoint, event_id=payload["id"][:160],
                                           payload=payload, next_attempt_at=_dt(now))
                             for endpoint in spec.endpoint_ids]
                    if spec.in_app:
                        notices.append(Notice(spec.owner_id, alert_text(spec, event)))
                elif decision == THROTTLED:
                    first = throttled.get(spec.id)
                    throttled[spec.id] = (spec, event, 1 if first is None else first[2] + 1)
        for spec, event, count in throttled.values():
            rows.append(AlertDelivery(
                owner_id=spec.owner_id, rule_id=spec.id, endpoint=None,
                event_id=str(event.get("id", ""))[:160], state=AlertDelivery.State.THROTTLED,
                payload={"suppressed": count},
                last_error=(f"rule fired more than {spec.max_per_minute} times in a minute: "
                            f"{count} alert(s) suppressed")[:300]))
            if spec.in_app:  # a rule that does not toast does not toast about itself either
                notices.append(Notice(spec.owner_id, throttle_text(spec, count)))
        AlertDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        if cooldowns:
            AlertCooldown.objects.bulk_create(
                [AlertCooldown(rule_id=rule_id, symbol=symbol[:32], last_event_ts=ts)
                 for (rule_id, symbol), ts in cooldowns.items()],
                update_conflicts=True, unique_fields=["rule", "symbol"],
                update_fields=["last_event_ts"])
        self._update_rules(fired, throttled, {s.id for s in specs if s.mode == ONCE}, now)
        self.fired += len(fired)
        self.throttled += sum(c for _, _, c in throttled.values())
        self.deliveries += sum(1 for r in rows if r.endpoint_id is not None)
        return notices

    @staticmethod
    def _update_rules(fired: set[int], throttled: dict[int, Any], once: set[int],
                      now: float) -> None:
        if fired:
            AlertRule.objects.filter(pk__in=fired).update(last_fired_at=_dt(now))
            AlertRule.objects.filter(pk__in=fired & once).update(armed=False)
        for rule_id, (_, _, count) in throttled.items():
            AlertRule.objects.filter(pk=rule_id).update(
                throttled_at=_dt(now), throttled_count=F("throttled_count") + count)

    def stats(self) -> dict[str, int]:
        """Return counters for the health document."""
        return {"fired": self.fired, "throttled": self.throttled,
                "deliveries": self.deliveries}
