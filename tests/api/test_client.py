"""The Python client: backoff, and reconnecting to a restarted real server with its subscriptions.

The end-to-end test runs daphne in a subprocess (``pulse_site.asgi``) on the Redis
channel layer, so the test process can publish events the server relays, and restarts it.
"""

from __future__ import annotations

import asyncio
import os
import socket as socketlib
import subprocess
import sys
from pathlib import Path

import pytest

from pulse.api import client as pulse_client
from tests.conftest import REPO, require
from tests.live_server import wait_for_http
from tests.waiting import wait_until

REDIS_URL = "redis://127.0.0.1:6379/0"

SETUP = """
from django.contrib.auth.models import User
from pulse.api import tokens
from pulse.models import Instrument, Watchlist, WatchlistItem
alice = User.objects.create_user("alice", password="alice-pass-123")
tech = Watchlist.objects.create(owner=alice, name="Tech", is_default=True)
aapl, _ = Instrument.objects.get_or_create(asset_class="stocks", symbol="AAPL")
WatchlistItem.objects.create(watchlist=tech, instrument=aapl, position=0)
Instrument.objects.get_or_create(asset_class="crypto", symbol="BTC-USD")
print("TOKEN=" + tokens.create(alice, "e2e")[1])
"""


def _delay(attempt: int, **kwargs) -> float:
    """Return the client's reconnect delay after ``attempt`` failures (0-based)."""
    backoff = pulse_client.StreamClient("ws://x/ws/api/", "t").backoff(**kwargs)
    backoff.attempt = attempt
    return backoff.next_delay()


def test_backoff_is_capped_and_fully_jittered():
    assert _delay(0, rng=lambda: 1.0) == 0.5
    assert _delay(3, rng=lambda: 1.0) == 4.0
    assert _delay(50, rng=lambda: 1.0) == 30.0
    assert _delay(50, rng=lambda: 0.0) == 0.0
    delays = {_delay(4) for _ in range(50)}
    assert len(delays) > 40 and all(0 <= d <= 8.0 for d in delays)


def test_the_client_sends_symbol_and_watchlist_subscriptions():
    client = pulse_client.StreamClient("ws://x/ws/api/", "t", symbols=["AAPL"], watchlists=[3])
    assert client.subscriptions() == [{"action": "subscribe", "symbols": ["AAPL"]},
                                      {"action": "subscribe", "watchlist": 3}]


def test_the_command_requires_a_token_and_something_to_follow(monkeypatch, capsys):
    monkeypatch.delenv("PULSE_TOKEN", raising=False)
    with pytest.raises(SystemExit):
        pulse_client.main(["--watchlist", "1"])
    with pytest.raises(SystemExit):
        pulse_client.main(["--token", "t"])
    assert "required" in capsys.readouterr().err


def _redis_up() -> bool:
    try:
        with socketlib.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, SQLITE_PATH=str(tmp_path / "db.sqlite3"), DEBUG="1",
               REDIS_URL=REDIS_URL, DJANGO_SETTINGS_MODULE="pulse_site.settings")
    env.pop("DATABASE_URL", None)
    return env


def _start_daphne(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "pulse_site.asgi:application"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for_http(f"http://127.0.0.1:{port}/healthz", proc)
    return proc


def _wait_for(path: Path, text: str, count: int = 1, within: float = 30.0) -> str:
    """Return ``path``'s content once it holds ``text`` ``count`` times."""
    def printed() -> str:
        content = path.read_text() if path.exists() else ""
        return content if content.count(text) >= count else ""

    try:
        return wait_until(printed, within, what=f"{text!r} x{count} in {path.name}")
    except AssertionError as timeout:
        tail = path.read_text()[-2000:] if path.exists() else ""
        raise AssertionError(f"{timeout}: {tail}") from None


def _publish_event(symbol: str, event_id: str) -> None:
    """Publish a stress event on the Redis layer, as an ingest process would."""
    asyncio.run(_publish(symbol, event_id))


async def _publish(symbol: str, event_id: str) -> None:
    from channels_redis.pubsub import RedisPubSubChannelLayer

    from pulse.realtime.broadcast import PULSE_GROUP, dumps
    from pulse_site.env import redis_hosts
    layer = RedisPubSubChannelLayer(hosts=redis_hosts(REDIS_URL))
    try:
        await layer.group_send(PULSE_GROUP, {
            "type": "pulse.event", "seq": 1, "src": f"e2e-{event_id}", "symbol": symbol,
            "event": dumps({"id": event_id, "symbol": symbol, "type": "move_1m"})})
    finally:
        await layer.flush()


@pytest.mark.slow
def test_the_client_reconnects_after_a_server_restart_and_resumes(tmp_path, free_port):
    require(_redis_up(), "Redis not reachable on 127.0.0.1:6379")
    env = _env(tmp_path)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=120)
    setup = subprocess.run([*manage, "shell", "-c", SETUP], cwd=REPO, env=env, check=True,
                           capture_output=True, text=True, timeout=60)
    token = setup.stdout.split("TOKEN=")[1].strip()
    server = _start_daphne(env, free_port)
    out, err = tmp_path / "client.out", tmp_path / "client.err"
    client_env = dict(env, PULSE_TOKEN=token)
    with out.open("w") as stdout, err.open("w") as stderr:
        client = subprocess.Popen(
            [sys.executable, "-m", "pulse.api.client", "--url",
             f"ws://127.0.0.1:{free_port}/ws/api/", "--watchlist", "Tech",
             "--symbols", "BTC-USD"],
            cwd=REPO, env=client_env, stdout=stdout, stderr=stderr)
    try:
        # Two subscriptions (symbols, then the watchlist named Tech) were acknowledged.
        _wait_for(err, '"type": "subscribed"', 2)
        _publish_event("AAPL", "before-restart")
        _wait_for(out, "before-restart")
        server.terminate()
        server.wait(timeout=20)
        _wait_for(err, "reconnecting in")
        server = _start_daphne(env, free_port)
        _wait_for(err, "(connection 2)")
        _wait_for(err, '"type": "subscribed"', 4)
        # The unsubscribed event goes first: once the later ones are printed, it would have
        # been too (one channel, in order).
        _publish_event("MSFT", "never-subscribed")
        _publish_event("BTC-USD", "after-restart-symbol")
        _publish_event("AAPL", "after-restart-watchlist")
        _wait_for(out, "after-restart-watchlist")
        printed = _wait_for(out, "after-restart-symbol")
        assert "never-subscribed" not in printed
        lines = printed.splitlines()
        assert all(line.startswith('{"type":"event"') for line in lines)
        assert client.poll() is None  # still running
    finally:
        client.terminate()
        client.wait(timeout=10)
        server.terminate()
        server.wait(timeout=20)
