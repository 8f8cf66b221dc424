"""Load alert rules from the database as :class:`RuleSpec` values (synchronous ORM)."""

from __future__ import annotations

from django.db.models import Prefetch

from pulse.alerts.matching import RuleSpec
from pulse.models import AlertRule, WatchlistItem, WebhookEndpoint


def rule_spec(rule: AlertRule) -> RuleSpec:
    """Return the spec of one rule (its endpoints and watchlist items prefetched or not)."""
    symbols: frozenset[str] | None = None
    if rule.scope == AlertRule.Scope.SYMBOL:
        symbols = frozenset([rule.symbol.strip().upper()]) if rule.symbol.strip() else frozenset()
    elif rule.scope == AlertRule.Scope.WATCHLIST:
        symbols = frozenset(
            item.instrument.symbol for item in rule.watchlist.items.all()
        ) if rule.watchlist is not None else frozenset()
    asset = rule.asset_class if rule.scope == AlertRule.Scope.ASSET_CLASS else ""
    return RuleSpec(
        id=rule.pk, owner_id=rule.owner_id, name=rule.name, symbols=symbols, asset_class=asset,
        event_types=frozenset(t for t in rule.event_types or () if isinstance(t, str)),
        min_severity=rule.min_severity, min_abs_value=rule.min_abs_value,
        min_abs_z=rule.min_abs_z, mode=rule.mode, cooldown=float(rule.cooldown_seconds),
        armed=rule.armed, paused=rule.paused,
        expires_at=None if rule.expires_at is None else rule.expires_at.timestamp(),
        quiet_start=rule.quiet_start, quiet_end=rule.quiet_end, timezone=rule.timezone,
        max_per_minute=max(1, rule.max_per_minute),
        endpoint_ids=tuple(sorted(e.pk for e in rule.endpoints.all() if e.active)),
        in_app=rule.in_app, sound=rule.sound, browser_notification=rule.browser_notification,
    )


def load_specs() -> list[RuleSpec]:
    """Return the specs of every rule that could fire (not paused), in id order."""
    items = WatchlistItem.objects.select_related("instrument")
    rules = (AlertRule.objects.filter(paused=False)
             .select_related("watchlist")
             .prefetch_related(Prefetch("endpoints", queryset=WebhookEndpoint.objects.all()),
                               Prefetch("watchlist__items", queryset=items))
             .order_by("id"))
    return [rule_spec(rule) for rule in rules]
