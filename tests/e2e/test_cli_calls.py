"""``agent-assist calls list|show`` as IT and team leads run it: a real process over calls stored by the call desk."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.consent.policy import Policy
from desktop.core.store.db import open_store
from tests.unit.ui_ops import CONSENTED, SeededCalls, seed_calls


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_ASSIST_HOME": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@pytest.fixture
def calls(data_dir: Path, policy: Policy) -> SeededCalls:
    with open_store(data_dir) as store:
        return seed_calls(store.conn, policy)


def test_list_as_json_with_filters(data_dir: Path, calls: SeededCalls) -> None:
    every = run("calls", "list", "--json", data_dir=data_dir)
    assert every.returncode == 0, every.stderr
    listed = json.loads(every.stdout)
    assert listed["count"] == 4
    assert [call["uid"] for call in listed["calls"]] == [calls.objected, calls.missed, calls.inbound, calls.withdrawn]
    assert listed["calls"][3]["number"] == "+•••••••••01" and CONSENTED not in every.stdout
    assert {key: listed["calls"][3][key] for key in ("verdict", "disposition", "withdrawal", "agent_id")} == {
        "verdict": "forbidden",
        "disposition": "do_not_call",
        "withdrawal": True,
        "agent_id": "agent-7",
    }
    filtered = run(
        "calls",
        "list",
        "--json",
        "--agent",
        "agent-9",
        "--withdrawal",
        "yes",
        "--from",
        "2026-11-25",
        data_dir=data_dir,
    )
    assert [call["uid"] for call in json.loads(filtered.stdout)["calls"]] == [calls.objected]


def test_list_to_csv_and_as_a_table(data_dir: Path, calls: SeededCalls, tmp_path: Path) -> None:
    target = tmp_path / "calls.csv"
    written = run("calls", "list", "--verdict", "forbidden", "--csv", str(target), "--json", data_dir=data_dir)
    assert written.returncode == 0, written.stderr
    assert json.loads(written.stdout) == {"csv": str(target), "count": 3}
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert [row["verdict"] for row in rows] == ["forbidden"] * 3 and CONSENTED not in target.read_text("utf-8-sig")
    table = run("calls", "list", "--disposition", "information_given", "--unmasked", data_dir=data_dir)
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "id",
        "started",
        "agent",
        "number",
        "dir",
        "verdict",
        "disposition",
        "withdrawal",
        "state",
    ]
    assert len(lines) == 2 and "+33639980002" in lines[1] and "wrap_up" in lines[1]


def test_show_by_uid_prefix(data_dir: Path, calls: SeededCalls) -> None:
    shown = run("calls", "show", calls.withdrawn[:8], "--json", data_dir=data_dir)
    assert shown.returncode == 0, shown.stderr
    call = json.loads(shown.stdout)
    assert call["interaction"]["uid"] == calls.withdrawn and call["interaction"]["number"] == "+•••••••••01"
    assert [segment["speaker"] for segment in call["segments"]] == ["agent", "customer", "agent"]
    assert call["summary"]["body"]["disposition"] == "do_not_call" and call["decision"]["verdict"] == "forbidden"
    assert [event["kind"] for event in call["consent_events"]] == ["withdrawn"]
    text = run("calls", "show", str(call["interaction"]["id"]), data_dir=data_dir).stdout
    assert "customer: Non merci" in text and "summary (validated by agent-7):" in text
    assert "suggestion playbook:withdrawal-01 copied at 2026-11-24T10:30:15+01:00" in text
    history = [line.strip() for line in text.splitlines() if line.strip().startswith("evaluated ")]
    assert [line.split(": ", 1)[1].split(",")[0] for line in history] == [
        "allowed [VALID_CONSENT]",
        "forbidden [CONSENT_REVOKED]",
    ], text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("calls", "show", "no-such-call"), 4, "call 'no-such-call' not found"),
        (("calls", "list", "--from", "24/11/2026"), 2, "--from: not a date"),
        (("calls", "list", "--disposition", "won"), 2, "disposition: unknown 'won'"),
        (("calls", "list", "--withdrawal", "maybe"), 2, "invalid choice"),
    ],
)
def test_errors_are_one_line(
    data_dir: Path, calls: SeededCalls, args: tuple[str, ...], code: int, message: str
) -> None:
    result = run(*args, data_dir=data_dir)
    assert result.returncode == code
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
