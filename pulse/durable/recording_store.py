"""Database access of the recording: upsert minutes, read them back in order, prune.

Plain synchronous functions; async callers wrap them with ``database_sync_to_async``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from pulse.durable.codec import Cell, decode, encode
from pulse.models import RecordedMinute

MinuteRow = tuple[str, str, int, list[Cell]]  # (symbol, asset, minute start epoch s, cells)


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def save_minutes(rows: Iterable[MinuteRow]) -> int:
    """Insert or replace the given symbol-minutes in one statement; return how many."""
    objs = [RecordedMinute(symbol=symbol, asset_class=asset, start=_dt(start),
                           cells=len(cells), ticks=sum(c.count for c in cells),
                           data=encode(cells))
            for symbol, asset, start, cells in rows]
    if objs:
        RecordedMinute.objects.bulk_create(
            objs, update_conflicts=True, unique_fields=["symbol", "start"],
            update_fields=["asset_class", "cells", "ticks", "data"])
    return len(objs)


def load_minutes(since: float, until: float | None = None,
                 symbols: Iterable[str] | None = None,
                 chunk: int = 2000) -> Iterator[MinuteRow]:
    """Yield recorded minutes starting at or after ``since`` (epoch s), oldest first.

    Minutes that start at or after ``until`` are left out; ``symbols`` restricts to those
    (a shard warms only its own). Rows are read ``chunk`` at a time, keyed on
    (start, symbol), so memory stays bounded whatever the retention.
    """
    qs = RecordedMinute.objects.filter(start__gte=_dt(since))
    if until is not None:
        qs = qs.filter(start__lt=_dt(until))
    if symbols is not None:
        qs = qs.filter(symbol__in=list(symbols))
    qs = qs.order_by("start", "symbol").values_list("symbol", "asset_class", "start", "data")
    last: tuple[datetime, str] | None = None
    while True:
        page = qs
        if last is not None:
            start, symbol = last
            page = qs.filter(start__gt=start) | qs.filter(start=start, symbol__gt=symbol)
            page = page.order_by("start", "symbol")
        rows = list(page[:chunk])
        for symbol, asset, start, data in rows:
            try:
                cells = decode(data)
            except ValueError:
                continue  # a corrupt minute is skipped rather than blocking the warm start
            yield symbol, asset, round(start.timestamp()), cells
        if len(rows) < chunk:
            return
        last = (rows[-1][2], rows[-1][0])


def newest_start() -> float | None:
    """Return the start (epoch s) of the newest recorded minute, or None if empty."""
    start = RecordedMinute.objects.order_by("-start").values_list("start", flat=True).first()
    return None if start is None else start.timestamp()


def prune_before(cutoff: float) -> int:
    """Delete minutes that ended before ``cutoff`` (epoch s); return how many."""
    deleted, _ = RecordedMinute.objects.filter(start__lt=_dt(cutoff - 60.0)).delete()
    return deleted
