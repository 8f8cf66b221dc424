"""In-app alert messages for the per-user channel group, and the payload of webhooks.

The consumer (``pulse.live.consumer``) relays ``pulse.alert`` group messages verbatim: the
``text`` is the browser message, built once by ``pulse.realtime.messages`` from a rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pulse.alerts.matching import RuleSpec
from pulse.realtime import messages
from pulse.realtime.broadcast import ALERT, user_group

# The event fields an alert toast carries (the full event is in the events page).
_EVENT_FIELDS = ("id", "symbol", "asset", "type", "direction", "severity", "ts", "value",
                 "z", "window", "price", "message")


def webhook_payload(spec: RuleSpec, event: dict[str, Any], now: float) -> dict[str, Any]:
    """Return the JSON body of a webhook: the event id (idempotency key), rule and event."""
    return {
        "id": str(event.get("id", "")),
        "type": "pulse.alert",
        "rule": _rule(spec),
        "event": event,
        "fired_at": datetime.fromtimestamp(now, tz=UTC).isoformat(),
    }


def alert_text(spec: RuleSpec, event: dict[str, Any]) -> str:
    """Return the browser message of one alert (toast; sound and notification flags)."""
    return messages.alert_text(_rule(spec), {key: event.get(key) for key in _EVENT_FIELDS},
                               sound=spec.sound, notify=spec.browser_notification)


def throttle_text(spec: RuleSpec, suppressed: int) -> str:
    """Return the browser message telling the owner a rule hit its rate limit."""
    return messages.alert_throttled_text(_rule(spec), suppressed, spec.max_per_minute)


def _rule(spec: RuleSpec) -> dict[str, Any]:
    """Return how a message names a rule."""
    return {"id": spec.id, "name": spec.name}


class LayerNotifier:
    """Send in-app alert messages to the owner's group ``user-<id>`` on a channel layer."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer

    async def __call__(self, user_id: int, text: str) -> None:
        """Send one message; the consumer's ``pulse_alert`` handler forwards ``text``."""
        await self.layer.group_send(user_group(user_id), {"type": ALERT, "text": text})
