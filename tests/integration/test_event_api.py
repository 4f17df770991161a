"""The local event API for real: its HTTP server on a free port, a CallService over a real store, the hook command.

Requests are sent from a worker thread while the test (the GUI thread) keeps Qt's event loop turning, as in
the app: the server hands each request to the GUI thread and waits for its result. Every check reads back
what SQLite holds. Bad input of every kind gets its 4xx and the server keeps serving; nothing accepted is lost.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pytestqt.qtbot import QtBot

from desktop.config import Telephony
from desktop.core.assist.playbook import load_playbook
from desktop.core.consent.policy import Policy
from desktop.core.store.db import Store, open_store
from desktop.core.telephony.api_files import RUNTIME_FILE, TOKEN_FILE, read_runtime
from desktop.core.telephony.api_schema import MAX_BODY_BYTES
from desktop.core.telephony.session import StationDefaults
from desktop.services.calls import CallService
from desktop.services.event_api import HOLD_MAX, EventApi

ROOT = Path(__file__).resolve().parents[2]
NUMBER = "+33639980001"
OTHER = "+33639980002"
DEFAULTS = StationDefaults(professional="ACME Énergie SAS", product="electricity", agent_id="agent-7")
T = TypeVar("T")


# -- fixtures -------------------------------------------------------------------------------------------------


class Station:
    """One user's app: data folder, store, call service and event API."""

    def __init__(self, folder: Path, policy: Policy, **api: Any) -> None:
        self.folder = folder
        self.store: Store = open_store(folder)
        self.service = CallService(self.store.conn, policy, load_playbook(), DEFAULTS)
        self.api = EventApi(self.service, folder, Telephony(), **api)
        assert self.api.start()
        assert self.api.port is not None
        self.port = self.api.port
        self.token = (folder / TOKEN_FILE).read_text().strip()

    def close(self) -> None:
        self.api.stop()
        self.store.close()

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return list(self.store.conn.execute(sql, params))

    def interactions(self) -> list[tuple[Any, ...]]:
        return self.rows("SELECT call_id, number, direction, state FROM interactions ORDER BY id")

    def segments(self) -> list[tuple[Any, ...]]:
        return self.rows(
            "SELECT i.call_id, s.idx, s.speaker, s.text FROM transcript_segments s"
            " JOIN interactions i ON i.id = s.interaction_id ORDER BY s.id"
        )


@pytest.fixture
def station(tmp_path: Path, policy: Policy, qtbot: QtBot) -> Iterator[Station]:
    opened = Station(tmp_path / "alice", policy)
    yield opened
    opened.close()


class Client:
    """A keep-alive HTTP client; each call runs in a worker thread while the GUI thread processes events."""

    def __init__(self, qtbot: QtBot, port: int, token: str | None) -> None:
        self.qtbot = qtbot
        self.port = port
        self.token = token
        self.pool = ThreadPoolExecutor(1)
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def close(self) -> None:
        self.connection.close()
        self.pool.shutdown()

    def run(self, work: Callable[[], T]) -> T:
        future = self.pool.submit(work)
        self.qtbot.waitUntil(future.done, timeout=15_000)
        return future.result()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any], http.client.HTTPResponse]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        sent = {"Content-Type": "application/json"}
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        sent.update(headers or {})

        def exchange() -> tuple[int, dict[str, Any], http.client.HTTPResponse]:
            try:
                self.connection.request(method, path, body=data, headers=sent)
                response = self.connection.getresponse()
            except (http.client.HTTPException, OSError):  # the server closed a kept-alive connection: new one
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                self.connection.request(method, path, body=data, headers=sent)
                response = self.connection.getresponse()
            payload = response.read()
            if response.will_close:
                self.connection.close()
            return response.status, (json.loads(payload) if payload else {}), response

        return self.run(exchange)

    def event(self, **values: Any) -> tuple[int, dict[str, Any]]:
        status, body, _ = self.request("POST", "/v1/call-events", values)
        return status, body

    def segment(self, **values: Any) -> tuple[int, dict[str, Any]]:
        status, body, _ = self.request("POST", "/v1/transcript-segments", values)
        return status, body


