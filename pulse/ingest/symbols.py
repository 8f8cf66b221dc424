"""Which symbols ingest follows: the ``--symbols`` option, else every watchlist's symbols."""

from __future__ import annotations

from channels.db import database_sync_to_async

from pulse.feeds.base import SymbolRef
from pulse.feeds.universe import DEFAULT_UNIVERSE
from pulse.models import Instrument


def parse_symbols(text: str) -> list[SymbolRef]:
    """Parse ``CLASS:SYMBOL,CLASS:SYMBOL``; raise ValueError with the first bad item."""
    refs = [SymbolRef.parse(item) for item in text.split(",") if item.strip()]
    if not refs:
        raise ValueError("--symbols is empty")
    return list(dict.fromkeys(refs))


def watchlist_symbols() -> list[SymbolRef]:
    """Return the union of all users' watchlist symbols, or the built-in universe if none."""
    rows = (
        Instrument.objects.filter(active=True, watchlists__isnull=False)
        .values_list("asset_class", "symbol")
        .distinct()
        .order_by("asset_class", "symbol")
    )
    refs = [SymbolRef(asset, symbol) for asset, symbol in rows]
    return refs or list(DEFAULT_UNIVERSE)


async_watchlist_symbols = database_sync_to_async(watchlist_symbols)
