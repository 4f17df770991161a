"""desktop/paths.py: the resources and the models folder found from a source checkout, a frozen build (sys.frozen,
sys._MEIPASS) and an installed wheel (<prefix>/share/agent-assist); the version stamped by a frozen build."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import desktop
from desktop import paths
from desktop.core.models import models_root

REPO = Path(__file__).resolve().parents[2]


def _resources(folder: Path) -> Path:
    (folder / "assets" / "policies").mkdir(parents=True)
    (folder / "assets" / "policies" / "fr.toml").write_text("# pack\n", encoding="utf-8")
    (folder / "models").mkdir()
    (folder / "models" / "manifest.toml").write_text("schema = 1\n", encoding="utf-8")
    return folder


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A frozen build's bundle folder (PyInstaller's sys._MEIPASS) holding the resources."""
    bundle = _resources(tmp_path / "bundle" / "_internal")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.delenv(paths.RESOURCES_ENV, raising=False)
    monkeypatch.delenv("AGENT_ASSIST_MODELS", raising=False)
    return bundle


def test_source_checkout_finds_the_repository_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.RESOURCES_ENV, raising=False)
    assert paths.frozen_root() is None
    assert paths.resource_root() == REPO
    assert paths.assets_dir() == REPO / "assets"
    assert paths.models_manifest_path() == REPO / "models" / "manifest.toml"
    assert paths.models_manifest_path().is_file()
    assert paths.machine_models_dir() is None  # a developer's models stay in the data folder


def test_the_modules_defaults_are_found_through_paths() -> None:
    from desktop.core.assist.playbook import DEFAULT_PLAYBOOK
    from desktop.core.consent.policy import DEFAULT_PACK
    from desktop.core.models.manifest import MANIFEST_PATH
    from desktop.ui.i18n import translations_dir

    assert paths.assets_dir() / "policies" / "fr.toml" == DEFAULT_PACK and DEFAULT_PACK.is_file()
    assert paths.assets_dir() / "playbooks" / "fr.toml" == DEFAULT_PLAYBOOK and DEFAULT_PLAYBOOK.is_file()
    assert paths.models_manifest_path() == MANIFEST_PATH
    assert translations_dir() == paths.assets_dir() / "translations"


def test_frozen_build_reads_its_bundle(frozen: Path) -> None:
    assert paths.frozen_root() == frozen
    assert paths.resource_root() == frozen
    assert paths.assets_dir() == frozen / "assets"
    assert paths.models_manifest_path() == frozen / "models" / "manifest.toml"


def test_frozen_without_meipass_uses_the_executable_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _resources(tmp_path)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "agent-assist"))
    assert paths.frozen_root() == tmp_path
    assert paths.assets_dir() == tmp_path / "assets"


def test_frozen_bundle_missing_its_resources_is_named_when_nothing_has_them(
    frozen: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (frozen / "models" / "manifest.toml").unlink()
    monkeypatch.setattr(paths, "_PACKAGE_DIR", tmp_path / "elsewhere" / "desktop")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    monkeypatch.setattr(sys, "base_prefix", str(tmp_path / "prefix"))
    # No candidate is complete: the bundle (first candidate) is named, so "no such file" points inside the build.
    assert paths.models_manifest_path() == frozen / "models" / "manifest.toml"


def test_installed_wheel_reads_prefix_share(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(paths.RESOURCES_ENV, raising=False)
    share = _resources(tmp_path / "venv" / "share" / "agent-assist")
    monkeypatch.setattr(paths, "_PACKAGE_DIR", tmp_path / "venv" / "lib" / "site-packages" / "desktop")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    assert paths.resource_root() == share
    assert paths.assets_dir() == share / "assets"


def test_resources_env_comes_first(frozen: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = _resources(tmp_path / "other")
    monkeypatch.setenv(paths.RESOURCES_ENV, str(other))
    assert paths.resource_candidates()[:2] == [other, frozen]
    assert paths.assets_dir() == other / "assets"


def test_frozen_models_go_to_the_machine_folder(frozen: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert paths.bundled_models_dir() is None
    assert paths.machine_models_dir() == Path("/var/lib/agent-assist/models")
    assert models_root(tmp_path / "data") == Path("/var/lib/agent-assist/models")
    # The models_dir setting (a machine policy may lock it) and $AGENT_ASSIST_MODELS still come first.
    assert models_root(tmp_path / "data", str(tmp_path / "policy-models")) == tmp_path / "policy-models"
    monkeypatch.setenv("AGENT_ASSIST_MODELS", str(tmp_path / "env-models"))
    assert models_root(tmp_path / "data") == tmp_path / "env-models"


def test_frozen_windows_machine_folder_is_under_programdata(frozen: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("PROGRAMDATA", "D:\\ProgramData")
    assert paths.machine_models_dir() == Path("D:\\ProgramData") / "AgentAssist" / "models"


def test_frozen_build_with_models_uses_its_bundled_models(frozen: Path, tmp_path: Path) -> None:
    (frozen / "models" / "whisper-base").mkdir()
    assert paths.bundled_models_dir() == frozen / "models"
    assert paths.machine_models_dir() == frozen / "models"
    assert models_root(tmp_path / "data") == frozen / "models"


def test_source_checkout_models_stay_in_the_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AGENT_ASSIST_MODELS", raising=False)
    assert models_root(tmp_path / "data") == tmp_path / "data" / "models"


def test_frozen_version_carries_the_build_id(frozen: Path) -> None:
    assert desktop._stamped("0.1.0") == "0.1.0"  # unstamped build: the release alone
    (frozen / paths.BUILD_INFO).write_text(json.dumps({"build_id": "g4bf4d7b.20261129"}), encoding="utf-8")
    assert desktop._stamped("0.1.0") == "0.1.0+g4bf4d7b.20261129"
    (frozen / paths.BUILD_INFO).write_text("{not json", encoding="utf-8")
    assert desktop._stamped("0.1.0") == "0.1.0"


def test_source_version_is_the_release() -> None:
    assert desktop._stamped("0.1.0") == "0.1.0"
    assert desktop.__version__ == desktop.RELEASE


def test_a_user_who_cannot_write_the_machine_folder_is_told_to_ask_an_administrator(
    frozen: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from desktop.core.models import ModelNotInstalledError, install, installer

    machine = tmp_path / "var-lib" / "models"
    machine.mkdir(parents=True)
    monkeypatch.setattr(paths, "machine_data_dir", lambda: machine.parent)
    monkeypatch.setattr(installer.os, "access", lambda path, mode: Path(path) != machine)  # root passes any access()
    with pytest.raises(ModelNotInstalledError, match="an administrator runs agent-assist models install whisper-base"):
        install("whisper-base", models_root(tmp_path / "data"), offline_only=True)
    assert list(machine.iterdir()) == []  # nothing staged
