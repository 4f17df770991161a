"""integrations/tryton/server.py as developers use it: the command line's start, status, stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from integrations.tryton.server import REPO, default_home, drop_database
from tests.integration.tryton_support import unique_id


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "integrations.tryton.server", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.stdout.count("\n") == 1, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_start_status_stop_from_the_command_line() -> None:
    database = unique_id("cli").replace("-", "_")
    try:
        started = as_json(cli("start", "--database", database, "--fresh", "--json"))
        assert started["url"].startswith("http://127.0.0.1:") and started["endpoint"].endswith(f"/{database}")
        assert "listen = 127.0.0.1:" in (Path(started["log"]).parent / "trytond.conf").read_text()
        answer = httpx.get(
            f"{started['endpoint']}/rest/model/agent_assist.call",
            headers={"Authorization": f"Bearer {started['key']}"},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json() == []  # a fresh database with the module

        status = cli("status", "--database", database, "--json")
        assert status.returncode == 0 and as_json(status)["pid"] == started["pid"]
        again = as_json(cli("start", "--database", database, "--json"))
        assert again["already_running"] is True and again["pid"] == started["pid"]

        assert as_json(cli("stop", "--database", database, "--json")) == {"stopped": True}
        assert not Path(f"/proc/{started['pid']}").exists() or _zombie(started["pid"])
        gone = cli("status", "--database", database, "--json")
        assert gone.returncode == 1 and as_json(gone)["running"] is False
        assert as_json(cli("stop", "--database", database, "--json")) == {"stopped": False}
    finally:
        cli("stop", "--database", database)
        drop_database(default_home(), database)


def _zombie(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_a_bad_database_name_is_one_line_naming_the_step() -> None:
    result = cli("start", "--database", "no/such name")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "tryton: start: database name 'no/such name' must be 1-63 letters, digits or underscores"
    ]


def test_home_from_the_environment(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from integrations.tryton.server import default_home; print(default_home())"],
        cwd=REPO,
        env={**os.environ, "AGENT_ASSIST_TRYTON_HOME": str(tmp_path / "t")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == str(tmp_path / "t")
