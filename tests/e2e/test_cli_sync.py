"""``agent-assist sync status|run|retry|secret`` as IT runs them: a real process over a seeded outbox."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.config import Crm, Settings, save_settings
from desktop.core.crm.outbox import enqueue
from desktop.core.crm.worker import SyncWorker
from desktop.core.store.db import open_store, transaction
from tests.support.fake_crm import FakeConnector
from tests.unit.core.crm.test_worker import consent, interaction

ENDPOINT = "http://127.0.0.1:9/crm"  # the discard port: nothing listens there


def run(*args: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AGENT_ASSIST_HOME": str(data_dir),
        # keyrings.alt's file backend under the test's XDG_DATA_HOME stands in for the OS keyring.
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
    }
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        input=stdin,
    )


def configure(data_dir: Path, **crm: object) -> None:
    save_settings(data_dir, Settings(crm=Crm(**crm)))  # type: ignore[arg-type]


@pytest.fixture
def seeded(data_dir: Path) -> Path:
    """Four entries: one sent, one parked with the CRM's message, two pending."""
    fake = FakeConnector()
    fake.reject["call-0002"] = "400: A call with this external ID already exists."
    with open_store(data_dir) as store:
        with transaction(store.conn):
            enqueue(store.conn, consent(1, "withdrawn"))
            enqueue(store.conn, interaction(2))
        SyncWorker(lambda: store.conn, fake, Crm()).push_once()
        with transaction(store.conn):
            enqueue(store.conn, interaction(3))
            enqueue(store.conn, interaction(4))
    return data_dir


def test_status_as_json_and_for_people(seeded: Path) -> None:
    configure(seeded, connector="tryton", endpoint=ENDPOINT, station_id="poste-12")
    done = run("sync", "status", "--json", data_dir=seeded)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert (status["pending"], status["parked"], status["connector"], status["endpoint"]) == (2, 1, "tryton", ENDPOINT)
    assert status["counts"]["consent_event"]["sent"] == 1 and status["credentials"] is False
    assert status["parked_entries"][0]["message"] == "400: A call with this external ID already exists."
    assert "+336" not in done.stdout
    human = run("sync", "status", data_dir=seeded)
    assert human.returncode == 0 and "credentials MISSING" in human.stdout
    assert "parked #2 interaction call-0002" in human.stdout


def test_retry_puts_parked_entries_back(seeded: Path) -> None:
    missing = run("sync", "retry", "99", data_dir=seeded)
    assert missing.returncode == 4 and missing.stderr.strip() == "agent-assist: error: outbox entry 99 not found"
    pending = run("sync", "retry", "3", data_dir=seeded)
    assert pending.returncode == 2 and "outbox entry 3 is pending, not parked" in pending.stderr
    assert len(pending.stderr.strip().splitlines()) == 1
    done = run("sync", "retry", "2", "--json", data_dir=seeded)
    assert done.returncode == 0 and json.loads(done.stdout) == {"requeued": 1}
    again = run("sync", "retry", "--all-parked", data_dir=seeded)
    assert again.returncode == 0 and "0 entries back in the queue" in again.stdout
    status = json.loads(run("sync", "status", "--json", data_dir=seeded).stdout)
    assert (status["pending"], status["parked"]) == (3, 0)


def test_secret_set_and_delete_go_through_the_keyring(data_dir: Path) -> None:
    unset = run("sync", "secret", "set", data_dir=data_dir, stdin="s3cret\n")
    assert unset.returncode == 2 and 'connector is "none"' in unset.stderr
    configure(data_dir, connector="tryton", endpoint=ENDPOINT)
    stored = run("sync", "secret", "set", data_dir=data_dir, stdin="s3cret-key\n")
    assert stored.returncode == 0, stored.stderr
    assert "s3cret" not in stored.stdout + stored.stderr
    assert "s3cret" not in (data_dir / "settings.toml").read_text(encoding="utf-8")
    assert json.loads(run("sync", "status", "--json", data_dir=data_dir).stdout)["credentials"] is True
    empty = run("sync", "secret", "set", data_dir=data_dir, stdin="\n")
    assert empty.returncode == 2
    removed = run("sync", "secret", "delete", "--json", data_dir=data_dir)
    assert json.loads(removed.stdout)["removed"] is True
    assert json.loads(run("sync", "secret", "delete", "--json", data_dir=data_dir).stdout)["removed"] is False
    assert json.loads(run("sync", "status", "--json", data_dir=data_dir).stdout)["credentials"] is False


def test_run_needs_a_crm(seeded: Path) -> None:
    done = run("sync", "run", data_dir=seeded)
    assert done.returncode == 2 and 'connector is "none"' in done.stderr
    bad = run("sync", "run", "--timeout", "-1", data_dir=seeded)
    assert bad.returncode == 2 and "must be 0 or more" in bad.stderr


def test_run_against_an_unreachable_crm_keeps_everything_and_exits_5(seeded: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configure(seeded, connector="tryton", endpoint=f"http://127.0.0.1:{port}/crm", timeout_s=2)
    assert run("sync", "secret", "set", data_dir=seeded, stdin="key\n").returncode == 0
    done = run("sync", "run", "--json", "--timeout", "1", data_dir=seeded)
    assert done.returncode == 5, done.stderr
    report = json.loads(done.stdout)
    assert report["drained"] is False and report["pending"] == 2 and report["push"]["problem"] == "unreachable"
    assert report["pull_problem"]
    status = json.loads(run("sync", "status", "--json", data_dir=seeded).stdout)
    assert status["pending"] == 2 and status["problem"].startswith("unreachable")
