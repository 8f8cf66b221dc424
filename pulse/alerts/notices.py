"""In-app alert messages for the per-user channel group, and the payload of webhooks.

The consumer (``pulse.live.consumer``) relays ``pulse.alert`` group messages verbatim: the
``text`` is the browser message, serialized once here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pulse.alerts.matching import RuleSpec
from pulse.realtime.broadcast import dumps, user_group

ALERT = "pulse.alert"
_EVENT_FIELDS = ("id", "symbol", "asset", "type", "direction", "severity", "ts", "value",
                 "z", "window", "price", "message")


def webhook_payload(spec: RuleSpec, event: dict[str, Any], now: float) -> dict[str, Any]:
    """Return the JSON body of a webhook: the event id (idempotency key), rule and event."""
    return {
        "id": str(event.get("id", "")),
        "type": "pulse.alert",
        "rule": {"id": spec.id, "name": spec.name},
        "event": event,
        "fired_at": datetime.fromtimestamp(now, tz=UTC).isoformat(),
    }


def alert_text(spec: RuleSpec, event: dict[str, Any]) -> str:
    """Return the browser message of one alert (toast; sound and notification flags)."""
    return dumps({
        "type": "alert",
        "rule": {"id": spec.id, "name": spec.name},
        "event": {key: event.get(key) for key in _EVENT_FIELDS},
        "sound": spec.sound,
        "notify": spec.browser_notification,
    })


def throttle_text(spec: RuleSpec, suppressed: int) -> str:
    """Return the browser message telling the owner a rule hit its rate limit."""
    return dumps({
        "type": "alert_throttled",
        "rule": {"id": spec.id, "name": spec.name},
        "suppressed": suppressed,
        "limit_per_minute": spec.max_per_minute,
    })


class LayerNotifier:
    """Send in-app alert messages to the owner's group ``user-<id>`` on a channel layer."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer

    async def __call__(self, user_id: int, text: str) -> None:
        """Send one message; the consumer's ``pulse_alert`` handler forwards ``text``."""
        await self.layer.group_send(user_group(user_id), {"type": ALERT, "text": text})
