"""BaresipSource: follows a baresip softphone through its ``ctrl_tcp`` socket and feeds the call service.

Lives in the GUI thread: a non-blocking ``QTcpSocket`` whose ``readyRead`` hands bytes to the pure decoder and
mapper of :mod:`desktop.core.telephony.baresip`; each call event goes to :meth:`CallService.handle_event`
stamped on receipt, so the banner is decided in the same turn of the event loop as the bytes arrive.

- Reconnects when baresip goes away (restart, crash, ``SHUTDOWN``/``EXIT``, TCP error) with a capped doubling
  delay (``initial_delay``, ×2, up to ``max_delay``); the delay starts over only once a connection has stayed up
  ``stable_after`` seconds, so two ctrl_tcp clients evicting each other (baresip keeps one) slow down instead of
  spinning.
- After each connection it sends ``listcalls`` and reconciles: calls it had seen open that baresip no longer
  lists are ended (reason ``gone while disconnected``); a ringing one listed as established is answered.
  baresip 1.0.0 does not list Call-IDs, so a call that started while the app was not connected is not picked
  up (it shows from its next event on only if that event is a ring).
- Outbound: when the verdict of a dial it reported is ``forbidden`` and the settings say ``hangup``, it sends
  ``hangup <call-id>`` through ctrl_tcp, once per call (default ``warn``: the banner is red, nothing else); not
  when another call is open, since baresip 1.0.0 hangs up its current call whatever id it is given.

Signals:
- ``status_changed(str)``: ``connecting`` (a connection attempt is under way), ``connected``, ``disconnected``
  (stopped, or waiting to retry).
- ``message_received(object)``: every parsed message (:class:`BaresipEvent` or :class:`BaresipResponse`).
- ``call_event_fed(object)``: a :class:`CallEvent` handed to the call service.
- ``protocol_error(str)``: a frame or message that could not be understood (it was skipped; the link stays).
- ``hangup_sent(str)``: the Call-ID of a call this source hung up (forbidden dial policy, or :meth:`hangup`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Literal, Protocol

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal
from PySide6.QtNetwork import QAbstractSocket, QTcpSocket

from desktop.core.consent.phone import mask
from desktop.core.telephony.baresip import (
    MAX_FRAME,
    SHUTDOWN_TYPES,
    BaresipEvent,
    BaresipProtocolError,
    BaresipResponse,
    NetstringDecoder,
    encode_command,
    parse_listcalls,
    parse_message,
    to_call_event,
)
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallSession
from desktop.services.calls import CallService

log = logging.getLogger("agent_assist.softphone")
Status = Literal["connecting", "connected", "disconnected"]
_RESYNC_TOKEN = "agent-assist-resync"


class TelephonySettings(Protocol):
    """What the source reads from ``settings.telephony`` (``desktop.config.Telephony``)."""

    @property
    def baresip_host(self) -> str: ...
    @property
    def baresip_port(self) -> int: ...
    @property
    def on_forbidden_dial(self) -> str: ...


def system_clock() -> dt.datetime:
    return dt.datetime.now().astimezone()


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """Seconds to wait before retry number ``attempt`` (0 = first retry): doubling, capped."""
    return float(min(maximum, initial * (2 ** min(attempt, 30))))


class BaresipSource(QObject):
    status_changed = Signal(str)
    message_received = Signal(object)
    call_event_fed = Signal(object)
    protocol_error = Signal(str)
    hangup_sent = Signal(str)

    def __init__(
        self,
        service: CallService,
        settings: TelephonySettings,
        *,
        clock: Callable[[], dt.datetime] = system_clock,
        initial_delay: float = 0.25,
        max_delay: float = 10.0,
        stable_after: float = 10.0,
        max_frame: int = MAX_FRAME,
        region: str = "FR",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.host = settings.baresip_host
        self.port = settings.baresip_port
        self.hangup_forbidden = settings.on_forbidden_dial == "hangup"
        self.clock = clock
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self.region = region
        self.decoder = NetstringDecoder(max_frame=max_frame)
        self.status: Status = "disconnected"
        #: Connections made so far (1 after the first; a reconnection makes it 2…).
        self.connections = 0
        self.errors = 0
        self._running = False
        self._attempt = 0
        self._tokens = 0
        #: Calls reported by this source and not ended: Call-ID → (number, answered).
        self.open_calls: dict[str, tuple[str | None, bool]] = {}
        self._hung_up: set[str] = set()
        self._socket = QTcpSocket(self)
        self._socket.connected.connect(self._on_socket_connected)
        self._socket.readyRead.connect(self._on_socket_ready_read)
        self._socket.stateChanged.connect(self._on_socket_state_changed)
        self._socket.errorOccurred.connect(self._on_socket_error_occurred)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._connect)
        self._uptime = QElapsedTimer()
        service.verdict_changed.connect(self._on_service_verdict_changed)

    # -- intents ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (and keep reconnecting) until :meth:`stop`."""
        if self._running:
            return
        self._running = True
        self._attempt = 0
        self._connect()

    def stop(self) -> None:
        self._running = False
        self._retry.stop()
        self._socket.abort()
        self._set_status("disconnected")

    def send_command(self, command: str, params: str | None = None) -> str | None:
        """Send a ctrl_tcp command; its token, or None when not connected (nothing is queued)."""
        if self._socket.state() != QAbstractSocket.SocketState.ConnectedState:
            log.warning("baresip: %s not sent, not connected", command)
            return None
        self._tokens += 1
        token = f"agent-assist-{self._tokens}"
        self._socket.write(encode_command(command, params, token))
        self._socket.flush()  # out now (non-blocking), not at the next turn of the event loop
        return token

    def hangup(self, call_id: str) -> bool:
        """Ask baresip to hang up a call (baresip 1.0.0 hangs up its current call; newer ones take the id)."""
        sent = self.send_command("hangup", call_id) is not None
        if sent:
            self.hangup_sent.emit(call_id)
        return sent

    # -- bytes in --------------------------------------------------------------------------------------------

    def feed_bytes(self, data: bytes) -> None:
        """Decode bytes read from ctrl_tcp and act on every complete message (public for tests and benchmarks)."""
        for frame in self.decoder.feed(data):
            if isinstance(frame, BaresipProtocolError):
                self._protocol_error(str(frame))
                continue
            try:
                message = parse_message(frame)
            except BaresipProtocolError as error:
                self._protocol_error(str(error))
                continue
            self._dispatch(message)

    def _dispatch(self, message: BaresipEvent | BaresipResponse) -> None:
        self.message_received.emit(message)
        if isinstance(message, BaresipResponse):
            if message.token == _RESYNC_TOKEN:
                self._reconcile(message.data)
            elif not message.ok:
                log.warning("baresip: command %s failed: %s", message.token, message.data.strip()[:200])
            return
        if message.type in SHUTDOWN_TYPES:
            log.info("baresip: %s", message.type)
            return
        event = to_call_event(message, self.clock(), region=self.region)
        if event is None:
            return
        self._feed(event)

    def _feed(self, event: CallEvent) -> None:
        if event.call_id is not None:
            if event.kind == "ended":
                self.open_calls.pop(event.call_id, None)
            else:
                number, answered = self.open_calls.get(event.call_id, (event.number, False))
                self.open_calls[event.call_id] = (number or event.number, answered or event.kind == "answered")
        log.debug("baresip: %s %s %s", event.kind, event.call_id, mask(event.number))
        self.call_event_fed.emit(event)
        self.service.handle_event(event)

    def _protocol_error(self, text: str) -> None:
        self.errors += 1
        log.warning("baresip: %s", text)
        self.protocol_error.emit(text)

    def _reconcile(self, listing: str) -> None:
        """After a (re)connection: end the calls baresip no longer has; answer those it says are established."""
        listed = parse_listcalls(listing, self.region)
        remaining = list(listed)
        for call_id, (number, answered) in list(self.open_calls.items()):
            match = next((call for call in remaining if call.number == number), None)
            if match is None:
                log.info("baresip: call %s gone while disconnected", call_id)
                self._feed(
                    CallEvent(
                        kind="ended",
                        at=self.clock(),
                        call_id=call_id,
                        number=number,
                        source="baresip",
                        extra={"reason": "gone while disconnected"},
                    )
                )
                continue
            remaining.remove(match)
            if match.state == "ESTABLISHED" and not answered:
                self._feed(
                    CallEvent(kind="answered", at=self.clock(), call_id=call_id, number=number, source="baresip")
                )
        if remaining:
            log.info("baresip: %d call(s) in progress that started while disconnected are not followed", len(remaining))

    # -- policy ----------------------------------------------------------------------------------------------

    def _on_service_verdict_changed(self, session: CallSession) -> None:
        if not self.hangup_forbidden or session.direction != "outbound" or not session.is_open:
            return
        if session.decision is None or session.decision.verdict != "forbidden":
            return
        call_id = session.key
        if call_id not in self.open_calls or call_id in self._hung_up:
            return
        self._hung_up.add(call_id)
        if len(self.open_calls) > 1:
            # baresip 1.0.0 hangs up its *current* call whatever id is sent: with another call on the line, it
            # could be the wrong one. Warn only (the banner is red).
            log.warning("baresip: dial to %s forbidden, not hung up: another call is open", mask(session.number))
            return
        log.warning("baresip: dial to %s forbidden, hanging up (on_forbidden_dial = hangup)", mask(session.number))
        self.hangup(call_id)

    # -- socket ----------------------------------------------------------------------------------------------

    def _connect(self) -> None:
        if not self._running:
            return
        state = self._socket.state()
        if state != QAbstractSocket.SocketState.UnconnectedState:
            return
        self._set_status("connecting")
        self._socket.connectToHost(self.host, self.port)

    def _on_socket_connected(self) -> None:
        self.connections += 1
        self.decoder.reset()
        self._uptime.start()
        log.info("baresip: connected to %s:%d", self.host, self.port)
        self._set_status("connected")
        self._socket.write(encode_command("listcalls", token=_RESYNC_TOKEN))
        self._socket.flush()

    def _on_socket_ready_read(self) -> None:
        self.feed_bytes(bytes(self._socket.readAll().data()))

    def _on_socket_error_occurred(self, error: QAbstractSocket.SocketError) -> None:
        log.debug("baresip: socket error %s", error)

    def _on_socket_state_changed(self, state: QAbstractSocket.SocketState) -> None:
        if state != QAbstractSocket.SocketState.UnconnectedState:
            return
        if self._uptime.isValid():
            if self._uptime.elapsed() >= self.stable_after * 1000:
                self._attempt = 0
            self._uptime.invalidate()
        self._set_status("disconnected")
        if self._running and not self._retry.isActive():
            delay = backoff_delay(self._attempt, self.initial_delay, self.max_delay)
            self._attempt += 1
            log.info("baresip: not connected, next try in %.2f s", delay)
            self._retry.start(int(delay * 1000))

    def _set_status(self, status: Status) -> None:
        if status != self.status:
            self.status = status
            self.status_changed.emit(status)
