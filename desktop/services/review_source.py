"""ReviewSource: the calls a team lead reviews, from this station's store and from the CRM, seen from the GUI thread.

The store is read on the GUI thread (its connection belongs to it; a few hundred rows take milliseconds). The
CRM is listed in one worker thread (``Connector.list_interactions``), never on the GUI thread: a slow or
unreachable CRM must not freeze the window. Results and failures come back through one relay and are
re-emitted here, on the GUI thread, so widgets and tests only see this object's signals.

A CRM interaction's external id is the local uid of the call that sent it: the same call seen in both places
is one row (``source = "both"``) whose content comes from the store. Reviews are recorded locally first
(:func:`desktop.core.store.reviews.record_review`, with their outbox entry); the sync worker carries them to
the CRM.

Signals:
- ``interactions_loaded(rows)``: the CRM answered; ``rows`` is the merged list for the last filters asked.
- ``load_failed(message)``: the CRM could not be listed (one line, no personal data); local rows stay.
- ``review_recorded(review)``: a review was stored and queued for the CRM.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from PySide6.QtCore import QObject, Signal

from desktop.config import Crm
from desktop.core.consent.phone import mask
from desktop.core.crm.connectors import make_connector
from desktop.core.crm.contract import AuthError, Connector, RemoteInteraction, ReviewState, SyncError
from desktop.core.crm.credentials import get_secret
from desktop.core.errors import InputError
from desktop.core.store.consents import station_name
from desktop.core.store.interactions import WITHDRAWAL_KINDS, InteractionRow, list_interactions
from desktop.core.store.interactions import show_interaction as show_local_interaction
from desktop.core.store.reviews import (
    Alert,
    Review,
    known_agents,
    latest_reviews,
    local_alerts,
    local_uids,
    newest_first,
    record_review,
    reviews_of,
)

log = logging.getLogger("agent_assist.review")
Source = Literal["local", "crm", "both"]
#: Most calls asked of the CRM in one listing.
REMOTE_LIMIT = 500


def system_clock() -> dt.datetime:
    return dt.datetime.now().astimezone()


@dataclass(frozen=True)
class ReviewRow:
    """One call of the review list, wherever it comes from. Field names follow
    :class:`~desktop.core.store.interactions.InteractionRow` (the list's columns); ``local`` and ``remote`` keep
    what each side said. ``id`` is the local row id (None for a call known only to the CRM)."""

    uid: str
    source: Source
    id: int | None
    station: str | None
    started_at: str | None
    duration_s: int | None
    direction: str | None
    number: str | None
    agent_id: str | None
    state: str | None
    verdict: str | None
    reason_code: str | None
    disposition: str | None
    withdrawal: bool
    dialled_against_forbidden: bool
    review_state: ReviewState
    review_comment: str | None
    review: Review | None = None
    local: InteractionRow | None = field(default=None, repr=False)
    remote: RemoteInteraction | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RemoteStatus:
    """Where the CRM listing stands: ``none`` (no CRM configured), ``unavailable`` (configured, but its connector
    could not be made: ``message`` says why), ``loading``, ``ok`` or ``failed``."""

    state: Literal["none", "unavailable", "loading", "ok", "failed"]
    crm: str | None = None
    at: dt.datetime | None = None
    count: int = 0
    message: str | None = None


class _Relay(QObject):
    """Carries a worker's outcome to the GUI thread (queued: it lives there, the worker emits from its thread)."""

    succeeded = Signal(int, object)
    failed = Signal(int, str)


class ReviewSource(QObject):
    interactions_loaded = Signal(list)
    load_failed = Signal(str)
    review_recorded = Signal(object)

    def __init__(
        self,
        conn: sqlite3.Connection,
        connector: Connector | None = None,
        *,
        station: str | None = None,
        clock: Callable[[], dt.datetime] = system_clock,
        owns_connector: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.conn = conn
        self.connector = connector
        self.owns_connector = owns_connector
        self.station = station
        self.clock = clock
        self.remote: list[RemoteInteraction] = []
        self.status = RemoteStatus("none") if connector is None else RemoteStatus("loading", crm=connector.name)
        self._filters: dict[str, Any] = {}
        self._generation = 0
        # One thread: one CRM listing at a time, and a connector is not asked to be thread-safe.
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._relay = _Relay(self)
        self._relay.succeeded.connect(self._on_relay_succeeded)
        self._relay.failed.connect(self._on_relay_failed)

    @property
    def crm_name(self) -> str | None:
        return None if self.connector is None else self.connector.name

    # -- intents ---------------------------------------------------------------------------------------------

    def rows(self, filters: dict[str, Any] | None = None) -> list[ReviewRow]:
        """The calls of the store matching ``filters`` (``list_interactions``' keywords, plus ``review_state``),
        merged with the last CRM listing, newest first. InputError for a bad filter."""
        filters = dict(filters or {})
        self._filters = dict(filters)
        review_state = filters.pop("review_state", None)
        local = list_interactions(self.conn, **filters)
        remote = {item.external_id: item for item in self.remote}
        stored_here = local_uids(self.conn, remote) if remote else set()
        reviews = latest_reviews(self.conn, [row.uid for row in local] + list(remote))
        rows = [self._local_row(row, remote.get(row.uid), reviews.get(row.uid)) for row in local]
        for uid, item in remote.items():
            if uid in stored_here:
                continue  # the store's copy is listed when the filters keep it
            row = self._remote_row(item, reviews.get(uid))
            if _matches(row, filters):
                rows.append(row)
        if review_state is not None:
            rows = [row for row in rows if row.review_state == review_state]
        rows.sort(key=lambda row: _sort_instant(row.started_at), reverse=True)
        return rows

    def fetch(self, filters: dict[str, Any] | None = None) -> bool:
        """List the team's calls from the CRM in the worker (since the ``date_from`` filter, if any); the answer
        comes as ``interactions_loaded`` or ``load_failed``. A newer fetch supersedes an older one. False when no
        CRM is configured (nothing is started)."""
        if filters is not None:
            self._filters = dict(filters)
        connector = self.connector
        if connector is None:
            return False
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-review")
        self._generation += 1
        generation = self._generation
        since = _since(self._filters.get("date_from"))
        self.status = RemoteStatus("loading", crm=connector.name, count=len(self.remote))
        relay = self._relay

        def work() -> None:
            try:
                found = connector.list_interactions(since=since, limit=REMOTE_LIMIT)
            except SyncError as error:
                relay.failed.emit(generation, str(error))
            except Exception as error:  # a connector bug must show as a failure, not kill the worker silently
                log.warning("CRM listing failed unexpectedly", exc_info=True)
                relay.failed.emit(generation, f"{type(error).__name__}: {error}".splitlines()[0])
            else:
                relay.succeeded.emit(generation, list(found))

        self._pool.submit(work)
        return True

    def record(self, uid: str, state: str, comment: str | None, reviewer: str) -> Review:
        """Store the team lead's review of the call ``uid`` and queue it for the CRM (InputError if refused)."""
        review = record_review(self.conn, uid, state, comment, reviewer, self.clock())
        log.info("call %s: review %s recorded by %s", uid[:8], review.state, review.reviewer)
        self.review_recorded.emit(review)
        return review

    def detail(self, row: ReviewRow) -> dict[str, Any]:
        """One call in full, in the shape of :func:`~desktop.core.store.interactions.show_interaction` (numbers
        masked), plus ``reviews`` (this station's reviews, oldest first), ``source``, ``station`` and the CRM's
        ``remote_review``."""
        if row.id is not None:
            detail = show_local_interaction(self.conn, row.id)
        else:
            assert row.remote is not None
            detail = _remote_detail(row.remote)
        detail["reviews"] = reviews_of(self.conn, row.uid)
        detail["source"] = row.source
        detail["station"] = row.station
        detail["remote_review"] = (
            None if row.remote is None else {"state": row.remote.review_state, "comment": row.remote.review_comment}
        )
        return detail

    def alerts(self) -> list[Alert]:
        """Withdrawals and objections during calls, and commercial calls dialled against a forbidden verdict, from
        the store and from the last CRM listing (one alert per fact), newest first."""
        found = {alert.key: alert for alert in local_alerts(self.conn)}
        for item in self.remote:
            for alert in _remote_alerts(item):
                found.setdefault(alert.key, alert)
        return newest_first(found.values())

    def agents(self) -> list[str]:
        """The agents of the stored calls and of the last CRM listing, sorted."""
        return sorted(set(known_agents(self.conn)) | {item.agent_id for item in self.remote if item.agent_id})

    def close(self) -> None:
        """Stop listening to the worker (a listing in flight is dropped); close the connector if it is ours
        (once the worker is done with it)."""
        self._generation += 1
        pool, self._pool = self._pool, None
        connector, owned = self.connector, self.owns_connector
        self.owns_connector = False
        if pool is not None:
            if connector is not None and owned:
                pool.submit(connector.close)  # after a listing in flight, in the thread that used it
            pool.shutdown(wait=False, cancel_futures=False)
        elif connector is not None and owned:
            connector.close()

    # -- worker outcomes (GUI thread) ------------------------------------------------------------------------

    def _on_relay_succeeded(self, generation: int, found: list[RemoteInteraction]) -> None:
        if generation != self._generation:
            return
        self.remote = found
        self.status = RemoteStatus("ok", crm=self.crm_name, at=self.clock(), count=len(found))
        log.info("CRM listing: %d call(s) from %s", len(found), self.crm_name)
        try:
            rows = self.rows(self._filters)
        except (InputError, sqlite3.Error) as error:  # the store refused: say so rather than drop the answer
            self.load_failed.emit(str(error))
            return
        self.interactions_loaded.emit(rows)

    def _on_relay_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self.status = RemoteStatus(
            "failed", crm=self.crm_name, at=self.clock(), count=len(self.remote), message=message
        )
        log.warning("CRM listing failed: %s", message)
        self.load_failed.emit(message)

    # -- merging ---------------------------------------------------------------------------------------------

    def _local_row(self, row: InteractionRow, remote: RemoteInteraction | None, review: Review | None) -> ReviewRow:
        state, comment = _review_state(review, remote)
        return ReviewRow(
            uid=row.uid,
            source="local" if remote is None else "both",
            id=row.id,
            station=self.station,
            started_at=row.started_at,
            duration_s=row.duration_s,
            direction=row.direction,
            number=row.number,
            agent_id=row.agent_id,
            state=row.state,
            verdict=row.verdict,
            reason_code=row.reason_code,
            disposition=row.disposition,
            withdrawal=row.withdrawal,
            dialled_against_forbidden=bool(remote and remote.dialled_against_forbidden),
            review_state=state,
            review_comment=comment,
            review=review,
            local=row,
            remote=remote,
        )

    def _remote_row(self, item: RemoteInteraction, review: Review | None) -> ReviewRow:
        state, comment = _review_state(review, item)
        return ReviewRow(
            uid=item.external_id,
            source="crm",
            id=None,
            station=item.station,
            started_at=item.started_at.isoformat() if item.started_at else None,
            duration_s=item.duration_s,
            direction=item.direction,
            number=item.number,
            agent_id=item.agent_id,
            state=None,
            verdict=item.verdict,
            reason_code=item.reason,
            disposition=item.disposition or (item.summary or {}).get("disposition"),
            withdrawal=any(event.kind in WITHDRAWAL_KINDS for event in item.consent_events),
            dialled_against_forbidden=item.dialled_against_forbidden,
            review_state=state,
            review_comment=comment,
            review=review,
            remote=item,
        )


def open_review_source(
    conn: sqlite3.Connection, crm: Crm, *, parent: QObject | None = None
) -> tuple[ReviewSource, str | None]:
    """The review's source for the station's ``[crm]`` settings, with a connector of its own (the sync worker's
    lives in another thread). Without a CRM, or when the connector cannot be made (settings, keyring), the
    source is local only and the second value says why, in one line (None when all is well)."""
    station = station_name(crm.station_id)
    if crm.connector == "none":
        return ReviewSource(conn, None, station=station, parent=parent), None
    try:
        secret = get_secret(crm.connector, crm.endpoint) if crm.endpoint else None
        connector = make_connector(crm, secret)
    except (InputError, AuthError) as error:
        log.warning("review: CRM %s not listed: %s", crm.connector, error)
        source = ReviewSource(conn, None, station=station, parent=parent)
        source.status = RemoteStatus("unavailable", crm=crm.connector, message=str(error))
        return source, str(error)
    return ReviewSource(conn, connector, station=station, owns_connector=True, parent=parent), None


def _review_state(review: Review | None, remote: RemoteInteraction | None) -> tuple[ReviewState, str | None]:
    """This station's review until the CRM has it; after that, the CRM's (another team lead may have changed it)."""
    if review is not None and (remote is None or review.sync != "sent" or remote.review_state == "pending"):
        return review.state, review.comment
    if remote is not None:
        return remote.review_state, remote.review_comment
    return "pending", None


def _matches(row: ReviewRow, filters: dict[str, Any]) -> bool:
    """``list_interactions``' filters applied to a call known only to the CRM."""
    day = _local_date(row.started_at)
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    if date_from is not None and (day is None or day < _as_date(date_from)):
        return False
    if date_to is not None and (day is None or day > _as_date(date_to)):
        return False
    for name in ("agent", "disposition", "verdict"):
        wanted = filters.get(name)
        if wanted is not None and getattr(row, "agent_id" if name == "agent" else name) != wanted:
            return False
    withdrawal = filters.get("withdrawal")
    return withdrawal is None or row.withdrawal == withdrawal


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _local_date(started_at: str | None) -> dt.date | None:
    return None if not started_at else dt.date.fromisoformat(started_at[:10])


def _since(date_from: object) -> dt.datetime | None:
    """The start of the ``date_from`` day, on this computer's clock (a day before, to be safe across zones)."""
    if date_from is None:
        return None
    day = _as_date(date_from) - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _sort_instant(started_at: str | None) -> float:
    if not started_at:
        return float("-inf")
    instant = dt.datetime.fromisoformat(started_at)
    return (instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)).timestamp()


def _remote_alerts(item: RemoteInteraction) -> Iterable[Alert]:
    for event in item.consent_events:
        if event.kind in WITHDRAWAL_KINDS:
            yield Alert(
                kind="objection" if event.kind == "objection" else "withdrawal",
                at=event.occurred_at,
                interaction_uid=item.external_id,
                agent_id=item.agent_id,
                number=item.number,
                station=item.station,
                source="crm",
            )
    if item.dialled_against_forbidden and item.started_at is not None:
        yield Alert(
            kind="dialled_against_forbidden",
            at=item.started_at,
            interaction_uid=item.external_id,
            agent_id=item.agent_id,
            number=item.number,
            station=item.station,
            reason_code=item.reason,
            source="crm",
        )


def _remote_detail(item: RemoteInteraction) -> dict[str, Any]:
    """A CRM interaction in the shape of ``show_interaction`` (number masked)."""
    summary = None
    if item.summary is not None:
        summary = {"body": dict(item.summary), "validated_by": None, "validated_at": None, "updated_at": None}
    return {
        "interaction": {
            "id": None,
            "uid": item.external_id,
            "number": mask(item.number) if item.number else None,
            "direction": item.direction,
            "professional": None,
            "product": None,
            "purpose": None,
            "agent_id": item.agent_id,
            "state": None,
            "started_at": item.started_at.isoformat() if item.started_at else None,
            "ended_at": None,
            "duration_s": item.duration_s,
        },
        "segments": [
            {"idx": idx, "speaker": line.speaker, "start": line.start, "end": line.end, "text": line.text}
            for idx, line in enumerate(item.transcript)
        ],
        "summary": summary,
        "decision": None
        if item.verdict is None
        else {"verdict": item.verdict, "reasons": [{"code": item.reason, "message": ""}] if item.reason else []},
        "consent_events": [
            {"seq": None, "kind": event.kind, "at": event.occurred_at.isoformat(), "professional": event.professional}
            for event in item.consent_events
        ],
        "suggestions": [],
        "withdrawal": any(event.kind in WITHDRAWAL_KINDS for event in item.consent_events),
    }
