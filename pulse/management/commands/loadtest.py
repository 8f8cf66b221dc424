"""``loadtest``: open N authenticated WebSocket clients and measure delivery to them.

Sessions are created for the run directly in the database (users ``loadtest-<k>`` without
watchlists, so every client sees the whole market and every broadcast reaches it), then N
clients connect with the ``websockets`` package from one asyncio process. For every message
the client records ``receipt wall time - message time``: a snapshot's ``ts`` (engine time of
its newest tick) or an event's ``ts`` (the tick that fired it). With the simulator, event
time is wall time, so this is the whole path tick -> engine -> Redis -> daphne -> client.

Clients acknowledge what they processed once a second, as the dashboard page does (the
server's flow control drops snapshots to, and finally disconnects, pages that fall behind).
Losses are measured two ways: every client should receive every stress event (whole-market
users), so an event some client lacks is a dropped event; and at the end each client asks
the server for its socket's counters (``{"action": "stats"}``: snapshots dropped because the
client lagged). Jumps in ``seq`` are reported too, but the consumer legitimately skips
messages (the broadcast correlation matrix), so they are not losses by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

USER_PREFIX = "loadtest-"
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def session_for(user: Any) -> str:
    """Create a logged-in session for ``user`` directly in the session store; return its key."""
    store_cls = import_string(settings.SESSION_ENGINE + ".SessionStore")
    session = store_cls()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(3600)
    session.create()
    return session.session_key


def create_sessions(users: int) -> list[str]:
    """Create (or reuse) ``users`` load-test users and return one fresh session key each."""
    user_model = get_user_model()
    keys = []
    for k in range(users):
        user, created = user_model.objects.get_or_create(username=f"{USER_PREFIX}{k}")
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        keys.append(session_for(user))
    return keys


def delete_sessions(keys: list[str]) -> None:
    """Delete the sessions created for the run."""
    store_cls = import_string(settings.SESSION_ENGINE + ".SessionStore")
    for key in keys:
        store_cls(session_key=key).delete()


def percentile(values: list[float], q: float) -> float | None:
    """Return the ``q`` quantile (0..1) of ``values`` by nearest rank, or None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class ClientStats:
    """What one client saw: latencies by message type, counts, gaps, errors."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    recent: list[float] = field(default_factory=list)  # snapshot/event latencies, last window
    messages: int = 0
    gaps: int = 0
    missing: int = 0
    received: int = 0  # every message, acknowledged to the server for flow control
    events: dict[str, float] = field(default_factory=dict)  # event id -> event time
    server: dict[str, Any] = field(default_factory=dict)  # the socket's own counters
    connected: bool = False
    closed_code: int | None = None
    error: str = ""
    last_seq: int = 0


@dataclass
class ProcessSample:
    """CPU time and memory of one process at one moment, from /proc."""

    pid: int
    name: str
    cpu: float  # seconds (user + system)
    rss: int  # bytes
    hwm: int  # peak RSS, bytes


def sample_process(pid: int) -> ProcessSample | None:
    """Read CPU seconds and RSS of ``pid`` from /proc; None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    kib = lambda key: int(status.get(key, "0 kB").split()[0]) * 1024  # noqa: E731
    return ProcessSample(pid, cmd[:90], cpu, kib("VmRSS"), kib("VmHWM"))


