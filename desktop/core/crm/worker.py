"""The sync worker: pushes the outbox to the CRM and loses nothing, pulls consent changes on a timer.

Plain Python (no Qt): the desktop app runs :meth:`SyncWorker.run` in its own thread (``desktop.services.sync``),
the command line calls :meth:`SyncWorker.push_once` / :meth:`SyncWorker.drain` directly.

What a push cycle promises:

- Order: consent events first, revocations (``withdrawn``, ``objection``) before the rest of them, then
  interactions, then reviews; oldest first within each; at most ``connector.max_batch`` items per request.
- Every answer is recorded in its own short transaction, and no write transaction is open during an HTTP call:
  ``created``/``duplicate`` → ``sent`` with the CRM's id; ``rejected`` → ``parked`` with the CRM's message (never
  retried by itself: :func:`retry_parked` puts it back); ``retry`` or :class:`TransientError` → ``attempts + 1``
  and ``next_attempt_at = now + max(Retry-After, exponential backoff with full jitter, capped)``;
  :class:`AuthError` → the cycle stops and the status says the credentials are refused.
- A crash between the CRM's commit and the local record leaves the row ``pending``; its next push carries the same
  ``external_id``, which the connector resolves as ``duplicate``: one record in the CRM, none lost.

The worker owns its SQLite connection, opened in the thread that first uses it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError
from tenacity import RetryCallState, Retrying
from tenacity.wait import wait_base, wait_random_exponential

from desktop.core.crm.contract import (
    AuthError,
    Connector,
    ConsentEventPayload,
    InteractionPayload,
    PushResult,
    RejectedError,
    ReviewPayload,
    SyncError,
    TransientError,
)
from desktop.core.errors import InputError, NotFoundError
from desktop.core.store.db import transaction
from desktop.core.store.sync_state import LAST_PUSH, get_state, set_state

if TYPE_CHECKING:
    from desktop.config import Crm

log = logging.getLogger("agent_assist.sync")

#: First retry waits up to this many seconds (full jitter: uniformly between 0 and the exponential bound).
BACKOFF_BASE_S = 1.0
#: No retry waits longer than this, whatever the attempts (a CRM back after an outage is used within minutes).
BACKOFF_CAP_S = 300.0
#: A Retry-After longer than this is treated as this (a CRM asking for a day would silence the station).
RETRY_AFTER_CAP_S = 3600.0
#: sync_state key: why the last push cycle could not run ("auth: …", "unreachable: …"), empty when it could.
PUSH_PROBLEM = "push_problem"
#: sync_state key: when the last push cycle that reached the CRM ended (UTC ISO).
LAST_PUSH_KEY = LAST_PUSH

KINDS: tuple[str, ...] = ("consent_event", "interaction", "review")
REVOCATIONS: tuple[str, ...] = ("withdrawn", "objection")

Payload = ConsentEventPayload | InteractionPayload | ReviewPayload
_PAYLOAD_TYPES: dict[str, type[ConsentEventPayload] | type[InteractionPayload] | type[ReviewPayload]] = {
    "consent_event": ConsentEventPayload,
    "interaction": InteractionPayload,
    "review": ReviewPayload,
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


class PullFunction(Protocol):
    """``desktop.core.crm.pull.pull_consents``: merge the CRM's consent changes since the cursor."""

    def __call__(
        self, conn: sqlite3.Connection, connector: Connector, *, now: dt.datetime, overlap_s: float
    ) -> Any: ...


@dataclass
class PushReport:
    """What one push cycle did; ``problem`` names why it stopped early (``auth``, ``unreachable``), if it did."""

    sent: int = 0
    duplicates: int = 0
    parked: int = 0
    retried: int = 0
    problem: str | None = None
    message: str | None = None
    parked_ids: list[int] = field(default_factory=list)

    @property
    def pushed(self) -> int:
        return self.sent + self.duplicates

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "duplicates": self.duplicates,
            "parked": self.parked,
            "retried": self.retried,
            "problem": self.problem,
            "message": self.message,
        }


