"""``runpulse``'s wiring: the builder assembles what the options ask for; services register
with the pipeline, start before the feeds and stop in reverse after the final flush."""

from __future__ import annotations

import asyncio

import pytest

from pulse.alerts.dispatcher import Dispatcher
from pulse.alerts.store_step import RouteAlerts
from pulse.durable.recorder import Recorder
from pulse.durable.warm_start import WarmStart
from pulse.engine import Engine
from pulse.feeds.base import TickQueue
from pulse.feeds.simulator import SimulatorFeed
from pulse.ingest.builder import build_ingest
from pulse.ingest.collector import MetricsServer
from pulse.ingest.event_store import SaveEvents
from pulse.ingest.pipeline import PulsePipeline
from pulse.ingest.run_options import ingest_options
from pulse.ingest.services import OPTIONAL_SECTIONS, Service, ServiceError
from pulse.ingest.status_store import StatusWriter
from pulse.management.commands.runpulse import Command


def options(*args: str) -> dict:
    """Return the raw options ``runpulse ARGS`` hands to ``handle``."""
    return vars(Command().create_parser("manage.py", "runpulse").parse_args(list(args)))


def kinds(ingest) -> list[type]:
    return [type(service) for service in ingest.pipeline.services]


def test_the_default_process_stores_routes_records_dispatches_and_reports_status():
    ingest = build_ingest(ingest_options(options("--feed", "simulator")))
    assert kinds(ingest) == [StatusWriter, Recorder, Dispatcher]
    assert [type(step) for step in ingest.pipeline.store.steps] == [SaveEvents, RouteAlerts]
    assert ingest.pipeline.engine.on_accept is not None  # the recorder is attached
    assert ingest.options.warm_start is False  # the simulator does not continue a recording
    assert list(ingest.pipeline.feeds) == ["simulator"]


def test_options_add_and_remove_services_in_start_order():
    ingest = build_ingest(ingest_options(options(
        "--no-record", "--warm-start", "on", "--metrics", "127.0.0.1:9100")))
    assert kinds(ingest) == [StatusWriter, MetricsServer, WarmStart, Dispatcher]
    assert ingest.warm is ingest.pipeline.services[2] and ingest.warm.recorder is None


class Step(Service):
    """A service that logs its calls to a shared list."""

    def __init__(self, name: str, log: list[str], *, fail: bool = False) -> None:
        self.label, self.log, self.fail = name, log, fail

    async def start(self) -> None:
        self.log.append(f"start {self.label}")
        if self.fail:
            raise ServiceError(f"{self.label} cannot start")

    async def run(self, stop: asyncio.Event) -> None:
        self.log.append(f"run {self.label}")
        await stop.wait()

    async def stop(self) -> None:
        self.log.append(f"stop {self.label}")


class Store:
    """An event store with one event pending that logs its flushes."""

    persisted = 0

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.pending = 1

    def add(self, event) -> None: ...

    async def flush(self) -> int:
        self.log.append("flush events")
        self.pending = 0
        return 1

    def stats(self) -> dict:
        return {"pending": self.pending, "last_error": ""}


async def test_services_start_before_the_feeds_and_stop_in_reverse_after_the_final_flush():
    log: list[str] = []
    queue = TickQueue()
    pipeline = PulsePipeline(Engine(), queue, {"simulator": SimulatorFeed([], queue)},
                             store=Store(log))
    for name in ("a", "b"):
        pipeline.register(Step(name, log))
    await pipeline.run(duration=0.05)
    assert log[:4] == ["start a", "start b", "run a", "run b"]
    assert log[-3:] == ["flush events", "stop b", "stop a"]


async def test_a_service_that_cannot_start_stops_those_started_and_nothing_runs():
    log: list[str] = []
    pipeline = PulsePipeline(Engine(), TickQueue(), {})
    for service in (Step("a", log), Step("b", log, fail=True), Step("c", log)):
        pipeline.register(service)
    with pytest.raises(ServiceError, match="b cannot start"):
        await pipeline.run(duration=5)
    assert log == ["start a", "start b", "stop a"]


def test_health_has_a_section_per_named_service_and_null_for_optional_ones_not_running():
    class Named(Service):
        name = "webhooks"

        def health(self) -> dict:
            return {"sent": 3}

    pipeline = PulsePipeline(Engine(), TickQueue(), {})
    health = pipeline.health()
    assert all(health[name] is None for name in OPTIONAL_SECTIONS)
    pipeline.register(Named())
    assert pipeline.health()["webhooks"] == {"sent": 3}
