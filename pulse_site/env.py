"""Read typed settings from the environment, failing loudly on values that do not parse.

A typo such as ``DEBUG=ture`` must stop the app with a clear message instead of silently
meaning something else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    """Return the variable stripped of surrounding spaces, or ``default`` when unset."""
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Return a boolean from ``1/true/yes/on`` or ``0/false/no/off``; reject anything else."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), got {raw!r}")


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """Return a comma-separated list with blanks removed, or ``default`` when unset."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_float(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> float:
    """Return a float, rejecting unparsable values and values below ``minimum``."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if value != value or (minimum is not None and value < minimum):
        raise ImproperlyConfigured(f"{name} must be a number >= {minimum}, got {raw!r}")
    return value


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Return a whole number, rejecting fractions, garbage and values below ``minimum``."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be a whole number >= {minimum}, got {raw!r}")
    return value


def redis_hosts(url: str) -> list[dict[str, object]]:
    """Return channels-redis host config for ``url``.

    ``socket_timeout=None`` keeps idle receivers alive and ``max_connections`` lets a burst of
    WebSocket connects through: redis-py's newer defaults break channels-redis on both counts.
    """
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL must start with redis://, rediss:// or unix://, got {url!r}"
        )
    return [{"address": url, "socket_timeout": None, "max_connections": 1000}]
