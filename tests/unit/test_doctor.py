"""``agent-assist doctor``'s checks, one by one, on real files, a real SQLite store and a fake ctrl_tcp server."""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop import doctor
from desktop.config import Crm, Retention, Settings, Telephony, save_settings
from desktop.core.crm.contract import Health
from desktop.core.models import Manifest
from desktop.core.store.consents import ConsentRecord, record_consent
from desktop.core.store.db import DB_NAME, open_store
from desktop.core.telephony.baresip import NetstringDecoder, encode
from desktop.machine_policy import NO_POLICY, POLICY_ENV

WEIGHTS = bytes(range(256)) * 64
CONFIG = b'{"tiny": true}\n'


@pytest.fixture(autouse=True)
def _no_machine_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-policy.toml"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv(POLICY_ENV, str(empty))


def healthy_store(data_dir: Path) -> Path:
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
    return data_dir / DB_NAME


# -- policy and settings -----------------------------------------------------------------------------------------


def test_policy_absent_valid_and_malformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert doctor.check_policy().status == "ok"
    policy = tmp_path / "policy.toml"
    policy.write_text('locked = ["crm.endpoint"]\n[settings.crm]\nendpoint = "https://crm.example.com"\n')
    monkeypatch.setenv(POLICY_ENV, str(policy))
    result = doctor.check_policy()
    assert result.status == "ok" and "sets 1 keys, locks 1" in result.message
    policy.chmod(0o666)
    writable = doctor.check_policy()
    assert writable.status == "warning" and "could unlock settings" in writable.message
    policy.chmod(0o644)
    policy.write_text('[settings.crm]\nendpont = "https://crm.example.com"\n')
    result = doctor.check_policy()
    assert result.status == "failed" and "line 2: settings.crm.endpont: unknown key" in result.message
    assert result.action is not None and "docs/policy.md" in result.action
    settings_result, settings = doctor.check_settings(tmp_path / "data")
    assert settings_result.status == "ok" and settings == Settings()  # the other checks still run


