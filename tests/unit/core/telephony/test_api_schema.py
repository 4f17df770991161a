"""The event API's bodies: what is accepted, the 4xx for everything else, and a fuzzer that finds no other error."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.core.telephony.api_schema import (
    MAX_BODY_BYTES,
    MAX_TEXT_CHARS,
    ApiError,
    parse_call_event,
    parse_consent_event,
    parse_segment,
)

AT = dt.datetime(2026, 11, 24, 10, 30, tzinfo=dt.UTC)


def body(**values: Any) -> bytes:
    return json.dumps(values).encode()


def refused(parse: Any, data: bytes) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse(data)
    return caught.value


def event_refused(data: bytes) -> ApiError:
    return refused(lambda raw: parse_call_event(raw, received_at=AT), data)


# -- call events ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"), [("ring", "ringing"), ("dial", "dialing"), ("answer", "answered"), ("hangup", "ended")]
)
def test_hook_vocabulary_maps_to_desk_kinds(name: str, kind: str) -> None:
    event = parse_call_event(body(event=name, number="+33639980001", call_id="c-1"), received_at=AT)
    assert (event.kind, event.number, event.call_id, event.source) == (kind, "+33639980001", "c-1", "api")


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("06 39 98 00 01", "+33639980001"),
        ("0639980001", "+33639980001"),
        ("sip:0639980001@pbx.example;user=phone", "+33639980001"),
        ("tel:+33639980001", "+33639980001"),
        ("+212 661 000 000", "+212661000000"),
    ],
)
def test_numbers_are_normalised_to_e164(written: str, e164: str) -> None:
    assert parse_call_event(body(event="ring", number=written), received_at=AT).number == e164


@pytest.mark.parametrize("withheld", ["anonymous", "Anonymous", "", "unknown", "sip:anonymous@anonymous.invalid"])
def test_withheld_numbers_give_a_call_without_number(withheld: str) -> None:
    assert parse_call_event(body(event="ring", number=withheld), received_at=AT).number is None


def test_event_is_stamped_on_receipt_and_the_senders_clock_kept_aside() -> None:
    event = parse_call_event(
        body(event="dial", number="0639980001", at="2020-01-01T00:00:00+00:00", product="gas", source="five9"),
        received_at=AT,
    )
    assert event.at == AT and event.extra == {"sent_at": "2020-01-01T00:00:00+00:00"}
    assert (event.product, event.source) == ("gas", "five9")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"number": "0639980001"}, "event"),
        ({"event": "ringing"}, "event"),
        ({"event": "ring", "number": "06 39 XX"}, "number"),
        ({"event": "ring", "number": 639980001}, "number"),
        ({"event": "ring", "call_id": ""}, "call_id"),
        ({"event": "ring", "call_id": "x" * 251}, "call_id"),
        ({"event": "ring", "at": "2026-11-24T10:30:00"}, "at"),
        ({"event": "ring", "direction": "in"}, "direction"),
        ({"event": "ring", "source": "Bad Source"}, "source"),
        ({"event": "ring", "callid": "typo"}, "callid"),
        ({"event": "ring", "product": 3}, "product"),
    ],
)
def test_bad_call_events_get_422_naming_the_field(values: dict[str, Any], field: str) -> None:
    error = event_refused(body(**values))
    assert (error.status, error.code, error.field) == (422, "invalid", field)
    assert error.message.startswith(f"{field}: ")


def test_messages_never_quote_the_input() -> None:
    error = event_refused(body(event="ring", number="0639 980 0019 secret"))
    assert "0639" not in error.message and "secret" not in error.message and "0639" not in json.dumps(error.to_json())


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", 400),
        (b"{", 400),
        (b"\xff\xfe{}", 400),
        (b"[" * 5000 + b"]" * 5000, 400),
        (b"[]", 422),
        (b'"ring"', 422),
        (b"null", 422),
        (b"x" * (MAX_BODY_BYTES + 1), 413),
    ],
)
def test_not_an_object(data: bytes, status: int) -> None:
    assert event_refused(data).status == status


# -- transcript segments -------------------------------------------------------------------------------------


def test_segment_accepted() -> None:
    segment = parse_segment(body(call_id="c-1", speaker="customer", text="Bonjour", start=1.5, end=2.0, seq=7))
    assert (segment.call_id, segment.speaker, segment.text, segment.start, segment.end, segment.seq) == (
        "c-1",
        "customer",
        "Bonjour",
        1.5,
        2.0,
        7,
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"speaker": "agent", "text": "x"}, "call_id"),
        ({"call_id": "c", "speaker": "robot", "text": "x"}, "speaker"),
        ({"call_id": "c", "speaker": "agent", "text": ""}, "text"),
        ({"call_id": "c", "speaker": "agent", "text": "x" * (MAX_TEXT_CHARS + 1)}, "text"),
        ({"call_id": "c", "speaker": "agent", "text": "x", "start": -1}, "start"),
        ({"call_id": "c", "speaker": "agent", "text": "x", "start": "1.0"}, "start"),
        ({"call_id": "c", "speaker": "agent", "text": "x", "start": 3, "end": 2}, "end"),
        ({"call_id": "c", "speaker": "agent", "text": "x", "seq": -1}, "seq"),
        ({"call_id": "c", "speaker": "agent", "text": "x", "seq": 1.5}, "seq"),
    ],
)
def test_bad_segments_get_422_naming_the_field(values: dict[str, Any], field: str) -> None:
    error = refused(parse_segment, body(**values))
    assert (error.status, error.field) == (422, field)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_times_are_refused(constant: bytes) -> None:
    data = b'{"call_id": "c", "speaker": "agent", "text": "x", "start": ' + constant + b"}"
    assert refused(parse_segment, data).status in (400, 422)


# -- consent events ----------------------------------------------------------------------------------------------


def test_consent_event_accepted() -> None:
    event = parse_consent_event(
        body(call_id="c-1", kind="objection", segment=3, at="2026-11-24T10:31:00+01:00", source="five9")
    )
    assert (event.call_id, event.kind, event.segment, event.source) == ("c-1", "objection", 3, "five9")
    assert event.at is not None and event.at.utcoffset() == dt.timedelta(hours=1)
    bare = parse_consent_event(body(call_id="c-1", kind="withdrawal"))
    assert (bare.kind, bare.segment, bare.at, bare.source) == ("withdrawal", None, None, "api")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "withdrawal"}, "call_id"),
        ({"call_id": "", "kind": "withdrawal"}, "call_id"),
        ({"call_id": 42, "kind": "withdrawal"}, "call_id"),
        ({"call_id": "c"}, "kind"),
        ({"call_id": "c", "kind": "withdrawn"}, "kind"),
        ({"call_id": "c", "kind": "consent_given"}, "kind"),
        ({"call_id": "c", "kind": "withdrawal", "segment": -1}, "segment"),
        ({"call_id": "c", "kind": "withdrawal", "segment": 1.5}, "segment"),
        ({"call_id": "c", "kind": "withdrawal", "segment": "2"}, "segment"),
        ({"call_id": "c", "kind": "withdrawal", "at": "2026-11-24T10:30:00"}, "at"),
        ({"call_id": "c", "kind": "withdrawal", "source": "Five9"}, "source"),
        ({"call_id": "c", "kind": "withdrawal", "number": "0639980001"}, "number"),
    ],
)
def test_bad_consent_events_get_422_naming_the_field(values: dict[str, Any], field: str) -> None:
    error = refused(parse_consent_event, body(**values))
    assert (error.status, error.code, error.field) == (422, "invalid", field)
    assert error.message.startswith(f"{field}: ")


def test_consent_event_unknown_key_says_unknown_field() -> None:
    assert (
        refused(parse_consent_event, body(call_id="c", kind="objection", scope="all")).message == "scope: unknown field"
    )


# -- the fuzzer: whatever arrives, the parsers answer with a result or an ApiError, nothing else ----------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
EVENT_FIELDS = ["event", "number", "call_id", "direction", "product", "purpose", "professional", "sector", "at"]
FIELDS = st.sampled_from([*EVENT_FIELDS, "source", "speaker", "text", "start", "end", "seq", "kind", "segment"])
NEAR_VALID = st.dictionaries(
    FIELDS,
    JSON
    | st.sampled_from(["ring", "dial", "answer", "hangup", "agent", "customer", "inbound", "0639980001"])
    | st.sampled_from(["withdrawal", "objection"])
    | st.sampled_from(["+33639980001", "sip:06@x", "2026-11-24T10:30:00+01:00", "anonymous", "hook"]),
    max_size=8,
)


def _parse_both(data: bytes) -> None:
    for parse in (lambda raw: parse_call_event(raw, received_at=AT), parse_segment, parse_consent_event):
        error: ApiError | None = None
        try:
            parse(data)
        except ApiError as raised:
            error = raised
        if error is not None:
            assert 400 <= error.status < 500
            assert error.message and "\n" not in error.message


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _parse_both(data)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_fuzz_arbitrary_json(value: Any) -> None:
    _parse_both(json.dumps(value).encode())


@settings(max_examples=600, deadline=None)
@given(NEAR_VALID)
def test_fuzz_objects_with_the_real_field_names(value: dict[str, Any]) -> None:
    _parse_both(json.dumps(value, allow_nan=True).encode())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_text_as_utf8(text: str) -> None:
    _parse_both(text.encode("utf-8", "surrogatepass"))


# -- the OpenAPI document says what the code does ------------------------------------------------------------


def test_openapi_document_matches_the_models_and_routes() -> None:
    import re
    from pathlib import Path

    from desktop.core.telephony.api_schema import CallEventIn, ConsentEventIn, SegmentIn

    text = (Path(__file__).parents[4] / "docs" / "event-api.openapi.yaml").read_text(encoding="utf-8")
    assert text.startswith("openapi: 3.1.0\n")
    paths = re.findall(r"^  (/v1/[a-z-]+):$", text, flags=re.MULTILINE)
    assert paths == ["/v1/call-events", "/v1/transcript-segments", "/v1/consent-events", "/v1/health"]
    for schema, model in (("CallEvent", CallEventIn), ("Segment", SegmentIn), ("ConsentEvent", ConsentEventIn)):
        block = re.split(r"\n    \S", text.split(f"\n    {schema}:\n", 1)[1], maxsplit=1)[0]
        documented = re.findall(r"^        ([a-z_]+):", block, flags=re.MULTILINE)
        assert sorted(documented) == sorted(model.model_fields), schema
    assert f"at most {MAX_BODY_BYTES:,} bytes" in text and f"maxLength: {MAX_TEXT_CHARS}" in text
