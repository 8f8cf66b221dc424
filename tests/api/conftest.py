"""Fixtures for the API tests: tokens for alice and bob, a real ingest pipeline, sockets.

alice and bob (tests/conftest.py) each get a token; alice's token must never reach bob's
watchlists, over REST or over the streaming socket.
"""

from __future__ import annotations

import contextlib

import pytest
from channels.routing import URLRouter

from pulse.api import tokens
from pulse.api.routing import websocket_urlpatterns
from pulse.engine import Engine
from pulse.engine.tick import Tick
from tests.conftest import session_cookie_for
from tests.ingest_helpers import running_ingest as shared_running_ingest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Hash the fixtures' passwords cheaply: these tests are about tokens, not passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice_token(alice) -> str:
    """The full text of an active token of alice's."""
    return tokens.create(alice, "alice bot")[1]


@pytest.fixture
def bob_token(bob) -> str:
    """The full text of an active token of bob's."""
    return tokens.create(bob, "bob bot")[1]


session_cookie = session_cookie_for  # the same helper as the page-socket tests


def api_app(consumer=None):
    """Return the API's WebSocket app (optionally with a tuned consumer class)."""
    if consumer is None:
        return URLRouter(websocket_urlpatterns)
    from django.urls import path

    from pulse.api.ws_auth import TokenAuthMiddleware

    return URLRouter([path("ws/api/", TokenAuthMiddleware(consumer.as_asgi()))])


def warm_engine(symbols: dict[str, str], seconds: int = 120) -> Engine:
    """Return an engine fed one tick per second per symbol."""
    engine = Engine()
    prices = dict.fromkeys(symbols, 100.0)
    for t in range(seconds):
        for i, (symbol, asset) in enumerate(symbols.items()):
            prices[symbol] *= 1.0 + ((t * (31 + 17 * i)) % 11 - 5) / 20000.0
            ts = 1_700_000_000.0 + t + 0.1 * i
            engine.on_tick(Tick(symbol, asset, ts, prices[symbol], recv_ts=ts))
    return engine


MARKET = {"AAPL": "stocks", "MSFT": "stocks", "BTC-USD": "crypto", "EURUSD": "forex"}


@contextlib.asynccontextmanager
async def running_ingest(symbols: dict[str, str] | None = None):
    """Answer control-group requests with a real pipeline over a warmed engine."""
    async with shared_running_ingest(warm_engine(symbols or MARKET)) as pipeline:
        yield pipeline
