"""The CRM sync state for people and scripts: what is queued, what is parked and why, when the CRM was last
reached, and whether this station can reach it at all (connector, endpoint, credentials).

Read-only; no number and no transcript is ever part of it (parked entries show the CRM's message and ids).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from desktop.core.crm.worker import KINDS, push_problem
from desktop.core.store.sync_state import LAST_PUSH, get_state, last_consent_pull

if TYPE_CHECKING:
    from desktop.config import Crm

STATES = ("pending", "sent", "parked")
#: Parked entries listed in full (the counts always cover all of them).
PARKED_SHOWN = 50


@dataclass(frozen=True)
class ParkedEntry:
    """An outbox entry the CRM refused: ``sync retry ID`` puts it back once the cause is fixed."""

    id: int
    kind: str
    entity_id: str
    attempts: int
    message: str | None
    queued_at: str


@dataclass(frozen=True)
class SyncStatus:
    connector: str
    endpoint: str | None
    station_id: str | None
    credentials: bool | None  # None: the connector needs none, or the keyring could not be asked
    counts: dict[str, dict[str, int]]
    pending: int
    parked: int
    oldest_pending_age_s: float | None
    next_attempt_at: str | None
    last_push: str | None
    last_pull: str | None
    problem: str | None  # "auth: …" or "unreachable: …" from the last push cycle
    parked_entries: list[ParkedEntry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def drained(self) -> bool:
        return self.pending == 0


def sync_status(conn: sqlite3.Connection, crm: Crm, *, now: dt.datetime, credentials: bool | None = None) -> SyncStatus:
    """The sync state of this store and these settings at ``now`` (aware)."""
    counts = {kind: dict.fromkeys(STATES, 0) for kind in KINDS}
    for kind, state, count in conn.execute("SELECT kind, state, count(*) FROM outbox GROUP BY kind, state"):
        counts.setdefault(str(kind), dict.fromkeys(STATES, 0))[str(state)] = int(count)
    pending = sum(by_state["pending"] for by_state in counts.values())
    parked = sum(by_state["parked"] for by_state in counts.values())
    oldest, next_at = conn.execute(
        "SELECT min(created_at), min(next_attempt_at) FROM outbox WHERE state = 'pending'"
    ).fetchone()
    age = None
    if oldest is not None:
        age = max((now - dt.datetime.fromisoformat(oldest)).total_seconds(), 0.0)
    entries = [
        ParkedEntry(int(row_id), str(kind), str(entity), int(attempts), error, str(created))
        for row_id, kind, entity, attempts, error, created in conn.execute(
            "SELECT id, kind, entity_id, attempts, last_error, created_at FROM outbox WHERE state = 'parked'"
            " ORDER BY id LIMIT ?",
            (PARKED_SHOWN,),
        )
    ]
    pulled = last_consent_pull(conn)
    return SyncStatus(
        connector=crm.connector,
        endpoint=crm.endpoint,
        station_id=crm.station_id,
        credentials=credentials,
        counts=counts,
        pending=pending,
        parked=parked,
        oldest_pending_age_s=None if age is None else round(age, 1),
        next_attempt_at=next_at,
        last_push=get_state(conn, LAST_PUSH),
        last_pull=None if pulled is None else pulled.isoformat(),
        problem=push_problem(conn),
        parked_entries=entries,
    )


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def status_lines(status: SyncStatus) -> str:
    """The status as a few lines for a person (``agent-assist sync status``)."""
    if status.connector == "none":
        crm = 'CRM: none configured ([crm] connector = "none"): entries wait in the outbox'
    else:
        crm = f"CRM: {status.connector} at {status.endpoint or '(no endpoint set)'}"
        if status.credentials is not None:
            crm += ", credentials " + (
                "stored in the OS keyring" if status.credentials else "MISSING (sync secret set)"
            )
    lines = [crm]
    if status.problem:
        word, _, message = status.problem.partition(":")
        reason = {"auth": "the CRM refused the credentials", "unreachable": "the CRM could not be reached"}.get(
            word, word
        )
        lines.append(f"last push stopped: {reason}:{message}")
    lines.append(
        "outbox: "
        + ", ".join(
            f"{kind.replace('_', ' ')} {by_state['pending']} pending / {by_state['sent']} sent / {by_state['parked']} parked"
            for kind, by_state in status.counts.items()
        )
    )
    if status.oldest_pending_age_s is not None:
        lines.append(f"oldest pending: {_age(status.oldest_pending_age_s)} old")
    lines.append(f"last push: {status.last_push or 'never'}; last consent pull: {status.last_pull or 'never'}")
    for entry in status.parked_entries:
        lines.append(
            f"parked #{entry.id} {entry.kind} {entry.entity_id} (after {entry.attempts} attempt(s)): {entry.message}"
        )
    if status.parked > len(status.parked_entries):
        lines.append(f"… and {status.parked - len(status.parked_entries)} more parked")
    if status.parked:
        lines.append("fix the cause, then: agent-assist sync retry ID (or --all-parked)")
    return "\n".join(lines)
