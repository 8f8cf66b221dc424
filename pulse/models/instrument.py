"""Instruments: the symbols Market Pulse knows, with their asset class."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from pulse.engine.tick import CRYPTO, FOREX, STOCKS


class AssetClass(models.TextChoices):
    """The asset classes the engine annualizes and thresholds differently."""

    STOCKS = STOCKS, "Stocks"
    FOREX = FOREX, "Forex"
    CRYPTO = CRYPTO, "Crypto"


class Instrument(models.Model):
    """One tradable symbol, e.g. ``AAPL`` (stocks) or ``EURUSD`` (forex)."""

    symbol = models.CharField(max_length=32)
    asset_class = models.CharField(max_length=8, choices=AssetClass.choices)
    provider_symbol = models.CharField(
        max_length=64, blank=True, help_text="The provider's own name for it, when different."
    )
    display_name = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True)
    # Who added it as a symbol new to Market Pulse (per-user quota of new instruments).
    # Empty for instruments from setup_demo, ingest, the admin, or from before this was kept.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", editable=False,
    )
    # Empty for instruments that existed before this field did.
    created_at = models.DateTimeField(null=True, blank=True, default=timezone.now,
                                      editable=False)

    class Meta:
        ordering = ["asset_class", "symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset_class", "symbol"], name="instrument_unique_symbol"
            )
        ]
        indexes = [
            # Symbol autocomplete (prefix match on active instruments) and symbol-only lookups.
            models.Index(fields=["symbol"], name="instrument_search_symbol"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} ({self.get_asset_class_display()})"

    @property
    def ref(self) -> str:
        """Return ``class:SYMBOL``, the form used on the command line."""
        return f"{self.asset_class}:{self.symbol}"
