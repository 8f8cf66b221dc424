"""One embedded server (runpulse --serve on the simulator) and one Chromium for the module.

Starting the server costs seconds (migrations, 30 minutes of synthetic history), so the
browser tests share it; each test opens its own page. Users and watchlists are created with
``manage.py shell`` against the server's own SQLite file: the pytest database is a
different one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, require
from tests.live_server import start_server, wait_for_http

ARTIFACTS = REPO / "test-artifacts"

# Percent thresholds low enough that the simulator fires a stress event within seconds.
EVENT_OPTIONS = (
    "--engine-option", 'threshold_mode="percent"',
    "--engine-option",
    'move_pct={"crypto": {"move_1m": [0.02, 5.0], "move_5m": [0.05, 8.0]},'
    ' "forex": {"move_1m": [0.005, 1.0], "move_5m": [0.01, 2.0]}}',
    "--engine-option", "cooldown=30",
)

# Created in the server's database: alice watches a small mixed list, bob another one.
SETUP_USERS = """
from django.contrib.auth import get_user_model
from pulse.models import Instrument, Watchlist, WatchlistItem
User = get_user_model()
for name, symbols in [("alice", [("crypto", "BTC-USD"), ("crypto", "ETH-USD"),
                                 ("forex", "EURUSD"), ("forex", "GBPUSD"),
                                 ("stocks", "AAPL")]),
                      ("bob", [("crypto", "DOGE-USD"), ("forex", "USDJPY")])]:
    user = User.objects.create_user(name, password=name + "-pass-123")
    w = Watchlist.objects.create(owner=user, name=name.title() + " core", is_default=True)
    for i, (asset, symbol) in enumerate(symbols):
        inst, _ = Instrument.objects.get_or_create(asset_class=asset, symbol=symbol)
        WatchlistItem.objects.create(watchlist=w, instrument=inst, position=i)
"""


@dataclass
class LiveServer:
    """A running embedded server and the environment to reach its database."""

    base: str
    env: dict[str, str]

    def shell(self, code: str) -> str:
        """Run Python ``code`` in ``manage.py shell`` against the server's database."""
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code], cwd=REPO, env=self.env,
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def watchlist_id(self, username: str) -> int:
        out = self.shell(
            "import json; from pulse.models import Watchlist\n"
            f"print(json.dumps(Watchlist.objects.get(owner__username={username!r}).pk))"
        )
        return json.loads(out.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def pulse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Start ``runpulse --serve`` with low event thresholds; stop it after the module."""
    tmp = tmp_path_factory.mktemp("live")
    port = _free_port()
    saved = dict(os.environ)
    # Stocks tick around the clock so the test does not depend on NYSE hours.
    os.environ["SIMULATOR_STOCK_HOURS"] = "always"
    try:
        proc = start_server(tmp, port, *EVENT_OPTIONS)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    env = dict(os.environ, SQLITE_PATH=str(tmp / "db.sqlite3"), DEBUG="1")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    server = LiveServer(f"http://127.0.0.1:{port}", env)
    try:
        wait_for_http(server.base + "/accounts/login/", proc)
        server.shell(SETUP_USERS)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Launch the system Chromium headless (Playwright never downloads a browser)."""
    path = "/usr/bin/chromium"
    require(Path(path).exists(), "system Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls
    # (pytest-django's database setup among them) from such threads unless told otherwise.
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as pw:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
        chromium = pw.chromium.launch(
            executable_path=path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


def login(browser: object, server: LiveServer, username: str, *, width: int = 1366,
          height: int = 900) -> object:
    """Open a new page logged in as ``username`` through the real login form."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server.base + "/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", username + "-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(server.base + "/")
    return page


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name}.png looks empty"
    return path
