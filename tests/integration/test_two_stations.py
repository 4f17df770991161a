"""Two real app instances, one real Tryton: a withdrawal recorded on station A while A's app runs turns station B's
verdict for that number to ``forbidden`` after B's next pull.

Each station is an ``agent-assist run`` process (offscreen) on its own data folder, with ``[crm] connector =
"tryton"`` on the session's Tryton, short push/pull intervals, the REST key in a keyrings.alt file keyring, and
calls from the local event API only (dialled through ``agent-assist event dial``, the softphone hook). Consent
events are recorded on A with the ``consent`` command on A's data folder while A's app runs: A's running sync
service pushes them (nobody runs ``sync run``), B's running sync service pulls them, and B's next dial shows the
verdict. Every wait has a deadline and says what it waited for; both apps are stopped with SIGTERM and must end
cleanly (sync stopped, exit 0).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import holidays
import pytest

from desktop.config import Crm, Settings, Station, Telephony, save_settings
from desktop.core.store.db import DB_NAME
from integrations.tryton.server import TrytonHandle
from tests.embedder_support import install_embedder
from tests.integration.tryton_support import unique_number

pytestmark = pytest.mark.slow  # installs the embedder once (the apps load it at start), then two apps for ~30 s

ROOT = Path(__file__).resolve().parents[2]
ACME = "ACME Énergie SAS"
CALLER_ID = "+33162000001"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
#: Verdict codes that depend on the day and hour the test runs, not on consent (the apps decide at the real time).
CALENDAR = {"WEEKEND", "PUBLIC_HOLIDAY", "LOCAL_HOLIDAY", "OUTSIDE_CALLING_HOURS"}
WAIT_S = 90.0
STOP_S = 30.0
PHONE = re.compile(r"(?:\+33|0033|\b0)\s?[1-9](?:[\s.-]?\d{2}){4}")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """e5-small installed once for both apps (each would otherwise install it at start, 45 s of CPU each)."""
    root = tmp_path_factory.mktemp("models")
    install_embedder(root)
    return root


class App:
    """One station: its data folder, settings and keyring entry, and its ``agent-assist run`` process."""

    def __init__(self, root: Path, name: str, tryton: TrytonHandle, models: Path) -> None:
        self.name = name
        self.data = root / name
        self.logs = root / f"{name}-logs"
        self.output = root / f"{name}.out"
        self.env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "AGENT_ASSIST_LOG_DIR": str(self.logs),
            "AGENT_ASSIST_MODELS": str(models),
            # keyrings.alt's file backend under the test's XDG_DATA_HOME stands in for the OS keyring.
            "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
            "PYTHONUNBUFFERED": "1",
        }
        crm = Crm(
            connector="tryton",
            endpoint=tryton.endpoint,
            station_id=name,
            push_interval_s=1.0,
            pull_interval_s=2.0,
            pull_overlap_s=2.0,
        )
        station = Station(professional=ACME, caller_id=CALLER_ID, product="electricity", agent_id=f"agent-{name}")
        settings = Settings(always_on_top=False, station=station, telephony=Telephony(sources=("api",)), crm=crm)
        save_settings(self.data, settings)
        self.cli("sync", "secret", "set", stdin=tryton.key + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, stdin: str | None = None) -> dict[str, Any]:
        """An ``agent-assist`` command on this station's data folder (``--json``); it must succeed."""
        done = subprocess.run(
            [sys.executable, "-m", "desktop.cli", *args, "--data-dir", str(self.data), "--json"],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=120,
            check=False,
            input=stdin,
        )
        assert done.returncode == 0, f"{self.name}: {' '.join(args)}: exit {done.returncode}\n{done.stderr[-2000:]}"
        document: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return document

    def start(self) -> None:
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "desktop.cli", "run", "--data-dir", str(self.data)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=ROOT,
            )

    def lines(self) -> list[dict[str, Any]]:
        path = self.logs / "agent-assist.log"
        if not path.exists():
            return []
        found = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:  # the line being written
                    continue
        return found

    def stages(self) -> list[tuple[str, dict[str, Any], str]]:
        return [(line["stage"], line.get("fields", {}), line["ts"]) for line in self.lines() if "stage" in line]

    def wait(self, what: str, check: Callable[[], Any], timeout: float = WAIT_S) -> Any:
        """Poll ``check`` until it returns something truthy; fail if the app ends first or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"{self.name}'s app ended (rc={self.process.returncode}) before {what}:\n{self.tail()}")
            time.sleep(0.1)
        pytest.fail(f"{self.name}: no {what} after {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        text = self.output.read_text(encoding="utf-8", errors="replace") if self.output.exists() else ""
        return text[-3000:]

    def stage_after(self, stage: str, count: int, **fields: Any) -> Callable[[], tuple[dict[str, Any], str] | None]:
        """A check for the ``count``-th (0-based) ``stage`` whose fields match."""

        def check() -> tuple[dict[str, Any], str] | None:
            matching = [
                (values, ts)
                for name, values, ts in self.stages()
                if name == stage and all(values.get(key) == value for key, value in fields.items())
            ]
            return matching[count] if len(matching) > count else None

        return check

    def count(self, stage: str) -> int:
        return sum(1 for name, _, _ in self.stages() if name == stage)

    def outbox(self, kind: str) -> list[tuple[str, str]]:
        """(payload kind, state) of this station's consent events, read while the app runs."""
        db = self.data / DB_NAME
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)
            try:
                rows = conn.execute(
                    "SELECT json_extract(payload, '$.kind'), state FROM outbox WHERE kind = ? ORDER BY id", (kind,)
                ).fetchall()
            finally:
                conn.close()
        except sqlite3.OperationalError:
            return []
        return [(str(row[0]), str(row[1])) for row in rows]

    def hook(self, *args: str) -> None:
        """``agent-assist event …`` as the softphone runs it (the app must take it within 10 s)."""
        done = subprocess.run(
            [sys.executable, "-m", "desktop.entry", "event", *args, "--data-dir", str(self.data), "--timeout", "10"],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, f"{self.name}: event {args[0]}: exit {done.returncode}: {done.stderr}"

    def dial(self, number: str, call_id: str) -> tuple[str, str]:
        """Dial through the softphone hook, then hang up; the verdict the app showed for that call (its log)."""
        before = self.count("verdict_shown")
        self.hook("dial", "--number", number, "--call-id", call_id)
        values, _ = self.wait(f"verdict for {call_id}", self.stage_after("verdict_shown", before))
        self.hook("hangup", "--call-id", call_id)
        return str(values["verdict"]), str(values["code"])

    def stop(self) -> int:
        """SIGTERM, as a session logout or IT's tools send it; the app must stop its sync and exit 0."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            pytest.fail(f"{self.name}'s app did not stop within {STOP_S:.0f} s of SIGTERM:\n{self.tail()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def stations(tmp_path: Path, tryton: TrytonHandle, models: Path) -> Iterator[tuple[App, App]]:
    a, b = App(tmp_path, "station-a", tryton, models), App(tmp_path, "station-b", tryton, models)
    try:
        yield a, b
    finally:
        a.kill()
        b.kill()


def ready(app: App) -> None:
    """Started: the event API listens and the first sync cycle reached the CRM."""
    app.wait("event API", app.stage_after("source_api", 0))
    app.wait("first sync with the CRM", app.stage_after("sync_state", 0, state="up_to_date"))


def last_weekday_morning(now: dt.datetime) -> dt.datetime:
    """10:30 in Paris on the latest weekday before ``now`` that no French calendar blocks (public holidays, and
    Moselle's, which the policy applies when the department is unknown): a time the calling hours allow."""
    day = now.astimezone(PARIS).replace(hour=10, minute=30, second=0, microsecond=0) - dt.timedelta(days=1)
    blocked = holidays.country_holidays("FR", subdiv="57", years=range(day.year - 1, day.year + 1))
    while day.isoweekday() > 5 or day.date() in blocked:
        day -= dt.timedelta(days=1)
    return day


def test_a_withdrawal_on_a_running_station_forbids_the_call_on_the_other(stations: tuple[App, App]) -> None:
    a, b = stations
    number = unique_number()
    a.start()
    b.start()
    ready(a)
    ready(b)

    # A consent collected on A (A's app running) is pushed by A's sync, pulled by B's.
    now = dt.datetime.now(dt.UTC)
    call_at = last_weekday_morning(now)
    pulls_before = b.count("consents_pulled")
    a.cli(
        "consent",
        "record",
        "--number",
        number,
        "--professional",
        ACME,
        "--products",
        "electricity",
        "--collected-at",
        (call_at - dt.timedelta(days=3)).isoformat(),
        "--method",
        "web_form",
        "--evidence-ref",
        f"webform-{number[-6:]}",
        "--text-shown",
        "J'accepte d'être appelé par ACME Énergie SAS pour ses offres d'électricité.",
    )
    a.wait("the consent pushed by A's app", lambda: a.outbox("consent_event") == [("given", "sent")])
    b.wait("B's pull of the consent", b.stage_after("consents_pulled", pulls_before))
    decided = b.cli("consent", "check", number, "--product", "electricity", "--at", call_at.isoformat())
    assert (decided["verdict"], decided["reasons"][0]["code"]) == ("allowed", "VALID_CONSENT"), (call_at, decided)
    # B's app, at the real time: allowed on a weekday in the calling hours, else the calendar forbids it.
    verdict, code = b.dial(number, "b-1")
    assert (verdict, code) == ("allowed", "VALID_CONSENT") or (verdict, code in CALENDAR) == ("forbidden", True), (
        verdict,
        code,
    )

    # The withdrawal, recorded on A while A's app runs: A's sync pushes it, B's next pull brings it.
    pulls_before = b.count("consents_pulled")
    revoked = time.monotonic()
    a.cli("consent", "revoke", "--number", number, "--professional", ACME, "--agent", "agent-station-a")
    a.wait(
        "the withdrawal pushed by A's app",
        lambda: a.outbox("consent_event") == [("given", "sent"), ("withdrawn", "sent")],
    )
    b.wait("B's pull of the withdrawal", b.stage_after("consents_pulled", pulls_before))
    propagated = time.monotonic() - revoked
    assert b.dial(number, "b-2") == ("forbidden", "CONSENT_REVOKED")
    assert a.dial(number, "a-1") == ("forbidden", "CONSENT_REVOKED")
    decided = b.cli("consent", "check", number, "--product", "electricity", "--at", call_at.isoformat())
    assert decided["verdict"] == "allowed"  # the withdrawal is later than that morning: it does not rewrite the past
    # B queued nothing back to the CRM: what it has came from A through the CRM.
    assert b.outbox("consent_event") == []

    # Both stop cleanly: the sync worker stopped before the store closed, exit 0.
    assert a.stop() == 0
    assert b.stop() == 0
    for app in (a, b):
        lines = app.lines()
        messages = [line["msg"] for line in lines]
        assert "sync: stopped" in messages, f"{app.name}: {messages[-10:]}"
        assert [line.get("stage") for line in lines if "stage" in line][-1] == "stopped"
        assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")], app.name
        for line in lines:  # no unmasked number above DEBUG, on either station
            if line["level"] != "DEBUG":
                shown = json.dumps({key: line.get(key) for key in ("msg", "fields", "exc")}, ensure_ascii=False)
                assert not PHONE.search(shown) and number[-9:] not in shown, f"{app.name}: {line}"
    print(f"withdrawal on A to the pull on B: {propagated:.1f} s (pull every 2 s, push every 1 s)")
