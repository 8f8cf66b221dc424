"""A rule's cooldown per symbol survives an ingest restart (``AlertCooldown``).

Each test routes events through one router, then builds a second router, as a restarted
ingest process would, and routes more events through it.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async as db

from pulse.alerts.router import AlertRouter
from pulse.models import AlertCooldown, AlertDelivery
from tests.alerts.factories import (
    T0,
    alerting_store,
    crash_ticks,
    endpoint,
    fired_events,
    rule,
    watchlist,
)

pytestmark = pytest.mark.django_db(transaction=True)
NOW = T0 + 700


def event_at(base: dict, symbol: str, ts: float) -> dict:
    """A copy of ``base`` fired for ``symbol`` at event time ``ts`` (a new event id)."""
    return {**base, "symbol": symbol, "ts": ts,
            "id": f"{symbol}|{base['type']}|{base['direction']}|{ts}"}


async def route(events: list[dict], router: AlertRouter | None = None) -> AlertRouter:
    """Persist ``events`` through an alerting store (a fresh router: a fresh process)."""
    router = router or AlertRouter(clock=lambda: NOW)
    store = alerting_store(router)
    for data in events:
        store.add(data)
    assert await store.flush() == len(events)
    return router


def delivered_ids() -> list[str]:
    return list(AlertDelivery.objects.order_by("id").values_list("event_id", flat=True))


@pytest.fixture
def crash() -> dict:
    [event] = fired_events(crash_ticks())
    return event


async def test_a_restart_inside_the_cooldown_does_not_alert_twice(alice, crash):
    hook = await db(endpoint)(alice)
    wl = await db(watchlist)(alice, "Crypto", [("crypto", "BTC-USD"), ("crypto", "ETH-USD")])
    await db(rule)(alice, [hook], scope="watchlist", watchlist=wl, symbol="",
                   cooldown_seconds=600)
    t = crash["ts"]
    await route([crash])
    rows = await db(lambda: list(AlertCooldown.objects.values_list("symbol", "last_event_ts")))()
    assert rows == [("BTC-USD", t)]
    # Restarted: BTC again within 600 s is held back; ETH has no cooldown yet.
    restarted = await route([event_at(crash, "BTC-USD", t + 120),
                             event_at(crash, "ETH-USD", t + 120)])
    assert await db(delivered_ids)() == [crash["id"], f"ETH-USD|move_1m|down|{t + 120}"]
    # Past the cooldown BTC alerts again, and the new fire time is what a restart reads.
    await route([event_at(crash, "BTC-USD", t + 601)], restarted)
    assert (await db(delivered_ids)())[-1] == f"BTC-USD|move_1m|down|{t + 601}"
    last = await db(lambda: dict(AlertCooldown.objects.values_list("symbol", "last_event_ts")))()
    assert last == {"BTC-USD": t + 601, "ETH-USD": t + 120}
    await route([event_at(crash, "BTC-USD", t + 700)])  # another restart, 99 s later
    assert len(await db(delivered_ids)()) == 3


async def test_without_persisted_cooldowns_the_restart_would_alert_again(alice, crash):
    """The control: the same sequence with the table emptied fires twice."""
    hook = await db(endpoint)(alice)
    await db(rule)(alice, [hook], cooldown_seconds=600)
    await route([crash])
    await db(lambda: AlertCooldown.objects.all().delete())()
    await route([event_at(crash, "BTC-USD", crash["ts"] + 120)])
    assert len(await db(delivered_ids)()) == 2


async def test_once_mode_rules_write_no_cooldown_and_deleting_a_rule_drops_its_rows(
        alice, crash):
    hook = await db(endpoint)(alice)
    once = await db(rule)(alice, [hook], mode="once", name="once")
    every = await db(rule)(alice, [hook], name="every")
    await route([crash])
    rows = await db(lambda: list(AlertCooldown.objects.values_list("rule_id", flat=True)))()
    assert rows == [every.pk] and once.pk not in rows
    await db(every.delete)()
    assert await db(AlertCooldown.objects.count)() == 0


async def test_a_rolled_back_batch_leaves_no_cooldown_behind(alice, crash, monkeypatch):
    hook = await db(endpoint)(alice)
    await db(rule)(alice, [hook], cooldown_seconds=600)
    router = AlertRouter(clock=lambda: NOW)
    real = AlertRouter._update_rules

    def failing(*args, **kwargs):
        raise RuntimeError("database went away mid-transaction")

    monkeypatch.setattr(AlertRouter, "_update_rules", staticmethod(failing))
    store = alerting_store(router)
    store.add(crash)
    assert await store.flush() == 0  # kept for the retry, nothing committed
    assert await db(AlertCooldown.objects.count)() == 0
    monkeypatch.setattr(AlertRouter, "_update_rules", staticmethod(real))
    assert await store.flush() == 1  # the retry fires: the rolled-back fire was forgotten
    assert await db(delivered_ids)() == [crash["id"]]
