"""baresip ctrl_tcp: netstring framing, message parsing and the mapping to call events (captured 1.0.0 JSON)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.core.telephony.baresip import (
    BaresipEvent,
    BaresipProtocolError,
    BaresipResponse,
    FrameTooLarge,
    NetstringDecoder,
    NetstringError,
    encode,
    encode_command,
    parse_listcalls,
    parse_message,
    peer_number,
    to_call_event,
)

AT = dt.datetime(2026, 11, 24, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
AGENT = "sip:agent@127.0.0.1:5072"
PEER = "sip:+33612345678@127.0.0.1:5062"


def event(kind: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "event": True,
        "type": kind,
        "class": "call",
        "accountaor": AGENT,
        "direction": "incoming",
        "peeruri": PEER,
        "peerdisplayname": "Jean Dupont",
        "id": "176a85ee421637a4",
        "param": PEER,
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def frame(document: object) -> bytes:
    return encode(json.dumps(document).encode())


def payloads(items: list[bytes | NetstringError]) -> list[bytes]:
    return [item for item in items if isinstance(item, bytes)]


# -- framing ---------------------------------------------------------------------------------------------------


def test_encode_command_is_a_netstring_baresip_reads() -> None:
    assert encode_command("accept", token="agent-1") == b'38:{"command":"accept","token":"agent-1"},'
    raw = encode_command("dial", "sip:agent@127.0.0.1:5072", "c1")
    length, _, rest = raw.partition(b":")
    assert int(length) == len(rest) - 1 and rest.endswith(b",")
    assert json.loads(rest[:-1]) == {"command": "dial", "params": "sip:agent@127.0.0.1:5072", "token": "c1"}


def test_frames_split_anywhere_and_several_per_read() -> None:
    stream = frame(event("CALL_INCOMING")) + frame(event("CALL_ESTABLISHED")) + b"0:,"
    decoder = NetstringDecoder()
    out: list[bytes | NetstringError] = []
    for byte in stream:
        out += decoder.feed(bytes([byte]))
    assert [json.loads(p)["type"] for p in payloads(out)[:2]] == ["CALL_INCOMING", "CALL_ESTABLISHED"]
    assert payloads(out)[2] == b"" and len(out) == 3
    assert NetstringDecoder().feed(stream) == out
    assert decoder.buffered == 0


def test_garbage_before_a_frame_is_reported_then_skipped() -> None:
    decoder = NetstringDecoder()
    out = decoder.feed(b"hello world\r\n" + frame(event("CALL_INCOMING")))
    assert isinstance(out[0], NetstringError) and "bad netstring header" in str(out[0])
    assert [json.loads(p)["type"] for p in payloads(out)] == ["CALL_INCOMING"]
    assert decoder.errors == 1


def test_wrong_length_resyncs_on_the_next_frame() -> None:
    good = frame(event("CALL_CLOSED"))
    body = json.dumps(event("CALL_INCOMING")).encode()
    liar = str(len(body) + 5).encode() + b":" + body + b","  # says 5 bytes more than it has
    out = NetstringDecoder().feed(liar + good + good)
    errors = [item for item in out if not isinstance(item, bytes)]
    assert errors and all(isinstance(error, NetstringError) for error in errors)
    # The liar swallowed the start of the next frame; the frame after it is decoded whole.
    assert [json.loads(p)["type"] for p in payloads(out)][-1] == "CALL_CLOSED"
    assert len(payloads(out)) >= 1


def test_missing_comma_is_an_error_not_a_frame() -> None:
    body = json.dumps(event("CALL_INCOMING")).encode()
    out = NetstringDecoder().feed(str(len(body)).encode() + b":" + body + b";" + frame(event("CALL_CLOSED")))
    assert isinstance(out[0], NetstringError) and "not followed by ','" in str(out[0])
    assert [json.loads(p)["type"] for p in payloads(out)] == ["CALL_CLOSED"]


def test_oversized_frame_is_skipped_without_buffering_it() -> None:
    decoder = NetstringDecoder(max_frame=1024)
    big = frame({"event": True, "type": "CALL_RTCP", "pad": "x" * 100_000})
    out: list[bytes | NetstringError] = []
    out += decoder.feed(frame(event("CALL_INCOMING")))
    for start in range(0, len(big), 4096):
        out += decoder.feed(big[start : start + 4096])
        assert decoder.buffered <= 4096 + 16
    out += decoder.feed(frame(event("CALL_CLOSED")))
    assert [type(item) for item in out] == [bytes, FrameTooLarge, bytes]
    assert [json.loads(p)["type"] for p in payloads(out)] == ["CALL_INCOMING", "CALL_CLOSED"]


def test_absurd_length_is_garbage() -> None:
    out = NetstringDecoder().feed(b"99999999999999:{}," + frame(event("CALL_INCOMING")))
    assert isinstance(out[0], NetstringError)
    assert [json.loads(p)["type"] for p in payloads(out)] == ["CALL_INCOMING"]


def test_reset_forgets_a_partial_frame() -> None:
    decoder = NetstringDecoder()
    assert decoder.feed(b'120:{"event":tr') == []
    decoder.reset()
    assert payloads(decoder.feed(frame(event("CALL_INCOMING"))))


# -- messages --------------------------------------------------------------------------------------------------


def test_parse_event_keeps_known_fields_and_ignores_others() -> None:
    message = parse_message(json.dumps(event("CALL_INCOMING", cuser="x", rtcp_stats={"rtt": 3})).encode())
    assert isinstance(message, BaresipEvent)
    assert (message.type, message.direction, message.peer_uri, message.peer_name, message.call_id) == (
        "CALL_INCOMING",
        "incoming",
        PEER,
        "Jean Dupont",
        "176a85ee421637a4",
    )
    assert message.raw["cuser"] == "x"


def test_parse_response_and_mqtt_event_without_event_flag() -> None:
    response = parse_message(b'{"response":true,"ok":true,"data":"done\\n","token":"agent-1"}')
    assert response == BaresipResponse(ok=True, data="done\n", token="agent-1")
    mqtt = parse_message('{"type":"CALL_CLOSED","class":"call","id":"eeb5","param":"Connection reset by user"}')
    assert isinstance(mqtt, BaresipEvent) and mqtt.call_id == "eeb5"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"event": true}', "without a type"),
        (b'{"event": true, "type": 7}', "without a type"),
        (b'{"hello": 1}', "neither"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_parse_errors_are_protocol_errors(payload: bytes, words: str) -> None:
    with pytest.raises(BaresipProtocolError, match=words):
        parse_message(payload)


def test_wrongly_typed_fields_count_as_absent() -> None:
    message = parse_message(b'{"event":true,"type":"CALL_INCOMING","id":42,"peeruri":null,"direction":["x"]}')
    assert isinstance(message, BaresipEvent)
    assert message.call_id is None and message.peer_uri is None and message.direction is None


# -- mapping ---------------------------------------------------------------------------------------------------


def mapped(document: dict[str, object]):  # type: ignore[no-untyped-def]
    message = parse_message(json.dumps(document))
    assert isinstance(message, BaresipEvent)
    return to_call_event(message, AT)


def test_inbound_call_as_captured() -> None:
    ring = mapped(event("CALL_INCOMING"))
    assert ring is not None
    assert (ring.kind, ring.direction, ring.number, ring.call_id, ring.source, ring.at) == (
        "ringing",
        "inbound",
        "+33612345678",
        "176a85ee421637a4",
        "baresip",
        AT,
    )
    assert ring.extra["name"] == "Jean Dupont" and ring.extra["account"] == AGENT
    answered = mapped(event("CALL_ESTABLISHED"))
    assert answered is not None and answered.kind == "answered"
    closed = mapped(event("CALL_CLOSED", param="Connection reset by peer"))
    assert closed is not None and closed.kind == "ended" and closed.extra["reason"] == "Connection reset by peer"


def test_outbound_and_newer_types() -> None:
    dial = mapped(event("CALL_RINGING", direction="outgoing", peerdisplayname=None))
    assert dial is not None and (dial.kind, dial.direction) == ("dialing", "outbound")
    progress = mapped(event("CALL_PROGRESS", direction="outgoing"))
    assert progress is not None and progress.kind == "dialing"
    outgoing = mapped(event("CALL_OUTGOING", direction=None))
    assert outgoing is not None and outgoing.kind == "dialing"
    answered = mapped(event("CALL_ANSWERED"))
    assert answered is not None and answered.kind == "answered"


@pytest.mark.parametrize(
    "kind",
    ["CALL_RTCP", "CALL_RTPESTAB", "CALL_LOCAL_SDP", "CALL_REMOTE_SDP", "REGISTER_OK", "VU_TX_REPORT", "CALL_HOLD",
     "SHUTDOWN", "END_OF_FILE", "SOMETHING_NEW"],
)  # fmt: skip
def test_other_types_are_ignored(kind: str) -> None:
    assert mapped(event(kind)) is None


@pytest.mark.parametrize(
    ("uri", "name", "number"),
    [
        ("sip:+33612345678@127.0.0.1:5062", None, "+33612345678"),
        ("sip:0612345678@pbx.example;user=phone", None, "+33612345678"),
        ("<sips:06.12.34.56.78@pbx>", None, "+33612345678"),
        ("tel:+33612345678", None, "+33612345678"),
        ("sip:%2B33612345678@pbx", None, "+33612345678"),
        ("sip:agent@127.0.0.1:5072", "06 12 34 56 78", "+33612345678"),
        ("sip:agent@127.0.0.1:5072", "Jean Dupont", None),
        ("sip:12@pbx", None, None),
        (None, None, None),
        ("garbage", None, None),
    ],
)
def test_peer_number(uri: str | None, name: str | None, number: str | None) -> None:
    assert peer_number(uri, name) == number


def test_listcalls_as_captured() -> None:
    data = (
        "\n--- Active calls (2) ---\n> [line 1]  0:00:02  ESTABLISHED             sip:+33612345678@127.0.0.1:5062\n"
        "  [line 2]  0:00:00   INCOMING             sip:0612000000@pbx\n\n"
    )
    calls = parse_listcalls(data)
    assert [(call.state, call.number) for call in calls] == [
        ("ESTABLISHED", "+33612345678"),
        ("INCOMING", "+33612000000"),
    ]
    assert parse_listcalls("\n--- Active calls (0) ---\n\n") == []


# -- properties ------------------------------------------------------------------------------------------------

_documents = st.one_of(
    st.builds(event, st.sampled_from(["CALL_INCOMING", "CALL_ESTABLISHED", "CALL_CLOSED", "CALL_RTCP", "X"])),
    st.dictionaries(st.text(max_size=8), st.recursive(st.none() | st.booleans() | st.integers() | st.text(), lambda c: st.lists(c, max_size=3), max_leaves=6), min_size=1, max_size=5),
)  # fmt: skip
_chunks = st.one_of(
    _documents.map(frame),
    st.binary(max_size=40),
    st.sampled_from([b"0:,", b"5:{}", b"12:", b":", b",", b"999999999999:", b"3:abc,", b'7:{"a":1}']),
)


def _decode(stream: bytes, cuts: list[int], max_frame: int) -> list[bytes | str]:
    decoder = NetstringDecoder(max_frame=max_frame, skip_limit=max_frame * 4)
    out: list[bytes | NetstringError] = []
    previous = 0
    for cut in [*sorted(cut % (len(stream) + 1) for cut in cuts), len(stream)]:
        out += decoder.feed(stream[previous:cut])
        previous = cut
        assert decoder.buffered <= max_frame + 10  # a header and one frame at most, whatever it was given
    return [item if isinstance(item, bytes) else f"{type(item).__name__}: {item}" for item in out]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_chunks, max_size=12), st.lists(st.integers(min_value=0), max_size=20), st.integers(8, 600))
def test_decoding_does_not_depend_on_how_the_stream_is_cut(
    pieces: list[bytes], cuts: list[int], max_frame: int
) -> None:
    stream = b"".join(pieces)
    whole = _decode(stream, [], max_frame)
    assert _decode(stream, cuts, max_frame) == whole
    assert _decode(stream, list(range(len(stream))), max_frame) == whole  # one byte at a time


@settings(max_examples=300)
@given(st.lists(_documents, min_size=1, max_size=6), st.binary(max_size=60), st.integers(0, 5))
def test_good_frames_after_garbage_are_found(documents: list[dict[str, object]], junk: bytes, where: int) -> None:
    frames = [frame(document) for document in documents]
    position = min(where, len(frames))
    # Junk without a colon cannot pass for a header (with one, "12:" may swallow bytes up to some comma inside the
    # next frame: no framing can tell that from a real frame), so every frame around it is found.
    stream = b"".join(frames[:position]) + junk.replace(b":", b"") + b"\n" + b"".join(frames[position:])
    decoder = NetstringDecoder()
    out = decoder.feed(stream)
    assert payloads(out) == [json.dumps(document).encode() for document in documents]
    assert decoder.errors >= 1


@settings(max_examples=400)
@given(st.binary(max_size=200) | _documents.map(lambda d: json.dumps(d).encode()))
def test_parser_raises_only_its_own_error(payload: bytes) -> None:
    try:
        message = parse_message(payload)
    except BaresipProtocolError:
        return
    if isinstance(message, BaresipEvent):
        to_call_event(message, AT)  # mapping never raises either
