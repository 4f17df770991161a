"""Retention purge on a real SQLite store: old transcripts and summaries go, recent ones and consent proofs stay."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path

import pytest

from desktop.config import Retention, Settings
from desktop.core.consent.ledger import verify
from desktop.core.consent.policy import Policy
from desktop.core.crm.contract import InteractionPayload
from desktop.core.store.consents import ConsentRecord, record_consent
from desktop.core.store.db import Store
from desktop.core.store.retention import AUDIT_ACTION, cutoff, purge_expired, recordings_folder
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallDesk, CallSession, StationDefaults

PARIS = dt.timezone(dt.timedelta(hours=1))
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
OLD = dt.datetime(2026, 4, 2, 10, 0, tzinfo=PARIS)  # 8 months ago: transcript expired, summary not
ANCIENT = dt.datetime(2025, 9, 1, 10, 0, tzinfo=PARIS)  # 15 months ago: both expired
RECENT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)
NUMBER = "+33639980001"
DEFAULTS = StationDefaults(
    professional="ACME Énergie SAS", product="electricity", caller_id="+33162000001", agent_id="agent-7"
)
SECRET_WORDS = "Je ne veux plus être appelé, mon code est 4242"


@pytest.fixture
def desk(store: Store, policy: Policy) -> CallDesk:
    record = ConsentRecord(
        number=NUMBER,
        professional="ACME Énergie SAS",
        products=("electricity",),
        collected_at=dt.datetime(2025, 6, 1, 15, 2, tzinfo=PARIS),
        method="web_form",
        affirmative_act=True,
        pre_ticked=False,
        evidence_ref="wf",
        text_shown="J'accepte.",
    )
    record_consent(store.conn, record, source="test")
    return CallDesk(store.conn, policy, DEFAULTS)


def call(desk: CallDesk, store: Store, started: dt.datetime, call_id: str, *, withdraw: bool = False) -> CallSession:
    """One complete call at ``started``: two segments, a validated summary (which queues its outbox entry)."""
    change = desk.handle(CallEvent(kind="dialing", at=started, call_id=call_id, number=NUMBER))
    assert change is not None
    session = change.session
    desk.handle(CallEvent(kind="answered", at=started + dt.timedelta(seconds=5), call_id=call_id))
    desk.add_segment(session, "agent", "Bonjour, ACME Énergie.", 5.0, 6.0)
    desk.add_segment(session, "customer", SECRET_WORDS, 6.5, 8.0)
    if withdraw:
        desk.record_withdrawal(session, at=started + dt.timedelta(seconds=8), segment=1)
    desk.handle(CallEvent(kind="ended", at=started + dt.timedelta(seconds=60), call_id=call_id))
    summary = {"reason": SECRET_WORDS, "disposition": "do_not_call"}
    desk.save_summary(session, summary, validated_by="agent-7")
    return session


def counts(store: Store) -> dict[str, int]:
    tables = ("transcript_segments", "summaries", "interactions", "consents", "consent_events", "decisions")
    return {table: store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}


def test_defaults_follow_the_cnil_references() -> None:
    retention = Settings().retention
    assert (retention.transcripts, retention.summaries, retention.recordings) == ("P6M", "P1Y", "P6M")
    assert cutoff(NOW, "P6M") == dt.datetime(2026, 5, 29, 12, 0, tzinfo=dt.UTC)
    assert cutoff(dt.datetime(2026, 8, 31, tzinfo=dt.UTC), "P6M") == dt.datetime(2026, 2, 28, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        cutoff(dt.datetime(2026, 8, 31), "P6M")  # noqa: DTZ001 - the mistake under test


@pytest.mark.parametrize("value", ["P0D", "6 months", "-P1M", ""])
def test_bad_periods_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="transcripts"):
        Retention(transcripts=value)


def test_purge_removes_expired_content_and_keeps_consent_proofs(
    desk: CallDesk, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    ancient = call(desk, store, ANCIENT, "c-ancient", withdraw=True)
    old = call(desk, store, OLD, "c-old")
    recent = call(desk, store, RECENT, "c-recent")
    before = counts(store)
    assert verify(store.conn).ok and before["consent_events"] >= 2

    with caplog.at_level(logging.DEBUG, logger="agent_assist.retention"):
        report = purge_expired(store.conn, Settings(), NOW)

    assert (report.transcript_segments, report.transcript_calls, report.summaries) == (4, 2, 1)
    assert (report.outbox_transcripts, report.outbox_summaries) == (2, 1)
    assert not report.dry_run and report.removed == 4 + 1 + 2 + 1
    segments = store.conn.execute("SELECT DISTINCT interaction_id FROM transcript_segments").fetchall()
    assert segments == [(recent.interaction_id,)]
    summaries = store.conn.execute("SELECT interaction_id FROM summaries ORDER BY interaction_id").fetchall()
    assert summaries == [(old.interaction_id,), (recent.interaction_id,)]
    outbox = {
        row[0]: json.loads(row[1])
        for row in store.conn.execute("SELECT entity_id, payload FROM outbox WHERE kind = 'interaction'")
    }
    assert (outbox[ancient.uid]["transcript"], outbox[ancient.uid]["summary"]) == ([], None)
    assert outbox[old.uid]["transcript"] == [] and outbox[old.uid]["summary"]["reason"] == SECRET_WORDS
    assert len(outbox[recent.uid]["transcript"]) == 2
    InteractionPayload.model_validate(outbox[ancient.uid])  # what is left still syncs

    after = counts(store)
    for proof in ("interactions", "consents", "consent_events", "decisions"):
        assert after[proof] == before[proof], proof
    assert verify(store.conn).ok  # the ledger chain is untouched

    audit = store.conn.execute("SELECT action, details FROM audit WHERE action = ?", (AUDIT_ACTION,)).fetchall()
    assert len(audit) == 1
    details = json.loads(audit[0][1])
    assert details["transcript_segments"] == 4 and details["summaries"] == 1
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "transcript_segments" in logged and SECRET_WORDS not in logged and NUMBER not in logged
    assert SECRET_WORDS not in json.dumps(details)

    again = purge_expired(store.conn, Settings(), NOW)
    assert again.removed == 0  # idempotent; the run is still audited
    assert store.conn.execute("SELECT count(*) FROM audit WHERE action = ?", (AUDIT_ACTION,)).fetchone()[0] == 2


def test_deleted_text_does_not_linger_in_the_database_file(desk: CallDesk, store: Store) -> None:
    call(desk, store, ANCIENT, "c-ancient")
    purge_expired(store.conn, Settings(), NOW)
    raw = store.path.read_bytes() + (
        Path(f"{store.path}-wal").read_bytes() if Path(f"{store.path}-wal").exists() else b""
    )
    assert SECRET_WORDS.encode("utf-8") not in raw


def test_dry_run_counts_and_changes_nothing(desk: CallDesk, store: Store) -> None:
    call(desk, store, ANCIENT, "c-ancient")
    before = counts(store)
    report = purge_expired(store.conn, Settings(), NOW, dry_run=True)
    assert report.dry_run and (report.transcript_segments, report.summaries, report.outbox_transcripts) == (2, 1, 1)
    assert counts(store) == before
    assert store.conn.execute("SELECT count(*) FROM audit WHERE action = ?", (AUDIT_ACTION,)).fetchone()[0] == 0


def test_configured_periods_apply(desk: CallDesk, store: Store) -> None:
    call(desk, store, RECENT, "c-recent")  # nine days old
    keep = Settings(retention=Retention(transcripts="P10D", summaries="P10D"))
    assert purge_expired(store.conn, keep, NOW).removed == 0
    short = Settings(retention=Retention(transcripts="P7D", summaries="P1Y"))
    report = purge_expired(store.conn, short, NOW)
    assert (report.transcript_segments, report.summaries) == (2, 0)


def test_old_recordings_are_deleted_and_nothing_else(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    old_time = (NOW - dt.timedelta(days=200)).timestamp()
    new_time = (NOW - dt.timedelta(days=3)).timestamp()
    files = {
        "dump-2026-05-01-10-00-00-dec.wav": old_time,
        "dump-2026-05-01-10-00-00-enc.wav": old_time,
        "dump-2026-11-26-10-00-00-dec.wav": new_time,
        "notes-old.txt": old_time,  # not baresip's: never deleted
    }
    for name, stamp in files.items():
        (folder / name).write_bytes(b"RIFF")
        os.utime(folder / name, (stamp, stamp))
    dry = purge_expired(store.conn, Settings(), NOW, recordings_dir=folder, dry_run=True)
    assert dry.recordings == 2 and len(list(folder.iterdir())) == 4
    report = purge_expired(store.conn, Settings(), NOW, recordings_dir=folder)
    assert report.recordings == 2 and report.recording_errors == 0
    assert sorted(path.name for path in folder.iterdir()) == ["dump-2026-11-26-10-00-00-dec.wav", "notes-old.txt"]
    assert purge_expired(store.conn, Settings(), NOW, recordings_dir=tmp_path / "absent").recordings == 0


def test_recordings_folder_follows_the_settings(tmp_path: Path) -> None:
    assert recordings_folder(Settings(), tmp_path) == tmp_path / "recordings"
    configured = Settings.model_validate({"telephony": {"recordings_dir": str(tmp_path / "rec")}})
    assert recordings_folder(configured, tmp_path) == tmp_path / "rec"
