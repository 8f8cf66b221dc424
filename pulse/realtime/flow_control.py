"""Per-socket flow control: how far behind a browser is, and what to do about it.

Channels gives a consumer no view of the socket's write buffer, so a page that stops
reading (a background tab, a phone on a bad link) would make the server buffer every
message for it. The page acknowledges how many messages it has processed; the difference
with what was sent is the backlog. Snapshots are idempotent (the next full one repairs the
page), so they are dropped while the backlog is high; events are never dropped: they are
counted, and a page too far behind is disconnected (it reconnects and resyncs).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SendWindow:
    """Count sent and acknowledged messages of one socket and decide what may be sent."""

    # Backlog (messages) above which snapshots are dropped, and below which they resume. A
    # page acknowledges every second (backlog ~10); 200 is about 20 s of traffic unread.
    pause_above: int = 200
    resume_below: int = 50
    # Backlog above which the socket is closed: memory per slow client stays bounded.
    close_above: int = 1000
    sent: int = 0
    acked: int = 0
    dropped_snapshots: int = 0
    events_sent: int = 0
    events_while_behind: int = 0
    paused: bool = False
    needs_resync: bool = False

    @property
    def backlog(self) -> int:
        """Return the messages sent but not yet acknowledged by the page."""
        return self.sent - self.acked

    def allow_snapshot(self) -> bool:
        """Return whether a snapshot may be sent now; count it as dropped if not."""
        if self.backlog > self.pause_above:
            self.paused = True
        if self.paused:
            self.dropped_snapshots += 1
            self.needs_resync = True
            return False
        return True

    def note_sent(self, *, event: bool = False) -> None:
        """Record one message handed to the socket."""
        self.sent += 1
        if event:
            self.events_sent += 1
            if self.paused or self.backlog > self.pause_above:
                self.events_while_behind += 1

    def ack(self, received: object) -> bool:
        """Record the page's count of processed messages; return True when a resync is due.

        Counts that are not integers, go backwards or exceed what was sent are ignored.
        """
        if isinstance(received, bool) or not isinstance(received, int):
            return False
        if not self.acked <= received <= self.sent:
            return False
        self.acked = received
        if self.paused and self.backlog < self.resume_below:
            self.paused = False
            if self.needs_resync:
                self.needs_resync = False
                return True
        return False

    def too_far_behind(self) -> bool:
        """Return True when the socket should be closed rather than buffer more."""
        return self.backlog > self.close_above

    def stats(self) -> dict[str, int | bool]:
        """Return the counters (sent to the page on request, for display and tests)."""
        return {"sent": self.sent, "acked": self.acked, "backlog": self.backlog,
                "paused": self.paused, "dropped_snapshots": self.dropped_snapshots,
                "events_sent": self.events_sent,
                "events_while_behind": self.events_while_behind}
