"""Events become deliveries in the transaction that stores them, per user, exactly once."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async as db

from pulse.alerts.notices import LayerNotifier
from pulse.alerts.router import AlertRouter
from pulse.engine import Engine, EngineConfig
from pulse.feeds.base import TickQueue
from pulse.ingest.pipeline import PulsePipeline
from pulse.models import AlertDelivery, AlertRule, Event
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


class Notes:
    """A notifier that remembers (user id, text)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def __call__(self, user_id: int, text: str) -> None:
        self.sent.append((user_id, text))


def deliveries(**filters) -> list[AlertDelivery]:
    return list(AlertDelivery.objects.filter(**filters).order_by("id"))


async def test_a_pipeline_event_reaches_alices_rule_and_endpoint_but_not_bobs(alice, bob):
    hook = await db(endpoint)(alice)
    wl = await db(watchlist)(alice, "Crypto", [("crypto", "BTC-USD")])
    await db(rule)(alice, [hook], scope="watchlist", watchlist=wl, symbol="", sound=True)
    bob_hook = await db(endpoint)(bob, name="bob")
    await db(rule)(bob, [bob_hook], symbol="ETH-USD")  # bob watches another symbol
    notes = Notes()
    store = alerting_store(AlertRouter(clock=lambda: NOW), notes)
    engine = Engine(EngineConfig.from_mapping({"threshold_mode": "percent"}))
    pipeline = PulsePipeline(engine, TickQueue(), {}, store=store)
    pipeline.process(crash_ticks())
    assert pipeline.emitted >= 1
    await pipeline.persist()
    rows = await db(deliveries)()
    assert {(r.owner_id, r.endpoint_id) for r in rows} == {(alice.pk, hook.pk)}
    event_ids = await db(lambda: set(Event.objects.values_list("event_id", flat=True)))()
    assert {r.event_id for r in rows} <= event_ids and rows[0].state == "pending"
    assert rows[0].payload["id"] == rows[0].event_id
    assert rows[0].payload["event"]["symbol"] == "BTC-USD"
    assert [uid for uid, _ in notes.sent] == [alice.pk] * len(rows)
    assert '"sound":true' in notes.sent[0][1]


async def test_re_persisting_the_same_events_creates_no_second_delivery(alice):
    hook = await db(endpoint)(alice)
    await db(rule)(alice, [hook], cooldown_seconds=0)
    events = fired_events(crash_ticks())
    for _ in range(2):  # e.g. a restart whose live ticks re-fire the same deterministic ids
        store = alerting_store(AlertRouter(clock=lambda: NOW))
        for data in events:
            store.add(data)
        assert await store.flush() == len(events)
    rows = await db(deliveries)()
    assert len(rows) == len(events) and len({r.event_id for r in rows}) == len(rows)


async def test_a_failed_transaction_keeps_events_and_alerts_together_for_the_retry(alice):
    hook = await db(endpoint)(alice)
    await db(rule)(alice, [hook], mode="once")
    router = AlertRouter(clock=lambda: NOW)
    calls = {"n": 0}
    real = router.route

    def flaky(events):
        result = real(events)
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database went away mid-transaction")
        return result

    router.route = flaky
    store = alerting_store(router)
    for data in fired_events(crash_ticks()):
        store.add(data)
    assert await store.flush() == 0
    assert await db(Event.objects.count)() == 0  # rolled back with the deliveries
    assert await db(AlertDelivery.objects.count)() == 0
    assert await store.flush() >= 1  # the once-rule still fires: its state was restored
    assert await db(AlertDelivery.objects.count)() == 1
    assert not (await db(AlertRule.objects.get)()).armed


async def test_once_mode_disarms_until_the_user_re_arms(alice):
    hook = await db(endpoint)(alice)
    saved = await db(rule)(alice, [hook], mode="once")
    router = AlertRouter(clock=lambda: NOW)
    first = fired_events(crash_ticks())
    later = fired_events(crash_ticks(t0=T0 + 3600))
    await db(router.route)(first)
    await db(router.route)(later)
    assert await db(AlertDelivery.objects.count)() == 1
    await db(AlertRule.objects.filter(pk=saved.pk).update)(armed=True)
    await db(router.route)(fired_events(crash_ticks(t0=T0 + 7200)))
    assert await db(AlertDelivery.objects.count)() == 2


async def test_paused_expired_and_quiet_rules_deliver_nothing(alice):
    from datetime import UTC, datetime, time
    hook = await db(endpoint)(alice)
    await db(rule)(alice, [hook], paused=True)
    await db(rule)(alice, [hook], expires_at=datetime.fromtimestamp(NOW - 1, tz=UTC))
    await db(rule)(alice, [hook], quiet_start=time(0), quiet_end=time(23, 59))
    await db(AlertRouter(clock=lambda: NOW).route)(fired_events(crash_ticks()))
    assert await db(AlertDelivery.objects.count)() == 0


async def test_a_runaway_rule_is_throttled_logged_and_flagged(alice):
    hook = await db(endpoint)(alice)
    saved = await db(rule)(alice, [hook], symbol="", scope="asset_class",
                           asset_class="crypto", cooldown_seconds=0, max_per_minute=2)
    events = []
    for k in range(4):
        events += fired_events(crash_ticks(symbol=f"COIN{k}"))
    notes = Notes()
    store = alerting_store(AlertRouter(clock=lambda: NOW), notes)
    for data in events:
        store.add(data)
    await store.flush()
    sent = await db(deliveries)(state="pending")
    throttled = await db(deliveries)(state="throttled")
    assert len(sent) == 2
    assert len(throttled) == 1 and throttled[0].endpoint_id is None
    assert f"{len(events) - 2} alert(s) suppressed" in throttled[0].last_error
    refreshed = await db(AlertRule.objects.get)(pk=saved.pk)
    assert refreshed.throttled_count == len(events) - 2 and refreshed.throttled_at is not None
    assert any('"alert_throttled"' in text for _, text in notes.sent)


async def test_a_webhook_only_rule_is_throttled_without_any_toast(alice):
    hook = await db(endpoint)(alice)
    await db(rule)(alice, [hook], symbol="", scope="asset_class", asset_class="crypto",
                   cooldown_seconds=0, max_per_minute=1, in_app=False)
    events = [e for k in range(3) for e in fired_events(crash_ticks(symbol=f"COIN{k}"))]
    notes = Notes()
    store = alerting_store(AlertRouter(clock=lambda: NOW), notes)
    for data in events:
        store.add(data)
    await store.flush()
    assert len(await db(deliveries)(state="throttled")) == 1  # logged and flagged as before
    assert notes.sent == []  # but the rule's owner opted out of toasts for it


async def test_in_app_alerts_go_to_the_owners_user_group_only(alice):
    class Layer:
        def __init__(self) -> None:
            self.sent: list = []

        async def group_send(self, group, message):
            self.sent.append((group, message))

    layer = Layer()
    await LayerNotifier(layer)(alice.pk, '{"type":"alert"}')
    assert layer.sent == [(f"user-{alice.pk}", {"type": "pulse.alert",
                                                "text": '{"type":"alert"}'})]
