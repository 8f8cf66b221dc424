"""Webhook sends connect to the address that was checked, never to a second DNS answer.

``check_target`` resolves the host and refuses internal addresses; if the HTTP client then
resolved the name again, a rebinding DNS server could answer differently the second time
(public for the check, internal for the connection). These tests script such a resolver.
"""

from __future__ import annotations

import datetime
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pulse.alerts import webhook
from tests.alerts.receiver import running_receiver

HOST = "hooks.example.test"
UNROUTABLE = "10.255.255.1"  # what the rebinding resolver answers after the check

_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def rebinding_dns(monkeypatch):
    """Resolve HOST to 127.0.0.1 once, then to an unreachable address; count lookups."""
    answers = ["127.0.0.1"]
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != HOST:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        address = answers.pop(0) if answers else UNROUTABLE
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def send(url: str, **kwargs) -> webhook.Outcome:
    return webhook.send(url, "secret", b'{"ok": true}', event_id="e1", delivery_id=1,
                        attempt=1, timeout=2.0, allow_private=True, **kwargs)


def test_the_request_goes_to_the_checked_address_not_a_second_answer(rebinding_dns):
    with running_receiver() as rec:
        port = rec.url.split(":")[2].split("/")[0]
        outcome = send(f"http://{HOST}:{port}/hook?x=1")
    assert outcome.ok and outcome.status == 200
    assert rebinding_dns == [HOST]  # resolved once, for the check
    [hit] = rec.hits
    assert hit.path == "/hook?x=1"
    assert hit.headers["Host"] == f"{HOST}:{port}"  # the request still names the host
    assert hit.headers["X-Pulse-Event-Id"] == "e1"


def test_a_private_address_is_still_refused_before_any_connection(rebinding_dns):
    outcome = webhook.send(f"http://{HOST}/hook", "secret", b"{}", event_id="e1",
                           delivery_id=1, attempt=1, timeout=2.0, allow_private=False)
    assert not outcome.ok and outcome.permanent and "private or loopback" in outcome.error


def test_a_refused_connection_is_a_retryable_failure():
    with running_receiver() as rec:
        url = rec.url
    outcome = send(url)  # the receiver is gone: connection refused
    assert not outcome.ok and not outcome.permanent
    assert "ConnectionRefusedError" in outcome.error


def _certificate(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _tls_pair(tmp_path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = _certificate(name)
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=cert.decode())
    return server, client


def test_https_verifies_the_certificate_against_the_host_name(rebinding_dns, tmp_path):
    server, client = _tls_pair(tmp_path, HOST)
    with running_receiver(tls=server) as rec:
        port = rec.url.split(":")[2].split("/")[0]
        outcome = send(f"https://{HOST}:{port}/hook", tls=client)
    assert outcome.ok and outcome.status == 200
    assert rec.hits[0].headers["Host"] == f"{HOST}:{port}"


def test_https_refuses_a_certificate_for_another_name(rebinding_dns, tmp_path):
    server, client = _tls_pair(tmp_path, "elsewhere.example.test")
    with running_receiver(tls=server) as rec:
        port = rec.url.split(":")[2].split("/")[0]
        outcome = send(f"https://{HOST}:{port}/hook", tls=client)
    assert not outcome.ok and not rec.hits
    assert "certificate" in outcome.error.lower()
