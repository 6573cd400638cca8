"""The webhook request over TLS: it goes to the address that was checked, yet the receiver's certificate must
name the url's host, so pinning the address never weakens the certificate check."""

import datetime
import ssl
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from batch_core.webhooks.addresses import Target
from batch_core.webhooks.sender import post


class _Accepting(BaseHTTPRequestHandler):
    """204 for a request whose Host header names the url's host, 400 otherwise."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(204 if self.headers["host"].startswith("localhost:") else 400)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the name `localhost` only (not for 127.0.0.1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    cert_path, key_path = _certificate(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accepting)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, cert_path
    server.shutdown()
    server.server_close()


def test_a_receiver_whose_certificate_the_machine_trusts_gets_the_post_at_the_checked_address(
    tls_receiver: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert_path = tls_receiver
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))

    answer = post(Target("https", "localhost", port, "/hook", "127.0.0.1"), "{}", {}, 5)

    assert (answer.status, answer.error, answer.delivered) == (204, None, True)


def test_a_certificate_that_does_not_name_the_urls_host_is_an_error_not_a_delivery(
    tls_receiver: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert_path = tls_receiver
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    answer = post(Target("https", "127.0.0.1", port, "/hook", "127.0.0.1"), "{}", {}, 5)

    assert answer.status is None and not answer.delivered
    assert "SSL" in answer.error or "certificate" in answer.error.lower()


def test_an_untrusted_certificate_is_an_error_not_a_delivery(tls_receiver: tuple[int, Path]) -> None:
    port, _ = tls_receiver

    answer = post(Target("https", "localhost", port, "/hook", "127.0.0.1"), "{}", {}, 5)

    assert answer.status is None
    assert "certificate verify failed" in answer.error.lower() or "SSL" in answer.error
