"""Per-user alert rules, their webhook endpoints, and the delivery log."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse

from pulse.models.instrument import AssetClass


def new_secret() -> str:
    """Return a fresh random signing secret (64 hex characters)."""
    return secrets.token_hex(32)


class WebhookEndpoint(models.Model):
    """A URL that receives signed JSON for the owner's rules."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    name = models.CharField(max_length=80)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, default=new_secret,
                              help_text="HMAC-SHA256 key of the X-Pulse-Signature header.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner_id", "name"]

    def __str__(self) -> str:
        return self.name


class AlertRule(models.Model):
    """What to watch (scope), when to fire (condition, mode, quiet hours) and where to send."""

    class Scope(models.TextChoices):
        SYMBOL = "symbol", "One symbol"
        WATCHLIST = "watchlist", "A watchlist"
        ASSET_CLASS = "asset_class", "An asset class"

    class Mode(models.TextChoices):
        EVERY = "every", "Every time, with a cooldown"
        ONCE = "once", "Once, until re-armed"

    class Severity(models.TextChoices):
        WARNING = "warning", "Warning or worse"
        CRITICAL = "critical", "Critical only"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules"
    )
    name = models.CharField(max_length=80)
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.SYMBOL)
    symbol = models.CharField(max_length=32, blank=True)
    watchlist = models.ForeignKey("pulse.Watchlist", on_delete=models.CASCADE, null=True,
                                  blank=True, related_name="alert_rules")
    asset_class = models.CharField(max_length=8, choices=AssetClass.choices, blank=True)
    event_types = models.JSONField(default=list, blank=True,
                                   help_text="Event types to match; empty = all.")
    min_severity = models.CharField(max_length=8, choices=Severity.choices,
                                    default=Severity.WARNING)
    min_abs_value = models.FloatField(null=True, blank=True,
                                      help_text="Own threshold on |value| (a fraction).")
    min_abs_z = models.FloatField(null=True, blank=True, help_text="Own threshold on |z|.")
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.EVERY)
    cooldown_seconds = models.PositiveIntegerField(default=300)
    armed = models.BooleanField(default=True, help_text="Once-mode rules disarm when fired.")
    paused = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    in_app = models.BooleanField(default=True)
    sound = models.BooleanField(default=False)
    browser_notification = models.BooleanField(default=False)
    endpoints = models.ManyToManyField(WebhookEndpoint, blank=True, related_name="rules")
    max_per_minute = models.PositiveSmallIntegerField(default=10)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    throttled_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Last time the rule hit its rate limit.")
    throttled_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner_id", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("alert_rule_edit", args=[self.pk])


class AlertDelivery(models.Model):
    """One webhook delivery of one event to one endpoint (or a throttled fire, logged).

    Unique per (endpoint, event id): a restart or a re-emitted event cannot create a second
    delivery. Rows are the dispatcher's queue: a restart resumes the pending ones.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        THROTTLED = "throttled", "Throttled"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_deliveries"
    )
    rule = models.ForeignKey(AlertRule, on_delete=models.SET_NULL, null=True,
                             related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, null=True,
                                 related_name="deliveries")
    event_id = models.CharField(max_length=160)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True,
                                       help_text="A dispatcher holds the row until then.")
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"],
                                    name="alert_delivery_once_per_endpoint"),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="alert_delivery_due"),
            models.Index(fields=["owner", "-created_at"], name="alert_delivery_by_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint or 'throttled'} ({self.state})"


class AlertCooldown(models.Model):
    """When a rule last fired for a symbol (event time): its cooldown survives a restart.

    Written in the transaction that stores the event and its deliveries
    (``pulse.alerts.router``), read back by a freshly started ingest process, so a restart
    inside a rule's cooldown does not alert twice for the same symbol.
    """

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="cooldowns")
    symbol = models.CharField(max_length=32)
    last_event_ts = models.FloatField(help_text="Event time (epoch seconds) of the last fire.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "symbol"], name="alert_cooldown_per_symbol"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.symbol} @ {self.last_event_ts:.0f}"
