"""The command line as a user drives it: a real process, real files, one-line errors, nothing half-done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA

CASES = sorted((DATA / "consent").glob("*.json"))


def run(*args: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_ASSIST_HOME": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def table_counts(data_dir: Path) -> dict[str, int]:
    import sqlite3

    path = data_dir / "agent-assist.sqlite3"
    if not path.exists():
        return {}
    conn = sqlite3.connect(path)
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    counts = {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
    conn.close()
    return counts


def test_examples_are_all_there() -> None:
    assert len(CASES) >= 19


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_every_worked_case_through_consent_evaluate(case: Path, tmp_path: Path) -> None:
    expected = json.loads(case.read_text(encoding="utf-8"))
    result = run("consent", "evaluate", str(case), "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert {key: decision[key] for key in ("verdict", "regime", "scope")} == expected["expect"]
    assert decision["policy"] == {"name": "fr", "version": "2026.1"}
    assert all(reason["message"] and reason["rule"] for reason in decision["reasons"])


def test_facts_from_stdin_and_set_override(tmp_path: Path) -> None:
    facts = json.loads((DATA / "consent" / "C23a.json").read_text(encoding="utf-8"))["facts"]
    blocked = run("consent", "evaluate", "-", "--json", data_dir=tmp_path, stdin=json.dumps(facts))
    assert json.loads(blocked.stdout)["verdict"] == "forbidden"
    allowed = run(
        "consent",
        "evaluate",
        "-",
        "--json",
        "--set",
        "block_local_holidays=false",
        data_dir=tmp_path,
        stdin=json.dumps(facts),
    )
    assert json.loads(allowed.stdout)["verdict"] == "allowed"


def _c01(**call_changes: object) -> str:
    facts = json.loads((DATA / "consent" / "C01.json").read_text(encoding="utf-8"))["facts"]
    facts["call"].update(call_changes)
    return json.dumps(facts)


@pytest.mark.parametrize(
    ("stdin", "args", "message"),
    [
        ('{"call": {', (), "<stdin>: line 1 column 11: malformed JSON"),
        (_c01(colour="blue"), (), "<stdin>: call.colour: unknown key"),
        (json.dumps({**json.loads(_c01()), "extra": 1}), (), "<stdin>: extra: unknown key"),
        (_c01(at="2026-02-30T10:00:00+01:00"), (), "call.at: not an ISO 8601 date-time, or an impossible one"),
        (_c01(at="2026-11-24T10:30:00"), (), "call.at: date-time without a UTC offset"),
        (_c01(number="+33 6 12"), (), "call.number: impossible phone number"),
        (_c01(number="not a number"), (), "call.number: unparsable phone number"),
        (_c01(direction="sideways"), (), "call.direction"),
        ("[]", (), "<stdin>: expected a JSON object"),
        (_c01(), ("--set", "frequency_kap=3"), "unknown policy parameter 'frequency_kap'"),
        (_c01(), ("--set", "frequency_cap=three"), "frequency_cap: the value must be a JSON literal"),
        (_c01(), ("--set", 'max_sync_age="24h"'), "max_sync_age: not an ISO 8601 duration"),
    ],
)
def test_bad_evaluate_input_is_one_line(tmp_path: Path, stdin: str, args: tuple[str, ...], message: str) -> None:
    result = run("consent", "evaluate", "-", *args, data_dir=tmp_path, stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_corrupt_policy_pack_is_one_line(tmp_path: Path) -> None:
    pack = tmp_path / "pack.toml"
    text = (Path(__file__).parents[2] / "assets" / "policies" / "fr.toml").read_text(encoding="utf-8")
    pack.write_text(text.replace("frequency_cap = 4", "frequency_cap = -1"), encoding="utf-8")
    result = run("consent", "evaluate", str(DATA / "consent" / "C01.json"), "--policy", str(pack), data_dir=tmp_path)
    assert result.returncode == 2
    assert "parameters.frequency_cap" in result.stderr and result.stderr.count("\n") == 1


def test_record_check_revoke_proof_verify(tmp_path: Path) -> None:
    home = tmp_path / "home"
    common = ("--professional", "ACME Énergie SAS")
    recorded = run(
        "consent",
        "record",
        "--number",
        "06 39 98 00 01",
        *common,
        "--products",
        "electricity,gas",
        "--collected-at",
        "2026-09-01T15:02:00+02:00",
        "--method",
        "web_form",
        "--evidence-ref",
        "wf-8812",
        "--text-shown",
        "J'accepte.",
        "--consent-id",
        "K1",
        "--json",
        data_dir=home,
    )
    assert recorded.returncode == 0, recorded.stderr
    assert json.loads(recorded.stdout) == {"consent_id": "K1", "outcome": "inserted"}
    check_args = (
        "consent",
        "check",
        "+33639980001",
        "--product",
        "electricity",
        *common,
        "--at",
        "2026-11-24T10:30:00+01:00",
        "--caller-id",
        "+33162000001",
        "--json",
    )
    allowed = json.loads(run(*check_args, data_dir=home).stdout)
    assert allowed["verdict"] == "allowed" and allowed["valid_until"] == "2026-11-24T13:00:00+01:00"
    revoked = run(
        "consent",
        "revoke",
        "--number",
        "+33639980001",
        *common,
        "--at",
        "2026-11-10T10:42:00+01:00",
        "--consent-id",
        "K1",
        data_dir=home,
    )
    assert revoked.returncode == 0, revoked.stderr
    forbidden = json.loads(run(*check_args, data_dir=home).stdout)
    assert forbidden["verdict"] == "forbidden" and forbidden["reasons"][0]["code"] == "CONSENT_REVOKED"
    proof_file = tmp_path / "proof.json"
    proof = run("consent", "proof", "--consent-id", "K1", "-o", str(proof_file), data_dir=home)
    assert proof.returncode == 0, proof.stderr
    exported = json.loads(proof_file.read_text(encoding="utf-8"))
    consent = exported["consents"][0]
    assert consent["content"]["evidence_ref"] == "wf-8812" and consent["content"]["text_shown"] == "J'accepte."
    assert [event["kind"] for event in consent["events"]] == ["given", "withdrawn"]
    assert exported["ledger"]["ok"] is True
    verified = run("consent", "verify-ledger", "--json", data_dir=home)
    assert verified.returncode == 0
    assert json.loads(verified.stdout)["entries"] == 3  # given, withdrawn, proof_exported


def test_tampered_ledger_exits_3(tmp_path: Path) -> None:
    import sqlite3

    home = tmp_path / "home"
    run("consent", "object", "--number", "+33639980001", "--professional", "ACME", data_dir=home)
    conn = sqlite3.connect(home / "agent-assist.sqlite3")
    conn.execute("DROP TRIGGER consent_events_append_only_update")
    conn.execute('UPDATE consent_events SET payload = \'{"scope": "all"}\'')
    conn.commit()
    conn.close()
    result = run("consent", "verify-ledger", data_dir=home)
    assert result.returncode == 3
    assert result.stderr.strip() == "agent-assist: error: ledger broken: ledger entry 1: content was altered"


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (("consent", "check", "+33639980001", "--product", "x"), "--professional: missing", 2),
        (("consent", "check", "12", "--product", "x", "--professional", "A"), "impossible phone number", 2),
        (
            ("consent", "check", "+33639980001", "--product", "x", "--professional", "A", "--at", "2026-11-24"),
            "without a UTC offset",
            2,
        ),
        (
            ("consent", "revoke", "--number", "+33639980001", "--professional", "A", "--consent-id", "nope"),
            "consent 'nope' of this number not found",
            4,
        ),
        (("consent", "proof", "--consent-id", "nope"), "no consent on record", 4),
        (("consent", "frobnicate"), "invalid choice", 2),
    ],
)
def test_bad_command_input_changes_nothing(tmp_path: Path, args: tuple[str, ...], message: str, code: int) -> None:
    home = tmp_path / "home"
    before = table_counts(home)
    result = run(*args, data_dir=home)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1
    after = table_counts(home)
    assert {table: count for table, count in after.items() if count} == {t: c for t, c in before.items() if c}


def test_demo_runs_the_pipeline(tmp_path: Path) -> None:
    result = run("demo", "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    demo = json.loads(result.stdout)
    verdicts = [(call["verdict"], call["reasons"][0]["code"]) for call in demo["calls"]]
    assert verdicts == [
        ("allowed", "VALID_CONSENT"),
        ("contract_only", "CONTRACT_RELATED"),
        ("forbidden", "CONSENT_REVOKED"),
        ("forbidden", "NO_VALID_CONSENT"),
        ("forbidden", "FREQUENCY_CAP"),
        ("forbidden", "WEEKEND"),
        ("allowed", "OUT_OF_SCOPE_INBOUND"),
        ("forbidden", "OPPOSITION_LIST_REGISTERED"),
    ]
    assert demo["ledger"]["ok"] is True
    human = run("demo", data_dir=tmp_path)
    assert human.returncode == 0 and "INTERDIT" in human.stdout