def find_pids(patterns: list[str]) -> list[int]:
    """Return pids whose command line contains any of ``patterns`` (not this process)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(p in cmd for p in patterns) and "loadtest" not in cmd:
            found.append(int(entry))
    return sorted(found)


class LoadRun:
    """Run N clients against one URL for a while and collect :class:`ClientStats`."""

    def __init__(self, urls: list[str], keys: list[str], clients: int,
                 duration: float, ramp: float, late: float) -> None:
        self.urls, self.keys = urls, keys
        self.clients, self.duration, self.ramp, self.late = clients, duration, ramp, late
        self.stats = [ClientStats() for _ in range(clients)]
        self.measure_from = 0.0
        self.measure_to = 0.0
        self.pids: list[int] = []
        self.cpu_before: dict[int, ProcessSample | None] = {}
        self.cpu_after: dict[int, ProcessSample | None] = {}

    async def run(self) -> float:
        """Connect every client (spread over ``ramp`` seconds), measure, disconnect."""
        stop = asyncio.Event()
        tasks = [asyncio.create_task(self._client(i, stop)) for i in range(self.clients)]
        await asyncio.sleep(self.ramp + 1.0)  # connected and past the first full snapshots
        self.measure_from = time.time()
        self.cpu_before = {pid: sample_process(pid) for pid in self.pids}
        await asyncio.sleep(self.duration)
        self.measure_to = time.time()
        self.cpu_after = {pid: sample_process(pid) for pid in self.pids}
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return time.time() - self.measure_from

    async def _client(self, i: int, stop: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        st = self.stats[i]
        await asyncio.sleep(self.ramp * i / max(1, self.clients))
        key = self.keys[i % len(self.keys)]
        url = self.urls[i % len(self.urls)]
        try:
            async with connect(url, origin=origin_of(url), compression=None,
                               additional_headers={"Cookie": f"sessionid={key}"},
                               open_timeout=30, ping_interval=None, max_queue=None,
                               max_size=2**24) as ws:
                st.connected = True
                reader = asyncio.create_task(self._read(ws, st))
                acked = 0
                while not stop.is_set() and not reader.done():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0)
                    if st.received != acked and not reader.done():
                        acked = st.received
                        await ws.send(orjson.dumps({"action": "ack", "received": acked}).decode())
                if not reader.done():
                    await ws.send('{"action":"stats"}')
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(reader), timeout=5)
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
                st.closed_code = ws.close_code
        except Exception as exc:
            st.error = f"{type(exc).__name__}: {exc}"[:200]

    async def _read(self, ws: Any, st: ClientStats) -> None:
        async for raw in ws:
            now = time.time()
            st.received += 1
            msg = orjson.loads(raw)
            kind = msg.get("type")
            if kind == "stats":
                st.server = msg
                return
            if kind not in ("snapshot", "event", "health", "correlation"):
                continue
            seq = msg.get("seq")
            # Full snapshots answering this client's own request repeat the current seq.
            if isinstance(seq, int) and not (kind == "snapshot" and msg.get("full")
                                              and seq <= st.last_seq):
                if st.last_seq and seq > st.last_seq + 1:
                    st.gaps += 1
                    st.missing += seq - st.last_seq - 1
                st.last_seq = max(st.last_seq, seq)
            if now < self.measure_from:
                continue
            st.messages += 1
            ts = msg.get("ts") if kind == "snapshot" else (msg.get("event") or {}).get("ts")
            if kind == "event" and isinstance(ts, int | float):
                st.events[str(msg["event"].get("id"))] = ts
            if isinstance(ts, int | float):
                latency = now - ts
                st.latencies.setdefault(kind, []).append(latency)
                st.recent.append(latency)
                if len(st.recent) > 40:
                    del st.recent[:20]

    def report(self, seconds: float) -> dict[str, Any]:
        """Return the aggregate figures of the run."""
        by_type: dict[str, list[float]] = {}
        for st in self.stats:
            for kind, values in st.latencies.items():
                by_type.setdefault(kind, []).extend(values)
        latency = {
            kind: {"count": len(v), "p50_ms": _ms(percentile(v, 0.5)),
                   "p95_ms": _ms(percentile(v, 0.95)), "p99_ms": _ms(percentile(v, 0.99)),
                   "max_ms": _ms(max(v))}
            for kind, v in sorted(by_type.items())
        }
        every = [x for v in by_type.values() for x in v]
        behind = sum(1 for st in self.stats
                     if st.recent and statistics.median(st.recent[-20:]) > self.late)
        messages = sum(st.messages for st in self.stats)
        errors = [st.error for st in self.stats if st.error]
        alive = [st for st in self.stats if st.connected and not st.error]
        # Events fired in the measured window must have reached every client, except those
        # still in flight when the clients stopped (younger than the slowest delivery seen).
        slowest = max(every, default=0.0)
        all_events = {i for st in alive for i, ts in st.events.items()
                      if self.measure_from + 0.5 <= ts <= self.measure_to - max(1.0, slowest)}
        missing_events = sum(len(all_events - st.events.keys()) for st in alive)
        return {
            "clients": self.clients,
            "connected": sum(st.connected for st in self.stats),
            "failed": len(errors),
            "first_errors": sorted(set(errors))[:5],
            "seconds": round(seconds, 1),
            "messages": messages,
            "messages_per_s": round(messages / seconds, 1) if seconds else 0.0,
            "latency": latency,
            "late": sum(1 for x in every if x > self.late),
            "late_threshold_ms": round(self.late * 1000),
            "events_distinct": len(all_events),
            "events_missing": missing_events,
            "snapshots_dropped_by_server": sum(st.server.get("dropped_snapshots", 0)
                                               for st in self.stats),
            "clients_without_stats": sum(1 for st in alive if not st.server),
            "seq_jumps": sum(st.gaps for st in self.stats),
            "clients_behind": behind,
        }


def origin_of(url: str) -> str:
    """Return the ``Origin`` a browser on the same host would send for ``url``."""
    parts = urlsplit(url)
    return ("https://" if parts.scheme == "wss" else "http://") + parts.netloc


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


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
        urls = [u.strip() for u in options["url"].split(",") if u.strip()]
        for url in urls or [""]:
            parts = urlsplit(url)
            if parts.scheme not in ("ws", "wss") or not parts.netloc:
                raise CommandError("--url must be ws://HOST:PORT/ws/pulse/ (or wss://)")
        if options["clients"] < 1 or options["users"] < 1 or options["duration"] <= 0:
            raise CommandError("--clients, --users and --duration must be positive")
        pids = self._pids(options)
        self._raise_fd_limit(options["clients"])
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
        report["processes"] = self._process_report(run.cpu_before, run.cpu_after, run.measure_to
                                                   - run.measure_from)
        self._print(report)
        if options["json"]:
            with open(options["json"], "w") as f:
                json.dump(report, f, indent=2)

    @staticmethod
    def _pids(options: dict[str, Any]) -> list[int]:
        if options["pids"]:
            try:
                return [int(p) for p in options["pids"].split(",") if p.strip()]
            except ValueError:
                raise CommandError("--pids expects comma-separated numbers") from None
        return find_pids([p for p in options["proc_match"].split(",") if p])

    @staticmethod
    def _raise_fd_limit(clients: int) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, max(soft, clients + 256))
        if want > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        if clients + 64 > want:
            raise CommandError(f"file-descriptor limit {want} is too low for {clients} "
                               "clients (raise it with ulimit -n)")

    @staticmethod
    def _process_report(before: dict[int, ProcessSample | None],
                        after: dict[int, ProcessSample | None], wall: float
                        ) -> list[dict[str, Any]]:
        rows = []
        for pid, first in before.items():
            last = after.get(pid)
            if first is None or last is None:
                continue
            rows.append({"pid": pid, "cmd": last.name,
                         "cpu_pct": round(100 * (last.cpu - first.cpu) / wall, 1),
                         "rss_mb": round(last.rss / 2**20, 1),
                         "peak_rss_mb": round(last.hwm / 2**20, 1)})
        return rows

    def _print(self, r: dict[str, Any]) -> None:
        w = self.stdout.write
        w(f"clients {r['connected']}/{r['clients']} connected, {r['failed']} failed"
          + (f" ({'; '.join(r['first_errors'])})" if r["first_errors"] else ""))
        w(f"measured {r['seconds']} s: {r['messages']} messages, {r['messages_per_s']} msg/s")
        for kind, lat in r["latency"].items():
            w(f"  {kind:12} n={lat['count']:>8}  p50 {lat['p50_ms']} ms  p95 {lat['p95_ms']} ms"
              f"  p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms")
        w(f"late (> {r['late_threshold_ms']} ms): {r['late']}; clients behind: "
          f"{r['clients_behind']}; events {r['events_distinct']} distinct, "
          f"{r['events_missing']} missing across clients; snapshots dropped by server "
          f"flow control: {r['snapshots_dropped_by_server']} ({r['clients_without_stats']} "
          f"clients did not report); seq jumps: {r['seq_jumps']}")
        for p in r["processes"]:
            w(f"  pid {p['pid']:>7}  cpu {p['cpu_pct']:>5}%  rss {p['rss_mb']} MB "
              f"(peak {p['peak_rss_mb']})  {p['cmd']}")
