"""Instruments: the symbols Market Pulse knows, each with exactly one asset class.

The symbol string is the canonical instrument id (docs/instruments.md): the engine, the
recording, broadcasts, pages, the API, events and alert cooldowns are all keyed by it, so a
symbol may name one instrument only. The database enforces it (one row per symbol, symbols
stored upper case); :class:`AssetClassMismatch` is the one refusal every input path (pages,
admin, REST, ``runpulse --symbols``) gives for a known symbol typed with another class.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from pulse.engine.tick import CRYPTO, FOREX, STOCKS
from pulse.feeds.base import SymbolRef


class AssetClass(models.TextChoices):
    """The asset classes the engine annualizes and thresholds differently."""

    STOCKS = STOCKS, "Stocks"
    FOREX = FOREX, "Forex"
    CRYPTO = CRYPTO, "Crypto"


def normalize_symbol(text: str) -> str:
    """Return ``text`` as stored and keyed everywhere: stripped and upper case."""
    return text.strip().upper()


def class_label(asset: str) -> str:
    """Return the readable name of asset class ``asset`` (``"crypto"`` -> ``"Crypto"``)."""
    try:
        return str(AssetClass(asset).label)
    except ValueError:
        return asset


class AssetClassMismatch(ValidationError):
    """A symbol asked for with an asset class other than the one it has.

    ``asset_class`` is the class the symbol has (or was first given in the same request),
    ``requested`` the one asked for. ``code`` is ``asset_class_mismatch`` (the REST API's
    error code too).
    """

    def __init__(self, symbol: str, asset_class: str, requested: str,
                 message: str | None = None) -> None:
        self.symbol = symbol
        self.asset_class = asset_class
        self.requested = requested
        if message is None:
            message = (f"{symbol} is a {class_label(asset_class)} instrument "
                       f"({asset_class}:{symbol}), not {class_label(requested)}.")
        super().__init__(message, code="asset_class_mismatch")

    @classmethod
    def given_twice(cls, symbol: str, first: str, second: str) -> AssetClassMismatch:
        """Return the refusal of one request naming ``symbol`` with two classes."""
        return cls(symbol, first, second,
                   f"{symbol} is given twice, as {first}:{symbol} and {second}:{symbol}: "
                   f"a symbol has one asset class.")

    def detail(self) -> dict[str, Any]:
        """Return the REST API's error detail for this symbol."""
        return {"symbol": self.symbol, "asset_class": self.asset_class,
                "requested": self.requested, "message": self.message}


class Instrument(models.Model):
    """One tradable symbol, e.g. ``AAPL`` (stocks) or ``EURUSD`` (forex); unique by symbol."""

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
            # The symbol alone identifies an instrument (migration 0008 repaired duplicates).
            models.UniqueConstraint(
                fields=["symbol"], name="instrument_unique_symbol",
                violation_error_message="An instrument with this symbol already exists.",
            ),
            # One normalisation everywhere: symbols are stored as normalize_symbol makes them.
            models.CheckConstraint(
                condition=models.Q(symbol=Upper("symbol")), name="instrument_symbol_upper",
                violation_error_message="Symbols are stored in upper case.",
            ),
        ]
        indexes = [
            # Symbol autocomplete (prefix match on active instruments) and symbol-only lookups.
            models.Index(fields=["symbol"], name="instrument_search_symbol"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} ({self.get_asset_class_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save with the symbol normalised, whichever code path created the instrument."""
        self.symbol = normalize_symbol(self.symbol or "")
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Normalise the symbol, check it as ingest will, and refuse another class for it."""
        self.symbol = normalize_symbol(self.symbol or "")
        if self.asset_class not in AssetClass.values or not self.symbol:
            return  # the field validation reports these
        try:
            SymbolRef.parse(f"{self.asset_class}:{self.symbol}")
        except ValueError as exc:
            raise ValidationError({"symbol": str(exc)}, code="invalid") from None
        other = Instrument.objects.filter(symbol=self.symbol).exclude(pk=self.pk).first()
        if other is not None and other.asset_class != self.asset_class:
            raise ValidationError({"symbol": AssetClassMismatch(
                self.symbol, other.asset_class, self.asset_class)})

    @property
    def ref(self) -> str:
        """Return ``class:SYMBOL``, the form used on the command line."""
        return f"{self.asset_class}:{self.symbol}"
