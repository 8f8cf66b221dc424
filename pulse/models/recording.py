"""The market recording: per symbol and minute, the last tick of each 1 s cell."""

from __future__ import annotations

from django.db import models


class RecordedMinute(models.Model):
    """One symbol's recorded minute: a compact blob of (cell, count, ts, price, bid, ask).

    Written (and rewritten while the minute is open) by ``pulse.durable.recorder``; read by
    warm start and ``replay --from-db``. ``start`` is the minute's first second (UTC).
    """

    symbol = models.CharField(max_length=32)
    asset_class = models.CharField(max_length=8)
    start = models.DateTimeField()
    cells = models.PositiveSmallIntegerField(help_text="Cells with at least one tick.")
    ticks = models.PositiveIntegerField(help_text="Accepted ticks in the minute.")
    data = models.BinaryField(help_text="pulse.durable.codec blob.")

    class Meta:
        ordering = ["start", "symbol"]
        constraints = [
            models.UniqueConstraint(fields=["symbol", "start"], name="recording_unique_minute"),
        ]
        indexes = [models.Index(fields=["start"], name="recording_by_start")]

    def __str__(self) -> str:
        return f"{self.symbol} {self.start:%Y-%m-%d %H:%M}"
