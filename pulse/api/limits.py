"""Per-connection limits of the streaming API: message size, subscriptions, inbound rate."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StreamLimits:
    """The limits one API socket must respect (sent to the client in ``hello``)."""

    max_message_bytes: int = 4096
    max_symbols: int = 200
    rate_per_second: float = 10.0
    burst: int = 20

    def as_dict(self) -> dict[str, float | int]:
        """Return the limits as the ``hello`` message shows them."""
        return {"max_message_bytes": self.max_message_bytes, "max_symbols": self.max_symbols,
                "rate_per_second": self.rate_per_second, "burst": self.burst}


@dataclass
class TokenBucket:
    """Allow ``rate`` messages per second on average and ``burst`` at once.

    Time is passed in (a monotonic clock reading) so the bucket is deterministic in tests.
    """

    rate: float
    burst: int
    tokens: float = field(default=-1.0)
    last: float | None = None

    def allow(self, now: float) -> bool:
        """Spend one token if available at ``now``; return whether the message is allowed."""
        if self.last is None:
            self.tokens = float(self.burst)
        else:
            self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
