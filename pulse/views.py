"""The dashboard view. Every view requires a login (LoginRequiredMiddleware).

The page is rendered empty and filled by the WebSocket; the view only validates the
shareable controls in the query string so the first paint already shows the right tab,
ranking and watchlist, and refuses another user's watchlist with a 404.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from pulse.models import Event, Watchlist

ASSETS = ("all", "stocks", "forex", "crypto")
RANKS = ("1m", "5m", "15m")
TOPS = (10, 20, 50, 0)  # 0: every row
BUCKETS = (10, 20, 30)
RECENT_EVENTS = 10


def _choice(value: str | None, allowed: tuple, default: object) -> object:
    """Return ``value`` converted like ``default`` if it is one of ``allowed``, else ``default``."""
    if value is None:
        return default
    try:
        value = type(default)(value)
    except (TypeError, ValueError):
        return default
    return value if value in allowed else default


def dashboard_controls(query: dict) -> dict[str, object]:
    """Return the dashboard controls from a query string, invalid values replaced by defaults."""
    base = (query.get("base") or "").strip()[:32]
    return {
        "asset": _choice(query.get("asset"), ASSETS, "all"),
        "rank": _choice(query.get("rank"), RANKS, "5m"),
        "top": _choice(query.get("top"), TOPS, 20),
        "bucket": _choice(query.get("bucket"), BUCKETS, 0),
        "base": base,
    }


def event_card(event: Event) -> dict[str, object]:
    """Return a persisted event in the live ``event`` message's shape, plus its page URL.

    The dashboard's script renders stored and live events with the same code.
    """
    details = event.details if isinstance(event.details, dict) else {}
    return {
        "id": event.event_id, "url": event.get_absolute_url(), "symbol": event.symbol,
        "asset": event.asset_class, "type": event.type, "direction": event.direction,
        "severity": event.severity, "ts": event.ts.timestamp(), "value": event.value,
        "threshold": event.threshold, "z": event.z, "window": event.window,
        "regime": event.regime, "ref_price": details.get("ref_price"),
        "ref_age": details.get("ref_age"), "price": event.price, "message": event.message,
        # Episode and gap fields (docs/signals.md); absent in events stored before them.
        "episode": details.get("episode", event.event_id),
        "episode_seq": details.get("episode_seq", 0), "span": details.get("span"),
        "gap": bool(details.get("gap", False)),
    }


def dashboard(request: HttpRequest) -> HttpResponse:
    """Render the live pulse dashboard for the user's default (or chosen) watchlist."""
    watchlists = list(Watchlist.objects.filter(owner=request.user).order_by("-is_default", "name"))
    selected = watchlists[0] if watchlists else None
    wanted = request.GET.get("watchlist")
    if wanted:
        selected = next((w for w in watchlists if str(w.pk) == wanted), None)
        if selected is None:
            raise Http404("No such watchlist.")  # another user's id looks like a missing one
    # The stress feed starts with the latest persisted events of the list (linked by DB id);
    # live ones are prepended by the socket.
    events = Event.objects.order_by("-ts", "-id")
    if selected is not None:
        events = events.filter(symbol__in=selected.items.values("instrument__symbol"))
    context = {
        "recent_events": [event_card(e) for e in reversed(events[:RECENT_EVENTS])],
        "watchlists": watchlists,
        "selected": selected,
        "controls": dashboard_controls(request.GET),
        "assets": ASSETS[1:],
        "ranks": RANKS,
        "tops": TOPS,
        "buckets": BUCKETS,
    }
    return render(request, "pulse/dashboard.html", context)
