"""The local event API's request bodies: JSON bytes in, a :class:`CallEvent`, :class:`SegmentIn` or
:class:`ConsentEventIn` out.

Pure and Qt-free, so that the HTTP server, the tests and the fuzzer share it. Every way a body can be wrong
raises :class:`ApiError` (with the HTTP status, a machine code, a one-line message and the field it names);
nothing else escapes :func:`parse_call_event`, :func:`parse_segment` and
:func:`parse_consent_event`. Messages never quote the input:
they are logged and the input may hold a phone number or transcript text.

The wire format is documented in ``docs/event-api.openapi.yaml``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from desktop.core.consent.phone import normalize
from desktop.core.errors import InputError
from desktop.core.telephony.events import CallEvent, EventKind

#: Largest request body accepted (bytes); larger ones get 413 before being read.
MAX_BODY_BYTES = 64 * 1024
#: Longest transcript segment (characters): a few minutes of speech, far above one utterance.
MAX_TEXT_CHARS = 10_000
#: The hook vocabulary (what softphones call the moments of a call) → the call desk's event kinds.
EVENT_KINDS: dict[str, EventKind] = {"ring": "ringing", "dial": "dialing", "answer": "answered", "hangup": "ended"}
#: What softphones put in place of a withheld number: the call exists, its number is unknown.
WITHHELD = frozenset({"", "anonymous", "unknown", "private", "restricted", "unavailable", "withheld"})
#: The consent vocabulary of the API → the kinds :meth:`CallService.confirm_withdrawal` records.
CONSENT_KINDS: dict[str, Literal["withdrawn", "objection"]] = {"withdrawal": "withdrawn", "objection": "objection"}
_SECTORS = Literal["energy_renovation", "housing_adaptation", "cpf_training", "insurance", "press"]
_DIALLED = re.compile(r"^[+0-9][0-9 ().\-/]{0,40}$")
_ID = Field(default=None, min_length=1, max_length=250)


class ApiError(Exception):
    """A request the API refuses: ``status`` (4xx), ``code`` (stable, machine-readable), a one-line message."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class _Body(BaseModel):
    # strict: "12" is not a number, 1 is not a string; unknown keys are refused (a typo must not pass silently).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CallEventIn(_Body):
    """``POST /v1/call-events``: a moment of a call, as a softphone, dialler or CTI connector saw it."""

    event: Literal["ring", "dial", "answer", "hangup"]
    #: The other party; normalised to E.164 (None: withheld or not given).
    number: str | None = Field(default=None, max_length=64)
    call_id: str | None = _ID
    direction: Literal["inbound", "outbound"] | None = None
    product: str | None = Field(default=None, min_length=1, max_length=100)
    purpose: Literal["prospection", "contract", "service", "survey"] | None = None
    professional: str | None = Field(default=None, min_length=1, max_length=200)
    sector: _SECTORS | None = None
    #: When the sender saw it. Informational: the app stamps events on receipt (another clock is not trusted).
    at: AwareDatetime | None = None
    #: Who sends (``api`` unless the sender names itself, e.g. ``hook``, ``five9``).
    source: str = Field(default="api", pattern=r"^[a-z][a-z0-9_-]{0,31}$")

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            return None
        user = _user_part(value.strip())
        if user.lower() in WITHHELD:
            return None
        if not _DIALLED.match(user):  # letters would be read as a keypad (0800-FLOWERS): not from a softphone
            raise ValueError("not a phone number")
        try:
            return normalize(user)
        except InputError:
            raise ValueError("not a phone number") from None


def _user_part(value: str) -> str:
    """``sip:0612345678@pbx;user=phone`` → ``0612345678`` (some softphones pass the URI, not the number)."""
    scheme, sep, rest = value.partition(":")
    if sep and scheme.lower() in ("sip", "sips", "tel"):
        value = rest
    return value.split("@", 1)[0].split(";", 1)[0].strip()


class SegmentIn(_Body):
    """``POST /v1/transcript-segments``: one line of a transcript made by the telephony platform."""

    call_id: str = Field(min_length=1, max_length=250)
    speaker: Literal["agent", "customer"]
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    #: Seconds from the start of the call.
    start: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    end: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    #: The sender's sequence number for this segment: a segment sent again with the same one is stored once.
    seq: int | None = Field(default=None, ge=0, le=2**53)

    @model_validator(mode="after")
    def _ordered(self) -> SegmentIn:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end: before start")
        return self


class ConsentEventIn(_Body):
    """``POST /v1/consent-events``: the customer withdrew consent (or objected to offers) during a call, as the
    agent recorded it in the dialler (its own "do not call" or "opposition" button)."""

    #: The call, by the ``call_id`` its call events gave.
    call_id: str = Field(min_length=1, max_length=250)
    kind: Literal["withdrawal", "objection"]
    #: The transcript line where it was said: the ``segment`` index the transcript-segment answer gave.
    segment: int | None = Field(default=None, ge=0, le=2**53)
    #: When the sender saw it. Informational: the app stamps the event when it records it.
    at: AwareDatetime | None = None
    #: Who sends (``api`` unless the sender names itself, e.g. ``hook``, ``five9``).
    source: str = Field(default="api", pattern=r"^[a-z][a-z0-9_-]{0,31}$")


def parse_call_event(body: bytes, *, received_at: dt.datetime) -> CallEvent:
    """The call event in a request body, stamped ``received_at``; ApiError for anything else."""
    model = _validate(CallEventIn, body)
    assert isinstance(model, CallEventIn)
    extra = {"sent_at": model.at.isoformat()} if model.at is not None else {}
    return CallEvent(
        kind=EVENT_KINDS[model.event],
        at=received_at,
        call_id=model.call_id,
        number=model.number,
        direction=model.direction,
        source=model.source,
        product=model.product,
        purpose=model.purpose,
        professional=model.professional,
        sector=model.sector,
        extra=extra,
    )


def parse_segment(body: bytes) -> SegmentIn:
    """The transcript segment in a request body; ApiError for anything else."""
    model = _validate(SegmentIn, body)
    assert isinstance(model, SegmentIn)
    return model


def parse_consent_event(body: bytes) -> ConsentEventIn:
    """The consent event in a request body; ApiError for anything else."""
    model = _validate(ConsentEventIn, body)
    assert isinstance(model, ConsentEventIn)
    return model


def _validate(model: type[_Body], body: bytes) -> _Body:
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"request body over {MAX_BODY_BYTES} bytes")
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise _api_error(error) from None
    except (ValueError, RecursionError, UnicodeError):  # belt and braces: the parser reports these as above
        raise ApiError(400, "not_json", "the body is not a JSON object") from None


def _api_error(error: ValidationError) -> ApiError:
    """The first problem of a validation error, naming its field, never quoting the input."""
    first = error.errors(include_input=False, include_url=False, include_context=False)[0]
    kind = str(first["type"])
    if kind == "json_invalid":
        return ApiError(400, "not_json", "the body is not valid JSON (UTF-8)")
    field = ".".join(str(part) for part in first["loc"]) or None
    message = str(first["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if field is None and ": " in message:  # a model-level check names its field first ("end: before start")
        field, message = message.split(": ", 1)
    if kind == "extra_forbidden":
        message = "unknown field"
    return ApiError(422, "invalid", f"{field}: {message}" if field else message, field)
