"""WebSocket clients for the scaled tests: log in with a session cookie, record every message."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class Received:
    """Every message one client got, with its local receipt time."""

    url: str
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    close_code: int | None = None

    def of_type(self, kind: str, after: float = 0.0, before: float = float("inf")
                ) -> list[dict[str, Any]]:
        """Return messages of ``kind`` received in ``[after, before)``."""
        return [m for t, m in self.messages if m.get("type") == kind and after <= t < before]

    def rows(self, after: float = 0.0) -> set[str]:
        """Return every symbol seen in snapshots received after ``after``."""
        return {row["symbol"] for m in self.of_type("snapshot", after) for row in m["rows"]}


async def record(url: str, session: str, seconds: float, until: Any = None) -> Received:
    """Connect to ``url`` as the session's user and record messages for ``seconds``.

    Acknowledges received messages once a second, like the dashboard page (flow control).
    Stops early when ``until(received)`` returns True.
    """
    from websockets.asyncio.client import connect

    out = Received(url)
    origin = "http://" + url.split("//", 1)[1].split("/", 1)[0]
    deadline = time.monotonic() + seconds
    async with connect(url, origin=origin, additional_headers={"Cookie": f"sessionid={session}"},
                       open_timeout=15, ping_interval=None, max_size=2**24) as ws:
        acked, last_ack = 0, time.monotonic()
        while time.monotonic() < deadline:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                raw = None
            except Exception:
                out.close_code = ws.close_code
                break
            if raw is not None:
                out.messages.append((time.time(), orjson.loads(raw)))
            if time.monotonic() - last_ack >= 1.0 and len(out.messages) != acked:
                acked, last_ack = len(out.messages), time.monotonic()
                with contextlib.suppress(Exception):
                    await ws.send(orjson.dumps({"action": "ack", "received": acked}).decode())
            if until is not None and until(out):
                break
    return out


def record_many(specs: list[tuple[str, str]], seconds: float) -> list[Received]:
    """Run one :func:`record` per ``(url, session)`` at the same time; return their results."""

    async def main() -> list[Received]:
        return list(await asyncio.gather(*(record(u, s, seconds) for u, s in specs)))

    return asyncio.run(main())


async def record_reconnecting(url: str, session: str, seconds: float, until: Any
                              ) -> tuple[Received, int]:
    """Like :func:`record`, but reconnect after a close or error, as the page does.

    Returns everything received over all connections and the number of attempts.
    """
    out = Received(url)
    deadline = time.monotonic() + seconds
    attempts = 0
    while time.monotonic() < deadline and not until(out):
        attempts += 1
        try:
            got = await record(url, session, deadline - time.monotonic(), until=until)
            out.messages.extend(got.messages)
            out.close_code = got.close_code
        except Exception:
            pass
        if not until(out):
            await asyncio.sleep(0.5)  # the page backs off 250 ms + jitter
    return out, attempts
