"""A throwaway TLS server on loopback with a certificate made for the test (cryptography),
for the certificate checks: its expiry is what the test says, and it trusts nobody.

``TlsServer(dir, not_after=...)`` serves TLS handshakes on 127.0.0.1 (a free port) from a
thread until the ``with`` block ends; ``cert_file`` is its certificate (PEM), which a test
may hand to a client as its trust store. ``plain=True`` answers without TLS instead.
"""

from __future__ import annotations

import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from types import TracebackType


def make_certificate(
    directory: Path, not_after: datetime, common_name: str = "localhost"
) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` and 127.0.0.1 valid until ``not_after``
    (it is its own CA, so that a client may trust it): (cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, not_after) - timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / f"{common_name}-cert.pem"
    key_file = directory / f"{common_name}-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class TlsServer:
    def __init__(
        self,
        directory: Path,
        *,
        not_after: datetime | None = None,
        plain: bool = False,
    ) -> None:
        self.not_after = not_after or datetime.now(UTC) + timedelta(days=90)
        self.cert_file, self.key_file = make_certificate(directory, self.not_after)
        self.plain = plain
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tls-test-server", daemon=True)

    def __enter__(self) -> TlsServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._listener.close()

    def _serve(self) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            try:
                if self.plain:
                    conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nnot TLS\r\n")
                else:
                    with context.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)  # until the client goes
            except (OSError, ssl.SSLError):
                pass  # a client that gives up on us (an untrusted handshake) is expected
            finally:
                conn.close()
