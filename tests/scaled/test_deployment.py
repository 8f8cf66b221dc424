"""Scaled mode for real: two ingest shards and two daphne processes on Redis and PostgreSQL.

Runs in CI (Redis and PostgreSQL are services there); skips locally when they are missing.
Test order matters only for the last two tests, which disturb the deployment (Redis
restart, then a killed daphne).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from pulse.ingest.symbols import Shard, parse_symbols
from tests.scaled.clients import Received, record, record_many, record_reconnecting
from tests.scaled.services import SYMBOLS, TcpProxy, scrape
from tests.waiting import wait_until

pytestmark = pytest.mark.slow
ALL = {ref.symbol for ref in parse_symbols(SYMBOLS)}


def test_each_shard_follows_its_share_and_every_page_gets_all_symbols(deployment):
    refs = parse_symbols(SYMBOLS)
    expected = [len(Shard(i, 2).select(refs)) for i in range(2)]
    assert all(expected), "the test symbols must land in both shards"
    followed = [wait_until(lambda s=s: deployment.ingest_metrics(s)["pulse_ingest_symbols"],
                           10, what="symbols followed") for s in range(2)]
    assert followed == expected

    # A page connecting asks for a snapshot; both shards answer, so it sees every symbol.
    got = asyncio.run(record(deployment.ws(0), deployment.sessions["alice"], 8,
                             until=lambda r: r.rows() >= ALL))
    assert got.of_type("hello")[0]["user"] == "alice"
    assert got.rows() == ALL


def test_clients_on_both_daphnes_get_the_same_messages_and_events_land_in_postgresql(deployment):
    alice = deployment.sessions["alice"]
    start = time.time()
    a, b = record_many([(deployment.ws(0), alice), (deployment.ws(1), alice)], 14)
    # Compare what both received in the middle of the window (both sockets subscribed).
    lo, hi = start + 2.5, start + 12.5

    def snapshots(r: Received) -> set[str]:
        return {repr(m) for m in r.of_type("snapshot", lo, hi) if not m["full"]}

    def events(r: Received) -> dict[str, dict]:
        return {m["event"]["id"]: m["event"] for m in r.of_type("event")
                if lo <= m["event"]["ts"] <= hi - 1.0}

    assert len(snapshots(a)) >= 10
    assert snapshots(a) == snapshots(b)
    assert events(a), "no stress event in 9 s despite the tiny thresholds"
    assert events(a) == events(b)
    assert {e["symbol"] for e in events(a).values()} <= ALL

    ids = sorted(events(a))
    quoted = ",".join("'" + i.replace("'", "''") + "'" for i in ids)
    rows = wait_until(
        lambda: (found := deployment.db.query(
            f"SELECT event_id, symbol FROM pulse_event WHERE event_id IN ({quoted})"))
        and len(found) == len(ids) and found, 5, what="events in PostgreSQL")
    assert {r[0] for r in rows} == set(ids)
    assert {r[0]: r[1] for r in rows} == {i: events(a)[i]["symbol"] for i in ids}


def test_bob_only_gets_his_watchlist_symbols_on_any_daphne(deployment):
    bob, alice = record_many([(deployment.ws(1), deployment.sessions["bob"]),
                              (deployment.ws(0), deployment.sessions["alice"])], 6)
    hello = bob.of_type("hello")[0]
    assert hello["user"] == "bob" and hello["symbols"] == ["ETH-USD"]
    assert bob.rows() == {"ETH-USD"}
    assert {m["event"]["symbol"] for m in bob.of_type("event")} <= {"ETH-USD"}
    assert alice.rows() == ALL  # alice, meanwhile, sees the whole market


def test_correlation_spans_both_shards_and_exactly_one_shard_answers(deployment):
    refs = parse_symbols(SYMBOLS)
    shard_of = {ref.symbol: i for i in range(2) for ref in Shard(i, 2).select(refs)}
    alice = deployment.sessions["alice"]
    for shard in range(2):  # each shard has placed the other's samples at least once
        wait_until(lambda s=shard: deployment.ingest_metrics(s).get(
            "pulse_grid_samples_placed_total", 0) > 0, 15, what=f"grid samples in shard {shard}")
    # A whole-market page without a base: the leader (shard 0) answers, for every symbol.
    whole = asyncio.run(record(deployment.ws(1), alice, 6))
    replies = whole.of_type("correlation")
    assert len(replies) == 1, replies  # one reply to the one request, not one per shard
    names = replies[0]["correlation"]["symbols"]
    assert names == sorted(ALL)
    corr = replies[0]
    status = corr["correlation"]["status"]
    assert all(s != "unknown_symbol" for row in status for s in row)  # grids exchanged
    cross = [corr["correlation"]["matrix"][i][j] for i, a in enumerate(names)
             for j, b in enumerate(names) if i < j and shard_of[a] != shard_of[b]]
    # Pairs of two busy symbols (crypto, forex) have numbers; slow simulated stocks may
    # still lack the 30 overlapping returns a number needs.
    assert sum(isinstance(v, float) for v in cross) >= 4
    # With a base, the shard that follows it answers (its regime picks the lookback).
    base = min(s for s in ALL if shard_of[s] == 1)
    page = asyncio.run(record(deployment.ws(0) + f"?base={base}", alice, 6))
    [corr] = page.of_type("correlation")
    assert corr["correlation"]["base"] == base
    assert corr["correlation"]["base_regime"] is not None  # known only to its own shard
    top = {row["symbol"] for row in corr["correlation"]["top"]}
    assert {shard_of[s] for s in top} == {0, 1}  # the "moving with" list spans both shards
    health = deployment.ingest_metrics(1)
    assert health["pulse_grid_samples_placed_total"] > 0
    assert health["pulse_grid_samples_late_total"] == 0


def test_ingest_and_web_processes_expose_prometheus_metrics(deployment):
    ingest = deployment.ingest_metrics(0)
    for name in ("pulse_ingest_ticks_total", 'pulse_feed_messages_total{feed="simulator"}',
                 'pulse_feed_reconnects_total{feed="simulator"}', "pulse_engine_lag_seconds",
                 "pulse_queue_depth", "pulse_snapshot_flushes_total",
                 "pulse_snapshot_flushed_rows_total", "pulse_events_emitted_total",
                 "pulse_events_persisted_total", "pulse_broadcast_sent_total",
                 "process_cpu_seconds_total"):
        assert name in ingest, name
    assert ingest["pulse_ingest_ticks_total"] > 0
    assert ingest["pulse_broadcast_sent_total"] > 0
    assert 0 <= ingest["pulse_engine_lag_seconds"] < 5
    # Connected clients and delivered messages, counted by the web process serving them.
    web_url = f"http://127.0.0.1:{deployment.web_ports[0]}/metrics"
    seen: dict[str, float] = {}

    def while_connected(received: Received) -> bool:
        if received.of_type("snapshot"):
            seen.update(scrape(web_url))
        return bool(seen)

    asyncio.run(record(deployment.ws(0), deployment.sessions["alice"], 8,
                       until=while_connected))
    assert seen["pulse_ws_clients"] >= 1
    assert seen['pulse_ws_messages_sent_total{type="snapshot"}'] >= 1
    assert "process_resident_memory_bytes" in seen


def test_redis_restart_ingest_keeps_computing_and_broadcasts_resume_within_10s(deployment):
    alice = deployment.sessions["alice"]
    before = [deployment.ingest_metrics(s) for s in range(2)]
    result: dict[str, Received] = {}
    watcher = threading.Thread(target=lambda: result.update(
        old=asyncio.run(record(deployment.ws(0), alice, 24))))
    web_url = f"http://127.0.0.1:{deployment.web_ports[0]}/metrics"
    snapshots = 'pulse_ws_messages_sent_total{type="snapshot"}'
    sent = scrape(web_url).get(snapshots, 0.0)
    watcher.start()
    wait_until(lambda: scrape(web_url).get(snapshots, 0.0) > sent, 10,
               what="snapshots on the open socket before the outage")
    at_kill = [deployment.ingest_metrics(s) for s in range(2)]
    deployment.redis.kill()
    down_at = time.time()

    def computing_without_redis() -> list[dict[str, float]] | None:
        now = [deployment.ingest_metrics(s) for s in range(2)]
        ticking = all(now[s]["pulse_ingest_ticks_total"] > at_kill[s]["pulse_ingest_ticks_total"]
                      for s in range(2))
        failing = sum(n["pulse_broadcast_failed_total"] for n in now) > sum(
            k["pulse_broadcast_failed_total"] for k in at_kill)
        return now if ticking and failing else None

    during = wait_until(computing_without_redis, 15, what="ingest computing, broadcasts failing")
    for s in range(2):  # ingest kept computing while its broadcasts failed
        assert during[s]["pulse_ingest_ticks_total"] > before[s]["pulse_ingest_ticks_total"]
    assert sum(d["pulse_broadcast_failed_total"] for d in during) > sum(
        b["pulse_broadcast_failed_total"] for b in before)
    deployment.redis.start()
    up_at = time.time()

    # A page that connects now (retrying like the page if its first attempt fails) gets
    # every symbol within 10 s of Redis coming back.
    fresh, attempts = asyncio.run(record_reconnecting(
        deployment.ws(1), alice, 10, until=lambda r: r.rows() >= ALL))
    assert fresh.rows() == ALL, f"nothing within 10 s after {attempts} connection attempts"
    watcher.join(timeout=40)
    old = result["old"]
    resumed = [t for t, m in old.messages if m.get("type") == "snapshot" and t > up_at]
    assert old.of_type("snapshot", 0, down_at), "the open socket got nothing before the outage"
    assert resumed and resumed[0] - up_at <= 10, (
        f"open socket: no snapshot within 10 s of Redis restarting (close code "
        f"{old.close_code}, first after restart {resumed[:1]})")

    # No persisted event lost: everything emitted is written, and only once.
    def settled() -> list[dict[str, float]] | None:
        now = [deployment.ingest_metrics(s) for s in range(2)]
        done = all(m["pulse_events_pending"] == 0 and m["pulse_events_persisted_total"]
                   == m["pulse_events_emitted_total"] for m in now)
        return now if done else None

    after = wait_until(settled, 10, what="events persisted")
    persisted = sum(m["pulse_events_persisted_total"] for m in after)
    count, distinct = deployment.db.query(
        "SELECT count(*), count(DISTINCT event_id) FROM pulse_event")[0]
    assert count == distinct >= persisted > 0


def test_killed_daphne_its_page_reconnects_to_the_other_by_itself(deployment, chromium_path,
                                                                  monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    from playwright.sync_api import sync_playwright

    # The proxy sends each new connection to the first daphne that accepts (like nginx with a
    # failed upstream): everything goes to daphne 0 until it dies.
    proxy = TcpProxy([("127.0.0.1", port) for port in deployment.web_ports])
    base = f"http://127.0.0.1:{proxy.port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path,
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(base + "/accounts/login/")
            page.fill("#id_username", "alice")
            page.fill("#id_password", "alice-pass-123")
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            page.wait_for_function(
                f"document.querySelectorAll('#pulse-rows tr').length >= {len(ALL)}",
                timeout=10_000)
            page.wait_for_function("document.querySelector('#conn').textContent === 'live'",
                                   timeout=10_000)
            assert set(proxy.accepted) == {0}

            deployment.daphnes[0].kill()
            deployment.daphnes[0].wait(timeout=10)
            page.wait_for_function("document.querySelector('#conn').textContent !== 'live'",
                                   timeout=10_000)
            page.evaluate("window.__sameDocument = true")
            page.wait_for_function("document.querySelector('#conn').textContent === 'live'",
                                   timeout=20_000)
            assert 1 in proxy.accepted
            # Live data flows again on the same page (no reload): a price cell changes.
            row = "#pulse-rows tr[data-symbol='BTC-USD'] td.last"
            price = page.text_content(row)
            page.wait_for_function(
                f"document.querySelector(\"{row}\").textContent !== {price!r}", timeout=10_000)
            assert page.evaluate("window.__sameDocument") is True
            browser.close()
    finally:
        proxy.close()
