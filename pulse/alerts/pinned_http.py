"""HTTP(S) connections to an address that was already checked, not to a fresh DNS answer.

A webhook target is resolved and its addresses are checked (``pulse.alerts.targets``);
letting the HTTP client resolve the name again would open a DNS-rebinding window: a name
that answered with a public address for the check could answer 127.0.0.1 for the
connection. These connections dial the checked address while the request still names the
host (``Host`` header, TLS SNI and certificate verification against the host name).
Environment proxies are not used: the check must apply to the connection actually made.
"""

from __future__ import annotations

import http.client
import socket
import ssl


class PinnedHTTPConnection(http.client.HTTPConnection):
    """``HTTPConnection`` to ``host`` that connects to ``address`` instead of resolving."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """``HTTPSConnection`` to ``host`` over ``address``; the certificate must name ``host``."""

    def __init__(self, host: str, port: int, address: str, timeout: float,
                 context: ssl.SSLContext | None = None) -> None:
        self.tls = context or ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def open_pinned(scheme: str, host: str, port: int, address: str, timeout: float,
                context: ssl.SSLContext | None = None) -> http.client.HTTPConnection:
    """Return a connected pinned connection for ``scheme`` (``http`` or ``https``)."""
    if scheme == "https":
        conn: http.client.HTTPConnection = PinnedHTTPSConnection(host, port, address, timeout,
                                                                 context)
    else:
        conn = PinnedHTTPConnection(host, port, address, timeout)
    try:
        conn.connect()
    except BaseException:
        conn.close()
        raise
    return conn
