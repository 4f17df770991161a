"""The machine policy: where it is, what a malformed one says, and how it combines with settings.toml."""

from __future__ import annotations

import logging
import sys
import tomllib
from pathlib import Path

import pytest

from desktop import machine_policy
from desktop.config import SETTINGS_FILE, Crm, Settings, Station, Telephony, load_settings, save_settings
from desktop.core.models import models_root
from desktop.machine_policy import (
    NO_POLICY,
    POLICY_ENV,
    MalformedPolicyError,
    find_line,
    load_machine_policy,
    policy_path,
)

POLICY = """\
# ACME call centre, Casablanca site
locked = ["crm.connector", "crm.endpoint", "telephony.on_forbidden_dial", "retention", "station.professional"]

[settings]
models_dir = "/opt/agent-assist/models"
policy_pack = "/opt/agent-assist/packs/acme.toml"

[settings.station]
professional = "ACME Énergie SAS"
product = "electricity"

[settings.crm]
connector = "webhook"
endpoint = "https://crm.example.com/hooks/agent-assist"

[settings.telephony]
sources = ["baresip"]
on_forbidden_dial = "hangup"

[settings.retention]
transcripts = "P3M"
"""


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "etc" / "policy.toml"
    path.parent.mkdir()
    path.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv(POLICY_ENV, str(path))
    return path


