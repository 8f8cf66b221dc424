"""The websocket connection loop shared by the live provider feeds (EODHD, Binance, Coinbase).

One :class:`Endpoint` is one websocket a feed keeps open. It owns the life cycle that every
provider repeats: connect, handshake (provider hook), subscribe what is wanted, stream with a
silence watchdog, and on any failure back off (capped exponential, full jitter) and start
again, re-subscribing everything because subscriptions never survive a reconnect. Provider
modules subclass it and fill in a handful of hooks; they never write a reconnect loop.

Errors come in two kinds. :class:`FatalError` is a configuration problem the provider told us
about (bad key, symbol limit): the endpoint goes FAILED with the reason and waits a long time
(or for a change of symbols) instead of hammering the server. Everything else (refused
connection, abrupt close, silence, oversize frame) is retried with back-off.

Frame parsing helpers live in :mod:`pulse.feeds.frames`, gap detection in
:mod:`pulse.feeds.sequence`. Pure asyncio; no Django import.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)

from pulse.engine.tick import Tick
from pulse.feeds.backoff import Backoff
from pulse.feeds.base import Feed, FeedConfigError, FeedState
from pulse.feeds.clock import DEFAULT_TOLERANCE, ClockGuard
from pulse.feeds.frames import Rejected
from pulse.feeds.overlap import DEFAULT_WINDOW, OverlapDedupe

log = logging.getLogger(__name__)

# How often the watchdog re-evaluates its limit while it is switched off (market closed), so
# that the opening bell re-arms it without waiting for a message.
WATCHDOG_RECHECK = 60.0
# HTTP statuses on the websocket upgrade that retrying cannot fix.
FATAL_HTTP_STATUSES = frozenset({400, 401, 403, 404})
# Binance answers 429 when rate limited and 418 once it has banned the IP for ignoring 429s.
RATE_LIMIT_HTTP_STATUSES = frozenset({418, 429})
RATE_LIMIT_PAUSE = 60.0


# --------------------------------------------------------------------------- errors


class FatalError(Exception):
    """The provider reported a configuration error (bad key, limits): do not hot-retry."""


class RetryableError(Exception):
    """A transient failure of one connection: back off and reconnect."""


class SilenceError(RetryableError):
    """The silence watchdog fired: the socket looks open but nothing arrives."""


class _Rollover(Exception):
    """The connection reached its planned maximum age (Binance cuts at 24 h)."""


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class ConnectionOptions:
    """Connection tuning shared by all live feeds; every field is also a feed option."""

    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    backoff_stable: float = 60.0
    open_timeout: float = 10.0
    handshake_timeout: float = 10.0
    close_timeout: float = 2.0
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    max_size: int = 1 << 20  # no provider frame we use comes near 1 MiB; hostile ones might
    silence_timeout: float | None = 30.0
    max_age: float | None = None
    fatal_retry_after: float | None = 300.0
    proxy: str | bool | None = True
    clock_tolerance: float = DEFAULT_TOLERANCE  # s a tick may be ahead of the feed's clock
    overlap_window: float = DEFAULT_WINDOW  # s of ticks checked for re-sends on reconnect

    @classmethod
    def names(cls) -> frozenset[str]:
        """Return the option names this dataclass accepts."""
        return frozenset(cls.__dataclass_fields__)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], **defaults: Any) -> ConnectionOptions:
        """Build from feed options (unknown keys ignored), with provider ``defaults`` first."""
        values = {**defaults, **{k: v for k, v in options.items() if k in cls.names()}}
        opts = cls(**values)
        for name in ("backoff_base", "backoff_cap", "open_timeout", "handshake_timeout",
                     "clock_tolerance"):
            value = getattr(opts, name)
            if not isinstance(value, int | float) or not 0 < value < math.inf:
                raise FeedConfigError(f"option {name} must be a positive number, got {value!r}")
        window = opts.overlap_window
        if not isinstance(window, int | float) or not 0 <= window < math.inf:
            raise FeedConfigError(f"option overlap_window must be a number >= 0, got {window!r}")
        if not isinstance(opts.max_size, int) or opts.max_size < 1024:
            raise FeedConfigError(f"option max_size must be an int >= 1024, got {opts.max_size!r}")
        return opts

    def backoff(self, **kwargs: Any) -> Backoff:
        """Return a fresh :class:`Backoff` configured from these options."""
        floor = min(0.05, self.backoff_base)
        return Backoff(self.backoff_base, max(self.backoff_cap, self.backoff_base),
                       floor=floor, stable_after=self.backoff_stable, **kwargs)


def check_options(options: Mapping[str, Any], own: frozenset[str], feed: str) -> None:
    """Raise FeedConfigError for option names neither the feed nor the connection knows."""
    unknown = set(options) - own - ConnectionOptions.names()
    if unknown:
        known = ", ".join(sorted(own | ConnectionOptions.names()))
        raise FeedConfigError(f"{feed}: unknown option(s) {', '.join(sorted(unknown))}; "
                              f"known: {known}")


# --------------------------------------------------------------------------- the endpoint


class Endpoint:
    """One websocket of a feed, kept open with reconnects, back-off and a silence watchdog.

    ``sync_interval`` is the pause that coalesces several watchlist edits into one
    subscription change. Subclasses implement the provider hooks: :meth:`wanted`, :meth:`url`,
    :meth:`subscription_frames`, :meth:`on_frame` and optionally :meth:`handshake`,
    :meth:`subscribed_on_open` and :meth:`silence_limit`. Subscription keys are whatever the
    provider puts in its frames (``"AAPL"``, ``"btcusdt@trade"``, ``"BTC-USD"``).
    """

    sync_interval = 0.05

    def __init__(
        self,
        feed: Feed,
        name: str,
        opts: ConnectionOptions,
        *,
        on_state: Callable[[], None] | None = None,
        rng: Callable[[], float] | None = None,
    ) -> None:
        self.feed = feed
        self.name = name
        self.opts = opts
        self.backoff = opts.backoff() if rng is None else opts.backoff(rng=rng)
        # None once running with nothing wanted (idle, no socket); CONNECTING until run().
        self.state: FeedState | None = FeedState.CONNECTING
        self.reason = ""
        self.subscribed: frozenset[str] = frozenset()
        self.sessions = 0
        self._reconnecting = False  # the next connect follows a failure: count it
        self._closed_idle = False  # the session was closed because nothing is wanted
        self._on_state = on_state
        self._changed = asyncio.Event()
        self._last_message = 0.0  # loop time
        self.clock = ClockGuard(feed.counters, tolerance=opts.clock_tolerance)
        self.overlap = OverlapDedupe(opts.overlap_window)

    # ---- provider hooks

    def wanted(self) -> frozenset[str]:
        """Return the subscription keys this endpoint should hold now."""
        raise NotImplementedError

    def url(self, wanted: frozenset[str]) -> str:
        """Return the URL to connect to (``wanted`` is for providers that subscribe by URL)."""
        raise NotImplementedError

    async def handshake(self, ws: ClientConnection) -> None:
        """Complete the provider handshake before subscribing (default: nothing to do)."""

    def subscribed_on_open(self, wanted: frozenset[str]) -> frozenset[str]:
        """Return what the server subscribed from the URL alone (default: nothing)."""
        return frozenset()

    def subscription_frames(self, add: frozenset[str], remove: frozenset[str]) -> list[str]:
        """Return the frames that subscribe ``add`` and unsubscribe ``remove``."""
        raise NotImplementedError

    def on_frame(self, raw: str | bytes, recv_ts: float) -> None:
        """Handle one raw frame received at ``recv_ts``; raise FatalError for config errors."""
        raise NotImplementedError

    def on_unsubscribed(self, keys: frozenset[str]) -> None:
        """Forget per-key state (sequence numbers) of keys just unsubscribed."""

    def redact(self, text: str) -> str:
        """Return ``text`` with secrets (an API key in the URL) masked, for logs and reasons."""
        return text

    def silence_limit(self, now: float) -> float | None:
        """Return the longest normal silence at wall time ``now``, or None for no watchdog."""
        return self.opts.silence_timeout

    # ---- used by provider code

    def deliver(self, tick: Tick) -> None:
        """Hand ``tick`` to the feed's queue unless it is a re-sent duplicate or time-skewed.

        Ticks without a provider id are checked against the last reconnect's overlap
        (:mod:`pulse.feeds.overlap`; ticks with ids are deduped by the provider module on the
        id), then every tick's exchange time against its receipt time (:mod:`pulse.feeds.clock`),
        in that order because the clock check may correct ``ts``.
        """
        if tick.trade_id is None and not self.overlap.admit(tick):
            self.feed.counters.duplicates += 1
            return
        if self.clock.admit(tick):
            self.feed.emit(tick)

    def reject(self, rejected: Rejected) -> None:
        """Count an unusable frame by reason."""
        self.feed.counters.parse_failures[rejected.reason] += 1
        log.debug("%s/%s rejected frame: %s %s", self.feed.name, self.name,
                  rejected.reason, rejected.detail)

    def symbols_changed(self) -> None:
        """Wake the endpoint to apply the new wanted set (subscribe/unsubscribe the diff)."""
        self._changed.set()

    # ---- the loop

    async def run(self) -> None:
        """Connect, stream and reconnect until the feed stops."""
        stop_task = asyncio.create_task(self._wait_stopped())
        try:
            while not self.feed.stopping:
                if not self.wanted():
                    self._set_state(None)
                    if await self._wait_for_change(None):
                        break
                    continue
                delay = await self._attempt(stop_task)
                if delay is None or self.feed.stopping:
                    break
                failed = self.state is FeedState.FAILED
                timeout = None if math.isinf(delay) else delay
                if (failed or delay > 0) and await self._wait_for_change(
                        timeout, wake_on_change=failed):
                    break
        finally:
            stop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stop_task

    async def _wait_stopped(self) -> None:
        while not await self.feed.sleep(3600.0):
            pass

    async def _wait_for_change(self, seconds: float | None, *, wake_on_change: bool = True) -> bool:
        """Wait ``seconds`` (None: forever) or until the symbols change; True if stopping.

        With ``wake_on_change`` False the symbols are ignored (a back-off must not be cut
        short by a watchlist edit); a FAILED endpoint wakes on change, since new symbols may
        fix a 422.
        """
        waiters = [asyncio.create_task(self._wait_stopped())]
        if wake_on_change:
            self._changed.clear()
            waiters.append(asyncio.create_task(self._changed.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waiters:
                task.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        return self.feed.stopping

    async def _attempt(self, stop_task: asyncio.Task[None]) -> float | None:
        """Run one connection; return the delay before the next, or None to stop trying."""
        counters = self.feed.counters
        if self._reconnecting:  # not for the first connect, nor after an idle close
            counters.reconnects += 1
        self._reconnecting = True
        self._closed_idle = False
        self.sessions += 1
        session = asyncio.create_task(self._session())
        try:
            await asyncio.wait({session, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # run() cancelled instead of stopped: close the socket
            session.cancel()
            raise
        if not session.done():  # stopping: cancel closes the socket
            session.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await session
            return None
        try:
            session.result()
            if self._closed_idle:
                self._reconnecting = False
                return 0.0
        except FatalError as exc:
            return self._fail(str(exc))
        except _Rollover:
            log.info("%s/%s: planned reconnect at maximum connection age", self.feed.name,
                     self.name)
            return 0.0
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in FATAL_HTTP_STATUSES:
                return self._fail(f"HTTP {status} on connect (check key/URL)")
            if status in RATE_LIMIT_HTTP_STATUSES:  # hammering now would extend a ban
                return self._retry(f"HTTP {status} (rate limited)", at_least=RATE_LIMIT_PAUSE)
            return self._retry(f"HTTP {status} on connect")
        except InvalidURI as exc:
            return self._fail(f"invalid URL: {exc}")
        except ConnectionClosed as exc:
            if self._closed_idle:
                self._reconnecting = False
                return 0.0
            if exc.sent is not None and exc.sent.code == 1009:
                counters.parse_failures["frame_too_large"] += 1
                return self._retry(f"frame larger than max_size={self.opts.max_size}")
            return self._retry(f"connection closed: {exc}")
        except (OSError, TimeoutError, InvalidHandshake, RetryableError) as exc:
            return self._retry(f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug must not kill the feed; log it loudly and retry
            log.exception("%s/%s: unexpected error", self.feed.name, self.name)
            return self._retry(f"unexpected {type(exc).__name__}: {exc}")
        return self._retry("connection ended")

    def _fail(self, reason: str) -> float | None:
        reason = self.redact(reason)
        log.error("%s/%s failed: %s", self.feed.name, self.name, reason)
        self._set_state(FeedState.FAILED, reason)
        # A FAILED endpoint waits long (or for a symbol change), never hot-retries.
        return self.opts.fatal_retry_after if self.opts.fatal_retry_after else math.inf

    def _retry(self, reason: str, *, at_least: float = 0.0) -> float:
        reason = self.redact(reason)
        delay = max(at_least, self.backoff.next_delay())
        log.warning("%s/%s: %s; reconnecting in %.2fs", self.feed.name, self.name, reason,
                    delay)
        self._set_state(FeedState.BACKING_OFF, f"{reason}; retry in {delay:.1f}s")
        return delay

    async def _session(self) -> None:
        wanted = self.wanted()
        self._set_state(FeedState.CONNECTING)
        async with connect(
            self.url(wanted),
            open_timeout=self.opts.open_timeout,
            close_timeout=self.opts.close_timeout,
            ping_interval=self.opts.ping_interval,
            ping_timeout=self.opts.ping_timeout,
            max_size=self.opts.max_size,
            proxy=self.opts.proxy,
        ) as ws:
            async with asyncio.timeout(self.opts.handshake_timeout):
                await self.handshake(ws)
            self.overlap.reconnected(time.time())
            self.subscribed = self.subscribed_on_open(wanted)
            self._changed.clear()
            await self._sync(ws)
            self._set_state(FeedState.LIVE)
            self.backoff.note_connected()
            syncer = asyncio.create_task(self._sync_on_change(ws))
            try:
                await self._read(ws)
            finally:
                syncer.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await syncer

    async def _sync(self, ws: ClientConnection) -> None:
        """Send the frames that move the server from ``subscribed`` to ``wanted``."""
        wanted = self.wanted()
        add, remove = wanted - self.subscribed, self.subscribed - wanted
        if not add and not remove:
            return
        for frame in self.subscription_frames(frozenset(add), frozenset(remove)):
            await ws.send(frame)
        self.subscribed = wanted
        if remove:
            self.on_unsubscribed(frozenset(remove))

    async def _sync_on_change(self, ws: ClientConnection) -> None:
        while True:
            await self._changed.wait()
            # Coalesce bursts of watchlist edits (Binance allows 5 client frames per second).
            await asyncio.sleep(self.sync_interval)
            self._changed.clear()
            if not self.wanted():
                # Nothing left to stream: free the connection (providers count them).
                self._closed_idle = True
                await ws.close()
                return
            await self._sync(ws)

    async def _read(self, ws: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        counters = self.feed.counters
        opened = self._last_message = loop.time()
        end_of_life = math.inf if not self.opts.max_age else opened + self.opts.max_age
        while True:
            limit = self.silence_limit(time.time()) if self.subscribed else None
            now = loop.time()
            deadline = now + WATCHDOG_RECHECK if limit is None else self._last_message + limit
            try:
                async with asyncio.timeout_at(min(deadline, end_of_life)):
                    raw = await ws.recv()
            except TimeoutError:
                self._check_watchdog(loop.time(), end_of_life)
                continue
            recv_ts = time.time()
            self._last_message = loop.time()
            counters.note_message(recv_ts)
            try:
                self.on_frame(raw, recv_ts)
            except FatalError:
                raise
            except Exception:  # a parser bug on one frame must not drop the connection
                log.exception("%s/%s: error handling frame", self.feed.name, self.name)
                counters.parse_failures["internal_error"] += 1

    def _check_watchdog(self, now: float, end_of_life: float) -> None:
        if now >= end_of_life:
            raise _Rollover
        limit = self.silence_limit(time.time()) if self.subscribed else None
        if limit is not None and now - self._last_message >= limit:
            raise SilenceError(f"no message for {limit:g}s")

    def _set_state(self, state: FeedState | None, reason: str = "") -> None:
        self.state = state
        self.reason = reason
        if self._on_state is not None:
            self._on_state()


# --------------------------------------------------------------------------- the feed side

_SEVERITY = {FeedState.FAILED: 4, FeedState.BACKING_OFF: 3, FeedState.CONNECTING: 2,
             FeedState.LIVE: 1}


def combine_states(feed: Feed, endpoints: list[Endpoint], note: str = "") -> None:
    """Set the feed's state to its worst endpoint's, with every non-live reason listed.

    ``note`` (e.g. a symbol-budget warning) is appended to the reason.
    """
    if feed.stopping:
        return
    active = [ep for ep in endpoints if ep.state is not None]
    if not active:
        feed.counters.set_state(FeedState.LIVE, "; ".join(filter(None, ["no symbols", note])))
        return
    worst = max(active, key=lambda ep: _SEVERITY[ep.state])  # type: ignore[index]
    reasons = [f"{ep.name}: {ep.reason}" if len(endpoints) > 1 else ep.reason
               for ep in active if ep.reason and ep.state is not FeedState.LIVE]
    if note:
        reasons.append(note)
    feed.counters.set_state(worst.state, "; ".join(reasons))  # type: ignore[arg-type]


async def run_endpoints(feed: Feed, endpoints: list[Endpoint]) -> None:
    """Run every endpoint of ``feed`` until it stops, then mark the feed STOPPED."""
    try:
        await asyncio.gather(*(ep.run() for ep in endpoints))
    finally:
        feed.counters.set_state(FeedState.STOPPED)
