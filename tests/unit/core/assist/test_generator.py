"""The generator's pure parts (prompts, the commitment check, the JSON shapes, the server URL rule) and the
OpenAI-compatible client against a fake server that streams the OpenAI chat completions format."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring
from pydantic import BaseModel

from desktop.core.assist.generator import (
    Adaptation,
    GenerationError,
    OpenAIGenerator,
    adaptation_messages,
    adaptation_problems,
    check_server_url,
    json_fields,
    make_generator,
    prose_schema,
)
from desktop.core.crm import credentials
from desktop.core.errors import InputError
from tests.fakes.openai_server import FakeOpenAIServer, Scenario


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    fake = FakeOpenAIServer()
    yield fake
    fake.close()


@pytest.fixture
def fake(server: FakeOpenAIServer) -> FakeOpenAIServer:
    server.reset()
    return server


def test_adaptation_prompt_is_french_keeps_the_reply_and_only_the_last_turns() -> None:
    turns = [("customer", f"tour {k}") for k in range(10)] + [("agent", "Je vous écoute.")]
    messages = adaptation_messages("Votre demande est enregistrée.", "withdrawal_ack", turns)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Ne change aucun engagement" in messages[0]["content"]
    user = messages[1]["content"]
    assert "« Votre demande est enregistrée. »" in user and "withdrawal_ack" in user
    assert "Conseiller : Je vous écoute." in user and "Client : tour 9" in user
    assert "tour 4" not in user  # only the last six turns are sent


def test_a_long_turn_is_cut_from_its_start() -> None:
    messages = adaptation_messages("R.", "closing", [("customer", "a" * 1000 + " FIN")])
    assert "…" in messages[1]["content"] and "FIN" in messages[1]["content"]
    assert "a" * 500 not in messages[1]["content"]


def test_adaptation_problems_flag_added_figures_and_dropped_placeholders() -> None:
    approved = "Le remboursement de 12,50 € arrive sous 10 jours, le {date_consent} [récapitulatif]."
    assert (
        adaptation_problems(
            approved, "Vous serez remboursé de 12,50 € sous 10 jours, le {date_consent} [récapitulatif]."
        )
        == []
    )
    problems = adaptation_problems(approved, "Remboursement de 15 € sous 10 jours [récapitulatif].")
    assert "chiffre ajouté : 15" in problems
    assert "passage retiré : {date_consent}" in problems
    assert adaptation_problems("Sous 1 000 euros.", "Sous 1000 euros.") == []  # same figure, other spacing


def test_adaptation_keeps_its_provenance() -> None:
    adaptation = Adaptation("Texte.", "qwen", "playbook:withdrawal_ack_1", "withdrawal_ack")
    assert adaptation.source == "model:qwen"
    assert adaptation.provenance == "model:qwen from playbook:withdrawal_ack_1"
    assert adaptation.to_json()["adapted_from"] == "playbook:withdrawal_ack_1"


def test_json_fields_of_the_prose_schema() -> None:
    fields = json_fields(prose_schema(2))
    assert [(f.name, f.kind, f.min_items, f.max_items) for f in fields] == [
        ("reason", "text", 0, 4),
        ("actions", "list", 1, 4),
        ("next_step_actions", "list", 2, 2),
    ]

    class WithChoice(BaseModel):
        resolution: Literal["resolved", "partial"]

    assert json_fields(WithChoice)[0].choices == ("resolved", "partial")

    class Nested(BaseModel):
        due: int

    with pytest.raises(TypeError, match=r"Nested\.due"):
        json_fields(Nested)


def test_prose_schema_wants_one_action_per_next_step() -> None:
    schema = prose_schema(1)
    schema.model_validate({"reason": "Résiliation.", "actions": ["Demande enregistrée."], "next_step_actions": ["X"]})
    with pytest.raises(ValueError, match="next_step_actions"):
        schema.model_validate({"reason": "R.", "actions": ["A."], "next_step_actions": []})


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://127.0.0.1:8000/v1/", True),
        ("http://localhost:8080/v1", True),
        ("https://inference.example.com/v1", True),
        ("http://inference.example.com/v1", False),  # call content in clear over the network
        ("ftp://127.0.0.1/v1", False),
        ("127.0.0.1:8000", False),
    ],
)
def test_server_url_rule(url: str, ok: bool) -> None:
    if ok:
        assert not check_server_url(url).endswith("/")
    else:
        with pytest.raises(InputError, match="openai_url"):
            check_server_url(url)


def test_make_generator_settings_errors() -> None:
    assert make_generator("none", model="") is None
    with pytest.raises(InputError, match="generator_model"):
        make_generator("local", model="")
    with pytest.raises(InputError, match="openai_url"):
        make_generator("openai", model="qwen")
    with pytest.raises(InputError, match="expected none, local or openai"):
        make_generator("gpt", model="qwen")


# -- OpenAIGenerator against the fake server ------------------------------------------------------------------


def test_streams_the_pieces_in_order_with_greedy_settings(fake: FakeOpenAIServer) -> None:
    generator = OpenAIGenerator(fake.url, "qwen2.5-0.5b-instruct")
    messages = adaptation_messages("Votre demande est enregistrée.", "withdrawal_ack", [("customer", "Stop.")])
    pieces = list(generator.stream(messages, max_new_tokens=50, stop=threading.Event()))
    generator.close()
    assert pieces == ["Bien ", "sûr, ", "je ", "comprends."]
    sent = fake.requests[0]
    assert sent["stream"] is True and sent["temperature"] == 0 and sent["max_tokens"] == 50
    assert sent["model"] == "qwen2.5-0.5b-instruct" and sent["messages"] == messages
    assert "authorization" not in {k.lower() for k in fake.headers[0]}  # no key stored, none sent


def test_pieces_arrive_as_the_server_sends_them(fake: FakeOpenAIServer) -> None:
    fake.reset(Scenario(pieces=["un ", "deux ", "trois"], delay=0.3))
    generator = OpenAIGenerator(fake.url, "m")
    started = time.perf_counter()
    arrivals = [time.perf_counter() - started for _ in generator.stream([], max_new_tokens=5, stop=threading.Event())]
    generator.close()
    assert len(arrivals) == 3
    assert arrivals[0] < 0.55 and arrivals[2] - arrivals[0] > 0.45  # not buffered until the end


def test_stop_ends_the_stream_and_drops_the_connection(fake: FakeOpenAIServer) -> None:
    fake.reset(Scenario(pieces=[f"mot{k} " for k in range(50)], delay=0.05))
    generator = OpenAIGenerator(fake.url, "m")
    stop = threading.Event()
    got = []
    for piece in generator.stream([], max_new_tokens=100, stop=stop):
        got.append(piece)
        if len(got) == 3:
            stop.set()
            stopped = time.perf_counter()
    elapsed = time.perf_counter() - stopped
    generator.close()
    assert got == ["mot0 ", "mot1 ", "mot2 "]
    assert elapsed < 0.5
    assert fake.disconnected.wait(5)  # the server saw the client leave (it stops generating)


def test_key_from_the_keyring_is_sent_and_a_refusal_says_what_to_do(fake: FakeOpenAIServer) -> None:
    fake.reset(Scenario(key="s3cret"))
    with (
        OpenAIGenerator(fake.url, "m") as keyless,
        pytest.raises(GenerationError, match=r"HTTP 401 \(invalid api key\).*generator secret set"),
    ):
        list(keyless.stream([], max_new_tokens=5, stop=threading.Event()))
    generator = OpenAIGenerator(fake.url, "m", api_key="s3cret")
    assert "".join(generator.stream([], max_new_tokens=5, stop=threading.Event())) == "Bien sûr, je comprends."
    generator.close()


def test_from_settings_reads_the_key_from_the_keyring(fake: FakeOpenAIServer, tmp_path: Path) -> None:
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")  # a file keyring in the test's folder, never the real one
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        credentials.set_secret("generator", fake.url, "s3cret")
    finally:
        keyring.set_keyring(previous)
    fake.reset(Scenario(key="s3cret"))
    keyring.set_keyring(backend)
    try:
        generator = OpenAIGenerator.from_settings(fake.url + "/", "m")
    finally:
        keyring.set_keyring(previous)
    assert "".join(generator.stream([], max_new_tokens=5, stop=threading.Event())) == "Bien sûr, je comprends."
    generator.close()


def test_server_error_event_and_unreachable_server_are_one_line_errors(fake: FakeOpenAIServer) -> None:
    fake.reset(Scenario(error_event="out of memory"))
    with OpenAIGenerator(fake.url, "m") as failing, pytest.raises(GenerationError, match="out of memory"):
        list(failing.stream([], max_new_tokens=5, stop=threading.Event()))
    with OpenAIGenerator("http://127.0.0.1:9/v1", "m") as nowhere, pytest.raises(GenerationError, match="unreachable"):
        list(nowhere.stream([], max_new_tokens=5, stop=threading.Event()))


def test_json_asks_for_the_schema_validates_and_retries_once(fake: FakeOpenAIServer) -> None:
    schema = prose_schema(1)
    good = {
        "reason": "Demande de résiliation.",
        "actions": ["Demande enregistrée."],
        "next_step_actions": ["Rappeler."],
    }
    fake.reset(Scenario(json_answers=['{"reason": "R."}', json.dumps(good, ensure_ascii=False)]))
    generator = OpenAIGenerator(fake.url, "m")
    written = generator.generate_json([{"role": "user", "content": "x"}], schema, stop=threading.Event())
    assert written is not None and written.model_dump() == good
    first, second = fake.requests
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["schema"] == schema.model_json_schema()
    assert second["messages"][-1]["role"] == "user" and "JSON invalide" in second["messages"][-1]["content"]

    fake.reset(Scenario(json_answers=["pas du JSON"]))
    with pytest.raises(GenerationError, match="no valid JSON after one retry"):
        generator.generate_json([{"role": "user", "content": "x"}], schema, stop=threading.Event())
    assert len(fake.requests) == 2
    generator.close()


class _Answers:
    """A generator double answering each stream() with the next scripted text (the unconstrained JSON path)."""

    name = "answers"

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[list[dict[str, str]]] = []

    def stream(self, messages, *, max_new_tokens, stop):  # type: ignore[no-untyped-def]
        self.asked.append([dict(m) for m in messages])
        yield self.answers.pop(0)


def test_unconstrained_json_is_validated_with_one_retry() -> None:
    from desktop.core.assist.generator import _json_by_retry

    schema = prose_schema(0)
    good = '```json\n{"reason": "Résiliation.", "actions": ["Demande notée."], "next_step_actions": []}\n```'
    double = _Answers('{"reason": "R."}', good)
    written = _json_by_retry(
        double, [{"role": "user", "content": "x"}], schema, stop=threading.Event(), max_new_tokens=50
    )
    assert written is not None and written.model_dump()["actions"] == ["Demande notée."]
    assert "JSON invalide (actions: Field required)" in double.asked[1][-1]["content"]
    with pytest.raises(GenerationError, match="no valid JSON after one retry"):
        _json_by_retry(_Answers("non", "toujours pas"), [], schema, stop=threading.Event(), max_new_tokens=50)
