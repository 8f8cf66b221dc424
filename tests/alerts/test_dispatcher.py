"""Webhook delivery to a local receiver: retries, signatures, refusals, crash and resume."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from channels.db import database_sync_to_async as db

from pulse.alerts.dispatcher import Dispatcher
from pulse.alerts.router import AlertRouter
from pulse.alerts.signing import verify
from pulse.alerts.targets import TargetRefused, check_target
from pulse.models import AlertDelivery
from tests.alerts.factories import T0, crash_ticks, endpoint, fired_events, rule
from tests.alerts.receiver import Receiver, running_receiver

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    """A wall clock tests move by hand (backoff and leases without sleeping)."""

    def __init__(self, now: float = T0 + 700) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_deliveries(owner, urls: list[str], events: list[dict], clock: Clock) -> list:
    hooks = [endpoint(owner, url=url, name=f"hook{i}") for i, url in enumerate(urls)]
    rule(owner, hooks, symbol="", scope="asset_class", asset_class="crypto",
         cooldown_seconds=0, max_per_minute=100)
    AlertRouter(clock=clock).route(events)
    return hooks


def rows() -> list[AlertDelivery]:
    return list(AlertDelivery.objects.order_by("id"))


async def test_failures_then_success_are_retried_with_backoff_and_signed(alice):
    clock = Clock()
    with running_receiver(Receiver(statuses=[500, 503])) as rec:
        [hook] = await db(make_deliveries)(alice, [rec.url],
                                           fired_events(crash_ticks())[:1], clock)
        dispatcher = Dispatcher(allow_private=True, backoff_base=2.0, jitter=False,
                                clock=clock, timeout=5)
        assert await dispatcher.run_once() == 1
        [row] = await db(rows)()
        assert (row.state, row.attempts, row.last_status, row.last_error) == (
            "pending", 1, 500, "HTTP 500")
        assert row.next_attempt_at.timestamp() == clock.now + 2.0
        assert await dispatcher.run_once() == 0  # not due yet
        clock.now += 2.0
        assert await dispatcher.run_once() == 1
        [row] = await db(rows)()
        assert row.next_attempt_at.timestamp() == clock.now + 4.0  # exponential
        clock.now += 4.0
        assert await dispatcher.run_once() == 1
        [row] = await db(rows)()
        assert (row.state, row.attempts, row.last_status, row.last_error) == (
            "delivered", 3, 200, "")
    assert len(rec.hits) == 3
    assert len({hit.body for hit in rec.hits}) == 1  # same body every attempt
    assert rec.ids() == [row.event_id] * 3
    for hit in rec.hits:
        assert verify(hook.secret, hit.body, hit.headers["X-Pulse-Signature"])
        assert not verify("wrong-secret", hit.body, hit.headers["X-Pulse-Signature"])
    body = json.loads(rec.hits[0].body)
    assert body["id"] == row.event_id and body["event"]["symbol"] == "BTC-USD"
    assert [h.headers["X-Pulse-Attempt"] for h in rec.hits] == ["1", "2", "3"]


async def test_a_client_error_fails_at_once_and_retries_stop_at_the_limit(alice):
    clock = Clock()
    with running_receiver(Receiver(statuses=[410, 500, 500])) as rec:
        await db(make_deliveries)(alice, [rec.url, rec.url + "?b"],
                                  fired_events(crash_ticks())[:1], clock)
        dispatcher = Dispatcher(allow_private=True, max_attempts=2, backoff_base=1.0,
                                jitter=False, clock=clock, concurrency=1)
        await dispatcher.run_once()
        clock.now += 10
        await dispatcher.run_once()
    states = sorted((r.state, r.attempts, r.last_status) for r in await db(rows)())
    assert states == [("failed", 1, 410), ("failed", 2, 500)]


async def test_private_and_loopback_targets_are_refused_unless_allowed(alice):
    clock = Clock()
    with running_receiver() as rec:
        await db(make_deliveries)(alice, [rec.url], fired_events(crash_ticks())[:1], clock)
        await Dispatcher(clock=clock).run_once()  # allow_private defaults to False
    [row] = await db(rows)()
    assert row.state == "failed" and "loopback" in row.last_error and rec.hits == []
    for url in ("http://127.0.0.1/x", "http://10.1.2.3/x", "http://[::1]/x",
                "http://169.254.169.254/latest", "http://localhost/x", "ftp://1.1.1.1/x",
                "http:///nohost"):
        with pytest.raises(TargetRefused):
            check_target(url)
    assert check_target("https://1.1.1.1/hook") == ["1.1.1.1"]
    assert check_target("http://127.0.0.1/x", allow_private=True) == ["127.0.0.1"]


async def test_a_timeout_is_retried(alice):
    clock = Clock()
    hold = threading.Event()
    with running_receiver(Receiver(hold=hold)) as rec:
        await db(make_deliveries)(alice, [rec.url], fired_events(crash_ticks())[:1], clock)
        await Dispatcher(allow_private=True, timeout=0.3, jitter=False, clock=clock).run_once()
        hold.set()
    [row] = await db(rows)()
    assert row.state == "pending" and row.attempts == 1 and "timed out" in row.last_error


async def test_a_dispatcher_killed_mid_delivery_is_resumed_and_each_event_lands_once(alice):
    clock = Clock()
    events = []
    for k in range(3):
        events += fired_events(crash_ticks(symbol=f"COIN{k}"))
    hold = threading.Event()
    with running_receiver(Receiver(hold=hold)) as rec_a, running_receiver() as rec_b:
        await db(make_deliveries)(alice, [rec_a.url, rec_b.url], events, clock)
        expected = {(r.endpoint_id, r.event_id) for r in await db(rows)()}
        assert len(expected) == 2 * len(events)

        first = Dispatcher(allow_private=True, clock=clock, timeout=5, concurrency=2)
        task = asyncio.create_task(first.run_once())
        # Wait until requests are in flight, then kill.
        assert await asyncio.to_thread(rec_a.arrived.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        hold.set()  # the dead process's sockets finish or drop; its rows stay leased

        second = Dispatcher(allow_private=True, clock=clock, timeout=5)
        assert await second.run_once() < len(expected)  # leased rows are not stolen
        clock.now += second.lease + 1  # the dead dispatcher's leases expire
        while await second.run_once():
            pass
    final = await db(rows)()
    assert {(r.endpoint_id, r.event_id) for r in final} == expected
    assert all(r.state == "delivered" for r in final)
    for rec in (rec_a, rec_b):
        # Every event arrived; a repeat (sent by the killed process, resent after the
        # lease) carries the same event id, so the receiver can drop it.
        assert set(rec.ids()) == {e["id"] for e in events}
        assert len(set(rec.ids())) == len(events)


def test_backoff_doubles_and_is_capped():
    fixed = Dispatcher(backoff_base=5.0, backoff_cap=60.0, jitter=False)
    assert [fixed.retry_delay(n) for n in range(1, 6)] == [5, 10, 20, 40, 60]
    jittered = Dispatcher(backoff_base=5.0, backoff_cap=60.0)
    assert all(20 <= jittered.retry_delay(4) <= 40 for _ in range(50))  # the upper half
    with pytest.raises(ValueError):
        Dispatcher(max_attempts=0)
