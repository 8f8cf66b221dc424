"""Gap and duplicate detection on per-symbol trade ids or sequence numbers."""

from __future__ import annotations


class SequenceTracker:
    """Remember the last id per key to classify each new id as in order, duplicate or gapped.

    Trade ids (Binance) and sequence numbers (Coinbase) rise by one per message per symbol,
    so after a reconnect an id at or below the last one seen is a replayed duplicate, and a
    jump of more than one means messages were missed.
    """

    DUPLICATE = -1

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def check(self, key: str, seq: int) -> int:
        """Record ``seq`` for ``key``; return DUPLICATE, 0 (in order) or how many were missed."""
        last = self._last.get(key)
        if last is not None and seq <= last:
            return self.DUPLICATE
        self._last[key] = seq
        if last is None:
            return 0
        return seq - last - 1

    def forget(self, key: str) -> None:
        """Drop ``key`` (unsubscribed): a later re-subscribe must not count the pause as a gap."""
        self._last.pop(key, None)
