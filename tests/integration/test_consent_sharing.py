"""Two stations, one real Tryton: a withdrawal recorded on one turns the other's verdict to forbidden after its pull.

Each station is its own data folder driven by ``agent-assist`` processes, as IT or the app would run them: consent
recorded and revoked on station A, ``sync run --once`` on each, ``consent check`` on station B.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from desktop.config import Crm, Settings, Station, save_settings
from desktop.core.consent.check import CallQuestion, check, consent_freshness
from desktop.core.consent.policy import Policy
from desktop.core.crm.connectors.tryton import TrytonConnector
from desktop.core.crm.contract import ConsentEventPayload
from desktop.core.store.db import open_store
from desktop.core.store.sync_state import last_consent_pull
from integrations.tryton.server import TrytonHandle
from tests.integration.tryton_support import unique_number

ACME = "ACME Énergie SAS"
CALLER_ID = "+33162000001"
CALL_AT = "2026-11-24T10:30:00+01:00"  # a Tuesday in the calling hours, after the consent and the withdrawal


def agent_assist(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AGENT_ASSIST_HOME": str(data_dir),
        # keyrings.alt's file backend under the test's XDG_DATA_HOME stands in for the OS keyring.
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
    }
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        input=stdin,
    )


def ok(data_dir: Path, *args: str, stdin: str | None = None) -> dict[str, Any]:
    result = agent_assist(data_dir, *args, "--json", stdin=stdin)
    assert result.returncode == 0, f"{' '.join(args)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    document: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return document


def station(root: Path, name: str, tryton: TrytonHandle) -> Path:
    data_dir = root / name
    crm = Crm(connector="tryton", endpoint=tryton.endpoint, station_id=name)
    save_settings(data_dir, Settings(station=Station(professional=ACME, caller_id=CALLER_ID), crm=crm))
    ok(data_dir, "sync", "secret", "set", stdin=tryton.key + "\n")
    return data_dir


def sync(data_dir: Path) -> dict[str, Any]:
    """``sync run --once``: one pull, one push; nothing may be left pending, the pull must have worked."""
    report = ok(data_dir, "sync", "run", "--once")
    assert report["drained"] and report["pulls"] == 1 and report["pull_problem"] is None, report
    return report


def verdict(data_dir: Path, number: str) -> tuple[str, str]:
    decision = ok(data_dir, "consent", "check", number, "--product", "electricity", "--at", CALL_AT)
    return decision["verdict"], decision["reasons"][0]["code"]


def crm_events(tryton: TrytonHandle, number: str) -> list[ConsentEventPayload]:
    """Every consent event the CRM holds for ``number`` (read from the start, with the connector's own pull)."""
    connector = TrytonConnector(tryton.endpoint, tryton.key)
    found, cursor = [], None
    try:
        while True:
            page = connector.pull_consent_changes(cursor)
            found += [change for change in page.changes if change.number == number]
            cursor = page.cursor
            if not page.more:
                return found
    finally:
        connector.close()


def ledger_entries(data_dir: Path) -> int:
    return int(ok(data_dir, "consent", "verify-ledger")["entries"])


def test_a_withdrawal_on_one_station_forbids_the_call_on_the_other(
    tmp_path: Path, tryton: TrytonHandle, policy: Policy
) -> None:
    a, b = station(tmp_path, "station-a", tryton), station(tmp_path, "station-b", tryton)
    number = unique_number()

    # A consent collected on station A reaches station B through the CRM, with its proof.
    recorded = ok(
        a,
        "consent",
        "record",
        "--number",
        number,
        "--products",
        "electricity",
        "--collected-at",
        "2026-09-01T15:02:00+02:00",
        "--method",
        "web_form",
        "--evidence-ref",
        "webform-2026-09-01-8812",
        "--text-shown",
        "J'accepte d'être appelé par ACME Énergie SAS pour ses offres d'électricité.",
    )
    assert verdict(b, number) == ("forbidden", "NO_VALID_CONSENT")
    assert sync(a)["push"]["sent"] == 1
    sync(b)
    assert verdict(b, number) == ("allowed", "VALID_CONSENT")

    # The withdrawal is recorded on A; B does not know until it pulls.
    ok(a, "consent", "revoke", "--number", number, "--at", "2026-11-24T09:00:00+01:00", "--agent", "agent-7")
    assert verdict(a, number) == ("forbidden", "CONSENT_REVOKED")
    assert verdict(b, number) == ("allowed", "VALID_CONSENT")
    sync(a)
    sync(b)
    assert verdict(b, number) == ("forbidden", "CONSENT_REVOKED")

    # The CRM holds each event once; A's own events come back to it without being appended again.
    events = crm_events(tryton, number)
    assert sorted(event.kind for event in events) == ["given", "withdrawn"]
    assert all(event.source.startswith("agent-assist:") for event in events)
    assert next(event for event in events if event.kind == "given").consent_uid == recorded["consent_id"]
    entries_a = ledger_entries(a)
    sync(a)
    sync(b)
    assert ledger_entries(a) == entries_a == 2
    assert ledger_entries(b) == 2  # verify-ledger: both chains hold after the merges
    with open_store(b) as store_b:
        # B queued nothing back: what it pulled came from the CRM.
        assert store_b.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
        pulled = last_consent_pull(store_b.conn)
        assert pulled is not None
        now = dt.datetime.now(dt.UTC)
        assert not consent_freshness(store_b.conn, policy, crm_sync=True, at=now).stale
    assert len(crm_events(tryton, number)) == 2


def test_a_station_that_never_pulled_is_stale(tmp_path: Path, tryton: TrytonHandle, policy: Policy) -> None:
    a, c = station(tmp_path, "station-a", tryton), station(tmp_path, "station-c", tryton)
    number = unique_number()
    ok(
        a,
        "consent",
        "record",
        "--number",
        number,
        "--products",
        "electricity",
        "--collected-at",
        "2026-09-01T15:02:00+02:00",
        "--method",
        "web_form",
        "--evidence-ref",
        "paper-77",
        "--text-shown",
        "J'accepte d'être appelé par ACME Énergie SAS.",
    )
    sync(a)
    now = dt.datetime.now(dt.UTC)
    call_at = dt.datetime.fromisoformat(CALL_AT)
    question = CallQuestion(number=number, product="electricity", professional=ACME, at=call_at, caller_id=CALLER_ID)
    with open_store(c) as store_c:
        assert consent_freshness(store_c.conn, policy, crm_sync=True, at=now).stale
    sync(c)
    with open_store(c) as store_c:
        freshness = consent_freshness(store_c.conn, policy, crm_sync=True, at=now + dt.timedelta(seconds=1))
        assert not freshness.stale and freshness.last_pull is not None
        fresh = check(store_c.conn, question, policy, store=False, evaluated_at=now, crm_sync=True)[1]
        assert (fresh.verdict, fresh.codes[0]) == ("allowed", "VALID_CONSENT")  # the consent came with the pull
        # a day later without a pull: every canvassing verdict is forbidden, whatever the consent says
        later = now + dt.timedelta(hours=24, minutes=1)
        assert consent_freshness(store_c.conn, policy, crm_sync=True, at=later).stale
        stale = check(store_c.conn, question, policy, store=False, evaluated_at=later, crm_sync=True)[1]
        assert (stale.verdict, stale.codes[0]) == ("forbidden", "CONSENT_DATA_STALE")
