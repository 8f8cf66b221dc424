"""Real services for the scaled tests: a private redis-server, a throwaway PostgreSQL database,
a TCP proxy that can be cut, and ingest/daphne subprocesses pointed at them.

Every test run gets its own Redis server (pub/sub channels ignore the DB index, so a shared
server would let parallel runs hear each other) and its own ``test_pulse_<random>`` database.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO
from tests.live_server import wait_for_http
from tests.waiting import wait_until

PG_ADMIN_URL = os.environ.get("PULSE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
DAPHNE = Path(sys.executable).with_name("daphne")
# Stress events within seconds and all the time: tiny percent thresholds and a 5 s cooldown
# (see pulse/engine/config.py). With the default 300 s cooldown every symbol and direction
# fires once during the simulator's 120 s of history and then mostly stays quiet, so whether
# a test's few-second window saw an event depended on timing.
FAST_EVENTS = (
    "--engine-option", "cooldown=5",
    "--engine-option", "threshold_mode=\"percent\"",
    "--engine-option",
    'move_pct={"crypto":{"move_1m":[0.01,0.02],"move_5m":[0.02,0.04]},'
    '"stocks":{"move_1m":[0.01,0.02],"move_5m":[0.02,0.04]},'
    '"forex":{"move_1m":[0.005,0.01],"move_5m":[0.01,0.02]}}',
)
SYMBOLS = ("crypto:BTC-USD,crypto:ETH-USD,crypto:SOL-USD,crypto:XRP-USD,"
           "forex:EURUSD,forex:USDJPY,stocks:AAPL,stocks:MSFT")


def free_port() -> int:
    """Return a TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    """Return True if something accepts TCP connections at host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def postgres_available() -> bool:
    """Return True if the local PostgreSQL accepts the admin URL."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


class RedisServer:
    """A private ``redis-server`` on a free port that tests may kill and restart."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log = log_dir / f"redis-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        """Return True if ``redis-server`` is installed."""
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        """Return the ``REDIS_URL`` of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (again) on its port and wait until it answers."""
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT,
            )
        wait_until(lambda: port_open("127.0.0.1", self.port), 10, what="redis-server")

    def kill(self) -> None:
        """Kill the server abruptly (as a crash would)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class TempDatabase:
    """A ``test_pulse_<random>`` database in the local PostgreSQL, migrated, dropped after."""

    def __init__(self) -> None:
        self.name = f"test_pulse_{secrets.token_hex(4)}"
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"

    def via(self, host: str, port: int) -> str:
        """Return this database's URL reached through ``host:port`` (a proxy)."""
        user = PG_ADMIN_URL.split("//", 1)[1].split("@", 1)[0]
        return f"postgresql://{user}@{host}:{port}/{self.name}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(sql)

    def create(self, env: dict[str, str]) -> None:
        """Create and migrate the database."""
        self._admin(f'CREATE DATABASE "{self.name}"')
        manage(env, "migrate", "--noinput", timeout=180)

    def drop(self) -> None:
        """Drop the database, disconnecting whoever is still connected."""
        with contextlib.suppress(Exception):
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str) -> list[tuple]:
        """Run ``sql`` directly on the database (not through any proxy)."""
        import psycopg

        with psycopg.connect(self.url) as conn:
            return conn.execute(sql).fetchall()


def manage(env: dict[str, str], *args: str, timeout: float = 60) -> str:
    """Run ``manage.py`` with ``env``; return its stdout, failing with its output."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def scaled_env(database_url: str, redis_url: str) -> dict[str, str]:
    """Return the environment of every scaled-mode process."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"SQLITE_PATH", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, DEBUG="1",
               SECRET_KEY="scaled-test-" + secrets.token_hex(16),
               ALLOWED_HOSTS="127.0.0.1,localhost", PULSE_FLUSH_INTERVAL="0.25",
               SIMULATOR_HISTORY="120", PYTHONUNBUFFERED="1")
    return env


class Processes:
    """Start subprocesses with logs in files; stop every one of them (and only them) after."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        """Start ``args`` in the repo with stdout and stderr to ``<log_dir>/<name>.log``."""
        log = (self.log_dir / f"{name}.log").open("a")
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = self.log_dir / f"{name}.log"  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def ingest(self, name: str, env: dict[str, str], *extra: str) -> subprocess.Popen:
        """Start ``runpulse`` (ingest only) with fast stress events."""
        return self.start(name, [sys.executable, "manage.py", "runpulse", *FAST_EVENTS,
                                 *extra], env)

    def daphne(self, name: str, env: dict[str, str], port: int) -> subprocess.Popen:
        """Start one daphne process on ``port`` and wait until it serves pages."""
        proc = self.start(name, [str(DAPHNE), "-b", "127.0.0.1", "-p", str(port),
                                 "pulse_site.asgi:application"], env)
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        return proc

    def stop_all(self) -> None:
        """Terminate every started process, killing those that do not exit in time."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def log_tail(proc: subprocess.Popen, lines: int = 40) -> str:
    """Return the end of a started process's log, for assertion messages."""
    path = getattr(proc, "log_path", None)
    if path is None or not Path(path).exists():
        return ""
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 40) -> None:
    """Wait until ``url`` answers (any HTTP status), failing if ``proc`` exits first."""
    wait_for_http(url, proc, timeout, describe=lambda: log_tail(proc))


def scrape(url: str) -> dict[str, float]:
    """Return ``{"name{labels}": value}`` from a Prometheus text page."""
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            values[key] = float(value)
    return values


class TcpProxy:
    """A TCP proxy on a free port: each connection goes to the first upstream that accepts.

    ``cut()`` closes every open connection and refuses new ones until ``restore()``: a real
    network failure as far as the client (Django, a browser) can tell.
    """

    def __init__(self, upstreams: list[tuple[str, int]]) -> None:
        self.upstreams = upstreams
        self.port = free_port()
        self.enabled = True
        self.accepted: list[int] = []  # upstream index of each connection, in order
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._running = True
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.enabled:
                client.close()
                continue
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        for index, address in enumerate(self.upstreams):
            try:
                upstream = socket.create_connection(address, timeout=2)
            except OSError:
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns.update((client, upstream))
                self.accepted.append(index)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()
            return
        client.close()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
                with self._lock:
                    self._conns.discard(sock)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self.enabled = False
        with self._lock:
            conns = list(self._conns)
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        """Accept connections again."""
        self.enabled = True

    def close(self) -> None:
        """Stop listening and drop everything."""
        self._running = False
        self.cut()
        self._listener.close()


@contextlib.contextmanager
def temp_database(env: dict[str, str]) -> Iterator[TempDatabase]:
    """Yield a created and migrated database, dropped afterwards."""
    db = TempDatabase()
    env["DATABASE_URL"] = db.url
    try:
        db.create(env)
        yield db
    finally:
        db.drop()
