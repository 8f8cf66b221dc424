"""One scaled deployment per test module: private Redis, throwaway PostgreSQL database, two
ingest shards and two daphne processes, all real subprocesses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import require
from tests.scaled import services
from tests.scaled.services import Processes, RedisServer, TempDatabase

# alice has no watchlist (sees the whole market); bob's default watchlist holds only ETH-USD.
SETUP_USERS = """
import json
from django.contrib.auth import get_user_model
from pulse.ops.loadtest.sessions import session_for
from pulse.models import Instrument, Watchlist, WatchlistItem
User = get_user_model()
alice = User.objects.create_user("alice", password="alice-pass-123")
bob = User.objects.create_user("bob", password="bob-pass-123")
eth, _ = Instrument.objects.get_or_create(symbol="ETH-USD", asset_class="crypto")
mine = Watchlist.objects.create(owner=bob, name="Mine", is_default=True)
WatchlistItem.objects.create(watchlist=mine, instrument=eth, position=0)
print(json.dumps({"alice": session_for(alice), "bob": session_for(bob)}))
"""


@dataclass
class Deployment:
    """Handles on the running scaled deployment."""

    redis: RedisServer
    db: TempDatabase
    env: dict[str, str]
    procs: Processes
    web_ports: list[int] = field(default_factory=list)
    metrics_ports: list[int] = field(default_factory=list)
    sessions: dict[str, str] = field(default_factory=dict)
    daphnes: list = field(default_factory=list)
    ingests: list = field(default_factory=list)

    def ws(self, index: int) -> str:
        """Return the WebSocket URL of daphne number ``index``."""
        return f"ws://127.0.0.1:{self.web_ports[index]}/ws/pulse/"

    def ingest_metrics(self, shard: int) -> dict[str, float]:
        """Scrape ingest shard ``shard``'s /metrics."""
        return services.scrape(f"http://127.0.0.1:{self.metrics_ports[shard]}/metrics")


def require_services() -> None:
    """Skip (fail in CI) unless redis-server, PostgreSQL and daphne are available."""
    require(RedisServer.available(), "redis-server is not installed (apt-get install redis)")
    require(services.postgres_available(),
            f"PostgreSQL not reachable at {services.PG_ADMIN_URL}")
    require(services.DAPHNE.exists(), f"daphne not found at {services.DAPHNE}")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    """Start the whole scaled deployment once per module; stop and drop everything after."""
    require_services()
    logs: Path = tmp_path_factory.mktemp("scaled-logs")
    redis = RedisServer(logs)
    redis.start()
    db = TempDatabase()
    env = services.scaled_env(db.url, redis.url)
    procs = Processes(logs)
    dep = Deployment(redis, db, env, procs)
    try:
        db.create(env)
        dep.sessions = json.loads(services.manage(env, "shell", "-c", SETUP_USERS)
                                  .strip().splitlines()[-1])
        for shard in range(2):
            port = services.free_port()
            dep.metrics_ports.append(port)
            dep.ingests.append(procs.ingest(
                f"ingest-{shard}", env, "--symbols", services.SYMBOLS,
                "--shard", f"{shard}/2", "--metrics", f"127.0.0.1:{port}"))
        for index in range(2):
            port = services.free_port()
            dep.web_ports.append(port)
            dep.daphnes.append(procs.daphne(f"daphne-{index}", env, port))
        for shard, proc in enumerate(dep.ingests):
            services.wait_http(f"http://127.0.0.1:{dep.metrics_ports[shard]}/metrics", proc)
        yield dep
    finally:
        procs.stop_all()
        redis.kill()
        db.drop()
