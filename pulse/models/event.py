"""Persisted stress events with the explanation the engine gave for them."""

from __future__ import annotations

import math

from django.db import models
from django.urls import reverse

from pulse.models.instrument import AssetClass


class Event(models.Model):
    """A stress event (a big move, a volatility spike) as detected by the engine.

    ``event_id`` is the engine's deterministic id, unique here so that writing the same event
    twice (a retry after a database error, a restart) never creates a duplicate.
    """

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    event_id = models.CharField(max_length=160, unique=True)
    symbol = models.CharField(max_length=32)
    asset_class = models.CharField(max_length=8, choices=AssetClass.choices)
    type = models.CharField(max_length=32)
    direction = models.CharField(max_length=8, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    ts = models.DateTimeField(help_text="Event time (exchange time of the triggering tick).")
    value = models.FloatField(null=True)
    threshold = models.FloatField(null=True)
    z = models.FloatField(null=True)
    window = models.FloatField(null=True, help_text="Seconds.")
    regime = models.CharField(max_length=16, blank=True)
    price = models.FloatField(null=True)
    message = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, help_text="The engine's full explanation.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ts", "-id"]
        indexes = [
            models.Index(fields=["-ts"], name="event_history_recent"),
            models.Index(fields=["symbol", "-ts"], name="event_history_by_symbol"),
            models.Index(fields=["type", "-ts"], name="event_history_by_type"),
            # History filters by asset class and by severity (alone or with a date range).
            models.Index(fields=["asset_class", "-ts"], name="event_history_by_class"),
            models.Index(fields=["severity", "-ts"], name="event_history_by_severity"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.type} {self.direction} @ {self.ts:%Y-%m-%d %H:%M:%S}"

    def get_absolute_url(self) -> str:
        return reverse("event_detail", args=[self.pk])

    @property
    def value_percent(self) -> str:
        """Return ``value`` (a return or an annualized vol, as a fraction) as signed percent."""
        if self.value is None or not math.isfinite(self.value):
            return "\u2013"
        return f"{self.value:+.2%}" if self.type != "vol_spike" else f"{self.value:.1%}"
