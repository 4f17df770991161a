"""Shared fixtures: every test gets its own data folder and store; nothing reads the user's real folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.consent.policy import Policy, load_policy
from desktop.core.store.db import Store, open_store

DATA = Path(__file__).parent / "data"

# Qt widgets are tested on the offscreen platform: no display needed, same pixels everywhere.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_ASSIST_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("AGENT_ASSIST_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("AGENT_ASSIST_POLICY", os.devnull)  # a real /etc/agent-assist/policy.toml never leaks in


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    with open_store(data_dir) as opened:
        yield opened


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()
