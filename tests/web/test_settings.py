"""Settings come from the environment, with embedded defaults and loud failures."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from pulse_site.env import env_bool, env_float, env_list, env_str, redis_hosts
from tests.conftest import REPO


def settings_in_subprocess(env: dict[str, str], expr: str) -> subprocess.CompletedProcess[str]:
    """Import the settings module with ``env`` and print ``expr`` evaluated on it as JSON."""
    code = (f"import json; from pulse_site import settings as s; "
            f"print(json.dumps({expr}, default=str))")
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"}}
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_env_bool_accepts_common_spellings_and_rejects_typos():
    assert env_bool("X", False, {"X": "Yes"}) is True
    assert env_bool("X", True, {"X": "off"}) is False
    assert env_bool("X", True, {}) is True
    with pytest.raises(ImproperlyConfigured, match="X must be true or false"):
        env_bool("X", True, {"X": "ture"})


def test_env_float_rejects_garbage_nan_and_values_below_minimum():
    assert env_float("F", 1.5, environ={}) == 1.5
    assert env_float("F", 1.5, environ={"F": "0.25"}) == 0.25
    for bad in ("abc", "nan", "-1"):
        with pytest.raises(ImproperlyConfigured):
            env_float("F", 1.0, minimum=0, environ={"F": bad})


def test_env_list_and_str_strip_blanks():
    assert env_list("L", ["a"], {"L": " x, ,y ,"}) == ["x", "y"]
    assert env_list("L", ["a"], {}) == ["a"]
    assert env_str("S", "d", {"S": "  v "}) == "v"


def test_redis_hosts_disable_socket_timeout_and_reject_other_schemes():
    (host,) = redis_hosts("redis://127.0.0.1:6379/0")
    assert host["socket_timeout"] is None and host["max_connections"] == 1000
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        redis_hosts("http://127.0.0.1:6379")


def test_embedded_defaults_use_sqlite_and_the_in_memory_layer():
    out = settings_in_subprocess(
        {}, "[s.DEBUG, s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND']]"
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        True, "django.db.backends.sqlite3", "channels.layers.InMemoryChannelLayer"
    ]


def test_database_and_redis_urls_select_postgresql_and_channels_redis():
    out = settings_in_subprocess(
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
         "REDIS_URL": "redis://127.0.0.1:6379/1"},
        "[s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
        "s.CHANNEL_LAYERS['default']['BACKEND'], s.CHANNEL_LAYERS['default']['CONFIG'],"
        " s.PULSE_FLUSH_INTERVAL]",
    )
    assert out.returncode == 0, out.stderr
    engine, name, backend, config, flush = json.loads(out.stdout)
    assert flush == 1.0  # scaled mode: fewer, larger snapshot messages per page
    assert engine == "django.db.backends.postgresql" and name == "test"
    assert backend == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert config["hosts"][0]["address"] == "redis://127.0.0.1:6379/1"


def test_debug_off_without_secret_key_refuses_to_start():
    out = settings_in_subprocess({"DEBUG": "0"}, "s.DEBUG")
    assert out.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in out.stderr


def test_debug_off_with_secret_key_hardens_cookies_and_reads_hosts():
    out = settings_in_subprocess(
        {"DEBUG": "false", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "pulse.example.com"},
        "[s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.ALLOWED_HOSTS]",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [False, True, True, ["pulse.example.com"]]


def test_invalid_database_url_is_reported_clearly():
    out = settings_in_subprocess({"DATABASE_URL": "nosuchdb://x"}, "1")
    assert out.returncode != 0
    assert "DATABASE_URL" in out.stderr


@pytest.mark.slow
def test_check_deploy_is_clean_under_production_settings():
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="pulse.example.com",
               REDIS_URL="redis://127.0.0.1:6379/0")
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                          "WARNING"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


@pytest.mark.slow
def test_check_deploy_warns_about_the_in_memory_layer_with_debug_off():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DEBUG="0", SECRET_KEY="k" * 64, ALLOWED_HOSTS="pulse.example.com")
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert "pulse.W001" in out.stdout + out.stderr
