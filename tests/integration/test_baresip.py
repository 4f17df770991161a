"""The app follows a real baresip 1.0.0 (two instances on 127.0.0.1: agent and customer) through ctrl_tcp.

The agent's softphone is followed by :class:`BaresipSource` as in the app (it is also the only ctrl_tcp client of
that instance, so the test answers and rejects through it); the customer's softphone is driven by the test.
Every wait has a deadline, every baresip has ``-t`` and is stopped by PID. Last, a fake ctrl_tcp server (plain
sockets) sends malformed, oversized, split and duplicated frames and drops the link.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QtMsgType
from pytestqt.qtbot import QtBot

from desktop.config import Telephony
from desktop.core.telephony.baresip import NetstringDecoder, encode
from desktop.core.telephony.session import CallSession
from desktop.services.calls import CallService
from desktop.services.softphone import BaresipSource
from desktop.ui.panel import AgentPanel
from tests.integration.baresip_pair import Controller, Pair, running_pair
from tests.integration.conftest import CONSENTED, UNCONSENTED, RunningClock

pytestmark = pytest.mark.slow
WAIT_MS = 10_000
# The offscreen platform says this for every window it shows; it is no problem of ours.
_OFFSCREEN_NOISE = ("This plugin does not support propagateSizeHints()",)


@pytest.fixture(autouse=True)
def _fails_on_qt_warnings(qtlog: object) -> Iterator[None]:
    yield
    bad = (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
    records = qtlog.records  # type: ignore[attr-defined]
    assert [r.message for r in records if r.type in bad and r.message not in _OFFSCREEN_NOISE] == []


class Recorder:
    """The states each call went through, as the call service signalled them."""

    def __init__(self, service: CallService) -> None:
        self.states: dict[str, list[str]] = {}
        service.call_started.connect(self._on_change)
        service.call_state_changed.connect(self._on_change)

    def _on_change(self, session: CallSession) -> None:
        self.states.setdefault(session.key, []).append(session.state)


@contextlib.contextmanager
def following(
    service: CallService, port: int, clock: RunningClock, qtbot: QtBot, **settings: Any
) -> Iterator[BaresipSource]:
    source = BaresipSource(
        service, Telephony(baresip_port=port, **settings), clock=clock, initial_delay=0.05, max_delay=0.4
    )
    source.start()
    try:
        qtbot.waitUntil(lambda: source.status == "connected", timeout=WAIT_MS)
        yield source
    finally:
        source.stop()


def interaction(service: CallService, call_id: str) -> dict[str, Any]:
    conn = service.desk.conn
    row = conn.execute(
        "SELECT call_id, number, direction, state, answered_at, ended_at, decision_id FROM interactions"
        " WHERE call_id = ?",
        (call_id,),
    ).fetchone()
    assert row is not None, f"no interaction stored for {call_id}"
    return dict(
        zip(("call_id", "number", "direction", "state", "answered_at", "ended_at", "decision_id"), row, strict=True)
    )


def verdict_shown(panel: AgentPanel) -> object:
    return panel.banner.strip.property("verdict")


@pytest.fixture
def pair(baresip_binary: str, tmp_path: Path) -> Iterator[Pair]:
    with running_pair(tmp_path / "phones", customer_user=CONSENTED) as started:
        yield started


@pytest.fixture
def customer(pair: Pair) -> Iterator[Controller]:
    controller = Controller(pair.customer.ctrl_port).connect()
    yield controller
    controller.close()


def ring_agent(qtbot: QtBot, service: CallService, pair: Pair, customer: Controller) -> tuple[CallSession, str]:
    """The customer dials the agent; returns the session the app opened and the SIP Call-ID (caller's side)."""
    customer.send("dial", f"sip:agent@127.0.0.1:{pair.agent.sip_port}")
    call_id = str(customer.event("CALL_RINGING")["id"])
    qtbot.waitUntil(lambda: call_id in service.desk.sessions, timeout=WAIT_MS)
    return service.desk.sessions[call_id], call_id


def test_inbound_call_answered_then_ended(
    qtbot: QtBot, service: CallService, panel: AgentPanel, pair: Pair, customer: Controller, clock: RunningClock
) -> None:
    recorder = Recorder(service)
    with following(service, pair.agent.ctrl_port, clock, qtbot) as source:
        session, call_id = ring_agent(qtbot, service, pair, customer)
        assert (session.state, session.number, session.direction) == ("ringing", CONSENTED, "inbound")
        assert service.current is session
        qtbot.waitUntil(lambda: verdict_shown(panel) == "allowed", timeout=WAIT_MS)
        assert source.send_command("accept") is not None
        customer.event("CALL_ESTABLISHED")
        qtbot.waitUntil(lambda: session.state == "active", timeout=WAIT_MS)
        customer.send("hangup")
        qtbot.waitUntil(lambda: session.state == "wrap_up", timeout=WAIT_MS)
    assert recorder.states == {call_id: ["ringing", "active", "wrap_up"]}
    stored = interaction(service, call_id)
    assert (stored["number"], stored["direction"], stored["state"]) == (CONSENTED, "inbound", "wrap_up")
    assert stored["answered_at"] and stored["ended_at"] and stored["decision_id"]
    assert source.errors == 0 and source.connections == 1


def test_caller_hangs_up_before_answer(
    qtbot: QtBot, service: CallService, panel: AgentPanel, pair: Pair, customer: Controller, clock: RunningClock
) -> None:
    recorder = Recorder(service)
    reasons: list[str] = []
    with following(service, pair.agent.ctrl_port, clock, qtbot) as source:
        source.call_event_fed.connect(lambda event: reasons.append(event.extra.get("reason", "")))
        session, call_id = ring_agent(qtbot, service, pair, customer)
        qtbot.waitUntil(lambda: verdict_shown(panel) == "allowed", timeout=WAIT_MS)
        customer.send("hangup")
        qtbot.waitUntil(lambda: session.state == "missed", timeout=WAIT_MS)
    assert recorder.states == {call_id: ["ringing", "missed"]}
    assert reasons[-1] == "Connection reset by peer"
    assert interaction(service, call_id)["state"] == "missed"


def test_agent_rejects(
    qtbot: QtBot, service: CallService, panel: AgentPanel, pair: Pair, customer: Controller, clock: RunningClock
) -> None:
    recorder = Recorder(service)
    with following(service, pair.agent.ctrl_port, clock, qtbot) as source:
        session, call_id = ring_agent(qtbot, service, pair, customer)
        assert source.hangup(call_id)
        closed = customer.event("CALL_CLOSED")
        assert closed["id"] == call_id and closed["param"].startswith("486")
        qtbot.waitUntil(lambda: session.state == "missed", timeout=WAIT_MS)
    assert recorder.states == {call_id: ["ringing", "missed"]}
    assert interaction(service, call_id)["state"] == "missed"


@pytest.mark.parametrize("policy_setting", ["warn", "hangup"])
def test_outbound_dial_to_a_forbidden_number(
    qtbot: QtBot,
    service: CallService,
    panel: AgentPanel,
    baresip_binary: str,
    tmp_path: Path,
    clock: RunningClock,
    policy_setting: str,
) -> None:
    with (
        running_pair(tmp_path / "phones", customer_user=UNCONSENTED) as pair,
        contextlib.closing(Controller(pair.customer.ctrl_port).connect()) as customer,
        following(service, pair.agent.ctrl_port, clock, qtbot, on_forbidden_dial=policy_setting) as source,
    ):
        hung_up: list[str] = []
        source.hangup_sent.connect(hung_up.append)
        source.send_command("dial", f"sip:{UNCONSENTED}@127.0.0.1:{pair.customer.sip_port}")
        call_id = str(customer.event("CALL_INCOMING")["id"])
        qtbot.waitUntil(lambda: call_id in service.desk.sessions, timeout=WAIT_MS)
        session = service.desk.sessions[call_id]
        assert (session.direction, session.number) == ("outbound", UNCONSENTED)
        assert session.decision is not None and session.decision.verdict == "forbidden"
        qtbot.waitUntil(lambda: verdict_shown(panel) == "forbidden", timeout=WAIT_MS)
        if policy_setting == "hangup":
            closed = customer.event("CALL_CLOSED")
            assert closed["id"] == call_id
            qtbot.waitUntil(lambda: session.state == "missed", timeout=WAIT_MS)
            assert hung_up == [call_id]
        else:
            qtbot.wait(1500)  # nothing hangs it up: still ringing at the customer's
            assert session.state == "dialing" and hung_up == []
            assert not any(m.get("type") == "CALL_CLOSED" for m in customer.seen)
            customer.send("hangup")
            qtbot.waitUntil(lambda: session.state == "missed", timeout=WAIT_MS)
    stored = interaction(service, call_id)
    assert (stored["direction"], stored["state"]) == ("outbound", "missed")
    attempts = service.desk.conn.execute("SELECT number, outcome FROM call_attempts").fetchall()
    assert attempts == [(UNCONSENTED, "no_answer")]


def test_baresip_restarted_mid_call(
    qtbot: QtBot, service: CallService, panel: AgentPanel, pair: Pair, customer: Controller, clock: RunningClock
) -> None:
    statuses: list[str] = []
    with following(service, pair.agent.ctrl_port, clock, qtbot) as source:
        source.status_changed.connect(statuses.append)
        session, call_id = ring_agent(qtbot, service, pair, customer)
        source.send_command("accept")
        qtbot.waitUntil(lambda: session.state == "active", timeout=WAIT_MS)
        pair.agent.kill()  # a crash: no SHUTDOWN, no CALL_CLOSED
        qtbot.waitUntil(lambda: source.status != "connected", timeout=WAIT_MS)
        assert session.state == "active"  # not ended on a mere disconnection
        qtbot.wait(600)  # a few refused tries (backoff) while it is down
        assert source.status != "connected"
        pair.agent.start()
        qtbot.waitUntil(lambda: source.status == "connected" and source.connections == 2, timeout=WAIT_MS)
        # listcalls after the reconnection: the call is gone, so it is ended (wrap-up) and its reason kept.
        qtbot.waitUntil(lambda: session.state == "wrap_up", timeout=WAIT_MS)
        customer.send("hangup")
        customer.event("CALL_CLOSED")
        # The new baresip is followed: a new call rings in the app.
        second, second_id = ring_agent(qtbot, service, pair, customer)
        assert second_id != call_id and second.state == "ringing"
    assert statuses[0] == "disconnected" and "connecting" in statuses and statuses[-2:] == ["connected", "disconnected"]
    assert interaction(service, call_id)["state"] == "wrap_up"


# -- a fake ctrl_tcp: what a broken or hostile peer could send ---------------------------------------------------


class FakeCtrlTcp:
    """A ctrl_tcp server on 127.0.0.1 that plays scripted bytes to each client and records what it receives."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.received: list[dict[str, Any]] = []
        self.connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                link, _ = self.server.accept()
            except OSError:
                return
            with self._lock:
                self.connections.append(link)
            threading.Thread(target=self._read, args=(link,), daemon=True).start()

    def _read(self, link: socket.socket) -> None:
        decoder = NetstringDecoder()
        while True:
            try:
                data = link.recv(65536)
            except OSError:
                return
            if not data:
                return
            for frame in decoder.feed(data):
                if isinstance(frame, bytes):
                    with self._lock:
                        self.received.append(json.loads(frame))

    def send(self, data: bytes, index: int = -1) -> None:
        with self._lock:
            link = self.connections[index]
        link.sendall(data)

    def drop(self) -> None:
        with self._lock:
            links, self.connections = self.connections, []
        for link in links:
            with contextlib.suppress(OSError):
                link.shutdown(socket.SHUT_RDWR)
            link.close()

    def close(self) -> None:
        self.drop()
        self.server.close()


def ev(kind: str, call_id: str, number: str = CONSENTED, direction: str = "incoming") -> bytes:
    document = {
        "event": True,
        "type": kind,
        "class": "call",
        "accountaor": "sip:agent@127.0.0.1:5072",
        "direction": direction,
        "peeruri": f"sip:{number}@127.0.0.1:5062",
        "id": call_id,
        "param": "x",
    }
    return encode(json.dumps(document).encode())


def resync_answer(calls: str = "") -> bytes:
    data = f"\n--- Active calls ({calls.count(chr(10))}) ---\n{calls}\n"
    return encode(json.dumps({"response": True, "ok": True, "data": data, "token": "agent-assist-resync"}).encode())


def test_malformed_oversized_split_and_duplicated_frames(
    qtbot: QtBot, service: CallService, panel: AgentPanel, clock: RunningClock
) -> None:
    fake = FakeCtrlTcp()
    recorder = Recorder(service)
    try:
        with following(service, fake.port, clock, qtbot, on_forbidden_dial="hangup") as source:
            qtbot.waitUntil(lambda: any(m.get("command") == "listcalls" for m in fake.received), timeout=WAIT_MS)
            fake.send(resync_answer())
            fake.send(ev("CALL_INCOMING", "c1"))
            fake.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # garbage
            fake.send(ev("CALL_INCOMING", "c1"))  # duplicate
            fake.send(encode(b'{"event":true,"type":"CALL_RTCP","pad":"' + b"x" * 200_000 + b'"}'))  # oversized
            fake.send(encode(b'{"event": tru'))  # framed, not JSON
            fake.send(encode(b"[1,2,3]"))  # JSON, not a message
            fake.send(encode(b'{"event":true,"type":"CALL_ESTABLISHED","id":"c1","direction":"incoming","z":{}}'))
            closed = ev("CALL_CLOSED", "c1")
            for start in range(0, len(closed), 7):  # split in small reads
                fake.send(closed[start : start + 7])
                qtbot.wait(2)
            fake.send(ev("CALL_CLOSED", "c1"))  # duplicate end
            fake.send(ev("CALL_ESTABLISHED", "c0"))  # out of order: an answer for a call that never rang
            fake.send(ev("CALL_CLOSED", "c0"))
            fake.send(ev("CALL_RINGING", "c2", UNCONSENTED, "outgoing"))  # forbidden dial
            qtbot.waitUntil(lambda: "c2" in service.desk.sessions, timeout=WAIT_MS)
            qtbot.waitUntil(lambda: any(m.get("command") == "hangup" for m in fake.received), timeout=WAIT_MS)
            assert recorder.states["c1"] == ["ringing", "active", "wrap_up"]
            assert recorder.states["c2"] == ["dialing"]
            assert source.errors == 4  # garbage, oversized, not JSON, not a message
            assert source.status == "connected" and source.connections == 1
            assert [m.get("params") for m in fake.received if m.get("command") == "hangup"] == ["c2"]
            qtbot.waitUntil(lambda: verdict_shown(panel) == "forbidden", timeout=WAIT_MS)

            # The link drops with c2 still open; after the reconnection baresip lists no call: c2 is ended.
            fake.drop()
            qtbot.waitUntil(lambda: source.connections == 2 and source.status == "connected", timeout=WAIT_MS)
            qtbot.waitUntil(lambda: sum(m.get("command") == "listcalls" for m in fake.received) == 2, timeout=WAIT_MS)
            fake.send(resync_answer())
            qtbot.waitUntil(lambda: service.desk.sessions["c2"].state == "missed", timeout=WAIT_MS)
            fake.send(b"12:" + b"{" * 5)  # a frame cut by the next drop: forgotten at reconnection
            fake.drop()
            qtbot.waitUntil(lambda: source.connections == 3 and source.status == "connected", timeout=WAIT_MS)
            fake.send(ev("CALL_INCOMING", "c3"))
            qtbot.waitUntil(lambda: "c3" in service.desk.sessions, timeout=WAIT_MS)
    finally:
        fake.close()
    states = dict(service.desk.conn.execute("SELECT call_id, state FROM interactions").fetchall())
    assert states == {"c1": "wrap_up", "c0": "wrap_up", "c2": "missed", "c3": "ringing"}


def test_listcalls_keeps_a_call_still_in_progress(qtbot: QtBot, service: CallService, clock: RunningClock) -> None:
    fake = FakeCtrlTcp()
    try:
        with following(service, fake.port, clock, qtbot) as source:
            qtbot.waitUntil(lambda: len(fake.connections) == 1, timeout=WAIT_MS)
            fake.send(ev("CALL_INCOMING", "k1"))
            qtbot.waitUntil(lambda: "k1" in service.desk.sessions, timeout=WAIT_MS)
            fake.drop()
            qtbot.waitUntil(lambda: source.connections == 2, timeout=WAIT_MS)
            qtbot.waitUntil(lambda: sum(m.get("command") == "listcalls" for m in fake.received) == 2, timeout=WAIT_MS)
            # Answered while the app was away: listed as established, so the app answers it too.
            fake.send(resync_answer(f"> [line 1]  0:00:09  ESTABLISHED   sip:{CONSENTED}@127.0.0.1:5062\n"))
            qtbot.waitUntil(lambda: service.desk.sessions["k1"].state == "active", timeout=WAIT_MS)
            time.sleep(0.05)
            assert source.open_calls == {"k1": (CONSENTED, True)}
    finally:
        fake.close()


def test_forbidden_dial_is_not_hung_up_beside_another_call(
    qtbot: QtBot, service: CallService, clock: RunningClock
) -> None:
    """baresip 1.0.0 would hang up its current call, whatever the id: with two calls open, warn only."""
    fake = FakeCtrlTcp()
    try:
        with following(service, fake.port, clock, qtbot, on_forbidden_dial="hangup") as source:
            qtbot.waitUntil(lambda: len(fake.connections) == 1, timeout=WAIT_MS)
            fake.send(ev("CALL_INCOMING", "h1"))
            fake.send(ev("CALL_RINGING", "h2", UNCONSENTED, "outgoing"))
            qtbot.waitUntil(lambda: "h2" in service.desk.sessions, timeout=WAIT_MS)
            decision = service.desk.sessions["h2"].decision
            assert decision is not None and decision.verdict == "forbidden"
            qtbot.wait(200)
            assert not any(m.get("command") == "hangup" for m in fake.received)
            assert source.status == "connected"
    finally:
        fake.close()
