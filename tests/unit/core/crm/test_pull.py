"""The consent pull merges the CRM's consent changes into the local ledger: once, in order-free ways, opt-out first."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import desktop.core.crm.pull as pull_module
from desktop.core.consent.check import CallQuestion, check
from desktop.core.consent.ledger import verify
from desktop.core.consent.policy import Policy
from desktop.core.crm.contract import ConsentEventPayload, ConsentPage, PushResult, TransientError
from desktop.core.crm.pull import pull_consents
from desktop.core.store.consents import ConsentRecord, consent_proof, record_consent, record_event
from desktop.core.store.db import Store, open_store, transaction
from desktop.core.store.sync_state import CONSENT_CURSOR, get_state, last_consent_pull
from tests.support.fake_crm import FakeConnector

PARIS = dt.timezone(dt.timedelta(hours=1))
NUMBER = "+33639980001"
ACME = "ACME Énergie SAS"
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
CALL = CallQuestion(
    number=NUMBER,
    product="electricity",
    professional=ACME,
    at=dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS),
    caller_id="+33162000001",
)


class ConsentLog:
    """The CRM's append-only consent event log, shared by every station that talks to it."""

    def __init__(self) -> None:
        self.events: list[ConsentEventPayload] = []


class ConsentCrm(FakeConnector):
    """FakeConnector whose consent events join a shared log, read back by position.

    ``overlap``: each page starts that many events before the cursor (a CRM whose ordering needs an overlap
    window re-sends them); ``fail_pulls``: exceptions raised by the next pull requests, in order.
    """

    def __init__(self, log: ConsentLog, *, overlap: int = 0) -> None:
        super().__init__()
        self.log = log
        self.overlap = overlap
        self.fail_pulls: list[BaseException | None] = []
        self.limits: list[int] = []

    def push_consent_events(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]:
        results = super().push_consent_events(items)
        for item, result in zip(items, results, strict=True):
            if result.status == "created":
                self.log.events.append(item)
        return results

    def pull_consent_changes(self, cursor: str | None, limit: int = 200) -> ConsentPage:
        self.pulls += 1
        self.limits.append(limit)
        if self.fail_pulls:
            fault = self.fail_pulls.pop(0)
            if fault is not None:
                raise fault
        position = int(cursor or 0)
        start = max(position - self.overlap, 0)
        changes = self.log.events[start : start + limit]
        reached = max(start + len(changes), position)
        return ConsentPage(changes=changes, cursor=str(reached), more=reached < len(self.log.events))


def _given(external_id: str, at: dt.datetime, *, uid: str | None = None, **content: Any) -> ConsentEventPayload:
    record = ConsentRecord(
        number=NUMBER,
        professional=ACME,
        products=("electricity",),
        collected_at=at,
        method="web_form",
        affirmative_act=True,
        pre_ticked=False,
        evidence_ref=f"webform-{external_id}",
        text_shown="J'accepte d'être appelé par ACME Énergie SAS.",
    )
    body = {**record.content(), **content}
    return ConsentEventPayload(
        external_id=external_id,
        kind="given",
        number=NUMBER,
        professional=ACME,
        products=["electricity"],
        occurred_at=at,
        consent_uid=uid or f"crm-consent-{external_id}",
        consent=body,
        source="crm",
    )


def _event(external_id: str, kind: str, at: dt.datetime, **fields: Any) -> ConsentEventPayload:
    values: dict[str, Any] = {
        "external_id": external_id,
        "kind": kind,
        "number": NUMBER,
        "professional": ACME,
        "occurred_at": at,
        "source": "crm",
    }
    values.update(fields)
    return ConsentEventPayload(**values)


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


def _verdict(store: Store, policy: Policy) -> tuple[str, str]:
    decision = check(store.conn, CALL, policy, store=False)[1]
    return decision.verdict, decision.codes[0]


