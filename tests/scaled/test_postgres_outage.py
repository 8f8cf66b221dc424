"""PostgreSQL briefly unreachable under a running ingest process: nothing lost, no duplicates.

Ingest reaches its own throwaway database through a TCP proxy; cutting the proxy drops every
open connection and refuses new ones, which is what a database restart or a network blip
looks like to Django. Events fired meanwhile must wait in memory and be written once the
database is back.
"""

from __future__ import annotations

import json
import signal
import sys
import time

import pytest

from tests.scaled.conftest import require_services
from tests.scaled.services import (
    SYMBOLS,
    Processes,
    TcpProxy,
    free_port,
    log_tail,
    scaled_env,
    scrape,
    temp_database,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def test_events_fired_while_postgresql_is_down_are_written_once_when_it_returns(tmp_path):
    require_services()
    env = scaled_env("", "")
    env.pop("REDIS_URL")  # no web processes here: the in-memory layer is enough
    with temp_database(env) as db:
        proxy = TcpProxy([("127.0.0.1", 5432)])
        env["DATABASE_URL"] = db.via("127.0.0.1", proxy.port)
        procs = Processes(tmp_path)
        metrics_port = free_port()
        summary = tmp_path / "summary.json"
        try:
            ingest = procs.ingest("ingest", env, "--symbols", SYMBOLS, "--duration", "90",
                                  "--metrics", f"127.0.0.1:{metrics_port}",
                                  "--summary", str(summary))
            url = f"http://127.0.0.1:{metrics_port}/metrics"

            def metric(name: str) -> float:
                try:
                    return scrape(url)[name]
                except OSError:
                    return 0.0

            wait_until(lambda: metric("pulse_events_persisted_total") > 0, 20,
                       what="first events persisted")
            proxy.cut()
            cut_at_emitted = metric("pulse_events_emitted_total")
            wait_until(lambda: metric("pulse_events_persist_failures_total") > 0, 10,
                       what="a failed write while the database is cut")
            wait_until(lambda: metric("pulse_events_emitted_total") > cut_at_emitted
                       and metric("pulse_events_pending") > 0, 15,
                       what="events fired during the outage, pending")
            time.sleep(2)  # the fault itself: the outage lasts while more events pile up
            during = metric("pulse_events_pending")
            proxy.restore()
            wait_until(lambda: metric("pulse_events_pending") == 0, 15,
                       what="pending events written after the database returned")
            ingest.send_signal(signal.SIGTERM)  # a clean stop flushes and writes the summary
            ingest.wait(timeout=30)
        finally:
            procs.stop_all()
            proxy.close()
        assert ingest.returncode == 0, log_tail(ingest)
        result = json.loads(summary.read_text())
        emitted, persisted = result["events"]["emitted"], result["events"]["persisted"]
        count, distinct = db.query("SELECT count(*), count(DISTINCT event_id) FROM pulse_event")[0]
        assert during > 0
        assert emitted == persisted == count == distinct, (emitted, persisted, count, distinct)
        print(f"outage: {during:.0f} events pending, all {count} written once", file=sys.stderr)
