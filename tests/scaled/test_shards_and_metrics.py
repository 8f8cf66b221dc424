"""Fast checks of the scaled-mode building blocks: shards, the ingest collector, /metrics."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import zlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from pulse.engine import Engine, EngineConfig
from pulse.engine.tick import Tick
from pulse.feeds.base import Feed, SymbolRef, TickQueue
from pulse.ingest.collector import PipelineCollector, ingest_registry
from pulse.ingest.event_store import EventStore
from pulse.ingest.pipeline import PulsePipeline
from pulse.ingest.symbols import Shard, parse_symbols, sharded
from pulse.ops.metrics import exposition, start_metrics_server
from pulse.ops.views import client_allowed
from tests.conftest import REPO

REFS = parse_symbols("crypto:BTC-USD,crypto:ETH-USD,crypto:SOL-USD,forex:EURUSD,"
                     "forex:USDJPY,stocks:AAPL,stocks:MSFT,stocks:TSLA,stocks:NVDA")


def test_shard_parse_accepts_i_of_n_and_rejects_everything_else():
    assert Shard.parse("0/2") == Shard(0, 2) and Shard.parse(" 2/3 ") == Shard(2, 3)
    for bad in ("2/2", "1", "a/b", "-1/2", "0/0", "1/2/3", "", "0/-2"):
        with pytest.raises(ValueError):
            Shard.parse(bad)


@pytest.mark.slow  # one interpreter per hash seed
def test_shards_partition_the_symbols_with_a_stable_hash():
    for n in (1, 2, 3, 5):
        parts = [Shard(i, n).select(REFS) for i in range(n)]
        assert sorted(r for p in parts for r in p) == sorted(REFS)  # each symbol exactly once
    # CRC-32 of "class:SYMBOL", not Python's salted hash(): every process agrees, always.
    btc = SymbolRef("crypto", "BTC-USD")
    assert zlib.crc32(b"crypto:BTC-USD") % 2 == 0
    assert Shard(0, 2).owns(btc) and not Shard(1, 2).owns(btc)
    code = ("import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'pulse_site.settings'); django.setup(); import sys; "
            "from pulse.ingest.symbols import Shard, parse_symbols; "
            "print([str(r) for r in Shard(1, 3).select(parse_symbols(sys.argv[1]))])")
    texts = ",".join(str(r) for r in REFS)
    outputs = {subprocess.run([sys.executable, "-c", code, texts], cwd=REPO, text=True,
                              capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed},
                              check=True).stdout for seed in ("1", "2")}
    assert outputs == {f"{[str(r) for r in Shard(1, 3).select(REFS)]}\n"}


def test_sharded_source_filters_watchlist_union_and_leaves_unsharded_alone():
    async def source() -> list[SymbolRef]:
        return list(REFS)

    assert sharded(source, None) is source and sharded(source, Shard(0, 1)) is source
    got = asyncio.run(sharded(source, Shard(1, 3))())
    assert got == Shard(1, 3).select(REFS) and 0 < len(got) < len(REFS)


class _Idle(Feed):
    name = "idle"

    async def run(self) -> None:
        await asyncio.sleep(0)


def _pipeline() -> PulsePipeline:
    queue = TickQueue(10)
    feed = _Idle([], queue)
    feed.counters.messages = 7
    feed.counters.reconnects = 2
    feed.counters.parse_failures["bad_json"] = 3
    feed.counters.clock_skew = 4
    return PulsePipeline(Engine(EngineConfig()), queue, {"idle": feed}, store=EventStore())


def test_collector_reads_pipeline_counters_at_scrape_time():
    pipeline = _pipeline()
    registry = CollectorRegistry()
    registry.register(PipelineCollector(pipeline))
    sample = registry.get_sample_value
    assert sample("pulse_ingest_ticks_total") == 0
    pipeline.process(Tick("BTC-USD", "crypto", 1000.0 + i, 100.0 + i, provider="t")
                     for i in range(5))
    pipeline.lag_last, pipeline.flushes, pipeline.flushed_rows = 0.25, 4, 10
    assert sample("pulse_ingest_ticks_total") == 5  # no metric call on the hot path
    assert sample("pulse_feed_messages_total", {"feed": "idle"}) == 7
    assert sample("pulse_feed_reconnects_total", {"feed": "idle"}) == 2
    assert sample("pulse_feed_parse_failures_total", {"feed": "idle", "reason": "bad_json"}) == 3
    assert sample("pulse_feed_clock_skew_total", {"feed": "idle"}) == 4
    assert sample("pulse_engine_lag_seconds") == 0.25
    assert sample("pulse_snapshot_flushed_rows_total") == 10
    assert sample("pulse_queue_capacity") == 10
    assert sample("pulse_events_pending") == 0


def test_ingest_metrics_server_answers_metrics_and_refuses_other_requests(free_port):
    registry = ingest_registry(_pipeline())
    assert b"pulse_ingest_ticks_total 0.0" in exposition(registry, b"GET /metrics HTTP/1.1")
    assert exposition(registry, b"POST /metrics HTTP/1.1").startswith(b"HTTP/1.1 405")
    assert exposition(registry, b"GET /admin HTTP/1.1").startswith(b"HTTP/1.1 404")
    assert exposition(registry, b"garbage").startswith(b"HTTP/1.1 405")

    async def scrape() -> bytes:
        server = await start_metrics_server("127.0.0.1", free_port, registry)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", free_port)
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            data = await reader.read()
            writer.close()
            return data
        finally:
            server.close()

    data = asyncio.run(scrape())
    assert data.startswith(b"HTTP/1.1 200") and b"process_cpu_seconds_total" in data


def test_metrics_allow_list_matches_networks_and_rejects_garbage():
    assert client_allowed("127.0.0.1", ["127.0.0.1/32", "::1/128"])
    assert client_allowed("10.1.2.3", ["bogus", "10.0.0.0/8"])
    assert not client_allowed("192.168.1.5", ["127.0.0.1/32"])
    assert not client_allowed("not-an-ip", ["0.0.0.0/0"])


@pytest.mark.django_db
def test_web_metrics_need_an_allowed_address_or_staff_or_the_public_setting(
        client, alice, django_user_model, settings):
    settings.PULSE_METRICS_ALLOW = ["127.0.0.1/32"]
    settings.PULSE_METRICS_PUBLIC = False
    ok = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert ok.status_code == 200 and b"pulse_ws_clients" in ok.content
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    client.force_login(alice)  # an ordinary user is not enough...
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    client.force_login(staff)  # ...staff may look from anywhere
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200
    client.logout()
    settings.PULSE_METRICS_PUBLIC = True
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.post("/metrics", REMOTE_ADDR="127.0.0.1").status_code in (403, 405)


@pytest.mark.parametrize("option, value, message", [
    ("--shard", "2/2", "--shard"), ("--shard", "x", "--shard"),
    ("--metrics", "nohost", "--metrics"), ("--metrics", "127.0.0.1:99999", "--metrics"),
])
def test_runpulse_rejects_bad_shard_and_metrics_options(option, value, message):
    with pytest.raises(CommandError, match=message):
        call_command("runpulse", option, value, "--duration", "1")


def test_registry_text_has_every_documented_ingest_family():
    text = generate_latest(ingest_registry(_pipeline())).decode()
    for name in ("pulse_feed_ticks_total", "pulse_feed_up", "pulse_engine_lag_max_seconds",
                 "pulse_queue_dropped_ticks_total", "pulse_events_persisted_total",
                 "pulse_broadcast_failed_total", "pulse_control_requests_total"):
        assert name in text, name
