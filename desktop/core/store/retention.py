"""Retention: call content is purged once its period is over; consent proofs never are.

What goes, counted from the call's end (its start when it never ended), per the ``[retention]`` settings
(``docs/policy.md`` gives the legal basis of the defaults):

- transcript segments after ``retention.transcripts`` (default ``P6M``), and the transcript copied into the
  call's CRM outbox entry (emptied, the entry stays);
- summaries after ``retention.summaries`` (default ``P1Y``), and their copy in the outbox entry;
- baresip's recording files (``*-dec.wav``, ``*-enc.wav``) older than ``retention.recordings`` (default ``P6M``).

What stays: the interaction rows (the call happened, its verdict), and the consent proofs: ``consents``,
``consent_events`` (the hash-chained ledger) and ``decisions`` are append-only and never touched here, so
``consent verify-ledger`` holds after any purge. Deleted rows are overwritten (``secure_delete``) and the WAL is
checkpointed, so the text does not linger in the database file. Each run is logged with counts only and
recorded in the ``audit`` table (action ``retention_purge``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.core.consent.policy import parse_duration
from desktop.core.store.db import transaction

if TYPE_CHECKING:
    from desktop.config import Settings

log = logging.getLogger("agent_assist.retention")

#: The audit action of a purge.
AUDIT_ACTION = "retention_purge"
#: baresip's sndfile names its files ``dump-…-dec.wav`` and ``dump-…-enc.wav``: only those are ever deleted.
RECORDING_PATTERNS = ("*-dec.wav", "*-enc.wav")
#: How often the app runs the purge (and once at start).
PURGE_INTERVAL = dt.timedelta(days=1)

# The instant a call's content ages from: its end, else its start, else when it was written.
_CALL_AGE = "julianday(coalesce(i.ended_at, i.started_at, i.created_at))"
_OLD_CALLS = f"SELECT i.id FROM interactions i WHERE {_CALL_AGE} < julianday(?)"
_OLD_UIDS = f"SELECT i.uid FROM interactions i WHERE {_CALL_AGE} < julianday(?)"


@dataclass(frozen=True)
class PurgeReport:
    """What one purge removed (or would remove, with ``dry_run``): counts only, never content."""

    at: str
    dry_run: bool
    transcripts_before: str
    summaries_before: str
    recordings_before: str
    transcript_segments: int = 0
    transcript_calls: int = 0
    summaries: int = 0
    outbox_transcripts: int = 0
    outbox_summaries: int = 0
    recordings: int = 0
    recording_errors: int = 0

    @property
    def removed(self) -> int:
        """Everything removed: rows, emptied outbox copies and files."""
        return (
            self.transcript_segments
            + self.summaries
            + self.outbox_transcripts
            + self.outbox_summaries
            + self.recordings
        )

    def counts(self) -> dict[str, int]:
        """The counts alone (for the log and the audit table)."""
        return {key: value for key, value in asdict(self).items() if isinstance(value, int) and key != "dry_run"}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One line for a person (French words are in the UI; the CLI speaks English like its other lines)."""
        verb = "would purge" if self.dry_run else "purged"
        text = (
            f"{verb}: {self.transcript_segments} transcript segments of {self.transcript_calls} calls"
            f" (before {self.transcripts_before[:10]}), {self.summaries} summaries (before {self.summaries_before[:10]}),"
            f" {self.outbox_transcripts + self.outbox_summaries} outbox copies,"
            f" {self.recordings} recording files (before {self.recordings_before[:10]}); consent proofs kept"
        )
        if self.recording_errors:
            text += f"; {self.recording_errors} recording files could not be deleted"
        return text


def cutoff(now: dt.datetime, period: str) -> dt.datetime:
    """``now`` minus the ISO 8601 ``period``, in UTC (calendar months: 31 Aug - P6M = 28 or 29 Feb)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    result = now.astimezone(dt.UTC) - parse_duration(period)
    assert isinstance(result, dt.datetime)
    return result


def recordings_folder(settings: Settings, data_dir: Path) -> Path:
    """Where baresip's recordings are: ``[telephony].recordings_dir``, else ``<data folder>/recordings``."""
    configured = settings.telephony.recordings_dir
    return Path(configured).expanduser() if configured else data_dir / "recordings"


def purge_expired(
    conn: sqlite3.Connection,
    settings: Settings,
    now: dt.datetime,
    *,
    recordings_dir: Path | None = None,
    dry_run: bool = False,
    actor: str | None = None,
) -> PurgeReport:
    """Purge what ``settings.retention`` says has expired at ``now`` (timezone-aware) and return the counts.

    The database part is one transaction (all or nothing), recorded in ``audit``; recording files in
    ``recordings_dir`` (None: none are looked at) are deleted after it commits. ``dry_run`` counts and changes
    nothing (no audit row either). Consent proofs are never touched.
    """
    retention = settings.retention
    transcripts_before = cutoff(now, retention.transcripts).isoformat()
    summaries_before = cutoff(now, retention.summaries).isoformat()
    recordings_before = cutoff(now, retention.recordings)
    counts = _purge_rows(conn, transcripts_before, summaries_before, now, dry_run=dry_run, actor=actor)
    files, errors = _purge_recordings(recordings_dir, recordings_before, dry_run=dry_run)
    report = PurgeReport(
        at=now.isoformat(),
        dry_run=dry_run,
        transcripts_before=transcripts_before,
        summaries_before=summaries_before,
        recordings_before=recordings_before.isoformat(),
        recordings=files,
        recording_errors=errors,
        **counts,
    )
    if not dry_run:
        log.info("retention purge: %s", json.dumps(report.counts(), sort_keys=True))
        if errors:
            log.warning("retention purge: %d recording files could not be deleted", errors)
    return report


