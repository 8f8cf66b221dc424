"""Validate REST watchlist bodies: a name unique per owner, a list of symbols to resolve."""

from __future__ import annotations

from typing import Any

from pulse.feeds.base import SymbolRef
from pulse.models import AssetClassMismatch, Instrument, Watchlist
from pulse.models.instrument import normalize_symbol
from pulse.watchlists import quotas
from pulse.watchlists.forms import WatchlistNameForm


def clean_name(value: Any, owner: Any, instance: Watchlist | None) -> tuple[str | None, Any]:
    """Return ``(name, None)`` or ``(None, errors)`` using the watchlist pages' form."""
    form = WatchlistNameForm({"name": value if isinstance(value, str) else ""}, owner=owner,
                             instance=instance)
    if not form.is_valid():
        return None, [str(m) for m in form.errors["name"]]
    return form.cleaned_data["name"], None


def resolve_symbols(values: Any, owner: Any) -> tuple[list[Instrument] | None, Any]:
    """Resolve ``["AAPL", "crypto:BTC-USD", ...]`` to instruments (unsaved if new).

    A bare symbol must name one known active instrument; ``class:SYMBOL`` may name a new
    one (ingest picks it up), as on the watchlist pages. Returns ``(instruments, None)`` or
    ``(None, errors)``. More symbols than ``owner`` may put on one watchlist
    (``PULSE_MAX_WATCHLIST_SYMBOLS``) raise ``QuotaExceeded`` before any is looked up; the
    watchlist operation checks again, under the owner's lock, when it writes. A known symbol
    with another class, or one symbol given with two classes, raises ``AssetClassMismatch``
    (the first such item; the API answers ``asset_class_mismatch``).
    """
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None, "symbols must be a list of strings"
    quotas.check_symbols(owner, len(values))
    found: list[Instrument] = []
    seen: dict[str, str] = {}  # symbol -> asset class it was first given with
    errors: dict[str, str] = {}
    for text in values:
        try:
            instrument = _resolve(text)
        except ValueError as exc:
            errors[text] = str(exc)
            continue
        first = seen.get(instrument.symbol)
        if first is None:
            seen[instrument.symbol] = instrument.asset_class
            found.append(instrument)
        elif first != instrument.asset_class:
            raise AssetClassMismatch.given_twice(instrument.symbol, first,
                                                 instrument.asset_class)
        else:
            errors[text] = "listed twice"
    return (None, errors) if errors else (found, None)


def _resolve(text: str) -> Instrument:
    if ":" in text:
        ref = SymbolRef.parse(text)
        instrument = Instrument.objects.filter(symbol=ref.symbol).first()
        if instrument is None:
            return Instrument(asset_class=ref.asset, symbol=ref.symbol)
        if instrument.asset_class != ref.asset:
            raise AssetClassMismatch(ref.symbol, instrument.asset_class, ref.asset)
        if not instrument.active:
            raise ValueError("deactivated by an administrator")
        return instrument
    instrument = Instrument.objects.filter(symbol=normalize_symbol(text), active=True).first()
    if instrument is None:
        raise ValueError("unknown symbol: prefix it with its asset class (crypto:SOL-USD)")
    return instrument