@pytest.fixture
def client(station: Station, qtbot: QtBot) -> Iterator[Client]:
    opened = Client(qtbot, station.port, station.token)
    yield opened
    opened.close()


def alive(client: Client) -> None:
    status, body, _ = client.request("GET", "/v1/health")
    assert (status, body) == (200, {"status": "ok", "api": 1})


# -- a call through the API ---------------------------------------------------------------------------------


def test_call_with_transcript_is_stored(station: Station, client: Client, qtbot: QtBot) -> None:
    status, body = client.event(event="ring", number="06 39 98 00 01", call_id="c-1")
    assert status == 200 and body["status"] == "applied" and body["state"] == "ringing"
    assert body["verdict"] in ("allowed", "contract_only", "forbidden")
    assert client.event(event="answer", call_id="c-1")[1]["state"] == "active"
    for index, (speaker, text) in enumerate([("agent", "Bonjour madame"), ("customer", "Bonjour")]):
        status, body = client.segment(call_id="c-1", speaker=speaker, text=text, start=index, end=index + 0.5)
        assert (status, body["status"], body["segment"]) == (200, "stored", index)
    assert client.event(event="hangup", call_id="c-1")[1]["state"] == "wrap_up"
    assert station.interactions() == [("c-1", NUMBER, "inbound", "wrap_up")]
    assert station.segments() == [("c-1", 0, "agent", "Bonjour madame"), ("c-1", 1, "customer", "Bonjour")]
    assert station.service.current is not None and station.service.current.number == NUMBER


def test_respond_async_answers_at_once_and_applies_later(station: Station, client: Client, qtbot: QtBot) -> None:
    with qtbot.waitSignal(station.service.call_started, timeout=5000):
        status, body, _ = client.request(
            "POST", "/v1/call-events", {"event": "dial", "number": NUMBER}, headers={"Prefer": "respond-async"}
        )
        assert (status, body) == (202, {"status": "queued"})
    assert station.interactions() == [(None, NUMBER, "outbound", "dialing")]


def test_busy_gui_thread_gives_202_and_nothing_is_lost(station: Station, qtbot: QtBot) -> None:
    station.api.wait_s = 0.05
    raw = Client(qtbot, station.port, station.token)
    try:
        # The GUI thread is blocked in this test (no event loop) while the request waits for it.
        future = raw.pool.submit(
            lambda: (
                raw.connection.request(
                    "POST",
                    "/v1/call-events",
                    body=json.dumps({"event": "ring", "number": NUMBER, "call_id": "busy"}),
                    headers={"Authorization": f"Bearer {station.token}", "Content-Type": "application/json"},
                )
                or raw.connection.getresponse()
            )
        )
        response = future.result(timeout=5)
        assert response.status == 202 and json.loads(response.read()) == {"status": "queued"}
        assert station.interactions() == []
        qtbot.waitUntil(lambda: station.interactions() == [("busy", NUMBER, "inbound", "ringing")], timeout=5000)
    finally:
        raw.close()


# -- robustness: duplicates, out of order, no call id -------------------------------------------------------


def test_duplicated_and_out_of_order_call_events(station: Station, client: Client) -> None:
    assert client.event(event="ring", number=NUMBER, call_id="d")[1]["status"] == "applied"
    assert client.event(event="ring", number=NUMBER, call_id="d")[1] == {"status": "ignored"}
    assert client.event(event="hangup", call_id="d")[1]["state"] == "missed"  # hung up before the answer
    assert client.event(event="answer", call_id="d")[1] == {"status": "ignored"}  # late answer after the end
    assert client.event(event="hangup", call_id="d")[1] == {"status": "ignored"}
    assert client.event(event="hangup", call_id="never-started")[1] == {"status": "ignored"}
    assert client.event(event="answer", number=OTHER, call_id="e")[1]["state"] == "active"  # no ring seen
    assert station.interactions() == [("d", NUMBER, "inbound", "missed"), ("e", OTHER, "inbound", "active")]


