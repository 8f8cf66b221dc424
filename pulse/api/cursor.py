"""Opaque keyset cursors over ``(ts, id)`` descending, for stable event pagination.

An offset would shift when new events arrive at the top; a cursor naming the last row seen
("older than this ts, then this id") does not.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from django.db.models import Q


def encode(ts: dt.datetime, pk: int) -> str:
    """Return the cursor that continues after the row ``(ts, pk)``."""
    text = f"{ts.isoformat()}|{pk}"  # ISO keeps microseconds exactly
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str) -> Q:
    """Return the filter selecting rows after ``cursor``; raise ValueError if malformed."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts_text, pk_text = text.split("|")
        ts = dt.datetime.fromisoformat(ts_text)
        if ts.tzinfo is None:
            raise ValueError("naive time")
        pk = int(pk_text)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ValueError("malformed cursor") from None
    return Q(ts__lt=ts) | Q(ts=ts, pk__lt=pk)
