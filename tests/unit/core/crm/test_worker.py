"""SyncWorker against an in-memory connector double: order, batches, backoff, parking, credentials, crashes."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from tenacity.wait import wait_exponential

from desktop.config import Crm
from desktop.core.crm.contract import (
    AuthError,
    ConsentEventPayload,
    InteractionPayload,
    RejectedError,
    ReviewPayload,
    TransientError,
)
from desktop.core.crm.outbox import enqueue
from desktop.core.crm.worker import (
    BACKOFF_CAP_S,
    PushReport,
    SyncWorker,
    backoff_delay,
    push_problem,
    retry_parked,
)
from desktop.core.errors import InputError, NotFoundError
from desktop.core.store.db import Store, transaction
from desktop.core.store.sync_state import LAST_PUSH, get_state
from tests.support.fake_crm import COMMIT_THEN_RAISE, FakeConnector

T0 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def interaction(n: int) -> InteractionPayload:
    return InteractionPayload(
        external_id=f"call-{n:04d}",
        station="st-1",
        number="+33612345678",
        direction="outbound",
        started_at=T0 - dt.timedelta(minutes=10),
        summary={"reason": f"appel {n}"},
    )


def consent(n: int, kind: str) -> ConsentEventPayload:
    return ConsentEventPayload(
        external_id=f"st-1:{n}",
        kind=kind,  # type: ignore[arg-type]
        number="+33612345678",
        professional="ACME Énergie SAS",
        occurred_at=T0 - dt.timedelta(minutes=5),
        source="agent-assist:st-1",
    )


def review(n: int) -> ReviewPayload:
    return ReviewPayload(
        external_id=f"call-{n:04d}:review:1", interaction_id=f"call-{n:04d}", state="approved", reviewer="lead", at=T0
    )


def put(store: Store, *payloads: InteractionPayload | ConsentEventPayload | ReviewPayload) -> None:
    with transaction(store.conn):
        for payload in payloads:
            enqueue(store.conn, payload)


def rows(store: Store) -> dict[str, tuple[str, int, str | None, str | None, str | None]]:
    return {
        row[0]: tuple(row[1:])  # type: ignore[misc]
        for row in store.conn.execute(
            "SELECT entity_id, state, attempts, remote_id, last_error, next_attempt_at FROM outbox"
        )
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake() -> FakeConnector:
    return FakeConnector(max_batch=3)


@pytest.fixture
def worker(store: Store, fake: FakeConnector, clock: Clock) -> SyncWorker:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    worker = SyncWorker(
        lambda: store.conn, fake, Crm(), clock=clock, sleep=sleep, wait=wait_exponential(multiplier=1, max=60)
    )
    worker.sleeps = sleeps  # type: ignore[attr-defined]
    return worker


def test_revocations_go_first_then_consents_then_interactions_then_reviews(
    store: Store, worker: SyncWorker, fake: FakeConnector
) -> None:
    put(store, review(1), interaction(1), consent(1, "given"), consent(2, "withdrawn"), interaction(2))
    put(store, consent(3, "objection"), consent(4, "given"))
    report = worker.push_once()
    assert report.sent == 7 and report.problem is None
    assert fake.requests == [
        ("consent_event", ["st-1:2", "st-1:3", "st-1:1"]),
        ("consent_event", ["st-1:4"]),
        ("interaction", ["call-0001", "call-0002"]),
        ("review", ["call-0001:review:1"]),
    ]
    assert {state for state, *_ in rows(store).values()} == {"sent"}
    assert get_state(store.conn, LAST_PUSH) == T0.isoformat()


def test_batches_never_exceed_the_connectors_limit(store: Store, worker: SyncWorker, fake: FakeConnector) -> None:
    put(store, *(interaction(n) for n in range(10)))
    worker.push_once()
    assert [len(ids) for _, ids in fake.requests] == [3, 3, 3, 1]
    assert [remote for _, _, remote, _, _ in rows(store).values()] == [str(n) for n in range(1, 11)]


def test_transient_error_backs_off_and_honours_retry_after(
    store: Store, worker: SyncWorker, fake: FakeConnector, clock: Clock
) -> None:
    put(store, interaction(1), interaction(2))
    fake.faults = [TransientError("HTTP 429 Too Many Requests", retry_after=30)]
    report = worker.push_once()
    assert report.problem == "unreachable" and report.retried == 2 and report.sent == 0
    state, attempts, _, error, next_at = rows(store)["call-0001"]
    assert (state, attempts, error) == ("pending", 1, "HTTP 429 Too Many Requests")
    # Retry-After (30 s) is longer than the first backoff (1 s): it wins.
    assert dt.datetime.fromisoformat(next_at or "") == T0 + dt.timedelta(seconds=30)
    assert "unreachable" in (push_problem(store.conn) or "")
    # Before the instant, nothing is sent (the CRM is not hammered).
    clock.advance(29)
    assert worker.push_once().sent == 0 and len(fake.requests) == 1
    clock.advance(1)
    assert worker.push_once().sent == 2
    assert push_problem(store.conn) is None


def test_backoff_grows_exponentially_when_the_crm_gives_no_retry_after(
    store: Store, worker: SyncWorker, fake: FakeConnector, clock: Clock
) -> None:
    put(store, interaction(1))
    waits = []
    for _ in range(4):
        fake.faults = [TransientError("HTTP 503")]
        worker.push_once()
        next_at = dt.datetime.fromisoformat(rows(store)["call-0001"][4] or "")
        waits.append((next_at - clock.now).total_seconds())
        clock.now = next_at
    assert waits == [1, 2, 4, 8]
    assert rows(store)["call-0001"][1] == 4


def test_default_backoff_is_full_jitter_and_capped() -> None:
    for attempt in (1, 3, 6):
        values = [backoff_delay(attempt) for _ in range(200)]
        assert all(0 <= value <= 2 ** (attempt - 1) for value in values)
        assert len(set(values)) > 100  # jittered, not a fixed schedule
    assert max(backoff_delay(40) for _ in range(200)) <= BACKOFF_CAP_S


def test_per_item_retry_and_rejection_in_one_batch(store: Store, worker: SyncWorker, fake: FakeConnector) -> None:
    put(store, interaction(1), interaction(2), interaction(3))
    fake.reject["call-0002"] = 'A value is required for field "Direction".'
    fake.retry["call-0003"] = 12.0
    report = worker.push_once()
    assert (report.sent, report.parked, report.retried) == (1, 1, 1)
    table = rows(store)
    assert table["call-0001"][0] == "sent"
    assert (
        table["call-0002"][:2] == ("parked", 1)
        and table["call-0002"][3] == 'A value is required for field "Direction".'
    )
    assert table["call-0003"][0] == "pending" and table["call-0003"][3] == "busy"
    # Parked entries are never retried by themselves...
    fake.reject.clear()
    worker.push_once()
    assert rows(store)["call-0002"][0] == "parked"
    # ...until a person puts them back.
    assert (
        retry_parked(store.conn, int(store.conn.execute("SELECT id FROM outbox WHERE state='parked'").fetchone()[0]))
        == 1
    )
    assert worker.push_once().sent == 1
    assert rows(store)["call-0002"][0] == "sent"


def test_a_whole_batch_rejected_is_split_so_only_the_bad_one_is_parked(
    store: Store, worker: SyncWorker, fake: FakeConnector
) -> None:
    put(store, interaction(1), interaction(2))
    fake.faults = [RejectedError("400: validation failed")]
    report = worker.push_once()
    assert (report.sent, report.parked) == (2, 0)
    assert fake.requests == [
        ("interaction", ["call-0001", "call-0002"]),
        ("interaction", ["call-0001"]),
        ("interaction", ["call-0002"]),
    ]
    put(store, interaction(3))
    fake.faults = [RejectedError("400: the number is not E.164")]
    assert worker.push_once().parked == 1
    assert rows(store)["call-0003"][3] == "400: the number is not E.164"


def test_refused_credentials_stop_the_cycle_and_say_so(store: Store, worker: SyncWorker, fake: FakeConnector) -> None:
    put(store, consent(1, "withdrawn"), interaction(1))
    fake.faults = [AuthError("401: the API key was refused")]
    report = worker.push_once()
    assert report.problem == "auth" and report.sent == 0
    assert fake.requests == [("consent_event", ["st-1:1"])]  # nothing after the refusal
    assert rows(store)["st-1:1"][:2] == ("pending", 0)  # not counted as an attempt: nothing was wrong with it
    assert push_problem(store.conn) == "auth: 401: the API key was refused"


def test_a_lost_answer_after_the_commit_leaves_one_record(
    store: Store, worker: SyncWorker, fake: FakeConnector, clock: Clock
) -> None:
    put(store, interaction(1), interaction(2))
    fake.faults = [COMMIT_THEN_RAISE]
    worker.push_once()
    assert len(fake.records) == 2 and rows(store)["call-0001"][0] == "pending"
    clock.advance(BACKOFF_CAP_S)
    report = worker.push_once()
    assert (report.sent, report.duplicates) == (0, 2)
    assert len(fake.records) == 2
    assert {row[0] for row in rows(store).values()} == {"sent"}


def test_a_crash_between_push_and_record_is_resolved_as_a_duplicate(
    store: Store, fake: FakeConnector, clock: Clock
) -> None:
    put(store, interaction(1), interaction(2), interaction(3))

    class Crash(BaseException):
        pass

    crashing = SyncWorker(lambda: store.conn, fake, Crm(), clock=clock)

    def crash(*_args: object) -> None:
        raise Crash

    crashing._record = crash  # type: ignore[method-assign]  # the process dies after the CRM committed
    with pytest.raises(Crash):
        crashing.push_once()
    assert len(fake.records) == 3
    assert {row[0] for row in rows(store).values()} == {"pending"}
    restarted = SyncWorker(lambda: store.conn, fake, Crm(), clock=clock)
    report = restarted.push_once()
    assert report.duplicates == 3 and len(fake.records) == 3
    assert [row[2] for row in rows(store).values()] == ["1", "2", "3"]


def test_drain_sleeps_until_due_and_empties_the_backlog(store: Store, worker: SyncWorker, fake: FakeConnector) -> None:
    put(store, *(interaction(n) for n in range(5)))
    fake.faults = [TransientError("connection refused"), TransientError("HTTP 500", retry_after=2)]
    report = worker.drain(timeout_s=60, pull=False)
    assert report.drained and report.pending == 0 and report.push.sent == 5
    assert worker.sleeps == [1, 2]  # type: ignore[attr-defined]


def test_drain_gives_up_at_the_timeout(store: Store, worker: SyncWorker, fake: FakeConnector) -> None:
    put(store, interaction(1))
    fake.faults = [TransientError("connection refused")] * 50
    report = worker.drain(timeout_s=0.2, pull=False)
    assert not report.drained and report.pending == 1


def test_retry_parked_names_what_is_wrong(store: Store) -> None:
    put(store, interaction(1))
    with pytest.raises(NotFoundError, match="outbox entry 99 not found"):
        retry_parked(store.conn, 99)
    with pytest.raises(InputError, match="outbox entry 1 is pending, not parked"):
        retry_parked(store.conn, 1)
    assert retry_parked(store.conn) == 0


def test_unreadable_rows_are_parked_not_retried_forever(store: Store, worker: SyncWorker) -> None:
    with transaction(store.conn):
        store.conn.execute(
            "INSERT INTO outbox (kind, entity_id, idempotency_key, payload, created_at) VALUES ('interaction', 'x', 'k', '{}', ?)",
            (T0.isoformat(),),
        )
    assert worker.push_once().parked == 1
    assert rows(store)["x"][0] == "parked"


def test_run_pushes_when_woken_pulls_on_its_timer_and_stops_promptly(
    store: Store, fake: FakeConnector, data_dir: Path
) -> None:
    pulls: list[dt.datetime] = []
    pushed = threading.Event()

    def pull(conn: object, connector: object, *, now: dt.datetime, overlap_s: float) -> int:
        pulls.append(now)
        return 0

    # The worker opens its own connection in its thread (sqlite connections belong to their thread).
    worker = SyncWorker.for_data_dir(data_dir, fake, Crm(push_interval_s=3600, pull_interval_s=3600), pull=pull)

    def on_push(report: PushReport) -> None:
        if report.sent:
            pushed.set()

    worker.on_push = on_push
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        for _ in range(100):
            if pulls:
                break
            threading.Event().wait(0.02)
        put(store, interaction(1))
        worker.wake()
        assert pushed.wait(5), "a wake-up did not push the new row"
    finally:
        stop.set()
        worker.wake()
        thread.join(5)
    assert not thread.is_alive() and fake.closed
    assert len(pulls) == 1  # the pull interval (an hour) had not come round again
