"""Wait-until helpers: poll a condition instead of sleeping a fixed time.

A fixed sleep is either too short on a loaded machine (a flaky test) or too long everywhere
(a slow one). These return as soon as the condition holds and fail with a message naming it
when it does not hold in time. ``wait_until`` is for plain tests and subprocess checks,
``until`` for coroutines, where the event loop must keep running while we poll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], within: float = 5.0, *, what: str = "condition",
               interval: float = 0.05) -> T:
    """Return ``predicate()``'s first truthy value; fail after ``within`` seconds.

    ``predicate`` may raise to abort the wait (e.g. when a watched process exits).
    """
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        time.sleep(interval)


async def until(predicate: Callable[[], T], within: float = 5.0, *, what: str = "condition",
                interval: float = 0.005) -> T:
    """Like :func:`wait_until`, yielding to the event loop between polls."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(interval)
