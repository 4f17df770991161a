from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.config import SETTINGS_FILE, Settings, Station, Telephony, dumps_toml, load_settings, save_settings
from desktop.core.errors import InputError


def test_defaults_without_a_file(data_dir: Path) -> None:
    settings = load_settings(data_dir)
    assert settings == Settings()
    assert (settings.language, settings.always_on_top, settings.station.professional) == ("fr", True, None)


def test_save_then_load_round_trips(data_dir: Path) -> None:
    settings = Settings(
        language="en",
        always_on_top=False,
        policy_pack="/etc/agent-assist/policy.toml",
        station=Station(
            professional='ACME "Énergie" SAS\\Nord',
            caller_id="+33162000001",
            product="electricity",
            agent_id="agent-7\tbis\x7f",
        ),
        telephony=Telephony(sources=("api", "baresip"), baresip_port=5555, on_forbidden_dial="hangup"),
    )
    path = save_settings(data_dir, settings)
    assert path == data_dir / SETTINGS_FILE
    assert load_settings(data_dir) == settings
    assert [entry.name for entry in data_dir.iterdir()] == [SETTINGS_FILE]  # no temporary file left


def test_none_values_are_left_out(data_dir: Path) -> None:
    save_settings(data_dir, Settings(station=Station(agent_id="a1")))
    text = (data_dir / SETTINGS_FILE).read_text(encoding="utf-8")
    assert "policy_pack" not in text and "professional" not in text
    assert 'agent_id = "a1"' in text and "always_on_top = true" in text
    assert load_settings(data_dir) == Settings(station=Station(agent_id="a1"))


def test_a_failed_write_leaves_the_old_file(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings(data_dir, Settings(language="en"))

    def refuse(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        save_settings(data_dir, Settings(language="fr"))
    assert load_settings(data_dir).language == "en"
    assert [entry.name for entry in data_dir.iterdir()] == [SETTINGS_FILE]


def test_unknown_key_is_named(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / SETTINGS_FILE).write_text("always_on_tpo = true\n", encoding="utf-8")
    with pytest.raises(InputError, match="always_on_tpo"):
        load_settings(data_dir)


def test_dumps_toml_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError, match="NoneType"):
        dumps_toml({"x": [1, None]})
    assert dumps_toml({"x": [1, "a"]}).endswith('x = [1, "a"]\n')