@dataclass
class DrainReport:
    """What :meth:`SyncWorker.drain` did: the cycles' totals, pulls, and whether nothing pending was left."""

    drained: bool
    pending: int
    cycles: int
    push: PushReport
    pulls: int = 0
    pull_problem: str | None = None
    elapsed_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "drained": self.drained,
            "pending": self.pending,
            "cycles": self.cycles,
            "push": self.push.to_json(),
            "pulls": self.pulls,
            "pull_problem": self.pull_problem,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def backoff_delay(attempt: int, wait: wait_base | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry): tenacity's exponential backoff
    with full jitter, ``BACKOFF_BASE_S · 2^(attempt-1)`` capped at ``BACKOFF_CAP_S``, unless ``wait`` says
    otherwise."""
    strategy = wait or wait_random_exponential(multiplier=BACKOFF_BASE_S, max=BACKOFF_CAP_S)
    state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = max(attempt, 1)
    return float(strategy(state))


def _default_pull() -> PullFunction:
    """The consent pull of ``desktop.core.crm.pull`` (imported when first used)."""
    from desktop.core.crm.pull import pull_consents

    return pull_consents


class SyncWorker:
    """Pushes the outbox of one data folder to one connector, and pulls consent changes from it.

    ``connect`` opens the worker's own SQLite connection (called in the thread that first needs it); ``clock``
    gives aware instants; ``sleep`` waits during :meth:`drain`; ``wait`` replaces the backoff strategy (tests).
    """

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        connector: Connector,
        crm: Crm,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        wait: wait_base | None = None,
        pull: PullFunction | None = None,
    ) -> None:
        self._connect = connect
        self.connector = connector
        self.crm = crm
        self.clock = clock
        self.sleep = sleep
        self._wait = wait
        self._pull = pull
        self._conn: sqlite3.Connection | None = None
        self._close_conn: Callable[[], None] | None = None
        self._wake = threading.Event()
        #: Whole-request transient failure: no push before this instant (the CRM is down or throttling).
        self.hold_until: dt.datetime | None = None
        self.on_push: Callable[[PushReport], None] | None = None
        self.on_pull: Callable[[Any], None] | None = None
        self.on_error: Callable[[str], None] | None = None

    @classmethod
    def for_data_dir(cls, data_dir: Path, connector: Connector, crm: Crm, **options: Any) -> SyncWorker:
        """A worker on the store of ``data_dir`` (opened, and migrated if needed, in the worker's thread)."""
        from desktop.core.store.db import open_store

        holder: dict[str, Any] = {}

        def connect() -> sqlite3.Connection:
            store = open_store(data_dir)
            holder["store"] = store
            return store.conn

        worker = cls(connect, connector, crm, **options)
        worker._close_conn = lambda: holder["store"].close() if "store" in holder else None
        return worker

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        """Close the worker's connection (from the worker's thread) and the connector."""
        if self._conn is not None:
            if self._close_conn is not None:
                self._close_conn()
            else:
                self._conn.close()
            self._conn = None
        self.connector.close()

    # -- push ------------------------------------------------------------------------------------------------

    def push_once(self, stop: threading.Event | None = None) -> PushReport:
        """Push every due pending row once (see the module's docstring for the order and the rules)."""
        report = PushReport()
        now = self.clock()
        if self.hold_until is not None and now < self.hold_until:
            report.problem = "unreachable"
            return report
        self.hold_until = None
        for kind in KINDS:
            ids = self._due_ids(kind, now)
            for start in range(0, len(ids), max(self.connector.max_batch, 1)):
                if stop is not None and stop.is_set():
                    return report
                batch = self._load(ids[start : start + max(self.connector.max_batch, 1)])
                if batch and not self._push_batch(kind, batch, report):
                    self._finish(report)
                    return report
        self._finish(report)
        return report

    def _finish(self, report: PushReport) -> None:
        with transaction(self.conn):
            if report.problem is None:
                set_state(self.conn, LAST_PUSH_KEY, _iso(self.clock()))
                set_state(self.conn, PUSH_PROBLEM, None)
            else:
                set_state(self.conn, PUSH_PROBLEM, f"{report.problem}: {report.message or ''}".strip())
        if self.on_push is not None:
            self.on_push(report)

    def _due_ids(self, kind: str, now: dt.datetime) -> list[int]:
        # Revocations first among consent events, then by age; json_extract is cheap next to an HTTP call.
        rows = self.conn.execute(
            "SELECT id FROM outbox WHERE state = 'pending' AND kind = ?"
            " AND (next_attempt_at IS NULL OR julianday(next_attempt_at) <= julianday(?))"
            " ORDER BY CASE WHEN kind = 'consent_event' AND json_extract(payload, '$.kind') IN (?, ?) THEN 0"
            " ELSE 1 END, id",
            (kind, _iso(now), *REVOCATIONS),
        ).fetchall()
        return [int(row[0]) for row in rows]

    def _load(self, ids: Sequence[int]) -> list[tuple[int, int, Payload | None, str]]:
        """(id, attempts, payload, raw) of the rows still pending, in the order of ``ids``."""
        marks = ",".join("?" * len(ids))
        found = {
            int(row[0]): row
            for row in self.conn.execute(
                f"SELECT id, kind, attempts, payload FROM outbox WHERE state = 'pending' AND id IN ({marks})",
                tuple(ids),
            )
        }
        loaded: list[tuple[int, int, Payload | None, str]] = []
        for row_id in ids:
            row = found.get(row_id)
            if row is None:
                continue
            try:
                payload: Payload | None = _PAYLOAD_TYPES[row[1]].model_validate_json(row[3])
            except (ValidationError, KeyError):
                payload = None
            loaded.append((row_id, int(row[2]), payload, str(row[1])))
        return loaded

    def _push_batch(self, kind: str, batch: list[tuple[int, int, Payload | None, str]], report: PushReport) -> bool:
        """Push one batch and record the answers; False when the cycle must stop (auth, CRM unreachable)."""
        unreadable = [(row_id, attempts) for row_id, attempts, payload, _ in batch if payload is None]
        for row_id, _attempts in unreadable:
            self._park(row_id, "the stored entry is not a valid payload (this version cannot read it)", report)
        batch = [entry for entry in batch if entry[2] is not None]
        if not batch:
            return True
        payloads = [entry[2] for entry in batch]
        try:
            results = self._send(kind, payloads)
        except AuthError as error:
            report.problem, report.message = "auth", str(error)
            log.warning("sync: the CRM refused the credentials; nothing more is pushed until they are fixed")
            return False
        except TransientError as error:
            delay = self._record_retries([(row_id, attempts) for row_id, attempts, _, _ in batch], error, report)
            self.hold_until = self.clock() + dt.timedelta(seconds=delay)
            report.problem, report.message = "unreachable", str(error)
            log.info("sync: CRM unavailable, %s; next try in %.1f s", error, delay)
            return False
        except RejectedError as error:
            if len(batch) == 1:
                self._park(batch[0][0], str(error), report)
                return True
            # A whole batch refused: send each alone so that only the bad ones are parked.
            return all(self._push_batch(kind, [entry], report) for entry in batch)
        except SyncError as error:  # a connector's own SyncError subclass: worth a retry, like a transient one
            self._record_retries([(row_id, attempts) for row_id, attempts, _, _ in batch], error, report)
            report.problem, report.message = "unreachable", str(error)
            return False
        by_id = {result.external_id: result for result in results}
        for row_id, attempts, payload, _ in batch:
            assert payload is not None
            result = by_id.get(payload.external_id)
            if result is None:
                missing = TransientError("the CRM's answer did not mention this entry")
                self._record_retries([(row_id, attempts)], missing, report)
            else:
                self._record(row_id, attempts, result, report)
        return True

    def _send(self, kind: str, payloads: Sequence[Payload | None]) -> list[PushResult]:
        if kind == "consent_event":
            return self.connector.push_consent_events([p for p in payloads if isinstance(p, ConsentEventPayload)])
        if kind == "interaction":
            return self.connector.push_interactions([p for p in payloads if isinstance(p, InteractionPayload)])
        return self.connector.push_reviews([p for p in payloads if isinstance(p, ReviewPayload)])

    def _record(self, row_id: int, attempts: int, result: PushResult, report: PushReport) -> None:
        if result.status in ("created", "duplicate"):
            with transaction(self.conn):
                self.conn.execute(
                    "UPDATE outbox SET state = 'sent', remote_id = ?, sent_at = ?, attempts = ?, last_error = NULL,"
                    " next_attempt_at = NULL WHERE id = ? AND state = 'pending'",
                    (result.remote_id, _iso(self.clock()), attempts + 1, row_id),
                )
            if result.status == "created":
                report.sent += 1
            else:
                report.duplicates += 1
        elif result.status == "rejected":
            self._park(row_id, result.message or "rejected by the CRM (no message)", report)
        else:
            error = TransientError(result.message or "the CRM asked to retry", retry_after=result.retry_after)
            self._record_retries([(row_id, attempts)], error, report)

    def _park(self, row_id: int, message: str, report: PushReport) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE outbox SET state = 'parked', attempts = attempts + 1, last_error = ?, next_attempt_at = NULL"
                " WHERE id = ? AND state = 'pending'",
                (" ".join(message.split()), row_id),
            )
        report.parked += 1
        report.parked_ids.append(row_id)
        log.info("sync: outbox entry %d parked (the CRM refused it)", row_id)

    def _record_retries(self, rows: Iterable[tuple[int, int]], error: SyncError, report: PushReport) -> float:
        """attempts + 1 and the next attempt for each row; returns the longest delay chosen."""
        retry_after = error.retry_after if isinstance(error, TransientError) else None
        now = self.clock()
        longest = 0.0
        updates = []
        for row_id, attempts in rows:
            delay = backoff_delay(attempts + 1, self._wait)
            if retry_after is not None:
                delay = max(delay, min(retry_after, RETRY_AFTER_CAP_S))
            longest = max(longest, delay)
            updates.append((_iso(now + dt.timedelta(seconds=delay)), " ".join(str(error).split()), row_id))
        with transaction(self.conn):
            self.conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
                " WHERE id = ? AND state = 'pending'",
                updates,
            )
        report.retried += len(updates)
        return longest

    # -- pull ------------------------------------------------------------------------------------------------

    def pull_once(self) -> Any:
        """Merge the CRM's consent changes into the local ledger (``desktop.core.crm.pull``); returns its report."""
        pull = self._pull or _default_pull()
        report = pull(self.conn, self.connector, now=self.clock(), overlap_s=self.crm.pull_overlap_s)
        if self.on_pull is not None:
            self.on_pull(report)
        return report

    # -- loops -----------------------------------------------------------------------------------------------

    def pending_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0])

    def next_due(self) -> dt.datetime | None:
        """When the earliest pending row may be pushed (now or earlier when one is due); None when none pending."""
        row = self.conn.execute(
            "SELECT count(*), count(next_attempt_at), min(next_attempt_at) FROM outbox WHERE state = 'pending'"
        ).fetchone()
        total, scheduled, earliest = int(row[0]), int(row[1]), row[2]
        if total == 0:
            return None
        # A row never tried is due now; else the earliest scheduled retry.
        due = self.clock() if scheduled < total else dt.datetime.fromisoformat(earliest)
        if self.hold_until is not None:
            due = max(due, self.hold_until)
        return due

    def drain(self, *, timeout_s: float, pull: bool = True, stop: threading.Event | None = None) -> DrainReport:
        """Pull once, then push until nothing is pending or ``timeout_s`` has passed, sleeping until the next row
        is due, then pull again if the first pull failed; stops at once on refused credentials. ``drained`` says
        whether nothing is left pending; ``pull_problem`` whether the consent changes could not be pulled."""
        started = time.monotonic()
        total = PushReport()
        pulls, pull_problem = 0, None
        if pull:
            try:
                self.pull_once()
                pulls += 1
            except SyncError as error:
                pull_problem = str(error)
        cycles = 0
        while True:
            report = self.push_once(stop)
            cycles += 1
            for name in ("sent", "duplicates", "parked", "retried"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.parked_ids += report.parked_ids
            total.problem, total.message = report.problem, report.message
            if report.problem == "auth":
                break
            due = self.next_due()
            if due is None or (stop is not None and stop.is_set()):
                break
            left = timeout_s - (time.monotonic() - started)
            if left <= 0:
                break
            wait = (due - self.clock()).total_seconds()
            if wait > 0:
                self.sleep(min(wait, left))
        if pull_problem is not None and total.problem != "auth" and not (stop is not None and stop.is_set()):
            try:  # the first pull failed (the CRM was down then): once more now that pushes went through
                self.pull_once()
                pulls, pull_problem = pulls + 1, None
            except SyncError as error:
                pull_problem = str(error)
        pending = self.pending_count()
        return DrainReport(pending == 0, pending, cycles, total, pulls, pull_problem, time.monotonic() - started)

    def wake(self) -> None:
        """Push now (a row was queued): the running loop stops waiting."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Push every ``crm.push_interval_s`` and pull every ``crm.pull_interval_s`` until ``stop`` is set;
        :meth:`wake` pushes at once. Set ``stop`` then call :meth:`wake` to stop promptly. Errors of one cycle
        are logged and the loop goes on; the connection is closed on the way out."""
        next_push = next_pull = time.monotonic()
        try:
            while not stop.is_set():
                now = time.monotonic()
                woken = self._wake.is_set()
                self._wake.clear()
                if now >= next_pull:
                    self._guarded(self.pull_once, "pull")
                    next_pull = time.monotonic() + self.crm.pull_interval_s
                if stop.is_set():
                    break
                if woken or now >= next_push:
                    self._guarded(lambda: self.push_once(stop), "push")
                    next_push = time.monotonic() + self.crm.push_interval_s
                due = self._due_in()
                if due is not None:
                    next_push = min(next_push, time.monotonic() + max(due, 0.05))
                self._wake.wait(max(min(next_push, next_pull) - time.monotonic(), 0.0))
        finally:
            self.close()

    def _due_in(self) -> float | None:
        """Seconds until a pending row retrying sooner than the push interval is due (None: none pending)."""
        due = self.next_due()
        return None if due is None else (due - self.clock()).total_seconds()

    def _guarded(self, action: Callable[[], Any], what: str) -> None:
        try:
            action()
        except SyncError as error:
            log.info("sync: %s failed: %s", what, error)
            if self.on_error is not None:
                self.on_error(f"{what}: {error}")
        except Exception as error:  # one cycle's bug must not end sync for the session
            log.exception("sync: %s failed unexpectedly", what)
            if self.on_error is not None:
                self.on_error(f"{what}: {type(error).__name__}")


# -- parked entries ----------------------------------------------------------------------------------------------


def retry_parked(conn: sqlite3.Connection, row_id: int | None = None) -> int:
    """Put a parked entry (or every parked one when ``row_id`` is None) back in the queue, due now; returns how
    many. NotFoundError when ``row_id`` does not exist, InputError when it is not parked."""
    with transaction(conn):
        if row_id is None:
            cursor = conn.execute("UPDATE outbox SET state = 'pending', next_attempt_at = NULL WHERE state = 'parked'")
            return int(cursor.rowcount)
        row = conn.execute("SELECT state FROM outbox WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"outbox entry {row_id} not found")
        if row[0] != "parked":
            raise InputError(f"outbox entry {row_id} is {row[0]}, not parked")
        conn.execute("UPDATE outbox SET state = 'pending', next_attempt_at = NULL WHERE id = ?", (row_id,))
        return 1


def push_problem(conn: sqlite3.Connection) -> str | None:
    """Why the last push cycle stopped early (``auth: …``, ``unreachable: …``), None when it did not."""
    return get_state(conn, PUSH_PROBLEM) or None


def payload_summary(raw: str) -> dict[str, Any]:
    """The few fields of a stored payload that a person may see (no number, no transcript)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    keep = ("external_id", "kind", "direction", "disposition", "state", "interaction_id", "started_at", "occurred_at")
    return {key: data[key] for key in keep if isinstance(data, dict) and key in data}
