"""The live pages: the dashboard and the symbol pages. Every view requires a login
(LoginRequiredMiddleware).

The page is rendered empty and filled by the WebSocket; the view only validates the
shareable controls in the query string so the first paint already shows the right tab,
ranking and watchlist, and refuses another user's watchlist with a 404.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from pulse.models import Event, Instrument, Watchlist

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


SYMBOL_RECENT_EVENTS = 20

# Snapshot fields shown on the page, in order: (key, label, unit). The unit tells the page's
# script how to format the live value ("pct": a fraction shown as percent).
METRICS = [
    ("last", "Last", "price"), ("bid", "Bid", "price"), ("ask", "Ask", "price"),
    ("mid", "Mid", "price"),
    ("ret_1m", "Return 1m", "pct"), ("ret_5m", "Return 5m", "pct"),
    ("ret_15m", "Return 15m", "pct"),
    ("ref_age_1m", "Ref. price age 1m", "s"), ("ref_age_5m", "Ref. price age 5m", "s"),
    ("ref_age_15m", "Ref. price age 15m", "s"),
    ("vol_15m", "Realized vol 15m (annualized)", "pct"),
    ("vol_baseline", "Baseline vol (annualized)", "pct"),
    ("trend_15m", "Trend 15m", "pct_h"), ("trend_t", "Trend t-stat", "num"),
    ("regime", "Regime", "text"), ("regime_z", "Regime z", "num"),
    ("z_1m", "Move z 1m", "num"), ("z_5m", "Move z 5m", "num"),
    ("tick_rate", "Tick rate", "per_s"), ("staleness", "Staleness", "s"),
    ("ticks", "Ticks seen", "int"), ("ts", "Last tick", "time"),
]


def symbol_page(request: HttpRequest, asset: str, symbol: str) -> HttpResponse:
    """Render one instrument's page; an unknown symbol or class is a 404."""
    instrument = get_object_or_404(Instrument, asset_class=asset, symbol=symbol)
    events = Event.objects.filter(symbol=instrument.symbol, asset_class=instrument.asset_class)
    context = {
        "instrument": instrument,
        "metrics": METRICS,
        "events": list(events.order_by("-ts", "-id")[:SYMBOL_RECENT_EVENTS]),
    }
    return render(request, "pulse/symbol.html", context)
