"""oa1's HTTPS certificates: self-signed, CN and SAN ``oa1`` plus ``127.0.0.1``, made on demand.

A healthy lab serves one valid for ``VALID_DAYS`` from ``lab up``; the ``cert-expiring`` fault
serves one that expires ``EXPIRING_DAYS`` after the fault was injected; healing goes back to
a fresh certificate. The server picks the TLS context for every new connection, so the next
handshake after an inject or heal presents the new certificate.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any

from respond.lab import model

VALID_DAYS = 300
EXPIRING_DAYS = 5
HOST = "oa1"
ADDRESS = "127.0.0.1"


def make_pem(not_before: float, not_after: float) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) of a self-signed P-256 certificate for oa1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, HOST),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "respond lab"),
        ]
    )
    utc = datetime.UTC
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime.fromtimestamp(not_before, utc))
        .not_valid_after(datetime.datetime.fromtimestamp(not_after, utc))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address(ADDRESS))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def server_context(cert_pem: bytes, key_pem: bytes, directory: Path) -> ssl.SSLContext:
    """A server context for the pair (ssl loads a chain from files only: a private temp file)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.NamedTemporaryFile("wb", dir=directory, suffix=".pem") as fh:
        fh.write(key_pem + cert_pem)
        fh.flush()
        context.load_cert_chain(fh.name)
    return context


class Certificates:
    """The context to present now: the fresh one, or the fault's expiring one (made once)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._current: tuple[Any, ssl.SSLContext] | None = None

    def context(self, state: dict[str, Any], now: float) -> ssl.SSLContext:
        fault = model.fault_on(state, "cert-expiring", HOST, now)
        key = ("expiring", float(fault["at"])) if fault else ("fresh", None)
        with self._lock:
            if self._current is None or self._current[0] != key:
                self._current = (key, self._make(fault, now))
            return self._current[1]

    def _make(self, fault: dict[str, Any] | None, now: float) -> ssl.SSLContext:
        if fault is None:
            pem = make_pem(now - 86400, now + VALID_DAYS * 86400)
        else:
            at = float(fault["at"])
            pem = make_pem(at - 360 * 86400, at + EXPIRING_DAYS * 86400)
        return server_context(*pem, self.directory)