def write_policy(path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv(POLICY_ENV, str(path))
    return path


# -- where -------------------------------------------------------------------------------------------------------


def test_the_machine_folders_of_each_os(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(POLICY_ENV, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert policy_path() == Path("/etc/agent-assist/policy.toml")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert policy_path() == Path("/Library/Application Support/AgentAssist/policy.toml")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("PROGRAMDATA", "D:\\ProgramData")
    assert policy_path() == Path("D:\\ProgramData") / "AgentAssist" / "policy.toml"
    monkeypatch.setenv(POLICY_ENV, "/srv/trial/policy.toml")
    assert policy_path() == Path("/srv/trial/policy.toml")


def test_no_file_at_the_machine_folder_means_no_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(POLICY_ENV, raising=False)
    monkeypatch.setattr(machine_policy, "policy_path", lambda: tmp_path / "absent" / "policy.toml")
    assert load_machine_policy() is NO_POLICY and not NO_POLICY.present


def test_a_missing_file_named_by_the_environment_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(POLICY_ENV, str(tmp_path / "typo.toml"))
    with pytest.raises(MalformedPolicyError, match=f"typo.toml: no such file \\(set by {POLICY_ENV}\\)"):
        load_machine_policy()


def test_an_empty_file_is_a_policy_that_sets_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = write_policy(tmp_path / "policy.toml", "# nothing yet\n", monkeypatch)
    loaded = load_machine_policy()
    assert loaded.present and loaded.path == empty and not loaded.values and not loaded.locked


# -- malformed ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[settings]\nlanguage = "fr\n', 'line 2: not valid TOML: Illegal character "\\n" (column 15)'),
        ("mystery = 1\n", 'line 1: mystery: unknown key (expected "locked" and a [settings] table)'),
        ('[settings.crm]\nconnector = "tryton"\nendpont = "x"\n', "line 3: settings.crm.endpont: unknown key"),
        (
            '[settings]\nlanguage = "fr"\n[settings.telephony]\nbaresip_port = "4444"\n',
            "line 4: settings.telephony.baresip_port: Input should be a valid integer",
        ),
        (
            '[settings.telephony]\nsources = ["baresip", "skype"]\n',
            "line 2: settings.telephony.sources.1: Input should be 'baresip', 'hooks' or 'api'",
        ),
        ('[settings.retention]\ntranscripts = "6 months"\n', "line 2: settings.retention.transcripts: not an ISO"),
        ('\n\nlocked = ["crm.endpont"]\n', "line 3: locked: 'crm.endpont' is not a setting"),
        (
            "[settings.station]\nproduct = 2026-08-11\n",
            "line 2: settings.station.product: Input should be a valid string",
        ),
        ('locked = "crm.endpoint"\n', "line 1: locked: must be a list of setting names"),
        ('settings = "all"\n', "line 1: settings: must be a table"),
    ],
)
def test_a_malformed_policy_names_the_file_the_line_and_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    path = write_policy(tmp_path / "policy.toml", text, monkeypatch)
    with pytest.raises(MalformedPolicyError) as raised:
        load_machine_policy()
    message = str(raised.value).replace("'\\n'", '"\\n"')
    assert message.startswith(f"machine policy {path}, ")
    assert expected in message
    assert "\n" not in str(raised.value)
    with pytest.raises(MalformedPolicyError):  # the settings refuse to load: the app and the CLI stop on it
        load_settings(tmp_path / "data")


def test_find_line_understands_tables_and_dotted_keys() -> None:
    text = '[settings]\ncrm.endpoint = "x"\n[settings.telephony]\n"sources" = []\n'
    assert find_line(text, "settings.crm.endpoint") == 2
    assert find_line(text, "settings.telephony.sources") == 4
    assert find_line(text, "settings.telephony") == 3
    assert find_line(text, "settings.station.product") is None


# -- precedence --------------------------------------------------------------------------------------------------


def test_effective_settings_are_defaults_then_policy_then_user_then_locked(
    policy_file: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / SETTINGS_FILE).write_text(
        'models_dir = "/home/me/models"\n'
        '[station]\nprofessional = "Autre SAS"\nagent_id = "agent-7"\n'
        '[crm]\nendpoint = "https://evil.example.net/"\n'
        '[telephony]\nsources = ["hooks"]\non_forbidden_dial = "warn"\n',
        encoding="utf-8",
    )
    with caplog.at_level(logging.INFO, logger="agent_assist.config"):
        settings = load_settings(data_dir)
    assert settings.models_dir == "/home/me/models"  # a machine default the user changed
    assert settings.policy_pack == "/opt/agent-assist/packs/acme.toml"  # a machine default the user left
    assert settings.station == Station(professional="ACME Énergie SAS", product="electricity", agent_id="agent-7")
    assert settings.crm == Crm(connector="webhook", endpoint="https://crm.example.com/hooks/agent-assist")
    assert settings.telephony.sources == ("hooks",)
    assert settings.telephony.on_forbidden_dial == "hangup"
    assert settings.retention.transcripts == "P3M" and settings.retention.summaries == "P1Y"
    overridden = sorted(record.getMessage() for record in caplog.records if "locked" in record.getMessage())
    assert len(overridden) == 3 and all(record.levelno == logging.INFO for record in caplog.records)
    assert ["crm.endpoint" in overridden[0], "station.professional" in overridden[1]] == [True, True]
    logged = "\n".join(overridden)
    assert "evil" not in logged and "Autre" not in logged and "warn" not in logged  # names, never values


def test_a_locked_key_without_a_policy_value_is_locked_to_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    write_policy(tmp_path / "policy.toml", 'locked = ["always_on_top"]\n', monkeypatch)
    save_settings(data_dir, Settings(always_on_top=False, language="en"))
    assert load_settings(data_dir) == Settings(language="en")


def test_is_locked_by_key_and_by_block(policy_file: Path) -> None:
    loaded = load_machine_policy()
    assert (
        loaded.is_locked("crm.endpoint") and loaded.is_locked("retention") and loaded.is_locked("retention.recordings")
    )
    assert not loaded.is_locked("crm") and not loaded.is_locked("crm.proxy") and not loaded.is_locked("language")
    assert loaded.to_json()["locked"][0] == "crm.connector"


def test_saving_never_writes_machine_values_into_the_users_file(policy_file: Path, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / SETTINGS_FILE).write_text('[crm]\nendpoint = "https://mine.example.org"\n', encoding="utf-8")
    effective = load_settings(data_dir)
    edited = effective.model_copy(
        update={"language": "en", "telephony": effective.telephony.model_copy(update={"baresip_port": 5060})}
    )
    save_settings(data_dir, edited)
    written = tomllib.loads((data_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert written["crm"]["endpoint"] == "https://mine.example.org"  # the user's own value, kept under the lock
    assert "connector" not in written["crm"] and "professional" not in written["station"]
    assert "retention" not in written or written["retention"] == {}
    assert "policy_pack" not in written and "sources" not in written["telephony"]  # still following IT's defaults
    assert written["language"] == "en" and written["telephony"]["baresip_port"] == 5060
    assert load_settings(data_dir) == edited


def test_without_a_policy_nothing_changes(data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(POLICY_ENV, raising=False)
    monkeypatch.setattr(machine_policy, "policy_path", lambda: tmp_path / "none.toml")
    settings = Settings(telephony=Telephony(sources=("api",)), crm=Crm(connector="tryton", endpoint="http://t:8000/db"))
    save_settings(data_dir, settings)
    assert load_settings(data_dir) == settings


def test_the_models_folder_setting_is_honoured(
    policy_file: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENT_ASSIST_MODELS", raising=False)
    settings = load_settings(data_dir)
    assert models_root(data_dir, settings.models_dir) == Path("/opt/agent-assist/models")
    assert models_root(data_dir, None) == data_dir / "models"
    monkeypatch.setenv("AGENT_ASSIST_MODELS", str(data_dir / "env-models"))
    assert models_root(data_dir, settings.models_dir) == data_dir / "env-models"  # the environment still wins
