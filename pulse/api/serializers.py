"""JSON shapes of the REST API's stored objects (events, watchlists, tokens)."""

from __future__ import annotations

from typing import Any

from pulse.models import ApiToken, Event, Watchlist


def event_json(event: Event) -> dict[str, Any]:
    """Return one stored event: the columns, epoch and ISO time, and the full explanation."""
    return {
        "id": event.pk, "event_id": event.event_id, "symbol": event.symbol,
        "asset_class": event.asset_class, "type": event.type, "direction": event.direction,
        "severity": event.severity, "ts": event.ts.timestamp(), "time": event.ts.isoformat(),
        "value": event.value, "threshold": event.threshold, "z": event.z,
        "window": event.window, "regime": event.regime, "price": event.price,
        "message": event.message, "details": event.details,
    }


def watchlist_json(watchlist: Watchlist) -> dict[str, Any]:
    """Return one watchlist with its symbols in display order."""
    items = watchlist.items.select_related("instrument").order_by("position", "id")
    return {
        "id": watchlist.pk, "name": watchlist.name, "is_default": watchlist.is_default,
        "symbols": [{"symbol": i.instrument.symbol, "asset_class": i.instrument.asset_class}
                    for i in items],
        "created_at": watchlist.created_at.isoformat(),
        "updated_at": watchlist.updated_at.isoformat(),
    }


def token_json(token: ApiToken) -> dict[str, Any]:
    """Return a token's public fields (never the digest)."""
    def iso(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {"id": token.pk, "name": token.name, "prefix": token.prefix,
            "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
            "last_used_at": iso(token.last_used_at), "revoked_at": iso(token.revoked_at)}
