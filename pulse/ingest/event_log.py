"""NDJSON event log: every stress event a replay emits, one JSON object per line.

This is how users backtest their alert rules on a recording ("what would have fired
yesterday?"). Each line is exactly the ``event`` object of the WebSocket and API ``event``
messages (``StressEvent.to_dict()`` serialized by :func:`pulse.realtime.broadcast.dumps`), so a
script written against the live stream reads the log unchanged. No Django here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pulse.engine.events import StressEvent
from pulse.realtime.broadcast import dumps


class EventLogError(OSError):
    """Writing the event log failed (disk full, closed pipe): the replay cannot continue."""


class EventLog:
    """Serialize stress events to ``write`` (any callable taking one text line).

    ``write`` receives each line with its trailing newline; ``written`` counts lines. An
    ``OSError`` from ``write`` is raised as :class:`EventLogError`, so a caller can tell it
    from a failure to read the recording.
    """

    def __init__(self, write: Callable[[str], Any]) -> None:
        self._write = write
        self.written = 0

    def add(self, events: Iterable[StressEvent]) -> None:
        """Write one line per event, in the order the engine returned them."""
        for event in events:
            try:
                self._write(dumps(event.to_dict()) + "\n")
            except OSError as exc:
                raise EventLogError(str(exc)) from exc
            self.written += 1
