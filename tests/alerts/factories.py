"""Builders for alert tests: rules, endpoints and engine streams that fire events."""

from __future__ import annotations

from pulse.alerts.router import AlertRouter
from pulse.alerts.store_step import Notifier, RouteAlerts
from pulse.engine import Engine, EngineConfig
from pulse.engine.tick import Tick
from pulse.ingest.event_store import EventStore, SaveEvents
from pulse.models import AlertRule, Instrument, Watchlist, WatchlistItem, WebhookEndpoint

T0 = 1_767_625_200.0  # 2026-01-05 15:00 UTC


def crash_ticks(symbol: str = "BTC-USD", asset: str = "crypto", t0: float = T0) -> list[Tick]:
    """Ten calm minutes then a 3 % drop: fires a move event in percent mode."""
    ticks = [Tick(symbol, asset, t0 + i, 60_000.0 + (i % 2)) for i in range(600)]
    ticks += [Tick(symbol, asset, t0 + 600 + i, 58_200.0) for i in range(5)]
    return ticks


def fired_events(ticks: list[Tick]) -> list[dict]:
    """Return the event dicts a percent-mode engine fires on ``ticks``."""
    engine = Engine(EngineConfig.from_mapping({"threshold_mode": "percent"}))
    return [e.to_dict() for tick in ticks for e in engine.on_tick(tick)]


def alerting_store(router: AlertRouter, notifier: Notifier | None = None) -> EventStore:
    """Return the event store ``runpulse`` builds: save events, then route them to rules."""
    return EventStore([SaveEvents(), RouteAlerts(router, notifier)])


def endpoint(owner, url: str = "https://hooks.example.com/x", **kw) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(owner=owner, name=kw.pop("name", "hook"), url=url, **kw)


def rule(owner, endpoints=(), **kw) -> AlertRule:
    kw.setdefault("name", "rule")
    kw.setdefault("symbol", "BTC-USD")
    created = AlertRule.objects.create(owner=owner, **kw)
    created.endpoints.set(endpoints)
    return created


def watchlist(owner, name: str, symbols: list[tuple[str, str]]) -> Watchlist:
    wl = Watchlist.objects.create(owner=owner, name=name)
    for position, (asset, symbol) in enumerate(symbols):
        inst, _ = Instrument.objects.get_or_create(symbol=symbol, asset_class=asset)
        WatchlistItem.objects.create(watchlist=wl, instrument=inst, position=position)
    return wl