def test_settings_that_do_not_load_fail(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_text("always_on_tpo = true\n")
    result, settings = doctor.check_settings(data_dir)
    assert result.status == "failed" and "always_on_tpo" in result.message and settings is None
    assert doctor.check_softphone(None).status == "warning" and doctor.check_crm(None).status == "warning"


def test_retention_beyond_the_cnil_references_warns() -> None:
    assert doctor.check_retention(Settings()).status == "ok"
    result = doctor.check_retention(Settings(retention=Retention(transcripts="P1Y", summaries="P2Y")))
    assert result.status == "warning"
    assert "transcripts P1Y > P6M" in result.message and "summaries P2Y > P1Y" in result.message


# -- models ------------------------------------------------------------------------------------------------------


def tiny_manifest() -> Manifest:
    files = [
        {"path": "config.json", "size": len(CONFIG), "sha256": hashlib.sha256(CONFIG).hexdigest()},
        {"path": "model.bin", "size": len(WEIGHTS), "sha256": hashlib.sha256(WEIGHTS).hexdigest()},
    ]
    model = {
        "role": "speech",
        "description": "a fake model",
        "format": "ctranslate2",
        "runtime": "faster-whisper",
        "licence": "MIT",
        "licence_url": "https://example.org/licence",
        "files": files,
    }
    return Manifest.model_validate({"schema": 1, "defaults": {"speech": "tiny"}, "models": {"tiny": model}})


def test_models_verified_flipped_and_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENT_ASSIST_MODELS", raising=False)
    manifest = tiny_manifest()
    settings = Settings(models_dir=str(tmp_path / "machine-models"))
    absent = doctor.check_models(tmp_path / "data", settings, manifest=manifest)
    assert absent.status == "warning" and "models install tiny" in (absent.action or "")
    folder = tmp_path / "machine-models" / "tiny"
    folder.mkdir(parents=True)
    (folder / "config.json").write_bytes(CONFIG)
    (folder / "model.bin").write_bytes(WEIGHTS)
    verified = doctor.check_models(tmp_path / "data", settings, manifest=manifest)
    assert verified.status == "ok" and "tiny verified by sha256" in verified.message
    flipped = bytearray(WEIGHTS)
    flipped[1000] ^= 0x01
    (folder / "model.bin").write_bytes(bytes(flipped))
    broken = doctor.check_models(tmp_path / "data", settings, manifest=manifest)
    assert broken.status == "failed" and "tiny does not verify: model.bin: sha256 mismatch" in broken.message
    assert broken.action == "run agent-assist models install tiny --force"


# -- softphone ---------------------------------------------------------------------------------------------------


class FakeCtrlTcp:
    """A ctrl_tcp double: answers each command frame with baresip's response JSON (or stays silent)."""

    def __init__(self, *, answer: bool) -> None:
        self.answer = answer
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.commands: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.server.accept()
        with connection:
            decoder = NetstringDecoder()
            connection.sendall(encode(b'{"event":true,"type":"REGISTER_OK","class":"register"}'))
            while data := connection.recv(4096):
                for frame in decoder.feed(data):
                    assert isinstance(frame, bytes)
                    self.commands.append(frame)
                    if self.answer:
                        token = frame.split(b'"token":"')[1].split(b'"')[0]
                        connection.sendall(encode(b'{"response":true,"ok":true,"data":"","token":"' + token + b'"}'))
                if not self.answer:
                    connection.recv(4096)  # hold the line open until the doctor gives up

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def ctrl_tcp() -> Iterator[FakeCtrlTcp]:
    server = FakeCtrlTcp(answer=True)
    yield server
    server.close()


def test_softphone_answers(ctrl_tcp: FakeCtrlTcp) -> None:
    settings = Settings(telephony=Telephony(sources=("baresip",), baresip_port=ctrl_tcp.port))
    result = doctor.check_softphone(settings, timeout_s=5)
    assert result.status == "ok" and f"127.0.0.1:{ctrl_tcp.port}" in result.message
    assert ctrl_tcp.commands and b'"command":"listcalls"' in ctrl_tcp.commands[0]


def test_softphone_silent_refused_or_not_a_source() -> None:
    silent = FakeCtrlTcp(answer=False)
    try:
        settings = Settings(telephony=Telephony(sources=("baresip",), baresip_port=silent.port))
        result = doctor.check_softphone(settings, timeout_s=0.5)
        assert result.status == "failed" and "does not answer like baresip" in result.message
    finally:
        silent.close()
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    refused = doctor.check_softphone(Settings(telephony=Telephony(baresip_port=port)), timeout_s=1)
    assert refused.status == "failed" and f"not reachable at 127.0.0.1:{port}" in refused.message
    assert "ctrl_tcp" in (refused.action or "")
    skipped = doctor.check_softphone(Settings(telephony=Telephony(sources=("hooks", "api"))))
    assert skipped.status == "ok" and "not a call source" in skipped.message


# -- CRM ---------------------------------------------------------------------------------------------------------


class FakeConnector:
    name = "webhook"

    def __init__(self, health: Health) -> None:
        self._health = health
        self.closed = False

    def health(self) -> Health:
        return self._health

    def close(self) -> None:
        self.closed = True


def test_crm_not_configured_is_a_warning() -> None:
    result = doctor.check_crm(Settings())
    assert result.status == "warning" and "not configured" in result.message


def test_crm_health_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.core.crm import connectors, credentials

    settings = Settings(crm=Crm(connector="webhook", endpoint="https://crm.example.com/hooks"))
    seen: dict[str, Any] = {}
    made: list[FakeConnector] = []

    def get_secret(connector: str, endpoint: str) -> str | None:
        seen["asked"] = (connector, endpoint)
        return "s3cret"

    def make(crm: Crm, secret: str | None) -> FakeConnector:
        seen["secret"] = secret
        made.append(FakeConnector(health))
        return made[-1]

    monkeypatch.setattr(credentials, "get_secret", get_secret)
    monkeypatch.setattr(connectors, "make_connector", make)
    health = Health(ok=True, connector="webhook", endpoint="https://crm.example.com/hooks", latency_ms=12.4)
    result = doctor.check_crm(settings)
    assert result.status == "ok" and "answers in 12 ms (credentials stored)" in result.message
    assert seen == {"asked": ("webhook", "https://crm.example.com/hooks"), "secret": "s3cret"} and made[0].closed
    assert "s3cret" not in result.line()
    health = Health(ok=False, connector="webhook", endpoint="x", message="HTTP 401: credentials refused")
    refused = doctor.check_crm(settings)
    assert refused.status == "failed" and "credentials refused" in refused.message


def test_crm_without_a_keyring_or_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.core.crm import connectors, credentials
    from desktop.core.errors import InputError

    settings = Settings(crm=Crm(connector="webhook", endpoint="https://crm.example.com/hooks"))

    def no_keyring(connector: str, endpoint: str) -> str | None:
        raise credentials.KeyringUnavailableError("no usable keyring: install gnome-keyring")

    monkeypatch.setattr(credentials, "get_secret", no_keyring)
    result = doctor.check_crm(settings)
    assert result.status == "failed" and "no usable keyring" in result.message

    def incomplete(crm: Crm, secret: str | None) -> None:
        raise InputError("webhook: a token is required")

    monkeypatch.setattr(credentials, "get_secret", lambda connector, endpoint: None)
    monkeypatch.setattr(connectors, "make_connector", incomplete)
    missing = doctor.check_crm(settings)
    assert missing.status == "failed" and "no credentials stored" in missing.message


# -- database, ledger, permissions, disk -------------------------------------------------------------------------


def test_database_and_ledger_of_a_healthy_store(data_dir: Path) -> None:
    healthy_store(data_dir)
    database = doctor.check_database(data_dir)
    assert database.status == "ok" and "integrity ok" in database.message
    ledger = doctor.check_ledger(data_dir)
    assert ledger.status == "ok" and "1 entries, 1 consents" in ledger.message


def test_no_database_yet(data_dir: Path) -> None:
    assert doctor.check_database(data_dir).status == "warning"
    assert doctor.check_ledger(data_dir).status == "ok"


def test_a_flipped_byte_in_the_database_fails_the_integrity_check(data_dir: Path) -> None:
    path = healthy_store(data_dir)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[page_size * 2] ^= 0xFF  # page 3's b-tree page type: no longer a page SQLite knows
    path.write_bytes(bytes(data))
    result = doctor.check_database(data_dir)
    assert result.status == "failed" and str(path) in result.message
    assert "stop the app" in (result.action or "")


def test_a_tampered_ledger_fails(data_dir: Path) -> None:
    path = healthy_store(data_dir)
    with sqlite3.connect(path) as conn:  # what someone editing the file by hand could do
        conn.execute("DROP TRIGGER consent_events_append_only_update")
        conn.execute("UPDATE consent_events SET at = '2026-01-01T00:00:00+00:00' WHERE seq = 1")
    result = doctor.check_ledger(data_dir)
    assert result.status == "failed" and "ledger entry 1: content was altered" in result.message
    assert doctor.check_database(data_dir).status == "ok"  # SQLite's structure is fine: only the chain sees it


@pytest.mark.parametrize(("folder_mode", "db_mode", "status"), [(0o700, 0o600, "ok"), (0o750, 0o600, "warning"),
                                                                 (0o755, 0o600, "failed"), (0o700, 0o644, "failed")])  # fmt: skip
def test_permissions(data_dir: Path, folder_mode: int, db_mode: int, status: str) -> None:
    path = healthy_store(data_dir)
    data_dir.chmod(folder_mode)
    path.chmod(db_mode)
    result = doctor.check_permissions(data_dir)
    assert result.status == status
    if status != "ok":
        assert f"{db_mode:04o}" in result.message or f"{folder_mode:04o}" in result.message
        assert result.action is not None and "chmod 700" in result.action


def test_disk_thresholds(tmp_path: Path) -> None:
    assert doctor.check_disk(tmp_path / "not-yet", failed_below=0, warning_below=0).status == "ok"
    assert doctor.check_disk(tmp_path, failed_below=0, warning_below=1 << 60).status == "warning"
    low = doctor.check_disk(tmp_path, failed_below=1 << 60)
    assert low.status == "failed" and "retention purge" in (low.action or "")


# -- all together ------------------------------------------------------------------------------------------------


def test_a_healthy_station_is_fit(data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENT_ASSIST_MODELS", str(tmp_path / "no-models"))
    healthy_store(data_dir)
    save_settings(data_dir, Settings(telephony=Telephony(sources=("hooks", "api"))), NO_POLICY)
    results = doctor.run_checks(data_dir)
    names = [result.name for result in results]
    assert names == ["policy", "settings", "database", "ledger", "permissions", "disk", "models", "softphone", "crm",
                     "retention"]  # fmt: skip
    assert doctor.fit(results), [result.line() for result in results if result.status == "failed"]
    assert not doctor.fit(results, strict=True)  # no model and no CRM: warnings
    assert {result.name for result in results if result.status == "warning"} == {"models", "crm"}


def test_a_check_that_crashes_is_reported_not_raised(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(_data_dir: Path) -> doctor.CheckResult:
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "check_database", explode)
    results = doctor.run_checks(data_dir)
    database = next(result for result in results if result.name == "database")
    assert database.status == "failed" and "RuntimeError: boom" in database.message
    assert not doctor.fit(results)
