"""baresip's ``ctrl_tcp`` protocol: netstring framing, JSON messages, and its call events as :class:`CallEvent`.

Plain Python (no Qt, no sockets): the Qt source in ``desktop/services/softphone.py`` feeds the bytes it reads
to a :class:`NetstringDecoder`, parses each frame with :func:`parse_message` and maps events with
:func:`to_call_event`. The MQTT variant (baresip's ``mqtt`` module) sends the same JSON without the netstring
framing and without ``"event": true``; :func:`parse_message` accepts that too.

Framing (``<decimal length>:<bytes>,``) and what the decoder does with bad input:

- A frame whose header announces more than ``max_frame`` bytes is reported as a :class:`FrameTooLarge` error;
  if the announced length is at most ``skip_limit`` its bytes are dropped as they arrive (never buffered) and
  decoding goes on after its trailing comma, so an honest but oversized frame costs only itself.
- Anything else that is not a frame (a header that is not digits and a colon, a missing trailing comma, an
  absurd length) is reported as a :class:`NetstringError` and the decoder **resynchronises**: it looks, from the
  byte after the bad one, for the next ``<digits>:{"`` whose announced length ends on ``},`` and is at most
  ``max_frame`` (baresip's frames always carry a JSON object), and starts again there; false starts are dropped
  silently, one error is reported per loss of sync. Garbage that happens to look like such a header holds
  decoding until its announced length (at most ``max_frame``) has arrived; garbage that looks like a whole
  frame is taken for one (no framing can tell) and its JSON then fails to parse, reported by the caller.
- Errors are returned in the result of :meth:`NetstringDecoder.feed`, in stream order, never raised: one bad
  frame must not hide the good ones read in the same chunk. Memory stays below ``max_frame`` plus a header.
- The result does not depend on how the stream was cut into chunks (a property test checks it).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from desktop.core.consent.phone import normalize
from desktop.core.errors import InputError
from desktop.core.telephony.events import CallEvent, Direction, EventKind

#: Largest frame kept (events are ~400 bytes; ``listcalls`` with a few calls is well under 1 kB).
MAX_FRAME = 64 * 1024
#: Largest announced length that is skipped in place; beyond it the header is taken for garbage.
SKIP_LIMIT = 16 * 1024 * 1024
#: A length has at most this many digits (999,999,999 bytes).
_MAX_DIGITS = 9
SOURCE = "baresip"


class BaresipProtocolError(ValueError):
    """Bytes or JSON from ctrl_tcp that cannot be understood; the message says what and is safe to log."""


class NetstringError(BaresipProtocolError):
    """The byte stream is not a netstring at this point (the decoder resynchronises)."""


class FrameTooLarge(NetstringError):
    """A frame announced more than the decoder keeps (it is skipped)."""


Frame = bytes | NetstringError


def encode(payload: bytes) -> bytes:
    """One netstring: ``<length>:<payload>,``."""
    return str(len(payload)).encode("ascii") + b":" + payload + b","


def encode_command(command: str, params: str | None = None, token: str | None = None) -> bytes:
    """A ctrl_tcp command frame; baresip runs ``command params`` as a long command and echoes ``token``."""
    message: dict[str, str] = {"command": command}
    if params is not None:
        message["params"] = params
    if token is not None:
        message["token"] = token
    return encode(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


class NetstringDecoder:
    """Incremental netstring decoder: bytes in, frames (or errors, as values) out."""

    def __init__(self, max_frame: int = MAX_FRAME, skip_limit: int = SKIP_LIMIT) -> None:
        if max_frame < 0 or skip_limit < max_frame:
            raise ValueError("need 0 <= max_frame <= skip_limit")
        self.max_frame = max_frame
        self.skip_limit = skip_limit
        self._buffer = bytearray()
        self._resync = False
        #: Bytes still to drop from an oversized frame, then its trailing comma is checked.
        self._skipping = 0
        self._skip_pending_comma = False
        #: Errors met so far (for diagnostics).
        self.errors = 0

    def reset(self) -> None:
        """Forget any partial frame (a new connection starts a new stream)."""
        self._buffer.clear()
        self._resync = False
        self._skipping = 0
        self._skip_pending_comma = False

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        """The frames completed by ``data`` (payloads, without header and comma) and the errors met, in order."""
        out: list[Frame] = []
        self._buffer += data
        while self._step(out):
            pass
        return out

    def _error(self, out: list[Frame], error: NetstringError) -> None:
        self.errors += 1
        out.append(error)

    def _step(self, out: list[Frame]) -> bool:
        """Make progress on the buffer; False when more bytes are needed."""
        buffer = self._buffer
        if self._skipping:
            if not buffer:
                return False
            dropped = min(self._skipping, len(buffer))
            del buffer[:dropped]
            self._skipping -= dropped
            return True
        if self._skip_pending_comma:
            if not buffer:
                return False
            self._skip_pending_comma = False
            if buffer[0] == ord(","):
                del buffer[:1]
            else:
                self._error(out, NetstringError("oversized frame not followed by ','"))
                self._resync = True
            return True
        if not buffer:
            return False
        if self._resync:
            return self._find_start(out)
        status, length, start = _header(buffer, 0, need_brace=False)
        if status == "more":
            return False
        if status == "bad":
            self._error(out, NetstringError(f"bad netstring header (byte {_show(buffer[start : start + 1])})"))
            del buffer[:1]
            self._resync = True
            return True
        return self._take(out, 0, length, start)

    def _find_start(self, out: list[Frame]) -> bool:
        """Resynchronising: drop bytes up to the next plausible ``<digits>:{``."""
        buffer = self._buffer
        position = 0
        while position < len(buffer):
            if not _DIGIT[buffer[position]]:
                position += 1
                continue
            status, length, start = _header(buffer, position, need_brace=True)
            if status == "more":
                del buffer[:position]
                return False
            if status == "ok":
                del buffer[:position]
                return self._take(out, 0, length, start - position, in_sync=False)
            position += 1
        buffer.clear()
        return False

    def _take(self, out: list[Frame], header_at: int, length: int, start: int, *, in_sync: bool = True) -> bool:
        buffer = self._buffer
        if length > self.max_frame:
            if not in_sync:  # while resynchronising, an oversized length is a false start, not a frame to skip
                del buffer[: header_at + 1]
                self._resync = True
                return True
            self._error(out, FrameTooLarge(f"frame of {length} bytes (limit {self.max_frame}): skipped"))
            if length <= self.skip_limit:
                del buffer[:start]
                self._skipping = length
                self._skip_pending_comma = True
                return True
            del buffer[: header_at + 1]
            self._resync = True
            return True
        end = start + length
        if len(buffer) <= end:
            return False
        if buffer[end] != ord(",") or (not in_sync and buffer[end - 1] != ord("}")):
            if in_sync:
                self._error(out, NetstringError(f"frame of {length} bytes not followed by ','"))
            del buffer[: header_at + 1]
            self._resync = True
            return True
        out.append(bytes(buffer[start:end]))
        del buffer[: end + 1]
        self._resync = False
        return True


_DIGIT = [ord("0") <= byte <= ord("9") for byte in range(256)]


def _header(buffer: bytearray, at: int, *, need_brace: bool) -> tuple[str, int, int]:
    """Read ``<digits>:`` at ``at``: ("ok", length, payload start), ("more", ..) or ("bad", 0, offending byte).

    With ``need_brace`` the payload must also start with ``{"`` (used while resynchronising).
    """
    index = at
    end = len(buffer)
    while index < end and _DIGIT[buffer[index]]:
        index += 1
        if index - at > _MAX_DIGITS:
            return "bad", 0, index - 1
    digits = index - at
    if index == end:
        return "more", 0, 0
    if digits == 0 or buffer[index] != ord(":"):
        return "bad", 0, index
    length = int(buffer[at:index])
    if need_brace:
        for offset, expected in enumerate(b'{"', start=1):
            if index + offset == end:
                return "more", 0, 0
            if buffer[index + offset] != expected:
                return "bad", 0, index + offset
    return "ok", length, index + 1


def _show(data: bytes | bytearray) -> str:
    return repr(bytes(data))


# -- messages ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaresipEvent:
    """An event from baresip (``"event": true``); unknown fields are kept in ``raw`` and otherwise ignored."""

    type: str
    klass: str | None = None
    account: str | None = None
    direction: str | None = None
    peer_uri: str | None = None
    peer_name: str | None = None
    call_id: str | None = None
    param: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class BaresipResponse:
    """The answer to a command: ``ok``, its text output, and the token sent with the command."""

    ok: bool
    data: str
    token: str | None = None


Message = BaresipEvent | BaresipResponse


def parse_message(payload: bytes | str) -> Message:
    """One ctrl_tcp (or MQTT) message; BaresipProtocolError when it is not JSON or not a message."""
    if isinstance(payload, bytes):
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BaresipProtocolError(f"not UTF-8 at byte {error.start}") from None
    else:
        text = payload
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise BaresipProtocolError(f"not JSON: {str(error)[:80]}") from None
    if not isinstance(document, dict):
        raise BaresipProtocolError(f"not a JSON object but {type(document).__name__}")
    if document.get("response") is True:
        ok = document.get("ok")
        return BaresipResponse(
            ok=ok is True, data=_text(document.get("data")) or "", token=_text(document.get("token"))
        )
    kind = document.get("type")
    if document.get("event") is True or ("event" not in document and "type" in document):
        if not isinstance(kind, str) or not kind:
            raise BaresipProtocolError("event without a type")
        return BaresipEvent(
            type=kind,
            klass=_text(document.get("class")),
            account=_text(document.get("accountaor")),
            direction=_text(document.get("direction")),
            peer_uri=_text(document.get("peeruri")),
            peer_name=_text(document.get("peerdisplayname")),
            call_id=_text(document.get("id")),
            param=_text(document.get("param")),
            raw=document,
        )
    raise BaresipProtocolError("neither an event nor a response")


def _text(value: object) -> str | None:
    """A string field; other types (a number where a string was expected) count as absent."""
    return value if isinstance(value, str) and value else None


# -- events → CallEvent --------------------------------------------------------------------------------------

_DIRECTIONS: dict[str, Direction] = {"incoming": "inbound", "outgoing": "outbound"}
_RINGING_TYPES = frozenset({"CALL_INCOMING", "CALL_RINGING", "CALL_PROGRESS", "CALL_OUTGOING"})
_ANSWERED_TYPES = frozenset({"CALL_ESTABLISHED", "CALL_ANSWERED"})
_ENDED_TYPES = frozenset({"CALL_CLOSED"})
#: The softphone is going away (its TCP connection closes next).
SHUTDOWN_TYPES = frozenset({"SHUTDOWN", "EXIT"})
_URI_USER = re.compile(r"^(?:sips?|tel):([^@;>?]+)", re.IGNORECASE)
_NUMBER_SEPARATORS = re.compile(r"[\s.\-()/]")


def peer_number(peer_uri: str | None, peer_name: str | None = None, region: str = "FR") -> str | None:
    """The E.164 number of the peer: the user part of its URI, else its display name, when one is a number."""
    candidates: list[str] = []
    if peer_uri:
        uri = peer_uri.strip()
        if "<" in uri:
            uri = uri[uri.index("<") + 1 :]
        match = _URI_USER.match(uri)
        if match:
            candidates.append(match.group(1))
    if peer_name:
        candidates.append(peer_name)
    for candidate in candidates:
        user = _NUMBER_SEPARATORS.sub("", _unquote(candidate))
        if not user or not re.fullmatch(r"\+?\d{3,17}", user):
            continue
        try:
            return normalize(user, region)
        except InputError:
            continue
    return None


def _unquote(text: str) -> str:
    """``%2B33…`` in a URI user part is ``+33…``."""
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)


def to_call_event(event: BaresipEvent, at: dt.datetime, *, region: str = "FR") -> CallEvent | None:
    """The call event that a baresip event means, stamped ``at`` (its receipt); None for everything else.

    INCOMING → ringing (inbound); RINGING/PROGRESS/OUTGOING on an outgoing call → dialing; ESTABLISHED or
    ANSWERED → answered; CLOSED → ended (the call desk makes it missed when it was never answered), its
    ``param`` (``Connection reset by peer``, ``486 Rejected``…) kept as ``extra["reason"]``.
    """
    kind: EventKind
    if event.type in _RINGING_TYPES:
        if event.direction == "outgoing" or (event.direction is None and event.type == "CALL_OUTGOING"):
            kind = "dialing"
        else:
            kind = "ringing"
    elif event.type in _ANSWERED_TYPES:
        kind = "answered"
    elif event.type in _ENDED_TYPES:
        kind = "ended"
    else:
        return None
    direction = _DIRECTIONS.get(event.direction or "")
    extra: dict[str, str] = {"baresip_type": event.type}
    if event.peer_name:
        extra["name"] = event.peer_name
    if event.account:
        extra["account"] = event.account
    if event.peer_uri:
        extra["peer_uri"] = event.peer_uri
    if kind == "ended" and event.param:
        extra["reason"] = event.param
    return CallEvent(
        kind=kind,
        at=at,
        call_id=event.call_id,
        number=peer_number(event.peer_uri, event.peer_name, region),
        direction=direction,
        source=SOURCE,
        extra=extra,
    )


# -- listcalls (resync after a reconnection) ------------------------------------------------------------------


@dataclass(frozen=True)
class ListedCall:
    """One line of ``listcalls``: baresip 1.0.0 gives the state and the peer, not the Call-ID."""

    state: str
    peer_uri: str
    number: str | None


_LISTED = re.compile(r"^[ >]\s*\[line \d+\]\s+\S+\s+([A-Z_]+)\s+(?:\(on hold\)\s+)?(\S+)\s*$")


def parse_listcalls(data: str, region: str = "FR") -> list[ListedCall]:
    """The calls in the text output of ``listcalls`` (lines that do not parse are left out)."""
    calls = []
    for line in data.splitlines():
        match = _LISTED.match(line)
        if match:
            state, uri = match.groups()
            calls.append(ListedCall(state=state, peer_uri=uri, number=peer_number(uri, None, region)))
    return calls
