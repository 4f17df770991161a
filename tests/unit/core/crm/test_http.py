"""The shared CRM HTTP layer: client settings (TLS, proxy, timeouts, User-Agent) against real local servers, and
the error normalisation against each CRM's documented error bodies (crm.md §2.4, §3, §4, §5, §6)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from pytest_httpserver import HTTPServer

from desktop import __version__
from desktop.config import Crm
from desktop.core.crm.contract import AuthError, RejectedError, TransientError
from desktop.core.crm.http import (
    MAX_MESSAGE,
    SALESFORCE_LIMIT_WAIT_S,
    build_client,
    crm_error_code,
    crm_message,
    error_from_response,
    mask_pii,
    parse_retry_after,
    request,
)
from desktop.core.errors import InputError


def _response(status: int, body: object = None, *, text: str | None = None, headers: dict[str, str] | None = None):
    content = text.encode() if text is not None else (b"" if body is None else json.dumps(body).encode())
    return httpx.Response(status, content=content, headers=headers, request=httpx.Request("GET", "https://crm.test/x"))


# --- error normalisation -------------------------------------------------------------------------------------


def test_tryton_validation_400_is_rejected_with_its_message() -> None:
    body = {"status": 400, "message": "A call with this external ID already exists.", "description": ""}
    error = error_from_response(_response(400, body), connector="tryton")
    assert isinstance(error, RejectedError)
    assert str(error) == "tryton: HTTP 400 Bad Request: A call with this external ID already exists."


def test_salesforce_error_array_gives_messages_and_code() -> None:
    body = [{"message": "Required fields are missing: [Subject]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": []}]
    response = _response(400, body)
    error = error_from_response(response, connector="salesforce")
    assert isinstance(error, RejectedError)
    assert "Required fields are missing: [Subject] (REQUIRED_FIELD_MISSING)" in str(error)
    assert crm_error_code(response) == "REQUIRED_FIELD_MISSING"


def test_salesforce_request_limit_403_is_transient_with_a_wait() -> None:
    body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    error = error_from_response(_response(403, body), connector="salesforce")
    assert isinstance(error, TransientError)
    assert error.retry_after == SALESFORCE_LIMIT_WAIT_S
    assert "TotalRequests Limit exceeded." in str(error)


def test_other_403_and_401_are_auth_errors() -> None:
    forbidden = [{"message": "Insufficient access", "errorCode": "INSUFFICIENT_ACCESS"}]
    assert isinstance(error_from_response(_response(403, forbidden), connector="salesforce"), AuthError)
    expired = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    error = error_from_response(_response(401, expired), connector="salesforce")
    assert isinstance(error, AuthError)
    assert "Session expired or invalid (INVALID_SESSION_ID)" in str(error)


def test_hubspot_error_with_errors_list() -> None:
    body = {
        "status": "error",
        "message": "Property values were not valid",
        "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
        "category": "VALIDATION_ERROR",
        "errors": [{"message": 'Property "hs_call_direction" value "SIDEWAYS" is not valid', "in": "x"}],
    }
    error = error_from_response(_response(400, body), connector="hubspot")
    assert isinstance(error, RejectedError)
    assert "Property values were not valid" in str(error)
    assert "SIDEWAYS" in str(error)
    assert "(VALIDATION_ERROR)" in str(error)
    assert "aeb5f871" not in str(error)


def test_hubspot_429_is_transient_with_retry_after() -> None:
    body = {"status": "error", "message": "You have reached your secondly limit.", "category": "RATE_LIMITS"}
    error = error_from_response(_response(429, body, headers={"Retry-After": "2"}), connector="hubspot")
    assert isinstance(error, TransientError)
    assert error.retry_after == 2.0


def test_dataverse_429_with_hex_code_keeps_the_code() -> None:
    body = {
        "error": {
            "code": "0x80072322",
            "message": "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
        }
    }
    response = _response(429, body, headers={"Retry-After": "17"})
    error = error_from_response(response, connector="dynamics")
    assert isinstance(error, TransientError)
    assert error.retry_after == 17.0
    assert "(0x80072322)" in str(error)
    assert "6000" in str(error)  # short numbers are not masked; phone-like runs are
    assert crm_error_code(response) == "0x80072322"


@pytest.mark.parametrize("status", [408, 425, 500, 502, 503, 504])
def test_retry_statuses_are_transient(status: int) -> None:
    assert isinstance(error_from_response(_response(status, text="<html>oops</html>"), connector="x"), TransientError)


@pytest.mark.parametrize(
    ("status", "body_text", "expected"),
    [
        (
            404,
            "<html><body><h1>Not Found</h1><p>The requested URL was not found</p></body></html>",
            "x: HTTP 404 Not Found",
        ),
        (401, "", "x: HTTP 401 Unauthorized"),
        (400, "plain text with a number +33612345678", "x: HTTP 400 Bad Request"),
    ],
)
def test_non_json_bodies_give_the_status_line(status: int, body_text: str, expected: str) -> None:
    assert str(error_from_response(_response(status, text=body_text), connector="x")) == expected


def test_messages_are_one_line_masked_and_truncated() -> None:
    body = {"message": "Duplicate value +33 6 12 34 56 78 for\njeanne.dupont@example.test " + "x" * 1000}
    text = str(error_from_response(_response(400, body), connector="webhook"))
    assert "\n" not in text
    assert "12 34 56" not in text and "<number>" in text
    assert "jeanne" not in text and "<email>" in text
    assert len(text) <= MAX_MESSAGE


def test_oauth_error_body() -> None:
    body = {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    response = _response(400, body)
    assert crm_message(response) == "invalid_grant: expired access/refresh token"
    assert crm_error_code(response) == "invalid_grant"


def test_mask_pii_keeps_hex_codes_and_short_numbers() -> None:
    assert mask_pii("code 0x80072322 limit 6000") == "code 0x80072322 limit 6000"
    assert mask_pii("call 0612345678 failed") == "call <number> failed"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("Wed, 21 Oct 2026 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = dt.datetime(2026, 10, 21, 7, 28, 0, tzinfo=dt.UTC)
    assert parse_retry_after(value, now=now) == expected


# --- the client against real local servers -------------------------------------------------------------------


def test_request_raises_normalised_errors_and_accepts_listed_statuses(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("<html>gone</html>", status=404, content_type="text/html")
    with build_client(Crm(), base_url=httpserver.url_for("/")) as client:
        with pytest.raises(RejectedError, match=r"^x: HTTP 404 NOT FOUND$|^x: HTTP 404 Not Found$"):
            request(client, "GET", "/gone", connector="x")
        assert request(client, "GET", "/gone", connector="x", ok={404}).status_code == 404


def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with build_client(Crm(timeout_s=2)) as client, pytest.raises(TransientError, match="cannot connect"):
        request(client, "GET", f"http://127.0.0.1:{port}/", connector="x")


class _SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is observable
    peers: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        if self.path == "/ua":
            self.peers.append(self.client_address[1])
            body = json.dumps({"ua": self.headers["User-Agent"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/drop":
            # Connection closed with no answer: a CRM (or proxy) that died mid-request.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        time.sleep(1.0)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def raw_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_user_agent_and_connection_reuse(raw_server: str) -> None:
    _SlowHandler.peers.clear()
    with build_client(Crm(timeout_s=5), base_url=raw_server) as client:
        first = request(client, "GET", "/ua", connector="x").json()
        request(client, "GET", "/ua", connector="x")
    assert first["ua"].startswith(f"agent-assist/{__version__} ")
    assert len(_SlowHandler.peers) == 2
    assert _SlowHandler.peers[0] == _SlowHandler.peers[1], "the second request should reuse the kept-alive connection"


def test_read_timeout_from_settings_is_transient(raw_server: str) -> None:
    with build_client(Crm(timeout_s=0.2)) as client, pytest.raises(TransientError, match="read timeout"):
        request(client, "GET", f"{raw_server}/slow", connector="x")


def test_dropped_connection_is_transient(raw_server: str) -> None:
    with build_client(Crm(timeout_s=2)) as client, pytest.raises(TransientError, match="connection dropped"):
        request(client, "GET", f"{raw_server}/drop", connector="x")


def test_proxy_from_settings_is_used(httpserver: HTTPServer) -> None:
    # The fake proxy receives the absolute-form request for the CRM's host.
    httpserver.expect_request("/api/ping", headers={"Host": "crm.example.test"}).respond_with_json({"via": "proxy"})
    crm = Crm(proxy=httpserver.url_for("/").rstrip("/"))
    with build_client(crm) as client:
        assert request(client, "GET", "http://crm.example.test/api/ping", connector="x").json() == {"via": "proxy"}


def test_proxy_from_environment_when_settings_have_none(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/api/ping", headers={"Host": "crm.example.test"}).respond_with_json({"via": "env"})
    monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/").rstrip("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with build_client(Crm()) as client:
        assert request(client, "GET", "http://crm.example.test/api/ping", connector="x").json() == {"via": "env"}


def test_bad_proxy_and_missing_ca_bundle_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^crm.verify_tls: CA bundle not found: "):
        build_client(Crm(verify_tls=str(tmp_path / "missing.pem")))
    with pytest.raises(InputError, match=r"^crm.proxy: "):
        build_client(Crm(proxy="ftp://proxy.example.test:21"))


# --- TLS: verification on by default, a CA bundle path trusted ----------------------------------------------


def _self_signed(directory: Path) -> tuple[Path, Path]:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:  # pragma: no cover - comes with keyring's SecretStorage on Linux
        pytest.fail("cryptography is needed for the TLS tests: .venv/bin/pip install cryptography")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agent-assist test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "ca.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    cert, key = _self_signed(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.expect_request("/ping").respond_with_json({"tls": True})
    server.start()
    yield server.url_for("/ping"), cert
    server.clear()
    if server.is_running():
        server.stop()


def test_tls_is_verified_by_default(tls_server: tuple[str, Path]) -> None:
    url, _ = tls_server
    with build_client(Crm(timeout_s=5)) as client, pytest.raises(TransientError, match="certificate verification"):
        request(client, "GET", url, connector="x")


def test_tls_with_company_ca_bundle(tls_server: tuple[str, Path]) -> None:
    url, cert = tls_server
    with build_client(Crm(timeout_s=5, verify_tls=str(cert))) as client:
        assert request(client, "GET", url, connector="x").json() == {"tls": True}
