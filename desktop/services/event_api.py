"""EventApi: the local HTTP event API (diallers, CTI connectors, ``agent-assist event`` hook commands).

It listens on 127.0.0.1 only (any other address is refused), on ``[telephony].api_port`` or a free port, and
writes ``event-api.json`` (port, pid) next to the per-user token ``event-api.token`` in the data folder, so
that hook commands find it (``desktop.core.telephony.api_files``). Every request carries
``Authorization: Bearer <token>`` (compared in constant time). Bodies are JSON, at most
:data:`~desktop.core.telephony.api_schema.MAX_BODY_BYTES`, validated by ``api_schema``; a bad request gets a
4xx naming the field, a handler error a 500 (logged), and the server keeps serving. Nothing lists calls.

Threads: the HTTP server runs in its own threads and never touches the call service or a widget. Each
accepted request becomes a job handed to the GUI thread through a queued Qt signal; the GUI thread applies it
to :class:`CallService` (``handle_event``, ``add_segment``, ``confirm_withdrawal``) and hands the result back.
The server waits for it up to ``wait_s`` (then answers 202: the job stays queued and is applied later); with
``Prefer: respond-async`` (what hook commands send for call events) it answers 202 at once, except for consent
events (below).

Transcript segments of a call the app does not know yet (they raced its ring event) are held, up to
:data:`HOLD_MAX` segments for :data:`HOLD_S` seconds, and stored when the call starts, whichever adapter
reports it. A segment sent again with the same ``seq`` is stored once.

Consent events (``POST /v1/consent-events``: the customer withdrew consent or objected, as the agent recorded it
in the dialler) are recorded in the consent ledger like the panel's buttons do (``confirm_withdrawal``: ledger
entry, CRM outbox, verdict re-evaluated at once), and answered with the call's new verdict and deciding reason
code. They are never held nor answered early: ``Prefer: respond-async`` is not honoured, so that the sender
learns that a call is unknown (404 ``unknown_call``: not started here, or from before the app's last start),
has no number (409 ``no_number``), or has no such transcript segment (422, field ``segment``). The same kind
sent again for the same call (a retry, or the agent pressing both the dialler's and the panel's button) is
recorded once: the second answer is ``duplicate`` and the ledger and the CRM get one event.

Signals:
- ``started(port)``: listening, runtime file written.
- ``failed(message)``: could not listen (port taken, data folder unsafe); the app keeps running without the API.
- ``stopped()``: no longer listening, runtime file removed.

Logs: status codes, paths and field names only; never a number or transcript text above DEBUG.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Qt, Signal

from desktop import __version__
from desktop.config import Telephony
from desktop.core.telephony.api_files import (
    API_VERSION,
    HOST,
    UnsafeFileError,
    load_or_create_token,
    remove_runtime,
    write_runtime,
)
from desktop.core.telephony.api_schema import (
    CONSENT_KINDS,
    MAX_BODY_BYTES,
    ApiError,
    ConsentEventIn,
    SegmentIn,
    parse_call_event,
    parse_consent_event,
    parse_segment,
)
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallSession
from desktop.services.calls import CallService

log = logging.getLogger("agent_assist.telephony")

#: How long a request waits for the GUI thread to apply it before the server answers 202 (still queued).
WAIT_S = 2.0
#: Segments of not-yet-known calls held at most, and for how long.
HOLD_MAX = 256
HOLD_S = 60.0
#: Connections served at once; more get 503 (a local API has a handful of clients).
MAX_CONNECTIONS = 32
#: Seconds a connection may stay silent (slow or idle keep-alive clients).
SOCKET_TIMEOUT_S = 5.0
#: After refusing a request whose body was not read: how long and how much of it to discard before closing.
LINGER_S = 1.0
LINGER_BYTES = 4 * 1024 * 1024
ROUTES: dict[str, tuple[str, ...]] = {
    "/v1/call-events": ("POST",),
    "/v1/transcript-segments": ("POST",),
    "/v1/consent-events": ("POST",),
    "/v1/health": ("GET",),
}
Result = tuple[int, dict[str, Any]]


@dataclass
class _Job:
    """One accepted request on its way to the GUI thread and back."""

    kind: str  # "call", "segment" or "consent"
    payload: CallEvent | SegmentIn | ConsentEventIn
    done: threading.Event = field(default_factory=threading.Event)
    result: Result = (202, {"status": "queued"})

    def finish(self, result: Result) -> None:
        self.result = result
        self.done.set()


@dataclass
class _Held:
    segment: SegmentIn
    until: float


class EventApi(QObject):
    """The local event API of one data folder, feeding one :class:`CallService` (see the module docstring)."""

    started = Signal(int)
    failed = Signal(str)
    stopped = Signal()
    # Emitted by server threads; connected queued, so the slot runs in the GUI thread.
    _job_received = Signal(object)

    def __init__(
        self,
        service: CallService,
        data_dir: Path,
        telephony: Telephony | None = None,
        *,
        host: str = HOST,
        port: int | None = None,
        wait_s: float = WAIT_S,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if host != HOST:
            raise ValueError(f"the event API listens on {HOST} only, not {host!r}")
        telephony = telephony or Telephony()
        self.service = service
        self.data_dir = data_dir
        self.enabled = bool({"api", "hooks"} & set(telephony.sources))
        self.wanted_port = telephony.api_port if port is None else port
        self.wait_s = wait_s
        self.port: int | None = None
        self._token = b""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._held: dict[str, list[_Held]] = {}
        self._seen: dict[str, set[int]] = {}
        self._job_received.connect(self._on_job_received, Qt.ConnectionType.QueuedConnection)
        service.call_started.connect(self._on_service_call_started)

    # -- life --------------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> bool:
        """Listen and write the runtime file; False (and ``failed``) when it cannot, or the sources exclude it."""
        if self._server is not None:
            return True
        if not self.enabled:
            log.info("event API off: neither 'api' nor 'hooks' in [telephony].sources")
            return False
        try:
            self._token = load_or_create_token(self.data_dir).encode("ascii")
            server = _Server((HOST, self.wanted_port), self)
        except (OSError, UnsafeFileError) as error:
            message = f"event API not started: {error}"
            log.error("%s", message)
            self.failed.emit(message)
            return False
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, name="event-api", daemon=True)
        self._thread.start()
        try:
            write_runtime(self.data_dir, self.port)
        except OSError as error:
            self.stop()
            message = f"event API not started: runtime file: {error}"
            log.error("%s", message)
            self.failed.emit(message)
            return False
        log.info("event API listening on %s:%d", HOST, self.port)
        self.started.emit(self.port)
        return True

    def stop(self) -> None:
        """Stop listening, remove the runtime file; requests still queued for the GUI thread are dropped."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            remove_runtime(self.data_dir)
        except OSError as error:
            log.warning("event API: runtime file not removed: %s", error)
        log.info("event API stopped")
        self.stopped.emit()

    def authorized(self, header: str | None) -> bool:
        """Constant-time check of an ``Authorization: Bearer …`` header (called from server threads)."""
        scheme, _, token = (header or "").partition(" ")
        given = token.strip().encode("utf-8", "replace")
        return scheme.lower() == "bearer" and bool(self._token) and hmac.compare_digest(given, self._token)

    def submit(self, job: _Job, *, respond_async: bool) -> Result:
        """Hand a job to the GUI thread (called from server threads) and wait for its result if asked to."""
        if self._server is None:
            return 503, {"error": "stopping", "message": "the app is stopping"}
        self._job_received.emit(job)
        if respond_async or not job.done.wait(self.wait_s):
            return 202, {"status": "queued"}
        return job.result

    # -- GUI thread --------------------------------------------------------------------------------------------

    def _on_job_received(self, job: _Job) -> None:
        try:
            if isinstance(job.payload, CallEvent):
                result = self._apply_event(job.payload)
            elif isinstance(job.payload, ConsentEventIn):
                result = self._apply_consent(job.payload)
            else:
                result = self._apply_segment(job.payload)
        except Exception:
            log.exception("event API: applying a %s request failed", job.kind)
            result = (500, {"error": "internal", "message": "the app could not apply this request (see its log)"})
        job.finish(result)

    def _apply_event(self, event: CallEvent) -> Result:
        session = self.service.handle_event(event)
        if session is None:
            return 200, {"status": "ignored"}
        verdict = session.decision.verdict if session.decision is not None else None
        return 200, {"status": "applied", "call": session.uid, "state": session.state, "verdict": verdict}

    def _apply_segment(self, segment: SegmentIn) -> Result:
        session = self.service.desk.sessions.get(segment.call_id)
        if session is None:
            return self._hold(segment)
        return self._store(session, segment)

    def _apply_consent(self, event: ConsentEventIn) -> Result:
        session = self.service.desk.sessions.get(event.call_id)
        if session is None:
            log.info("event API: %s from %s for an unknown call", event.kind, event.source)
            return 404, {"error": "unknown_call", "message": "no call with this call_id since the app started"}
        if session.number is None:
            log.info("call %s: %s from %s refused: the call has no number", session.uid[:8], event.kind, event.source)
            return 409, {"error": "no_number", "message": "a call without a number has no consent to withdraw"}
        if event.segment is not None and event.segment >= len(session.segments):
            log.info(
                "call %s: %s from %s refused: no such transcript segment", session.uid[:8], event.kind, event.source
            )
            error = ApiError(422, "invalid", "segment: no such transcript segment in this call", "segment")
            return error.status, error.to_json()
        # One event per kind and call: a retry (or the panel's button as well) must not append to the ledger again.
        if any(recorded.get("kind") == event.kind for recorded in session.consent_events):
            log.info("call %s: %s from %s already recorded", session.uid[:8], event.kind, event.source)
            return 200, self._consent_result("duplicate", session, event)
        self.service.confirm_withdrawal(
            session, kind=CONSENT_KINDS[event.kind], segment=event.segment, source=event.source, sent_at=event.at
        )
        return 200, self._consent_result("recorded", session, event)

    @staticmethod
    def _consent_result(status: str, session: CallSession, event: ConsentEventIn) -> dict[str, Any]:
        decision = session.decision
        return {
            "status": status,
            "call": session.uid,
            "kind": event.kind,
            "verdict": decision.verdict if decision is not None else None,
            "code": decision.reasons[0].code if decision is not None and decision.reasons else None,
        }

    def _store(self, session: CallSession, segment: SegmentIn) -> Result:
        seen = self._seen.setdefault(session.key, set())
        if segment.seq is not None:
            if segment.seq in seen:
                return 200, {"status": "duplicate", "call": session.uid}
            seen.add(segment.seq)
        stored = self.service.add_segment(session, segment.speaker, segment.text, segment.start, segment.end)
        return 200, {"status": "stored", "call": session.uid, "segment": stored.idx}

    def _hold(self, segment: SegmentIn) -> Result:
        moment = time.monotonic()
        self._expire(moment)
        held = self._held.setdefault(segment.call_id, [])
        if segment.seq is not None and any(item.segment.seq == segment.seq for item in held):
            return 202, {"status": "duplicate"}
        if sum(len(items) for items in self._held.values()) >= HOLD_MAX:
            if not held:
                del self._held[segment.call_id]
            return 409, {"error": "unknown_call", "message": "no call with this call_id (and too many held)"}
        held.append(_Held(segment, moment + HOLD_S))
        return 202, {"status": "held", "message": "stored when the call starts"}

    def _expire(self, moment: float) -> None:
        for call_id in list(self._held):
            kept = [item for item in self._held[call_id] if item.until > moment]
            if len(kept) < len(self._held[call_id]):
                dropped = len(self._held[call_id]) - len(kept)
                log.warning("event API: %d transcript segment(s) dropped: their call never started", dropped)
            if kept:
                self._held[call_id] = kept
            else:
                del self._held[call_id]

    def _on_service_call_started(self, session: CallSession) -> None:
        held = self._held.pop(session.key, [])
        for item in held:
            self._store(session, item.segment)
        if held:
            log.info("call %s: %d held transcript segment(s) stored", session.uid[:8], len(held))


