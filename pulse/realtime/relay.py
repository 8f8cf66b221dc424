"""The base of both client sockets: relay ingest's group messages, filtered, without a thread hop.

:class:`RelayConsumer` holds what the page socket (``pulse.live.consumer``) and the API socket
(``pulse.api.consumer``) share: sequence tracking per publishing ingest process, filtering of
pre-serialized rows and events to the symbols the client may see, flow control, the requests
to ingest over the control group, and the one method that writes to the socket. Subclasses
keep only what differs: authentication, how the visible symbols are chosen, the client's
requests, and which of ingest's periodic messages they forward.

Dispatch without a thread hop: Channels 4.2+ runs ``close_old_connections()`` through
``sync_to_async`` before *every* message handler (``AsyncConsumer.dispatch``). That is one
hop to the single thread-sensitive executor thread per message per socket: with a thousand
pages and a snapshot a second it cost about half of a daphne process's CPU in
``bench/scaled_bench.sh`` (profiled with py-spy) and queued stress events behind a thousand
thread round trips.

The cleanup exists for handlers that use the ORM synchronously without cleaning up. Ours
never do: every database access in our consumers goes through
``channels.db.database_sync_to_async``, which already closes stale connections before and
after each call in the thread that runs it. So the per-message cleanup is pure overhead
here and :class:`RelayConsumer` skips it. A consumer that touches the ORM any other way
must not inherit from this class.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, ClassVar

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from pulse.realtime import broadcast, messages
from pulse.realtime.flow_control import SendWindow

logger = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4408  # both sockets: too many messages unacknowledged (flow control)


class RelayConsumer(AsyncWebsocketConsumer):
    """Relay snapshots and events to one client, filtered to ``symbols``, with flow control."""

    # Which socket's schema the outgoing messages follow (``pulse.realtime.schema``).
    socket: ClassVar[str] = ""
    # Builds each socket's flow-control window (tests narrow its limits).
    window_factory: ClassVar[Any] = SendWindow
    # A labelled counter of messages sent, by type (None: not counted).
    sent_counter: ClassVar[Any] = None
    # Whether a full snapshot holding none of the client's rows is still sent: the page
    # clears its table with it; an API client that sees nothing gets nothing.
    send_empty_keyframes: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.symbols: frozenset[str] | None = None  # what is relayed; None: the whole market
        self.last_seq: dict[str, int] = {}  # publisher (ingest shard) -> last sequence number
        self.window = self.window_factory()
        self.user: Any = None
        self.groups_joined: list[str] = []
        self.background: asyncio.Task | None = None  # the subclass's periodic loop
        self.closing = False  # closed (or closing): send nothing more
        if messages.checking():
            self.send = self._checked_send  # type: ignore[method-assign]

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Call the handler for ``message["type"]``; unknown types are an error, as upstream."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # Connection ------------------------------------------------------------------------

    async def join_groups(self, groups: list[str]) -> None:
        """Join ``groups`` (remembered, so ``disconnect`` leaves exactly those)."""
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)

    def start_background(self, loop: Coroutine[Any, Any, None]) -> None:
        """Run this socket's periodic ``loop`` until it disconnects."""
        self.background = asyncio.create_task(loop)

    async def disconnect(self, code: int) -> None:
        """Stop the periodic loop and leave every group this socket joined."""
        if self.background is not None:
            self.background.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.background
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    # Group and reply message handlers -------------------------------------------------

    async def pulse_snapshot(self, message: dict[str, Any]) -> None:
        """Forward the rows this socket may see as one message (dropped while it lags)."""
        if not message.get("reply"):  # replies reach one socket outside the group sequence
            await self._note_seq(message)
        rows: dict[str, str] = message["rows"]
        symbols = self.symbols
        if symbols is None:
            texts = list(rows.values())
        else:
            texts = [text for symbol, text in rows.items() if symbol in symbols]
        if not texts and not (message["full"] and self.send_empty_keyframes):
            return
        if not self.window.allow_snapshot():
            return
        await self.send_message("snapshot", messages.snapshot_text(
            message["seq"], message["ts"], message["full"], texts))

    async def pulse_event(self, message: dict[str, Any]) -> None:
        """Forward a stress event if its symbol is visible here (never dropped)."""
        await self._note_seq(message)
        if self.symbols is None or message["symbol"] in self.symbols:
            self.window.note_sent(event=True)
            await self.send_message("event", messages.event_text(message["seq"],
                                                                 message["event"]),
                                    counted=True)

    async def pulse_health(self, message: dict[str, Any]) -> None:
        """Track the sequence (a subclass that shows feed health also forwards it)."""
        await self._note_seq(message)

    async def pulse_correlation(self, message: dict[str, Any]) -> None:
        """Track the sequence of the periodic matrix (replies are outside it)."""
        if not message.get("reply"):
            await self._note_seq(message)

    async def pulse_history(self, message: dict[str, Any]) -> None:
        """Ignore a history reply (a subclass that asks for history forwards it)."""

    # Sending ---------------------------------------------------------------------------

    async def send_message(self, kind: str, text: str, *, counted: bool = False) -> None:
        """Send one message built by ``pulse.realtime.messages``: the only way to the client.

        Every message counts in the socket's send window (events were counted by the
        caller: ``counted``); a client too far behind is closed instead of buffered.
        """
        if not counted:
            self.window.note_sent()
        if self.closing:
            return
        if self.window.too_far_behind():
            await self.close_with(CLOSE_TOO_SLOW, "too_slow",
                                  f"{self.window.backlog} messages unacknowledged")
            return
        await self.send(text_data=text)
        if self.sent_counter is not None:
            self.sent_counter.labels(kind).inc()

    async def close_with(self, code: int, error: str, detail: str) -> None:
        """Close the socket with ``code`` once (``error`` and ``detail`` name the reason)."""
        if self.closing:
            return
        self.closing = True
        logger.info("closing %s: %s %s (%s)", self.channel_name, code, error, detail)
        await self.close(code=code)

    async def _checked_send(self, text_data: str | None = None, bytes_data: bytes | None = None,
                            close: bool = False) -> None:
        """Check ``text_data`` against this socket's schema, then send it (tests only)."""
        if text_data is not None:
            messages.check_outgoing(self.socket, text_data)
        await AsyncWebsocketConsumer.send(self, text_data, bytes_data, close)

    # Requests to ingest ----------------------------------------------------------------

    async def _note_seq(self, message: dict[str, Any]) -> None:
        """Ask for a full snapshot when one publisher's sequence shows a lost message.

        Sequence numbers are tracked per publishing ingest process (``src``), so messages
        of several shards interleave freely; a restarted publisher starts again at 1, which
        also triggers a resync. A socket that sees no symbol has nothing to repair.
        """
        seq = message.get("seq", 0)
        source = message.get("src", "")
        last = self.last_seq.get(source, 0)
        self.last_seq[source] = seq
        if last and (seq > last + 1 or seq < last) and self.symbols != frozenset():
            logger.info("sequence gap before %d on %s: resync", seq, self.channel_name)
            await self.request_snapshot()

    async def ask_ingest(self, kind: str, **fields: Any) -> None:
        """Send a request to ingest's control group; the answer comes to this channel."""
        await self.channel_layer.group_send(
            broadcast.CONTROL_GROUP, {"type": kind, "reply_to": self.channel_name, **fields})

    async def request_snapshot(self) -> None:
        """Ask ingest for a full snapshot (it arrives as a ``pulse.snapshot`` reply)."""
        await self.ask_ingest(broadcast.REQUEST_SNAPSHOT)
