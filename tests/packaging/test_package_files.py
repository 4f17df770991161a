"""The files the packages ship beside the frozen build: the machine policy example and the desktop entry."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from desktop.machine_policy import load_machine_policy

DEB = Path(__file__).resolve().parents[2] / "packaging" / "deb"
_SETTING_LINE = re.compile(r"^(\[[a-z_.]+\]|[a-z_]+ = .+)$")


def test_policy_example_ships_inert_and_is_a_valid_policy_once_uncommented(tmp_path: Path) -> None:
    text = (DEB / "policy.toml.example").read_text(encoding="utf-8")
    assert all(not line.strip() or line.startswith("#") for line in text.splitlines())  # as shipped: changes nothing
    # The commented TOML lines ("# key = value", "# [table]") made live; the prose lines stay out.
    live = [line[2:] for line in text.splitlines() if line.startswith("# ") and _SETTING_LINE.match(line[2:])]
    path = tmp_path / "policy.toml"
    path.write_text("\n".join(live) + "\n", encoding="utf-8")
    policy = load_machine_policy(path)
    assert policy.values["models_dir"] == "/var/lib/agent-assist/models"  # the packaged build's machine folder
    assert policy.is_locked("crm.endpoint") and policy.is_locked("retention")
    assert policy.values["crm.connector"] == "tryton"


def test_desktop_entry_is_valid() -> None:
    if shutil.which("desktop-file-validate") is None:
        pytest.fail("desktop-file-validate is needed: apt-get install desktop-file-utils")
    done = subprocess.run(
        ["desktop-file-validate", str(DEB / "agent-assist.desktop")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout
