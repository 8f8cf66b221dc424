"""A local webhook receiver on 127.0.0.1 (port 0) that scripts its answers and records hits."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Hit:
    """One request as received."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers ``statuses`` in order (then 200); ``hold`` blocks requests until set."""

    statuses: list[int] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    hold: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> list[str]:
        """Return the X-Pulse-Event-Id of every hit, in arrival order."""
        return [hit.headers.get("X-Pulse-Event-Id", "") for hit in self.hits]


@contextmanager
def running_receiver(receiver: Receiver | None = None,
                     tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    """Serve ``receiver`` on a free port for the duration of the block (HTTPS with ``tls``)."""
    rec = receiver or Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with rec.lock:
                rec.hits.append(Hit(self.path, dict(self.headers.items()), body))
                status = rec.statuses.pop(0) if rec.statuses else 200
            rec.arrived.set()
            if rec.hold is not None:
                rec.hold.wait(10)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    rec.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hook"
    # shutdown() waits for serve_forever's next poll: 0.5 s by default, on every test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        if rec.hold is not None:
            rec.hold.set()
        server.shutdown()
        server.server_close()
