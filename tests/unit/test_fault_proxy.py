"""The fault-injecting proxy does what the sync tests rely on, against a small counting upstream."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.support.fault_proxy import FaultProxy


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies: list[bytes]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.bodies.append(body)
        answer = b'{"id": %d}' % len(self.bodies)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def upstream() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []
    handler = type("Handler", (_Upstream,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    server.shutdown()
    server.server_close()


def test_faults_are_played_in_order(upstream: tuple[str, list[bytes]]) -> None:
    url, bodies = upstream
    with FaultProxy(url) as proxy, httpx.Client(base_url=proxy.url, timeout=5) as client:
        proxy.inject("429:7", "503", "drop", "commit_then_drop", "slow:0.3")
        first = client.post("/x", content=b"a")
        assert first.status_code == 429 and first.headers["Retry-After"] == "7"
        assert client.post("/x", content=b"b").status_code == 503
        assert bodies == []  # neither was forwarded
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/x", content=b"c")
        assert bodies == []
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/x", content=b"d")
        assert bodies == [b"d"]  # committed, answer lost
        started = time.monotonic()
        assert client.post("/x", content=b"e").json() == {"id": 2}
        assert time.monotonic() - started >= 0.3
        assert client.post("/x", content=b"f").json() == {"id": 3}
        assert [fault for fault, _, _ in proxy.trace] == [
            "429:7",
            "503",
            "drop",
            "commit_then_drop",
            "slow:0.3",
            "pass",
        ]


def test_down_refuses_connections_until_up_on_the_same_port(upstream: tuple[str, list[bytes]]) -> None:
    url, bodies = upstream
    with FaultProxy(url) as proxy:
        port = proxy.port
        proxy.down()
        with pytest.raises(httpx.ConnectError):
            httpx.post(proxy.url + "/x", content=b"a", timeout=2)
        proxy.up()
        assert proxy.port == port
        assert httpx.post(proxy.url + "/x", content=b"b", timeout=2).status_code == 200
    assert bodies == [b"b"]


def test_only_matching_requests_take_a_fault(upstream: tuple[str, list[bytes]]) -> None:
    url, _ = upstream
    with FaultProxy(url, only=lambda method, path: path.startswith("/push")) as proxy:
        proxy.inject("500")
        assert httpx.post(proxy.url + "/login", content=b"a", timeout=2).status_code == 200
        assert httpx.post(proxy.url + "/push", content=b"b", timeout=2).status_code == 500
    with pytest.raises(ValueError, match="unknown fault"):
        FaultProxy(url).inject("418")
