"""``loadtest``: open N authenticated WebSocket clients and measure delivery to them.

The command parses options, runs :class:`pulse.ops.loadtest.clients.LoadRun` and prints
its report; how the clients measure (latency from event time, losses, flow control) is
described in :mod:`pulse.ops.loadtest`.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pulse.ops.loadtest.clients import LoadRun
from pulse.ops.loadtest.processes import find_pids, raise_fd_limit
from pulse.ops.loadtest.report import format_report
from pulse.ops.loadtest.sessions import create_sessions, delete_sessions


class Command(BaseCommand):
    help = (
        "Open N authenticated WebSocket clients (sessions created for the run) against a "
        "running deployment; report delivery latency (p50/p95/p99) from event time to "
        "receipt, messages/s, sequence gaps, and CPU and memory of the server processes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True,
                            help="WebSocket URL, e.g. ws://127.0.0.1:8000/ws/pulse/; several "
                            "comma-separated URLs share the clients round-robin.")
        parser.add_argument("--clients", type=int, default=100, help="Concurrent clients.")
        parser.add_argument("--duration", type=float, default=30.0,
                            help="Seconds to measure once every client connected.")
        parser.add_argument("--users", type=int, default=10,
                            help="Distinct users the clients log in as (default 10).")
        parser.add_argument("--ramp", type=float, metavar="SECONDS",
                            help="Spread connects over this long (default clients/50 s: a "
                            "daphne process accepts a few hundred connects per second).")
        parser.add_argument("--late-ms", type=float, default=500.0,
                            help="A message later than this counts as late (default 500).")
        parser.add_argument("--pids", metavar="PID,...",
                            help="Processes to report CPU/memory for (default: found by name).")
        parser.add_argument("--proc-match", default="daphne,runpulse,redis-server",
                            help="Command-line substrings used to find processes "
                            "(default daphne,runpulse,redis-server).")
        parser.add_argument("--json", metavar="PATH", help="Also write the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        urls = self._urls(options["url"])
        if options["clients"] < 1 or options["users"] < 1 or options["duration"] <= 0:
            raise CommandError("--clients, --users and --duration must be positive")
        pids = self._pids(options)
        try:
            raise_fd_limit(options["clients"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        keys = create_sessions(min(options["users"], options["clients"]))
        ramp = options["ramp"] if options["ramp"] is not None else options["clients"] / 50
        run = LoadRun(urls, keys, options["clients"], options["duration"], ramp,
                      options["late_ms"] / 1000)
        # This process too: a saturated load generator would inflate the latencies.
        run.pids = [*pids, os.getpid()]
        try:
            seconds = asyncio.run(run.run())
        finally:
            delete_sessions(keys)
        report = run.report(seconds)
        for line in format_report(report):
            self.stdout.write(line)
        if options["json"]:
            with open(options["json"], "w") as f:
                json.dump(report, f, indent=2)

    @staticmethod
    def _urls(value: str) -> list[str]:
        urls = [u.strip() for u in value.split(",") if u.strip()]
        for url in urls or [""]:
            parts = urlsplit(url)
            if parts.scheme not in ("ws", "wss") or not parts.netloc:
                raise CommandError("--url must be ws://HOST:PORT/ws/pulse/ (or wss://)")
        return urls

    @staticmethod
    def _pids(options: dict[str, Any]) -> list[int]:
        if options["pids"]:
            try:
                return [int(p) for p in options["pids"].split(",") if p.strip()]
            except ValueError:
                raise CommandError("--pids expects comma-separated numbers") from None
        return find_pids([p for p in options["proc_match"].split(",") if p])
