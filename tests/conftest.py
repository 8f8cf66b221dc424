"""Shared fixtures: users with roles, free ports, and service/browser availability.

alice and bob are ordinary users; bob must never see alice's watchlists or data.

Markers (registered in pyproject.toml): ``slow`` keeps a test out of the everyday loop
(``make test-fast`` runs ``-m "not slow"``); whole directories of multi-process tests get it
here, single tests by decorator. ``shared_data`` tests read the Binance recordings in
``../shared/data`` (``PULSE_SHARED_DATA`` points elsewhere) and skip cleanly without them.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
SHARED_DATA = (Path(os.environ.get("PULSE_SHARED_DATA") or REPO.parent / "shared" / "data")
               / "binance-spot-2024-08-08")
BINANCE_FILES = ("btcusdt_20240808.gz", "ethusdt_20240808.gz")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Every test in these directories starts servers in other processes (an embedded server and
# Chromium). tests/scaled is mixed: its multi-process modules (Redis, PostgreSQL, ingest and
# daphne processes) mark themselves; its in-process ones (shards, metrics, loadtest helpers)
# stay in the everyday loop.
SLOW_DIRECTORIES = {"browser"}


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` is false, except in CI, where it fails."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under a :data:`SLOW_DIRECTORIES` directory ``slow``."""
    for item in items:
        parts = item.path.relative_to(TESTS).parts if item.path.is_relative_to(TESTS) else ()
        if parts and parts[0] in SLOW_DIRECTORIES:
            item.add_marker(pytest.mark.slow)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or, in CI, fail) a ``shared_data`` test before its fixtures read the files."""
    if item.get_closest_marker("shared_data") is not None:
        require_shared_data()


def require_shared_data() -> Path:
    """Return the recordings' directory; skip the test (fail in CI) if it is incomplete."""
    present = all((SHARED_DATA / name).is_file() for name in BINANCE_FILES)
    require(present, f"Binance recordings not found under {SHARED_DATA} (see PULSE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def free_port() -> int:
    """Return a TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def binance_recordings() -> tuple[Path, Path]:
    """Return the recorded BTCUSDT and ETHUSDT sessions in ../shared/data."""
    data = require_shared_data()
    return data / BINANCE_FILES[0], data / BINANCE_FILES[1]


@pytest.fixture
def chromium_path() -> str:
    """Return the system Chromium used by Playwright (never a downloaded browser)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require(Path(path).exists(), "system Chromium not installed (apt-get install chromium)")
    return path


@pytest.fixture
def alice(django_user_model):
    """An ordinary user who owns the 'Tech' watchlist in the tests that need one."""
    return django_user_model.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def bob(django_user_model):
    """Another ordinary user: must never see alice's watchlists."""
    return django_user_model.objects.create_user("bob", password="bob-pass-123")


def session_cookie_for(user) -> str:
    """Return a Cookie header value for a new logged-in session of ``user`` (sync ORM)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"sessionid={store.session_key}"


@pytest.fixture
def limits(settings):
    """Small quotas: 2 watchlists, 3 symbols per list, 2 new instruments a day."""
    settings.PULSE_MAX_WATCHLISTS = 2
    settings.PULSE_MAX_WATCHLIST_SYMBOLS = 3
    settings.PULSE_MAX_NEW_INSTRUMENTS_PER_DAY = 2
    return settings


# Logged-in page clients (carol is staff, a "Watchlist editors" member; root is a superuser).
@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def carol(django_user_model):
    """Staff, not superuser, in the "Watchlist editors" group: sees only her own lists."""
    user = django_user_model.objects.create_user("carol", password="carol-pass-123",
                                                 is_staff=True)
    user.groups.add(Group.objects.get(name="Watchlist editors"))
    return user


@pytest.fixture
def carol_client(carol) -> Client:
    client = Client()
    client.force_login(carol)
    return client


@pytest.fixture
def root_client(django_user_model) -> Client:
    """A superuser: sees everyone's watchlists in the admin."""
    user = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Hash the fixtures' passwords cheaply: these tests are about access, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
