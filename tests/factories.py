"""Small builders for page tests: instruments, watchlists and stored events."""

from __future__ import annotations

import datetime as dt
import itertools

from pulse.models import Event, Instrument, Watchlist, WatchlistItem

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
_ids = itertools.count(1)


def instrument(symbol: str, asset: str = "stocks", **kwargs) -> Instrument:
    """Return the instrument, created if needed."""
    return Instrument.objects.get_or_create(asset_class=asset, symbol=symbol, defaults=kwargs)[0]


def make_watchlist(owner, name: str, symbols: list[tuple[str, str]] = (),
                   default: bool = False) -> Watchlist:
    """Create a watchlist of ``(asset, symbol)`` items in that order."""
    watchlist = Watchlist.objects.create(owner=owner, name=name, is_default=default)
    for position, (asset, symbol) in enumerate(symbols):
        WatchlistItem.objects.create(watchlist=watchlist, instrument=instrument(symbol, asset),
                                     position=position)
    return watchlist


def order(watchlist: Watchlist) -> list[str]:
    """Return the watchlist's symbols in display order."""
    return list(watchlist.items.order_by("position", "id")
                .values_list("instrument__symbol", flat=True))


def make_event(symbol: str = "AAPL", asset: str = "stocks", *, ts: dt.datetime = T0,
               type: str = "move_1m", severity: str = "warning", direction: str = "up",
               message: str | None = None, **details) -> Event:
    """Create a stored event with an engine-like explanation in ``details``."""
    n = next(_ids)
    data = {
        "id": f"{symbol}|{type}|{direction}|{ts.timestamp()}|{n}", "symbol": symbol,
        "asset": asset, "type": type, "direction": direction, "severity": severity,
        "ts": ts.timestamp(), "value": 0.0123, "threshold": 0.01, "z": 5.4, "window": 60.0,
        "regime": "normal", "ref_price": 100.0, "ref_age": 2.0, "price": 101.23,
        "also": [], "message": message or f"{symbol} rose +1.23% in 60s",
    }
    data.update(details)
    return Event.objects.create(
        event_id=data["id"], symbol=symbol, asset_class=asset, type=type,
        direction=direction, severity=severity, ts=ts, value=data["value"],
        threshold=data["threshold"], z=data["z"], window=data["window"],
        regime=data["regime"], price=data["price"], message=data["message"], details=data,
    )
