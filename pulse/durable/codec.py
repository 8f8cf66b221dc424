"""Compact encoding of one symbol-minute of the recording (pure, no Django).

A minute holds up to 60 cells (one per grid second). Each cell that saw a tick is stored
as ``(offset, count, ts, price, bid, ask)``: the last accepted tick of the cell, the quote
known at that moment (NaN when none) and how many ticks the cell accepted. Packed with
``struct`` and compressed with zlib: about 0.6 kB per busy symbol-minute.
"""

from __future__ import annotations

import math
import struct
import zlib
from typing import NamedTuple

_CELL = struct.Struct("<HIdddd")
_NAN = math.nan
FORMAT_VERSION = 1


class Cell(NamedTuple):
    """The last tick of one grid cell and the number of ticks the cell accepted."""

    offset: int  # cell index within the minute
    count: int
    ts: float
    price: float
    bid: float | None
    ask: float | None


def _opt(value: float | None) -> float:
    return _NAN if value is None else value


def _back(value: float) -> float | None:
    return None if value != value else value


def encode(cells: list[Cell]) -> bytes:
    """Return the blob of ``cells`` (in any order; stored sorted by offset)."""
    body = b"".join(_CELL.pack(c.offset, c.count, c.ts, c.price, _opt(c.bid), _opt(c.ask))
                    for c in sorted(cells))
    return bytes([FORMAT_VERSION]) + zlib.compress(body, 1)


def decode(blob: bytes) -> list[Cell]:
    """Return the cells of a blob made by :func:`encode`; raise ValueError if malformed."""
    blob = bytes(blob)
    if not blob or blob[0] != FORMAT_VERSION:
        raise ValueError("unknown recording format")
    try:
        body = zlib.decompress(blob[1:])
    except zlib.error as exc:
        raise ValueError(f"corrupt recording blob: {exc}") from None
    if len(body) % _CELL.size:
        raise ValueError("corrupt recording blob: truncated cell")
    return [Cell(o, n, ts, p, _back(b), _back(a)) for o, n, ts, p, b, a in
            _CELL.iter_unpack(body)]
