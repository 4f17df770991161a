"""A fault-injecting reverse proxy on 127.0.0.1, in front of a real CRM (``reference/crm.md`` §3).

Each request that matches ``only`` takes the next fault from the queue (none left: forwarded untouched):

- ``"429"`` or ``"429:<s>"``: answered 429 with ``Retry-After: <s>`` (1 by default), nothing forwarded;
- ``"500"``, ``"502"``, ``"503"``, ``"504"``: answered with that status, nothing forwarded;
- ``"drop"``: the connection is closed without an answer, nothing forwarded;
- ``"commit_then_drop"``: forwarded (the CRM commits), then the connection is closed: the answer is lost;
- ``"slow:<s>"``: forwarded after ``s`` seconds (a client with a shorter timeout gives up first).

``down()`` closes the listener (connections are refused) until ``up()`` reopens it on the same port.
``trace`` lists ``(fault or "pass", method, path)`` for every request seen. Use as a context manager.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}
STATUS_FAULTS = ("500", "502", "503", "504")


class FaultProxy:
    """Reverse proxy to ``upstream`` (``http://host:port``) listening on 127.0.0.1 (``url``)."""

    def __init__(self, upstream: str, *, port: int = 0, only: Callable[[str, str], bool] | None = None) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.only = only or (lambda _method, _path: True)
        self.faults: list[str] = []
        self.trace: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(self, *faults: str) -> None:
        """Queue faults for the next matching requests, in order."""
        for fault in faults:
            kind = fault.split(":", 1)[0]
            if kind not in ("429", "drop", "commit_then_drop", "slow", *STATUS_FAULTS):
                raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self.faults.extend(faults)

    def _next_fault(self, method: str, path: str) -> str | None:
        with self._lock:
            fault = self.faults.pop(0) if self.faults and self.only(method, path) else None
            self.trace.append((fault or "pass", method, path))
        return fault

    def count(self, fault: str) -> int:
        with self._lock:
            return sum(1 for seen, _, _ in self.trace if seen == fault)

    # -- listener --------------------------------------------------------------------------------------------

    def up(self) -> None:
        """Listen (again) on 127.0.0.1, on the same port as before."""
        if self._server is not None:
            return
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        for _ in range(50):  # the port of a listener just closed can take a moment to be free again
            try:
                server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
                break
            except OSError:
                if not self.port:
                    raise
                time.sleep(0.1)
        else:
            raise OSError(f"port {self.port} stayed busy")
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Stop listening: every new connection is refused until :meth:`up`."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def close(self) -> None:
        self.down()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.close()


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server: a drop then hits a reused connection

    def log_message(self, format: str, *args: object) -> None:  # quiet: pytest shows stderr on failure only
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        fault = self.owner._next_fault(self.command, self.path)
        if fault is not None and fault.startswith("429"):
            _, _, after = fault.partition(":")
            self._answer(429, b'{"message": "Too Many Requests"}', {"Retry-After": after or "1"})
            return
        if fault in STATUS_FAULTS:
            self._answer(int(fault), b"<html><body>Service Unavailable</body></html>", {"Content-Type": "text/html"})
            return
        if fault == "drop":
            self._drop()
            return
        if fault is not None and fault.startswith("slow:"):
            time.sleep(float(fault.partition(":")[2]))
        status, headers, answer = self._forward(body)
        if fault == "commit_then_drop":
            self._drop()
            return
        self._answer(status, answer, headers)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _forward(self, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        upstream = http.client.HTTPConnection(self.owner.upstream_host, self.owner.upstream_port, timeout=120)
        try:
            headers = {key: value for key, value in self.headers.items() if key.lower() not in _HOP_BY_HOP}
            headers["Host"] = f"{self.owner.upstream_host}:{self.owner.upstream_port}"
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            answer = response.read()
            kept = {
                key: value
                for key, value in response.getheaders()
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length"
            }
            return response.status, kept, answer
        finally:
            upstream.close()

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