def _purge_rows(
    conn: sqlite3.Connection,
    transcripts_before: str,
    summaries_before: str,
    now: dt.datetime,
    *,
    dry_run: bool,
    actor: str | None,
) -> dict[str, int]:
    def count(sql: str, *params: str) -> int:
        return int(conn.execute(sql, params).fetchone()[0])

    old_transcripts = f"interaction_id IN ({_OLD_CALLS})"
    old_summaries = f"interaction_id IN ({_OLD_CALLS})"
    outbox_transcripts = (
        f"kind = 'interaction' AND entity_id IN ({_OLD_UIDS})"
        " AND json_valid(payload) AND coalesce(json_array_length(payload, '$.transcript'), 0) > 0"
    )
    outbox_summaries = (
        f"kind = 'interaction' AND entity_id IN ({_OLD_UIDS})"
        " AND json_valid(payload) AND coalesce(json_type(payload, '$.summary'), 'null') != 'null'"
    )
    if dry_run:
        return {
            "transcript_segments": count(
                f"SELECT count(*) FROM transcript_segments WHERE {old_transcripts}", transcripts_before
            ),
            "transcript_calls": count(
                f"SELECT count(DISTINCT interaction_id) FROM transcript_segments WHERE {old_transcripts}",
                transcripts_before,
            ),
            "summaries": count(f"SELECT count(*) FROM summaries WHERE {old_summaries}", summaries_before),
            "outbox_transcripts": count(f"SELECT count(*) FROM outbox WHERE {outbox_transcripts}", transcripts_before),
            "outbox_summaries": count(f"SELECT count(*) FROM outbox WHERE {outbox_summaries}", summaries_before),
        }
    (secure,) = conn.execute("PRAGMA secure_delete").fetchone()
    conn.execute("PRAGMA secure_delete = ON")  # deleted text is overwritten, not left in free pages
    try:
        with transaction(conn):
            calls = count(
                f"SELECT count(DISTINCT interaction_id) FROM transcript_segments WHERE {old_transcripts}",
                transcripts_before,
            )
            segments = conn.execute(f"DELETE FROM transcript_segments WHERE {old_transcripts}", (transcripts_before,))
            summaries = conn.execute(f"DELETE FROM summaries WHERE {old_summaries}", (summaries_before,))
            outbox_t = conn.execute(
                f"UPDATE outbox SET payload = json_set(payload, '$.transcript', json('[]')) WHERE {outbox_transcripts}",
                (transcripts_before,),
            )
            outbox_s = conn.execute(
                f"UPDATE outbox SET payload = json_set(payload, '$.summary', json('null')) WHERE {outbox_summaries}",
                (summaries_before,),
            )
            counts = {
                "transcript_segments": segments.rowcount,
                "transcript_calls": calls,
                "summaries": summaries.rowcount,
                "outbox_transcripts": outbox_t.rowcount,
                "outbox_summaries": outbox_s.rowcount,
            }
            details = {**counts, "transcripts_before": transcripts_before, "summaries_before": summaries_before}
            conn.execute(
                "INSERT INTO audit (at, actor, action, details) VALUES (?, ?, ?, ?)",
                (now.isoformat(), actor, AUDIT_ACTION, json.dumps(details, sort_keys=True)),
            )
    finally:
        conn.execute(f"PRAGMA secure_delete = {int(secure)}")
    if (
        counts["transcript_segments"]
        or counts["summaries"]
        or counts["outbox_transcripts"]
        or counts["outbox_summaries"]
    ):
        try:  # the old pages also sit in the WAL until a checkpoint; a busy reader only delays it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError as error:
            log.info("retention purge: WAL checkpoint postponed (%s)", error)
    return counts


def _purge_recordings(folder: Path | None, before: dt.datetime, *, dry_run: bool) -> tuple[int, int]:
    """Delete (or count) baresip recording files last modified before ``before``; (deleted, failed)."""
    if folder is None or not folder.is_dir():
        return 0, 0
    limit = before.timestamp()
    deleted = failed = 0
    for pattern in RECORDING_PATTERNS:
        for path in folder.glob(pattern):
            try:
                info = path.lstat()
                if not path.is_file() or path.is_symlink() or info.st_mtime >= limit:
                    continue
                if not dry_run:
                    path.unlink()
                deleted += 1
            except OSError as error:
                failed += 1  # the name may carry the peer's number: DEBUG only
                log.debug("retention purge: cannot delete %s: %s", path.name, error.strerror)
    return deleted, failed