def _entries(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM consent_events").fetchone()[0])


def _push_outbox(store: Store, crm: ConsentCrm) -> int:
    """What the sync worker does for consent events, reduced to its effect: every queued one reaches the CRM."""
    rows = store.conn.execute("SELECT payload FROM outbox WHERE kind = 'consent_event' ORDER BY id").fetchall()
    crm.push_consent_events([ConsentEventPayload.model_validate_json(body) for (body,) in rows])
    return len(rows)


# -- paging, cursor, freshness ---------------------------------------------------------------------------------


def test_pages_are_applied_and_the_cursor_and_freshness_follow(store: Store, policy: Policy) -> None:
    log = ConsentLog()
    log.events += [_given("g1", _at(2, 9)), *(_event(f"w{i}", "withdrawn", _at(3, 9, i)) for i in range(4))]
    crm = ConsentCrm(log)
    report = pull_consents(store.conn, crm, now=NOW, overlap_s=5.0, page_size=2)
    assert (report.pages, report.applied, report.known, report.own, report.skipped) == (3, 5, 0, 0, 0)
    assert report.complete and crm.limits == [2, 2, 2]
    assert get_state(store.conn, CONSENT_CURSOR) == "5"
    assert last_consent_pull(store.conn) == NOW - dt.timedelta(seconds=5)
    assert _entries(store) == 5
    assert _verdict(store, policy) == ("forbidden", "CONSENT_REVOKED")
    assert verify(store.conn).ok
    # pulled events are the CRM's: none of them is queued back to it
    assert store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0

    again = pull_consents(store.conn, crm, now=NOW + dt.timedelta(minutes=1), overlap_s=0.0)
    assert (again.pages, again.applied, again.known) == (1, 0, 0)
    assert last_consent_pull(store.conn) == NOW + dt.timedelta(minutes=1)


def test_the_overlap_window_is_applied_once(store: Store) -> None:
    log = ConsentLog()
    log.events += [_event(f"w{i}", "withdrawn", _at(3, 9, i)) for i in range(6)]
    crm = ConsentCrm(log, overlap=2)
    report = pull_consents(store.conn, crm, now=NOW, page_size=3)
    assert report.applied == 6 and report.known > 0  # re-sent events counted, not appended
    log.events.append(_event("w6", "withdrawn", _at(3, 9, 6)))
    second = pull_consents(store.conn, crm, now=NOW, page_size=3)
    assert (second.applied, second.known) == (1, 2)
    assert _entries(store) == 7
    assert store.conn.execute("SELECT count(*) FROM pulled_consent_events").fetchone()[0] == 7
    assert verify(store.conn).ok


def test_a_page_that_keeps_saying_more_ends_the_pull(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    class Endless(ConsentCrm):
        def pull_consent_changes(self, cursor: str | None, limit: int = 200) -> ConsentPage:
            self.pulls += 1
            return ConsentPage(changes=[], cursor=cursor, more=True)

    monkeypatch.setattr(pull_module, "MAX_PAGES", 3)
    crm = Endless(ConsentLog())
    report = pull_consents(store.conn, crm, now=NOW)
    assert crm.pulls == 3 and not report.complete
    assert last_consent_pull(store.conn) is None  # never completed: not fresh


def test_now_must_be_aware(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        pull_consents(store.conn, ConsentCrm(ConsentLog()), now=dt.datetime(2026, 11, 24, 10, 0))  # noqa: DTZ001 (the point)


# -- failures between and inside pages -------------------------------------------------------------------------


def test_a_crm_failure_between_pages_loses_nothing(store: Store, policy: Policy) -> None:
    log = ConsentLog()
    log.events += [_given("g1", _at(2, 9)), _event("w1", "withdrawn", _at(3, 9)), _event("o1", "objection", _at(4, 9))]
    crm = ConsentCrm(log)
    crm.fail_pulls = [None, TransientError("CRM unreachable")]
    with pytest.raises(TransientError):
        pull_consents(store.conn, crm, now=NOW, page_size=1)
    assert _entries(store) == 1 and get_state(store.conn, CONSENT_CURSOR) == "1"  # page 1 kept with its cursor
    assert last_consent_pull(store.conn) is None  # the pull did not complete: freshness unchanged
    report = pull_consents(store.conn, crm, now=NOW, page_size=1)
    assert (report.applied, report.known) == (2, 0)
    assert _entries(store) == 3
    assert _verdict(store, policy) == ("forbidden", "MARKETING_OBJECTION")
    assert verify(store.conn).ok


def test_a_crash_while_applying_a_page_rolls_the_whole_page_back(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    log = ConsentLog()
    log.events += [_event(f"w{i}", "withdrawn", _at(3, 9, i)) for i in range(4)]
    crm = ConsentCrm(log)
    real_set_state = pull_module.set_state
    calls = 0

    def crash_on_second_page(conn: Any, key: str, value: str | None) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("power cut")
        real_set_state(conn, key, value)

    monkeypatch.setattr(pull_module, "set_state", crash_on_second_page)
    with pytest.raises(RuntimeError, match="power cut"):
        pull_consents(store.conn, crm, now=NOW, page_size=2)
    assert _entries(store) == 2  # the second page's events went with its cursor
    assert store.conn.execute("SELECT count(*) FROM pulled_consent_events").fetchone()[0] == 2
    monkeypatch.setattr(pull_module, "set_state", real_set_state)
    report = pull_consents(store.conn, crm, now=NOW, page_size=2)
    assert (report.applied, report.known) == (2, 0)
    assert _entries(store) == 4
    assert verify(store.conn).ok


# -- own events ------------------------------------------------------------------------------------------------


def test_this_station_s_own_events_come_back_and_are_not_duplicated(tmp_path: Path, policy: Policy) -> None:
    log = ConsentLog()
    with open_store(tmp_path / "a") as a:
        _outcome, uid = record_consent(a.conn, _record(_at(2, 9)), "cli", station="desk")
        with transaction(a.conn):
            record_event(
                a.conn, "withdrawn", number=NUMBER, professional=ACME, at=_at(3, 9), details={}, station="desk"
            )
        crm = ConsentCrm(log)
        assert _push_outbox(a, crm) == 2
        before = _entries(a)
        report = pull_consents(a.conn, crm, now=NOW)
        assert (report.own, report.applied, report.known) == (2, 0, 0)
        assert _entries(a) == before
        seqs = a.conn.execute("SELECT ledger_seq FROM pulled_consent_events ORDER BY ledger_seq").fetchall()
        assert [seq for (seq,) in seqs] == [1, 2]
        assert pull_consents(a.conn, crm, now=NOW).own == 0  # the cursor moved on
        assert verify(a.conn).ok

        # Another station with the same host name (same station id) gets them as events of its own to apply.
        with open_store(tmp_path / "b") as b:
            report_b = pull_consents(b.conn, ConsentCrm(log), now=NOW)
            assert (report_b.own, report_b.applied) == (0, 2)
            assert _verdict(b, policy) == ("forbidden", "CONSENT_REVOKED")
            proof = consent_proof(b.conn, NUMBER, ACME, "electricity")
            assert proof is not None and proof.consent_id == uid  # the very consent, same id and content hash
            assert proof.content_hash == a.conn.execute("SELECT content_hash FROM consents").fetchone()[0]
            assert verify(b.conn).ok


def _record(at: dt.datetime) -> ConsentRecord:
    return ConsentRecord(
        number=NUMBER,
        professional=ACME,
        products=("electricity",),
        collected_at=at,
        method="web_form",
        affirmative_act=True,
        pre_ticked=False,
        evidence_ref="webform-local",
        text_shown="J'accepte d'être appelé par ACME Énergie SAS.",
    )


# -- the merge rule: latest event wins, ties and unknowns are an opt-out ---------------------------------------

# name, events (kind, instant) in time order, expected verdict code at the call
SCENARIOS: list[tuple[str, list[tuple[str, dt.datetime]], str]] = [
    ("withdrawal after the consent", [("given", _at(2, 9)), ("withdrawn", _at(3, 9))], "CONSENT_REVOKED"),
    ("withdrawal at the consent's instant", [("given", _at(2, 9)), ("withdrawn", _at(2, 9))], "CONSENT_REVOKED"),
    ("a new consent after the withdrawal", [("withdrawn", _at(3, 9)), ("given", _at(4, 9))], "VALID_CONSENT"),
    (
        "a new consent at the withdrawal's instant",
        [("given", _at(2, 9)), ("withdrawn", _at(3, 9)), ("given", _at(3, 9))],
        "CONSENT_REVOKED",
    ),
    ("an objection, then a consent", [("objection", _at(2, 9)), ("given", _at(4, 9))], "MARKETING_OBJECTION"),
]


def _arrivals(count: int) -> Iterator[tuple[frozenset[int], tuple[int, ...]]]:
    """Every split of the events into recorded here / pulled, and every order the pulled ones arrive in."""
    for local_count in range(count + 1):
        for local in itertools.combinations(range(count), local_count):
            pulled = [index for index in range(count) if index not in local]
            for order in itertools.permutations(pulled):
                yield frozenset(local), order


@pytest.mark.parametrize(("name", "events", "expected"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_opt_out_wins_in_every_order(
    tmp_path: Path, policy: Policy, name: str, events: list[tuple[str, dt.datetime]], expected: str
) -> None:
    for case, (local, order) in enumerate(_arrivals(len(events))):
        log = ConsentLog()
        with open_store(tmp_path / str(case)) as station:
            for index in sorted(local):  # recorded on this station, in time order, as the agent would
                kind, at = events[index]
                if kind == "given":
                    record_consent(station.conn, _record(at), "cli", station="here")
                else:
                    with transaction(station.conn):
                        record_event(
                            station.conn,
                            kind,  # type: ignore[arg-type]
                            number=NUMBER,
                            professional=ACME,
                            at=at,
                            details={},
                            station="here",
                        )
            for index in order:
                kind, at = events[index]
                log.events.append(_given(f"e{index}", at) if kind == "given" else _event(f"e{index}", kind, at))
            report = pull_consents(station.conn, ConsentCrm(log), now=NOW, page_size=1)
            assert report.applied == len(order), (name, local, order)
            assert _verdict(station, policy)[1] == expected, (name, sorted(local), order)
            assert verify(station.conn).ok


def test_a_pulled_withdrawal_of_a_consent_held_here_names_it(store: Store, policy: Policy) -> None:
    _outcome, uid = record_consent(store.conn, _record(_at(2, 9)), "cli", station="here")
    log = ConsentLog()
    log.events.append(_event("w1", "withdrawn", _at(3, 9), consent_uid=uid, products=["electricity"]))
    pull_consents(store.conn, ConsentCrm(log), now=NOW)
    row = store.conn.execute("SELECT consent_uid, payload FROM consent_events WHERE kind = 'withdrawn'").fetchone()
    assert row[0] == uid and '"external_id":"w1"' in row[1]
    assert _verdict(store, policy) == ("forbidden", "CONSENT_REVOKED")


def test_a_withdrawal_of_a_consent_not_held_here_covers_the_professional(store: Store, policy: Policy) -> None:
    log = ConsentLog()
    log.events.append(_event("w1", "withdrawn", _at(3, 9), consent_uid="elsewhere-42"))
    pull_consents(store.conn, ConsentCrm(log), now=NOW)
    assert store.conn.execute("SELECT consent_uid FROM consent_events").fetchone()[0] is None
    # the consent arrives later (a file, another page): collected before the withdrawal, it is revoked
    log.events.append(_given("g1", _at(2, 9), uid="elsewhere-42"))
    pull_consents(store.conn, ConsentCrm(log), now=NOW)
    assert _verdict(store, policy) == ("forbidden", "CONSENT_REVOKED")
    assert verify(store.conn).ok


def test_the_same_withdrawal_under_another_id_is_appended_once(store: Store) -> None:
    log = ConsentLog()
    log.events += [_event("w1", "withdrawn", _at(3, 9)), _event("w1-copy", "withdrawn", _at(3, 9))]
    report = pull_consents(store.conn, ConsentCrm(log), now=NOW)
    assert (report.applied, report.known) == (1, 1)
    assert _entries(store) == 1


def test_instants_without_offset_are_utc(store: Store) -> None:
    log = ConsentLog()
    log.events.append(_event("w1", "withdrawn", dt.datetime(2026, 11, 3, 8, 0)))  # noqa: DTZ001
    pull_consents(store.conn, ConsentCrm(log), now=NOW)
    assert store.conn.execute("SELECT at_utc FROM consent_events").fetchone()[0] == "2026-11-03T08:00:00.000000Z"


# -- what cannot be applied ------------------------------------------------------------------------------------


def test_a_consent_without_content_is_not_made_up(store: Store, policy: Policy) -> None:
    log = ConsentLog()
    log.events.append(_event("g1", "given", _at(2, 9), consent_uid="c1"))
    report = pull_consents(store.conn, ConsentCrm(log), now=NOW)
    assert (report.skipped, report.applied) == (1, 0)
    assert "without its content" in report.problems[0] and report.problems[0].startswith("g1: ")
    assert _entries(store) == 0
    assert _verdict(store, policy) == ("forbidden", "NO_VALID_CONSENT")
    assert pull_consents(store.conn, ConsentCrm(log), now=NOW).known == 0  # remembered: not tried again
    assert report.complete  # and the pull still completes: the rest of the data is fresh


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"affirmative_act": "yes"}, "affirmative_act: expected true, false or null"),
        ({"products": "electricity"}, "products: expected a list of strings"),
        ({"collected_at": "2026-11-02T09:00:00"}, "needs its offset"),
        ({"collected_at": "yesterday"}, "Invalid isoformat"),
        ({"professional": ""}, "professional: expected a non-empty string"),
    ],
)
def test_a_consent_with_unusable_content_is_skipped(store: Store, content: dict[str, Any], problem: str) -> None:
    log = ConsentLog()
    log.events.append(_given("g1", _at(2, 9), **content))
    report = pull_consents(store.conn, ConsentCrm(log), now=NOW)
    assert report.skipped == 1 and problem in report.problems[0]
    assert _entries(store) == 0 and store.conn.execute("SELECT count(*) FROM consents").fetchone()[0] == 0


def test_another_content_under_a_held_consent_id_keeps_the_one_held(store: Store) -> None:
    _outcome, uid = record_consent(store.conn, _record(_at(2, 9)), "cli", station="here")
    log = ConsentLog()
    log.events.append(_given("g1", _at(2, 9), uid=uid, evidence_ref="something-else"))
    report = pull_consents(store.conn, ConsentCrm(log), now=NOW)
    assert report.skipped == 1 and "different content" in report.problems[0]
    assert store.conn.execute("SELECT evidence_ref FROM consents").fetchone()[0] == "webform-local"
    assert verify(store.conn).ok


def test_the_same_consent_from_the_crm_is_known(store: Store) -> None:
    _outcome, uid = record_consent(store.conn, _record(_at(2, 9)), "import", station="here")
    content = store.conn.execute("SELECT evidence_ref FROM consents").fetchone()[0]
    log = ConsentLog()
    log.events.append(_given("g1", _at(2, 9), uid=uid, evidence_ref=content))
    report = pull_consents(store.conn, ConsentCrm(log), now=NOW)
    assert (report.known, report.applied) == (1, 0)
    assert store.conn.execute("SELECT ledger_seq FROM pulled_consent_events").fetchone()[0] == 1