def test_segments_before_their_call_are_held_then_stored(station: Station, client: Client) -> None:
    assert client.segment(call_id="early", speaker="customer", text="Allô ?", seq=0) == (
        202,
        {"status": "held", "message": "stored when the call starts"},
    )
    assert client.segment(call_id="early", speaker="customer", text="Allô ?", seq=0)[1]["status"] == "duplicate"
    assert client.event(event="ring", number=NUMBER, call_id="early")[0] == 200
    assert client.segment(call_id="early", speaker="agent", text="Oui bonjour", seq=1)[1]["segment"] == 1
    assert station.segments() == [("early", 0, "customer", "Allô ?"), ("early", 1, "agent", "Oui bonjour")]


def test_duplicated_segments_are_stored_once(station: Station, client: Client) -> None:
    client.event(event="answer", number=NUMBER, call_id="s")
    for _ in range(3):
        client.segment(call_id="s", speaker="customer", text="Non merci", seq=4)
    client.segment(call_id="s", speaker="customer", text="Au revoir")  # no seq: always stored
    client.segment(call_id="s", speaker="customer", text="Au revoir")
    assert [row[3] for row in station.segments()] == ["Non merci", "Au revoir", "Au revoir"]


def test_hold_is_bounded(station: Station, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("desktop.services.event_api.HOLD_MAX", 3)
    for index in range(3):
        assert client.segment(call_id=f"ghost-{index}", speaker="agent", text="x")[0] == 202
    status, body = client.segment(call_id="ghost-9", speaker="agent", text="x")
    assert (status, body["error"]) == (409, "unknown_call")
    assert HOLD_MAX == 256


def test_events_without_call_id_pair_by_number(station: Station, client: Client) -> None:
    client.event(event="ring", number=NUMBER)
    client.event(event="ring", number=OTHER)  # a second line rings
    assert client.event(event="answer", number="06 39 98 00 01")[1]["state"] == "active"
    assert client.event(event="hangup", number=NUMBER)[1]["state"] == "wrap_up"
    assert client.event(event="hangup")[1]["state"] == "missed"  # no number: the latest open call
    assert [row[1:] for row in station.interactions()] == [
        (NUMBER, "inbound", "wrap_up"),
        (OTHER, "inbound", "missed"),
    ]


# -- refusals: each with its 4xx, and the server keeps serving --------------------------------------------


@pytest.mark.parametrize(
    ("raw", "headers", "status", "code"),
    [
        (b"{not json", {}, 400, "not_json"),
        (b"\xff\xfe\x00", {}, 400, "not_json"),
        (b"[" * 3000, {}, 400, "not_json"),
        (b"[]", {}, 422, "invalid"),
        (b'{"event": "ring", "number": "06 39 XX"}', {}, 422, "invalid"),
        (b'{"event": "ring", "callid": "x"}', {}, 422, "invalid"),
        (b'{"event": "ring"}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
    ],
)
def test_malformed_bodies(client: Client, raw: bytes, headers: dict[str, str], status: int, code: str) -> None:
    got, body, _ = client.request("POST", "/v1/call-events", raw=raw, headers=headers)
    assert (got, body["error"]) == (status, code)
    alive(client)


def test_422_names_the_field_and_not_the_value(client: Client) -> None:
    status, body = client.event(event="ring", number="06 39 98 00 0X")
    assert status == 422 and body["field"] == "number" and "06 39" not in json.dumps(body)


def test_oversized_body_gets_413_without_being_read(client: Client) -> None:
    status, body, response = client.request("POST", "/v1/transcript-segments", raw=b"x" * (MAX_BODY_BYTES * 16))
    assert (status, body["error"]) == (413, "too_large") and response.getheader("Connection") == "close"
    alive(client)


def raw_exchange(port: int, data: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_lying_headers(station: Station, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = f"Authorization: Bearer {station.token}\r\nHost: 127.0.0.1\r\nConnection: close\r\n".encode()
    chunked = b"POST /v1/call-events HTTP/1.1\r\n" + auth + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    assert b" 411 " in client.run(lambda: raw_exchange(station.port, chunked))
    no_length = b"POST /v1/call-events HTTP/1.1\r\n" + auth + b"Content-Type: application/json\r\n\r\n"
    assert b" 411 " in client.run(lambda: raw_exchange(station.port, no_length))
    bad_length = b"POST /v1/call-events HTTP/1.1\r\n" + auth + b"Content-Length: -5\r\n\r\n"
    assert b" 400 " in client.run(lambda: raw_exchange(station.port, bad_length))
    short = (
        b"POST /v1/call-events HTTP/1.1\r\n" + auth + b"Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{}"
    )
    monkeypatch.setattr("desktop.services.event_api._Handler.timeout", 0.5)
    assert b" 408 " in client.run(lambda: raw_exchange(station.port, short))  # the rest of the body never came
    garbage = os.urandom(300) + b"\r\n\r\n"
    client.run(lambda: raw_exchange(station.port, garbage))
    alive(client)


@pytest.mark.parametrize(
    "token", [None, "", "wrong", "Bearer", "x" * 43], ids=["none", "empty", "wrong", "bearer-only", "same-length"]
)
def test_unauthenticated_requests_get_401_and_change_nothing(station: Station, qtbot: QtBot, token: str | None) -> None:
    intruder = Client(qtbot, station.port, None)
    try:
        headers = {} if token is None else {"Authorization": f"Bearer {token}" if token != "Bearer" else "Bearer"}
        status, body, response = intruder.request(
            "POST", "/v1/call-events", {"event": "ring", "number": NUMBER}, headers=headers
        )
        assert (status, body["error"]) == (401, "unauthorized")
        assert response.getheader("WWW-Authenticate", "").startswith("Bearer")
        status, _, _ = intruder.request(
            "POST", "/v1/call-events", {"event": "ring"}, headers={"Authorization": f"Basic {station.token}"}
        )
        assert status == 401
        assert intruder.request("GET", "/v1/calls", headers=headers)[0] == 401  # no route is revealed either
    finally:
        intruder.close()
    assert station.interactions() == []


def test_unknown_paths_and_methods(client: Client) -> None:
    assert client.request("GET", "/v1/calls")[0] == 404  # the API never lists calls
    assert client.request("GET", "/")[0] == 404
    status, body, response = client.request("GET", "/v1/call-events")
    assert (status, body["error"], response.getheader("Allow")) == (405, "method_not_allowed", "POST")
    assert client.request("DELETE", "/v1/transcript-segments")[0] == 405
    assert client.request("POST", "/v1/health", {})[0] == 405


def test_kept_alive_answers_are_not_delayed(client: Client) -> None:
    # Headers and body are two writes; with Nagle's algorithm each answer would wait for a delayed ACK (~40 ms).
    def forty() -> float:
        start = time.perf_counter()
        for _ in range(40):
            client.connection.request("GET", "/v1/health", headers={"Authorization": f"Bearer {client.token}"})
            client.connection.getresponse().read()
        return time.perf_counter() - start

    assert client.run(forty) < 0.8  # 40 × 40 ms would be 1.6 s


def test_foreign_host_header_is_refused(client: Client) -> None:
    status, body, _ = client.request("GET", "/v1/health", headers={"Host": "evil.example:80"})
    assert (status, body["error"]) == (403, "bad_host")


def test_handler_error_is_a_500_and_the_server_survives(
    station: Station, client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(station.service, "handle_event", broken)
    with caplog.at_level(logging.ERROR, logger="agent_assist.telephony"):
        status, body = client.event(event="ring", number=NUMBER, call_id="x")
    assert (status, body["error"]) == (500, "internal")
    assert "applying a call request failed" in caplog.text and "disk on fire" in caplog.text
    monkeypatch.undo()
    assert client.event(event="ring", number=NUMBER, call_id="x")[0] == 200


def test_nothing_sensitive_logged_above_debug(
    station: Station, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.event(event="ring", number=NUMBER, call_id="p")
    client.segment(call_id="p", speaker="customer", text="mon secret bien gardé")
    client.event(event="ring", number="06 39 98 00 0X")
    client.request("POST", "/v1/call-events", raw=b'{"event": "ring", "number": "0639980003", "x": 1}')
    above = [record.getMessage() for record in caplog.records if record.levelno > logging.DEBUG]
    assert above  # the requests did log something
    for text in above:
        assert "39980001" not in text and "39 98 00" not in text and "39980003" not in text
        assert "secret" not in text and station.token not in text


# -- the bind, the files, two users ------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "localhost", ""])
def test_refuses_any_bind_but_loopback(station: Station, host: str) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
        EventApi(station.service, station.folder, host=host)


def test_listens_on_loopback_only(station: Station) -> None:
    assert station.api._server is not None and station.api._server.server_address[0] == "127.0.0.1"


def test_runtime_and_token_files(station: Station, qtbot: QtBot) -> None:
    runtime = read_runtime(station.folder)
    assert runtime is not None and (runtime.port, runtime.pid) == (station.port, os.getpid())
    if os.name == "posix":
        assert (station.folder / RUNTIME_FILE).stat().st_mode & 0o777 == 0o600
        assert (station.folder / TOKEN_FILE).stat().st_mode & 0o777 == 0o600
        assert station.folder.stat().st_mode & 0o777 == 0o700
    with qtbot.waitSignal(station.api.stopped):
        station.api.stop()
    assert not (station.folder / RUNTIME_FILE).exists()
    assert (station.folder / TOKEN_FILE).read_text().strip() == station.token  # the token outlives a run
    assert station.api.start() and read_runtime(station.folder) is not None


def test_port_taken_is_a_failed_signal_not_a_crash(station: Station, policy: Policy, qtbot: QtBot) -> None:
    other = CallService(station.store.conn, policy, load_playbook(), DEFAULTS)
    api = EventApi(other, station.folder / "second", Telephony(api_port=station.port))
    with qtbot.waitSignal(api.failed) as failed:
        assert api.start() is False
    assert "event API not started" in failed.args[0]


def test_sources_without_api_or_hooks_leave_it_off(station: Station) -> None:
    api = EventApi(station.service, station.folder / "off", Telephony(sources=("baresip",)))
    assert api.start() is False and not api.running


def test_two_users_cannot_inject_into_each_other(tmp_path: Path, policy: Policy, qtbot: QtBot) -> None:
    alice, bob = Station(tmp_path / "alice", policy), Station(tmp_path / "bob", policy)
    try:
        assert alice.port != bob.port and alice.token != bob.token
        alice_to_bob = Client(qtbot, bob.port, alice.token)
        bob_own = Client(qtbot, bob.port, bob.token)
        try:
            assert alice_to_bob.event(event="ring", number=NUMBER, call_id="a")[0] == 401
            assert alice_to_bob.segment(call_id="a", speaker="agent", text="x")[0] == 401
            assert bob_own.event(event="ring", number=OTHER, call_id="b")[0] == 200
        finally:
            alice_to_bob.close()
            bob_own.close()
        assert alice.interactions() == []
        assert bob.interactions() == [("b", OTHER, "inbound", "ringing")]
    finally:
        alice.close()
        bob.close()


# -- the hook command end to end ---------------------------------------------------------------------------


def hook(qtbot: QtBot, *args: str) -> tuple[int, str, float]:
    """``agent-assist event …`` as the softphone runs it; the Qt loop keeps turning meanwhile."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop.entry", "event", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    qtbot.waitUntil(lambda: process.poll() is not None, timeout=10_000)
    elapsed = time.perf_counter() - started
    _, err = process.communicate()
    return process.returncode, err, elapsed


def test_hook_command_hands_events_to_the_running_app(station: Station, qtbot: QtBot) -> None:
    data = str(station.folder)
    rc, err, _ = hook(qtbot, "ring", "--number", "06 39 98 00 01", "--data-dir", data)
    assert (rc, err) == (0, "")
    qtbot.waitUntil(lambda: station.interactions() == [(None, NUMBER, "inbound", "ringing")], timeout=5000)
    assert hook(qtbot, "answer", "--number", "0639980001", "--data-dir", data)[0] == 0
    qtbot.waitUntil(lambda: station.interactions()[0][3] == "active", timeout=5000)
    assert hook(qtbot, "hangup", "--data-dir", data)[0] == 0  # no number, no call id: the station's current call
    qtbot.waitUntil(lambda: station.interactions()[0][3] == "wrap_up", timeout=5000)
    assert len(station.interactions()) == 1


def test_hook_command_with_call_id_and_product(station: Station, qtbot: QtBot) -> None:
    data = str(station.folder)
    args = ("--number", NUMBER, "--call-id", "ms-1", "--product", "gas", "--data-dir", data)
    assert hook(qtbot, "dial", *args)[0] == 0
    qtbot.waitUntil(lambda: station.rows("SELECT call_id, product, direction FROM interactions") != [], timeout=5000)
    assert station.rows("SELECT call_id, product, direction FROM interactions") == [("ms-1", "gas", "outbound")]


def test_hook_command_refused_event_says_why(station: Station, qtbot: QtBot) -> None:
    rc, err, _ = hook(qtbot, "ring", "--number", "06 XX", "--data-dir", str(station.folder))
    assert rc == 7 and err.startswith("agent-assist: error: the app refused the event (422: number: ")
    assert err.count("\n") == 1


def test_hook_command_when_the_app_is_not_running(station: Station, qtbot: QtBot, tmp_path: Path) -> None:
    station.api.stop()
    rc, err, elapsed = hook(qtbot, "ring", "--number", NUMBER, "--data-dir", str(station.folder))
    assert rc == 5 and err.startswith("agent-assist: error: the app is not running") and err.count("\n") == 1
    assert elapsed < 1.0, f"{elapsed:.3f} s"  # the target is 200 ms (see bench/bench_event_api.py)
    rc, err, elapsed = hook(qtbot, "hangup", "--data-dir", str(tmp_path / "never-started"))
    assert rc == 5 and "no event API in" in err and elapsed < 1.0


def test_hook_command_with_a_stale_runtime_file(station: Station, qtbot: QtBot) -> None:
    runtime = (station.folder / RUNTIME_FILE).read_text()
    station.api.stop()
    (station.folder / RUNTIME_FILE).write_text(runtime)  # as a crash leaves it
    rc, err, elapsed = hook(qtbot, "ring", "--number", NUMBER, "--data-dir", str(station.folder))
    assert rc == 5 and "the app is not running" in err and elapsed < 1.0


def test_hook_command_when_the_app_does_not_answer(tmp_path: Path, qtbot: QtBot) -> None:
    folder = tmp_path / "mute"
    from desktop.core.telephony.api_files import load_or_create_token, write_runtime

    load_or_create_token(folder)
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        write_runtime(folder, listener.getsockname()[1])
        rc, err, elapsed = hook(qtbot, "ring", "--number", NUMBER, "--data-dir", str(folder), "--timeout", "0.1")
    assert rc == 6 and "did not answer within 0.1 s" in err and elapsed < 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ring",), "ring: --number is required"),
        (("ringing", "--number", "1"), "invalid choice"),
        (("hangup", "--timeout", "0"), "--timeout"),
    ],
)
def test_hook_command_usage_errors(qtbot: QtBot, args: tuple[str, ...], message: str) -> None:
    rc, err, _ = hook(qtbot, *args)
    assert rc == 2 and message in err and err.count("\n") == 1


def test_hook_command_imports_no_pydantic_and_no_qt(tmp_path: Path) -> None:
    code = (
        "import sys, runpy; sys.argv = ['agent-assist', 'event', 'hangup', '--data-dir', sys.argv[1]];"
        "from desktop.entry import main; rc = main();"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'PySide6', 'phonenumbers',"
        " 'sqlite3', 'desktop.cli', 'http', 'email', 'ssl'));"
        "print(rc, heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.stdout.strip() == "5 []", done.stdout + done.stderr


# -- the real app process ----------------------------------------------------------------------------------


def read_only(db: Path, sql: str) -> list[tuple[Any, ...]]:
    import sqlite3

    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return list(connection.execute(sql))
    finally:
        connection.close()


@pytest.mark.slow
def test_real_app_process_takes_hook_and_api_events(tmp_path: Path) -> None:
    folder = tmp_path / "agent"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "AGENT_ASSIST_LOG_DIR": str(tmp_path / "logs")}
    app = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli", "run", "--data-dir", str(folder)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 40
        while read_runtime(folder) is None:
            assert app.poll() is None, f"the app exited ({app.returncode}) before listening"
            assert time.monotonic() < deadline, "no event-api.json within 40 s"
            time.sleep(0.1)
        runtime = read_runtime(folder)
        assert runtime is not None and runtime.pid == app.pid
        token = (folder / TOKEN_FILE).read_text().strip()

        def run_hook(*args: str) -> int:
            return subprocess.run(
                [sys.executable, "-m", "desktop.entry", "event", *args, "--data-dir", str(folder)],
                cwd=ROOT,
                capture_output=True,
                timeout=10,
            ).returncode

        assert run_hook("ring", "--number", "0639980001", "--call-id", "app-1") == 0
        assert run_hook("answer", "--call-id", "app-1", "--number", NUMBER) == 0
        connection = http.client.HTTPConnection("127.0.0.1", runtime.port, timeout=10)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        bad = [b"{", b"[]", b'{"call_id": "app-1"}', b"x" * (MAX_BODY_BYTES + 1)]
        for index in range(20):
            segment = {"call_id": "app-1", "speaker": "customer", "text": f"ligne {index}", "seq": index}
            for data in (json.dumps(segment).encode(), json.dumps(segment).encode(), bad[index % len(bad)]):
                connection.request("POST", "/v1/transcript-segments", body=data, headers=headers)
                response = connection.getresponse()
                response.read()
                assert response.status < 500
                if response.will_close:
                    connection.close()
            connection.request(
                "POST", "/v1/call-events", body=b'{"event":"ring"}', headers={**headers, "Authorization": "Bearer x"}
            )
            response = connection.getresponse()
            response.read()
            assert response.status == 401
            connection.close()
        assert run_hook("hangup", "--call-id", "app-1") == 0
        db = folder / "agent-assist.sqlite3"
        deadline = time.monotonic() + 10
        while read_only(db, "SELECT state FROM interactions") != [("wrap_up",)]:
            assert time.monotonic() < deadline, read_only(db, "SELECT state FROM interactions")
            time.sleep(0.1)
        texts = [row[0] for row in read_only(db, "SELECT text FROM transcript_segments ORDER BY idx")]
        assert texts == [f"ligne {index}" for index in range(20)]  # each once, none lost, in order
        assert app.poll() is None
    finally:
        app.kill()
        app.wait(timeout=10)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "desktop.entry", "event", "ring", "--number", NUMBER, "--data-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 5 and "not running" in done.stderr and time.perf_counter() - started < 1.0