# -- the HTTP side (server threads) ------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Linux refuses a second listener anyway; on Windows SO_REUSEADDR would let another process share the port.
    allow_reuse_address = False

    def __init__(self, address: tuple[str, int], api: EventApi) -> None:
        self.api = api
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
        if exclusive is not None:  # Windows: nobody else may bind this port while we hold it
            self.socket.setsockopt(socket.SOL_SOCKET, exclusive, 1)
        super().server_bind()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = f"agent-assist/{__version__}"
    sys_version = ""
    timeout = SOCKET_TIMEOUT_S
    # Headers and body go out in two writes: with Nagle's algorithm and the client's delayed ACK, each answer
    # on a kept-alive connection would wait ~40 ms.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def _dispatch(self, method: str) -> None:
        self._body_read = False
        path = urlsplit(self.path).path
        try:
            status, body = self._route(method, path)
        except ApiError as error:
            status, body = error.status, error.to_json()
            log.info("event API: %d %s on %s%s", status, error.code, path, f" ({error.field})" if error.field else "")
        except Exception:  # never let one request take the server down
            log.exception("event API: %s %s failed", method, path)
            status, body = 500, {"error": "internal", "message": "internal error (see the app's log)"}
        unread = not self._body_read and self._unread_body()
        if unread:
            self.close_connection = True  # the unread body would be taken for the next request
        self._send(status, body)
        if unread:
            self._linger()

    def _linger(self) -> None:
        """Discard what the client still sends (briefly, boundedly) before closing: closing a socket with unread
        data resets the connection, and the client may lose the answer (413, 401) before reading it."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(LINGER_S)
            deadline, drained = time.monotonic() + LINGER_S, 0
            while drained < LINGER_BYTES and time.monotonic() < deadline:
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)

    def _unread_body(self) -> bool:
        length = self.headers.get("Content-Length") or "0"
        return bool(self.headers.get("Transfer-Encoding")) or not length.isdigit() or int(length) > 0

    def _route(self, method: str, path: str) -> Result:
        api = self.server.api
        if self.client_address[0] != HOST:
            raise ApiError(403, "forbidden", "local clients only")
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host not in (HOST, "localhost"):  # a web page reaching us through DNS rebinding names its own host
            raise ApiError(403, "bad_host", f"Host must be {HOST}")
        if not api.authorized(self.headers.get("Authorization")):
            raise ApiError(401, "unauthorized", "missing or wrong token (Authorization: Bearer <event-api.token>)")
        allowed = ROUTES.get(path)
        if allowed is None:
            raise ApiError(404, "not_found", "no such endpoint")
        if method not in allowed:
            self._allow = ", ".join(allowed)
            raise ApiError(405, "method_not_allowed", f"use {self._allow}")
        if path == "/v1/health":
            return 200, {"status": "ok", "api": API_VERSION}
        body = self._read_body()
        prefer = self.headers.get("Prefer") or ""
        respond_async = "respond-async" in prefer.lower()
        if path == "/v1/call-events":
            job = _Job("call", parse_call_event(body, received_at=api.service.clock()))
        elif path == "/v1/consent-events":
            # Never answered before it is applied: an unknown call must reach the sender as a 404.
            return api.submit(_Job("consent", parse_consent_event(body)), respond_async=False)
        else:
            job = _Job("segment", parse_segment(body))
        return api.submit(job, respond_async=respond_async)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise ApiError(411, "length_required", "send Content-Length (chunked bodies are not accepted)")
        text = self.headers.get("Content-Length")
        if text is None:
            raise ApiError(411, "length_required", "Content-Length required")
        if not text.isdigit():
            raise ApiError(400, "bad_length", "Content-Length is not a number")
        length = int(text)
        if length > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", f"request body over {MAX_BODY_BYTES} bytes")
        kind = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if kind != "application/json":
            raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json")
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            self.close_connection = True
            raise ApiError(408, "timeout", f"the body did not arrive within {SOCKET_TIMEOUT_S:g} s") from None
        self._body_read = True
        if len(body) < length:  # the client closed its side early
            self.close_connection = True
            raise ApiError(400, "short_body", "the body ended before Content-Length bytes")
        return body

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="agent-assist"')
        if status == 405:
            self.send_header("Allow", getattr(self, "_allow", "POST"))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # http.server writes every request to stderr; ours go to the log, at DEBUG, without query strings.
        log.debug("event API: " + format, *args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("event API: %s %s -> %s", self.command, urlsplit(self.path or "").path, code)
