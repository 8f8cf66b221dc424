"""Stream the filtered event history as CSV, safe to open in a spreadsheet.

Rows are read with a database iterator and written one at a time, so a large export never
holds the whole set in memory. Text cells that a spreadsheet would run as a formula (they
start with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are prefixed with a quote
(OWASP "CSV injection"); numeric columns are written from floats and cannot be formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse

from pulse.models import Event

HEADER = ("id", "event_id", "ts_utc", "symbol", "asset_class", "type", "direction",
          "severity", "value", "threshold", "z", "window_s", "regime", "price",
          "ref_price", "ref_age_s", "message")
_TEXT = {"event_id", "symbol", "asset_class", "type", "direction", "severity", "regime",
         "message"}
_COLUMNS = ("id", "event_id", "ts", "symbol", "asset_class", "type", "direction", "severity",
            "value", "threshold", "z", "window", "regime", "price", "details", "message")
BATCH_SIZE = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(cell: str) -> str:
    """Return ``cell`` with a leading quote if a spreadsheet would treat it as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


class _Echo:
    """A file-like object whose ``write`` hands the line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _number(value: Any) -> Any:
    return "" if value is None else value


def _row(event: dict[str, Any]) -> list[Any]:
    details = event["details"] if isinstance(event["details"], dict) else {}
    row: list[Any] = []
    for name in HEADER:
        if name == "ts_utc":
            row.append(event["ts"].astimezone(dt.UTC).isoformat())
        elif name == "window_s":
            row.append(_number(event["window"]))
        elif name in ("ref_price", "ref_age_s"):
            key = "ref_price" if name == "ref_price" else "ref_age"
            value = details.get(key)
            row.append(value if isinstance(value, int | float) else "")
        elif name in _TEXT:
            row.append(neutralize(str(event[name] or "")))
        else:
            row.append(_number(event[name]))
    return row


def _batch(queryset: QuerySet[Event], after: tuple[dt.datetime, int] | None) -> list[dict]:
    # Keyset pagination on (-ts, -id): each batch is one indexed query, and memory holds at
    # most one batch whatever the size of the export.
    if after is not None:
        ts, pk = after
        queryset = queryset.filter(Q(ts__lt=ts) | Q(ts=ts, id__lt=pk))
    return list(queryset.order_by("-ts", "-id").values(*_COLUMNS)[:BATCH_SIZE])


def _after(batch: list[dict[str, Any]]) -> tuple[dt.datetime, int] | None:
    return (batch[-1]["ts"], batch[-1]["id"]) if len(batch) == BATCH_SIZE else None


def csv_lines(queryset: QuerySet[Event]) -> Iterator[str]:
    """Yield the header line, then one CSV line per event of ``queryset`` (WSGI servers)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    after = None
    while True:
        batch = _batch(queryset, after)
        for event in batch:
            yield writer.writerow(_row(event))
        after = _after(batch)
        if after is None:
            return


async def acsv_lines(queryset: QuerySet[Event]) -> AsyncIterator[str]:
    """Yield the same lines asynchronously (ASGI servers such as daphne).

    Django serves a synchronous iterator under ASGI by reading it whole into a list first,
    which would defeat streaming: each batch is fetched in a worker thread instead.
    """
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    after = None
    while True:
        batch = await sync_to_async(_batch)(queryset, after)
        for event in batch:
            yield writer.writerow(_row(event))
        after = _after(batch)
        if after is None:
            return


def csv_response(
    queryset: QuerySet[Event], now: dt.datetime, *, asynchronous: bool
) -> StreamingHttpResponse:
    """Return a streamed ``text/csv`` attachment named after the export time."""
    lines = acsv_lines(queryset) if asynchronous else csv_lines(queryset)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = f"market-pulse-events-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
