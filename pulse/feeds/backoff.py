"""Reconnect delays: capped exponential back-off with full jitter, reset after a stable period.

Full jitter (a uniform draw between a small floor and the exponential ceiling) spreads the
reconnects of many clients that lost the same server at the same moment, so they do not
return as a synchronized herd. The attempt counter only resets once a connection has stayed
up for ``stable_after`` seconds: a server that accepts and then drops at once must not get
hammered at the base delay forever.

The one home of retry delays: the feeds' reconnects, the streaming API client's reconnects
(:class:`Backoff`) and the webhook dispatcher's retries (:func:`capped_exponential`, with its
own jitter on the upper half) all compute them here. Pure Python, no Django import.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable


def capped_exponential(attempt: int, base: float, cap: float) -> float:
    """Return ``base * 2**attempt`` (``attempt`` counts from 0), never more than ``cap``.

    >>> [capped_exponential(n, 5.0, 60.0) for n in range(6)]
    [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]
    """
    # Cap the exponent too: 2.0 ** 2000 overflows a float after a long outage.
    return min(cap, base * 2.0 ** min(attempt, 64))


class Backoff:
    """Compute successive reconnect delays for one connection.

    >>> b = Backoff(base=1.0, cap=8.0, rng=lambda: 1.0, clock=lambda: 0.0)
    >>> [b.next_delay() for _ in range(5)]
    [1.0, 2.0, 4.0, 8.0, 8.0]

    ``rng`` returns floats in [0, 1) (``random.random`` by default) and ``clock`` returns
    monotonic seconds; both are injectable so tests are deterministic.
    """

    def __init__(
        self,
        base: float = 1.0,
        cap: float = 60.0,
        *,
        floor: float = 0.05,
        stable_after: float = 60.0,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if base <= 0 or cap <= 0:
            raise ValueError("backoff base and cap must be positive")
        if cap < base:
            raise ValueError(f"backoff cap ({cap}) must be at least the base ({base})")
        if floor < 0 or stable_after < 0:
            raise ValueError("backoff floor and stable_after must not be negative")
        self.base = base
        self.cap = cap
        self.floor = floor
        self.stable_after = stable_after
        self._rng = rng
        self._clock = clock
        self.attempt = 0
        self._connected_at: float | None = None

    def ceiling(self) -> float:
        """Return the upper bound of the next delay (before jitter)."""
        return capped_exponential(self.attempt, self.base, self.cap)

    def note_connected(self) -> None:
        """Record that a connection just became usable (starts the stable-period clock)."""
        self._connected_at = self._clock()

    def reset(self) -> None:
        """Forget past failures: the next delay starts from ``base`` again."""
        self.attempt = 0

    def next_delay(self) -> float:
        """Return how long to wait before the next attempt, and count that attempt."""
        if self._connected_at is not None:
            if self._clock() - self._connected_at >= self.stable_after:
                self.attempt = 0
            self._connected_at = None
        ceiling = self.ceiling()
        low = min(self.floor, ceiling)
        self.attempt += 1
        return low + self._rng() * (ceiling - low)
