"""Refuse webhook targets on private, loopback or otherwise internal addresses.

The host is resolved and every address it resolves to is checked: a public name that also
resolves to 127.0.0.1 is refused. Checked when a URL is saved and again before each send,
which then connects to one of the checked addresses (``pulse.alerts.pinned_http``), so a
second, different DNS answer cannot redirect the request.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    """The webhook URL is malformed or points at an address that is not allowed."""


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified
            or not address.is_global)


def check_target(url: str, *, allow_private: bool = False) -> list[str]:
    """Return the addresses ``url``'s host resolves to; raise TargetRefused if not allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("webhook URL must be http(s)://host/...")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as exc:
        raise TargetRefused(f"cannot resolve {parts.hostname}: {exc}") from None
    addresses = sorted({info[4][0] for info in infos})
    if not allow_private:
        for text in addresses:
            if _internal(ipaddress.ip_address(text.split("%")[0])):
                raise TargetRefused(f"{parts.hostname} resolves to {text}, a private or "
                                    f"loopback address (set PULSE_WEBHOOK_ALLOW_PRIVATE to allow)")
    return addresses
