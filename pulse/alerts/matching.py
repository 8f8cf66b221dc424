"""Which rules an event triggers: scope, condition, pause, expiry and quiet hours (pure).

Rules are turned into immutable :class:`RuleSpec` values once per batch (``pulse.alerts.
rules``), so the decisions here need no database and are tested on plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pulse.engine.events import finite_number

SEVERITY_RANK = {"warning": 1, "critical": 2}
EVERY = "every"
ONCE = "once"


@dataclass(frozen=True)
class RuleSpec:
    """Everything matching needs to know about one alert rule."""

    id: int
    owner_id: int
    name: str
    symbols: frozenset[str] | None = None  # None: any symbol (asset-class scope)
    asset_class: str = ""  # "" = any class
    event_types: frozenset[str] = frozenset()  # empty = any type
    min_severity: str = "warning"
    min_abs_value: float | None = None
    min_abs_z: float | None = None
    mode: str = EVERY
    cooldown: float = 300.0
    armed: bool = True
    paused: bool = False
    expires_at: float | None = None  # epoch seconds
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = "UTC"
    max_per_minute: int = 10
    endpoint_ids: tuple[int, ...] = ()
    in_app: bool = True
    sound: bool = False
    browser_notification: bool = False


def event_matches(spec: RuleSpec, event: dict[str, Any]) -> bool:
    """Return True if ``event`` (``StressEvent.to_dict()``) is in scope and meets the condition."""
    if spec.symbols is not None and event.get("symbol") not in spec.symbols:
        return False
    if spec.asset_class and event.get("asset") != spec.asset_class:
        return False
    if spec.event_types and event.get("type") not in spec.event_types:
        return False
    if SEVERITY_RANK.get(event.get("severity"), 0) < SEVERITY_RANK.get(spec.min_severity, 1):
        return False
    if spec.min_abs_value is not None:
        value = finite_number(event.get("value"))
        if value is None or abs(value) < spec.min_abs_value:
            return False
    if spec.min_abs_z is not None:
        z = finite_number(event.get("z"))
        if z is None or abs(z) < spec.min_abs_z:
            return False
    return True


def in_quiet_hours(spec: RuleSpec, now: float) -> bool:
    """Return True if wall time ``now`` (epoch s) falls in the rule's quiet hours.

    Hours are read in the rule's time zone (an unknown zone counts as UTC); a window whose
    end is before its start spans midnight (22:00-07:00).
    """
    start, end = spec.quiet_start, spec.quiet_end
    if start is None or end is None or start == end:
        return False
    try:
        zone = ZoneInfo(spec.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = datetime.fromtimestamp(now, tz=zone).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def is_active(spec: RuleSpec, now: float) -> bool:
    """Return True unless the rule is paused, expired, disarmed (once mode) or quiet."""
    if spec.paused or (spec.mode == ONCE and not spec.armed):
        return False
    if spec.expires_at is not None and now >= spec.expires_at:
        return False
    return not in_quiet_hours(spec, now)
