"""Forms of the watchlist pages: names unique per owner, symbols validated like the CLI."""

from __future__ import annotations

from typing import Any

from django import forms

from pulse.feeds.base import SymbolRef
from pulse.models import AssetClass, AssetClassMismatch, Instrument, Watchlist


class WatchlistNameForm(forms.Form):
    """Name a new watchlist or rename one; the name must be unique among the owner's lists."""

    name = forms.CharField(max_length=80, strip=True)

    def __init__(self, *args: Any, owner, instance: Watchlist | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.instance = instance

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        taken = Watchlist.objects.filter(owner=self.owner, name__iexact=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                "You already have a watchlist called “%(name)s”.", params={"name": name},
                code="duplicate",
            )
        return name


class AddSymbolForm(forms.Form):
    """Add a symbol: a known active instrument, or a new one when the asset class is given.

    ``symbol`` also accepts ``class:SYMBOL`` (the command-line form). New instruments are
    checked with the same rules as ``SymbolRef.parse`` so ingest can subscribe to them. A
    symbol names one instrument: a known symbol with another class is refused
    (``asset_class_mismatch``, naming the class it has), never created a second time.
    """

    symbol = forms.CharField(max_length=48, strip=True)
    asset_class = forms.ChoiceField(
        choices=[("", "Known symbol"), *AssetClass.choices], required=False,
        help_text="Choose a class to add a symbol Market Pulse does not know yet.",
    )

    def __init__(self, *args: Any, watchlist: Watchlist, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.watchlist = watchlist
        self.instrument: Instrument | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        text, asset = data.get("symbol"), data.get("asset_class") or ""
        if not text:
            return data
        if ":" in text:
            asset, _, text = text.partition(":")
        if asset:
            try:
                ref = SymbolRef.parse(f"{asset}:{text}")
            except ValueError as exc:
                raise forms.ValidationError(str(exc), code="invalid") from None
            self.instrument = self._get_or_new(ref)
        else:
            self.instrument = self._known(text.strip().upper())
        if self.instrument.pk and self.watchlist.items.filter(
            instrument=self.instrument
        ).exists():
            raise forms.ValidationError(
                "%(symbol)s is already in this watchlist.",
                params={"symbol": self.instrument.symbol}, code="duplicate",
            )
        return data

    def _get_or_new(self, ref: SymbolRef) -> Instrument:
        found = Instrument.objects.filter(symbol=ref.symbol).first()
        if found is None:
            return Instrument(asset_class=ref.asset, symbol=ref.symbol)  # saved by the view
        if found.asset_class != ref.asset:
            raise AssetClassMismatch(ref.symbol, found.asset_class, ref.asset)
        if not found.active:
            raise forms.ValidationError(
                "%(ref)s has been deactivated by an administrator.", params={"ref": ref},
                code="inactive",
            )
        return found

    def _known(self, symbol: str) -> Instrument:
        found = Instrument.objects.filter(symbol=symbol, active=True).first()
        if found is None:
            raise forms.ValidationError(
                "Unknown symbol %(symbol)s: choose its asset class to add it.",
                params={"symbol": symbol}, code="unknown",
            )
        return found
