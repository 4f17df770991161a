"""Exactly once against a real Tryton 8.2, through the fault-injecting proxy (``reference/crm.md`` §3).

The sync worker and the Tryton connector push interactions through :class:`FaultProxy`: 429 with Retry-After,
500/503, dropped connections, a response lost after the commit, a CRM slower than the client's timeout, and a
CRM down for a whole run then back. Whatever happens, each interaction ends up in Tryton exactly once, nothing is
lost locally, and the backlog drains. The Tryton is the session's (``tests/integration/tryton_support.py``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tenacity.wait import wait_random_exponential

from desktop.config import Crm, Settings, save_settings
from desktop.core.crm.connectors.tryton import TrytonConnector
from desktop.core.crm.contract import InteractionPayload, TranscriptLine
from desktop.core.crm.outbox import enqueue
from desktop.core.crm.worker import SyncWorker
from desktop.core.store.db import Store, open_store, transaction
from integrations.tryton.server import TrytonHandle
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.slow

T0 = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)
#: Fast, still jittered, backoff for the tests (the product's is 1 s doubling up to 5 min).
FAST = wait_random_exponential(multiplier=0.2, max=1.0)


@pytest.fixture
def proxy(tryton: TrytonHandle) -> Iterator[FaultProxy]:
    with FaultProxy(tryton.url) as fault_proxy:
        yield fault_proxy
    for connector in _CONNECTORS:  # their HTTP clients hold sockets to the proxy
        connector.close()
    _CONNECTORS.clear()


_CONNECTORS: list[TrytonConnector] = []


def payload(n: int, run: str) -> InteractionPayload:
    return InteractionPayload(
        external_id=f"{run}-{n:03d}",
        station="poste-it",
        number=f"+336{(12000000 + n) % 100000000:08d}",
        direction="outbound" if n % 2 else "inbound",
        agent_id="agent-7",
        started_at=T0 + dt.timedelta(minutes=n),
        ended_at=T0 + dt.timedelta(minutes=n, seconds=95),
        duration_s=95,
        verdict="allowed",
        reason="CONSENT_VALID",
        disposition="information_given",
        summary={"reason": f"Appel {n}", "disposition": "information_given"},
        transcript=[TranscriptLine(speaker="customer", start=1.0, end=2.0, text="Bonjour.")],
    )


def queue(store: Store, count: int) -> list[str]:
    run = uuid.uuid4().hex[:10]
    with transaction(store.conn):
        for n in range(count):
            enqueue(store.conn, payload(n, run))
    return [f"{run}-{n:03d}" for n in range(count)]


def crm_settings(proxy: FaultProxy, tryton: TrytonHandle, **extra: object) -> Crm:
    return Crm(connector="tryton", endpoint=f"{proxy.url}/{tryton.database}", **extra)  # type: ignore[arg-type]


def worker_for(store: Store, proxy: FaultProxy, tryton: TrytonHandle, *, timeout_s: float = 5.0) -> SyncWorker:
    crm = crm_settings(proxy, tryton, timeout_s=timeout_s)
    connector = TrytonConnector(crm.endpoint or "", tryton.key, crm=crm)
    _CONNECTORS.append(connector)
    return SyncWorker(lambda: store.conn, connector, crm, wait=FAST)


def calls_in_tryton(tryton: TrytonHandle, ids: list[str]) -> dict[str, list[int]]:
    """external id -> Tryton ids of the calls carrying it, read directly from Tryton (not through the proxy)."""
    domain = base64.urlsafe_b64encode(json.dumps([["external_id", "in", ids]]).encode()).decode()
    response = httpx.get(
        f"{tryton.endpoint}/rest/model/agent_assist.call",
        params=[("d", domain), ("f", "external_id"), ("s", "100000")],
        headers={"Authorization": f"Bearer {tryton.key}"},
        timeout=30,
    )
    response.raise_for_status()
    found: dict[str, list[int]] = {}
    for row in response.json():
        found.setdefault(row["external_id"], []).append(row["id"])
    return found


def local_rows(store: Store, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    marks = ",".join("?" * len(ids))
    return {
        entity: (state, remote)
        for entity, state, remote in store.conn.execute(
            f"SELECT entity_id, state, remote_id FROM outbox WHERE entity_id IN ({marks})", ids
        )
    }


def assert_exactly_once(store: Store, tryton: TrytonHandle, ids: list[str]) -> None:
    remote = calls_in_tryton(tryton, ids)
    assert sorted(remote) == sorted(ids), f"missing in Tryton: {sorted(set(ids) - set(remote))}"
    assert {key: len(value) for key, value in remote.items() if len(value) != 1} == {}
    local = local_rows(store, ids)
    assert {key: state for key, (state, _) in local.items() if state != "sent"} == {}
    assert {key: remote_id for key, (_, remote_id) in local.items()} == {
        key: str(value[0]) for key, value in remote.items()
    }


def test_every_fault_in_turn_still_gives_exactly_once(store: Store, proxy: FaultProxy, tryton: TrytonHandle) -> None:
    ids = queue(store, 30)
    worker = worker_for(store, proxy, tryton, timeout_s=1.5)
    worker.connector.max_batch = 5  # type: ignore[misc]  # several batches, so faults land between them
    proxy.inject("429:1", "500", "503", "drop", "commit_then_drop", "slow:3", "drop", "commit_then_drop", "502")
    report = worker.drain(timeout_s=90, pull=False)
    assert report.drained, report.to_json()
    assert proxy.faults == [], "every fault was played"
    assert proxy.count("commit_then_drop") == 2 and proxy.count("slow:3") == 1
    assert report.push.retried >= 5 and report.push.parked == 0
    assert_exactly_once(store, tryton, ids)


def test_a_response_lost_after_the_commit_is_resolved_by_external_id(
    store: Store, proxy: FaultProxy, tryton: TrytonHandle
) -> None:
    proxy.only = lambda method, path: method == "POST"  # the create, not the look-up before it
    ids = queue(store, 3)
    proxy.inject("commit_then_drop")
    worker = worker_for(store, proxy, tryton)
    first = worker.push_once()
    assert first.problem == "unreachable" and first.retried == 3
    assert sorted(calls_in_tryton(tryton, ids)) == sorted(ids)  # committed although the answer was lost
    report = worker.drain(timeout_s=30, pull=False)
    assert report.drained and report.push.duplicates == 3 and report.push.sent == 0
    assert_exactly_once(store, tryton, ids)


def test_retry_after_is_honoured(store: Store, proxy: FaultProxy, tryton: TrytonHandle) -> None:
    ids = queue(store, 2)
    proxy.inject("429:2")
    worker = worker_for(store, proxy, tryton)
    assert worker.push_once().problem == "unreachable"
    next_at = store.conn.execute("SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'").fetchone()[0]
    assert (dt.datetime.fromisoformat(next_at) - dt.datetime.now(dt.UTC)).total_seconds() > 1.0
    assert worker.push_once().pushed == 0 and len(proxy.trace) == 1  # not before the CRM said
    report = worker.drain(timeout_s=30, pull=False)
    assert report.drained
    assert_exactly_once(store, tryton, ids)


def test_a_crm_down_for_the_whole_run_then_back(store: Store, proxy: FaultProxy, tryton: TrytonHandle) -> None:
    ids = queue(store, 12)
    proxy.down()
    worker = worker_for(store, proxy, tryton)
    report = worker.drain(timeout_s=2.5, pull=False)
    assert not report.drained and report.pending == 12 and report.push.problem == "unreachable"
    assert report.cycles >= 2  # it kept trying, with backoff
    assert calls_in_tryton(tryton, ids) == {}
    assert {state for state, _ in local_rows(store, ids).values()} == {"pending"}
    proxy.up()
    report = worker.drain(timeout_s=30, pull=False)
    assert report.drained, report.to_json()
    assert_exactly_once(store, tryton, ids)


def test_sync_run_as_a_process_drains_through_faults(data_dir: Path, proxy: FaultProxy, tryton: TrytonHandle) -> None:
    with open_store(data_dir) as store:
        ids = queue(store, 25)
    save_settings(data_dir, Settings(crm=crm_settings(proxy, tryton, timeout_s=5)))
    env = {
        **os.environ,
        "AGENT_ASSIST_HOME": str(data_dir),
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
    }

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "desktop.cli", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    assert cli("sync", "secret", "set", stdin=tryton.key + "\n").returncode == 0
    proxy.inject("503", "drop", "429:1")
    done = cli("sync", "run", "--json", "--timeout", "120")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["drained"] and report["pending"] == 0 and report["pulls"] == 1
    status = json.loads(cli("sync", "status", "--json").stdout)
    assert status["pending"] == 0 and status["last_pull"] and status["last_push"] and status["credentials"] is True
    with open_store(data_dir) as store:
        assert_exactly_once(store, tryton, ids)
