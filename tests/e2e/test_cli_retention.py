"""``agent-assist retention purge`` as a subprocess on a real store, under a temporary machine policy."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.config import Retention, Settings, save_settings
from desktop.core.consent.policy import load_policy
from desktop.core.store.consents import ConsentRecord, record_consent
from desktop.core.store.db import open_store
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallDesk, StationDefaults
from desktop.machine_policy import NO_POLICY

NUMBER = "+33639980001"
WORDS = "mon numéro de client est le 77 12 45"


def run(*args: str, data_dir: Path, policy: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_ASSIST_HOME": str(data_dir), "AGENT_ASSIST_POLICY": str(policy)}
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def make_calls(data_dir: Path, *ages_days: int) -> None:
    """One finished call per age (days before now), each with two segments and a validated summary."""
    now = dt.datetime.now(dt.UTC)
    with open_store(data_dir) as store:
        record = ConsentRecord(
            number=NUMBER,
            professional="ACME Énergie SAS",
            products=("electricity",),
            collected_at=now - dt.timedelta(days=500),
            method="web_form",
            affirmative_act=True,
            pre_ticked=False,
            evidence_ref="wf",
            text_shown="J'accepte.",
        )
        record_consent(store.conn, record, source="test")
        defaults = StationDefaults(professional="ACME Énergie SAS", product="electricity", agent_id="agent-7")
        desk = CallDesk(store.conn, load_policy(), defaults)
        for index, days in enumerate(ages_days):
            started = now - dt.timedelta(days=days)
            change = desk.handle(CallEvent(kind="ringing", at=started, call_id=f"c{index}", number=NUMBER))
            assert change is not None
            desk.handle(CallEvent(kind="answered", at=started + dt.timedelta(seconds=3), call_id=f"c{index}"))
            desk.add_segment(change.session, "customer", WORDS, 3.0, 6.0)
            desk.add_segment(change.session, "agent", "Merci, je note.", 6.5, 7.5)
            desk.handle(CallEvent(kind="ended", at=started + dt.timedelta(seconds=40), call_id=f"c{index}"))
            desk.save_summary(change.session, {"reason": WORDS}, validated_by="agent-7")


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text("", encoding="utf-8")
    return path


def test_dry_run_then_purge_then_the_ledger_still_verifies(data_dir: Path, policy: Path) -> None:
    make_calls(data_dir, 400, 200, 3)
    dry = run("retention", "purge", "--dry-run", "--json", data_dir=data_dir, policy=policy)
    assert dry.returncode == 0, dry.stderr
    counted = json.loads(dry.stdout)
    assert counted["dry_run"] is True
    assert (counted["transcript_segments"], counted["transcript_calls"], counted["summaries"]) == (4, 2, 1)
    again = json.loads(run("retention", "purge", "--dry-run", "--json", data_dir=data_dir, policy=policy).stdout)
    assert again["transcript_segments"] == 4  # the dry run changed nothing

    done = run("retention", "purge", data_dir=data_dir, policy=policy)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("purged: 4 transcript segments of 2 calls")
    assert done.stdout.rstrip().endswith("consent proofs kept")
    assert WORDS not in done.stdout + done.stderr

    verified = run("consent", "verify-ledger", "--json", data_dir=data_dir, policy=policy)
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"] is True
    listed = run("calls", "list", "--json", data_dir=data_dir, policy=policy)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)["calls"]) == 3  # the calls themselves stay
    after = json.loads(run("retention", "purge", "--json", data_dir=data_dir, policy=policy).stdout)
    assert after["transcript_segments"] == 0 and after["summaries"] == 0


def test_a_locked_retention_in_the_machine_policy_wins(data_dir: Path, policy: Path) -> None:
    make_calls(data_dir, 10)
    save_settings(data_dir, Settings(retention=Retention(transcripts="P1Y")), NO_POLICY)
    assert json.loads(run("retention", "purge", "--json", data_dir=data_dir, policy=policy).stdout)["summaries"] == 0
    policy.write_text('locked = ["retention.transcripts"]\n[settings.retention]\ntranscripts = "P7D"\n')
    report = json.loads(run("retention", "purge", "--json", data_dir=data_dir, policy=policy).stdout)
    assert (report["transcript_segments"], report["summaries"]) == (2, 0)


@pytest.mark.parametrize("command", [("retention", "purge"), ("consent", "evaluate", "--lang", "fr", "-")])
def test_a_malformed_policy_stops_every_command_with_one_line(
    data_dir: Path, policy: Path, command: tuple[str, ...]
) -> None:
    policy.write_text('[settings.retention]\ntranscripts = "six mois"\n')
    done = run(*command, data_dir=data_dir, policy=policy)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"agent-assist: error: machine policy {policy}, line 2: settings.retention.transcripts:"
        " not an ISO 8601 duration: 'six mois'\n"
    )
