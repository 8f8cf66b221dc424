"""The symbol page: a live chart of the last hour, current metrics, recent events."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from pulse.models import Event, Instrument

RECENT_EVENTS = 20

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
        "events": list(events.order_by("-ts", "-id")[:RECENT_EVENTS]),
    }
    return render(request, "pulse/symbol.html", context)
