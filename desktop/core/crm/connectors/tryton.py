"""Tryton 8.2 through its REST API and the ``agent_assist`` module (``integrations/tryton/trytond_agent_assist``).

``crm.endpoint`` is ``http(s)://host:port/<database>``; the secret is a REST key of a Tryton user (``Authorization:
Bearer``), kept in the OS keyring. What goes where:

- a person = one ``party.party`` per E.164 number, its ``code`` = ``aa:<number>`` (unique in Tryton, so two stations
  creating the same person at once end with one party); an existing party whose phone/mobile contact mechanism
  matches the number is used as it is;
- :class:`InteractionPayload` → ``agent_assist.call`` (summary and transcript as JSON text); a
  :class:`ReviewPayload` → ``PUT`` of the call's ``review_state``/``review_comment``/``reviewer``/``reviewed_at``;
- :class:`ConsentEventPayload` → ``agent_assist.consent`` (append-only), pulled back ordered by
  ``(create_date, id)``.

Idempotency: ``external_id`` is unique in both models. A push creates the batch with one request (``POST
model/<name>/create`` with ``{"vlist": [...]}``: one transaction, all or nothing). When Tryton refuses it (400), the
batch's external ids are looked up (one GET): those there are ``duplicate`` with their remote id (a retry after a
lost response), and the others are created again together, or one by one when none was there; a single item's 400
is then either a record created meanwhile by someone else (looked up: ``duplicate``) or Tryton's validation message
(``rejected``). A transient failure half-way through the one-by-one creates answers ``retry`` for the rest.

Datetimes travel as Tryton's ``{"__class__": "datetime", ...}`` in naive UTC.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from desktop.core.crm import http as crm_http
from desktop.core.crm.contract import (
    AuthError,
    ConsentEventPayload,
    ConsentPage,
    Health,
    InteractionPayload,
    PushResult,
    RejectedError,
    RemoteInteraction,
    ReviewPayload,
    ReviewState,
    TranscriptLine,
    TransientError,
)
from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.config import Crm

log = logging.getLogger("agent_assist.crm")

NAME = "tryton"
CALL = "agent_assist.call"
CONSENT = "agent_assist.consent"
PARTY = "party.party"
#: Items per create request: one transaction in Tryton; 100 keeps a refused batch cheap to redo one by one.
MAX_BATCH = 100
#: Party code of a person created by Agent Assist: this prefix and the E.164 number.
PARTY_CODE_PREFIX = "aa:"
#: Ids remembered in the pull cursor to skip what the overlap window re-reads (bounds the cursor's size).
MAX_SEEN = 1000
PHONE_TYPES = ("phone", "mobile")

_CALL_FIELDS = (
    "external_id",
    "station",
    "direction",
    "started_at",
    "duration",
    "agent",
    "verdict",
    "reason",
    "disposition",
    "summary",
    "transcript",
    "dialled_against_forbidden",
    "review_state",
    "review_comment",
    "party.code",
    "party.phone",
    "party.mobile",
)
_CONSENT_FIELDS = (
    "external_id",
    "kind",
    "professional",
    "products",
    "occurred_at",
    "consent_uid",
    "consent",
    "source",
    "interaction_id",
    "create_date",
    "party.code",
    "party.phone",
    "party.mobile",
)

_P = TypeVar("_P", InteractionPayload, ConsentEventPayload)


def to_tryton(value: dt.datetime) -> dict[str, Any]:
    """An aware datetime as Tryton's JSON (naive UTC); ValueError for a naive one (its zone would be a guess)."""
    if value.tzinfo is None:
        raise ValueError("datetimes sent to Tryton must be timezone-aware")
    utc = value.astimezone(dt.UTC)
    return {
        "__class__": "datetime",
        "year": utc.year,
        "month": utc.month,
        "day": utc.day,
        "hour": utc.hour,
        "minute": utc.minute,
        "second": utc.second,
        "microsecond": utc.microsecond,
    }


def from_tryton(value: Any) -> dt.datetime | None:
    """Tryton's JSON datetime (naive UTC) as an aware UTC datetime; None for null or another shape."""
    if not isinstance(value, dict) or value.get("__class__") != "datetime":
        return None
    return dt.datetime(
        value["year"],
        value["month"],
        value["day"],
        value.get("hour", 0),
        value.get("minute", 0),
        value.get("second", 0),
        value.get("microsecond", 0),
        tzinfo=dt.UTC,
    )


def party_code(number: str) -> str:
    """The code of the party Agent Assist creates for ``number`` (E.164): stable, so it is the key of the person."""
    return PARTY_CODE_PREFIX + number


def _encode(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def _e164(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    compact = "".join(char for char in value if char.isdigit() or char == "+")
    return compact if compact.startswith("+") and compact[1:].isdigit() and len(compact) > 4 else None


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_value(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


@dataclass
class _Cursor:
    """Where a consent pull stands. ``lo`` = (create_date, id) below which nothing is re-read; ``seen`` = ids above
    ``lo`` already returned; ``top`` = the latest create_date returned (the overlap window ends there)."""

    lo: tuple[dt.datetime, int] | None = None
    top: dt.datetime | None = None
    seen: dict[int, dt.datetime] | None = None

    @classmethod
    def parse(cls, text: str | None) -> _Cursor:
        if not text:
            return cls(seen={})
        try:
            data = json.loads(text)
            lo = (dt.datetime.fromisoformat(data["lo"][0]), int(data["lo"][1])) if data.get("lo") else None
            top = dt.datetime.fromisoformat(data["top"]) if data.get("top") else None
            seen = {
                int(key): dt.datetime.fromisoformat(created) for created, keys in data.get("seen", []) for key in keys
            }
        except (ValueError, TypeError, KeyError, IndexError):
            raise InputError("tryton: the consent pull cursor is not one this connector wrote") from None
        return cls(lo, top, seen)

    def dump(self) -> str:
        by_date: dict[dt.datetime, list[int]] = {}
        for key, created in sorted((self.seen or {}).items()):
            by_date.setdefault(created, []).append(key)
        return json.dumps(
            {
                "v": 1,
                "lo": [self.lo[0].isoformat(), self.lo[1]] if self.lo else None,
                "top": self.top.isoformat() if self.top else None,
                # Grouped by create_date: a batch created in one transaction shares it.
                "seen": [[created.isoformat(), keys] for created, keys in sorted(by_date.items())],
            },
            separators=(",", ":"),
        )


class TrytonConnector:
    """The Connector of Tryton 8.2 with the ``agent_assist`` module (see the module docstring)."""

    name = NAME
    max_batch = MAX_BATCH

    def __init__(
        self,
        endpoint: str,
        key: str,
        *,
        crm: Crm | None = None,
        pull_overlap_s: float | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        """``endpoint`` = ``http(s)://host:port/<database>``; ``key`` = the Tryton REST key. ``crm`` gives the HTTP
        settings (TLS, proxy, timeout; defaults otherwise) and ``pull_overlap_s`` (else ``crm.pull_overlap_s``)."""
        from desktop.config import Crm

        endpoint = endpoint.strip().rstrip("/")
        if not endpoint.startswith(("http://", "https://")) or endpoint.count("/") < 3:
            raise InputError(f"crm.endpoint: {endpoint!r} is not a Tryton URL http(s)://host:port/<database>")
        if not key:
            raise AuthError("tryton: no REST key (store one with the credentials of this endpoint)")
        settings = crm or Crm(connector="tryton", endpoint=endpoint)
        self.endpoint = endpoint
        self.pull_overlap = dt.timedelta(
            seconds=pull_overlap_s if pull_overlap_s is not None else settings.pull_overlap_s
        )
        self._client = client or crm_http.build_client(
            settings, base_url=f"{endpoint}/rest/model/", headers={"Authorization": f"Bearer {key}"}
        )
        self._parties: dict[str, int] = {}  # number -> party id, learnt once per connector

    @classmethod
    def from_settings(cls, crm: Crm, secret: str | None) -> TrytonConnector:
        """The connector for ``[crm]``: InputError without ``endpoint``, AuthError without a key."""
        if not crm.endpoint:
            raise InputError("crm.endpoint: the Tryton connector needs http(s)://host:port/<database>")
        return cls(crm.endpoint, secret or "", crm=crm)

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------------------------------------ HTTP

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = crm_http.request(self._client, method, path, connector=NAME, **kwargs)
        return crm_http.response_json(response)

    def _search(
        self,
        model: str,
        domain: list[Any],
        fields: Iterable[str],
        *,
        order: list[list[str]] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        params: list[tuple[str, str]] = [("d", _encode(domain))]
        params += [("f", name) for name in fields]
        if order:
            params.append(("o", _encode(order)))
        if limit is not None:
            params.append(("s", str(limit)))
        rows = self._request("GET", model, params=params)
        if not isinstance(rows, list):
            raise TransientError(f"tryton: unexpected answer to a search of {model} (not a list)")
        return rows

    def _create_many(self, model: str, values: list[dict[str, Any]]) -> list[int]:
        ids = self._request("POST", f"{model}/create", json={"vlist": values})
        if not isinstance(ids, list) or len(ids) != len(values):
            raise TransientError(f"tryton: unexpected answer to a create of {model}")
        return [int(record_id) for record_id in ids]

    def _create_one(self, model: str, values: dict[str, Any]) -> int:
        row = self._request("POST", model, json=values)
        if not isinstance(row, dict) or "id" not in row:
            raise TransientError(f"tryton: unexpected answer to a create of {model}")
        return int(row["id"])

    def _ids_by_external_id(self, model: str, external_ids: Sequence[str]) -> dict[str, int]:
        if not external_ids:
            return {}
        rows = self._search(model, [["external_id", "in", list(external_ids)]], ["external_id"])
        return {row["external_id"]: int(row["id"]) for row in rows}

    # ------------------------------------------------------------------------------------------------ parties

    def _party_ids(self, numbers: Iterable[str]) -> dict[str, int]:
        """Find or create the party of each number (see the module docstring): one search, one create."""
        numbers = list(numbers)
        wanted = sorted(set(numbers) - self._parties.keys())
        if wanted:
            found = self._parties_by_contact(wanted)
            missing = [number for number in wanted if number not in found]
            if missing:
                found.update(self._create_parties(missing))
            self._parties.update(found)
        return {number: self._parties[number] for number in numbers}

    def _parties_by_contact(self, numbers: list[str]) -> dict[str, int]:
        """Parties with a phone or mobile contact mechanism of these numbers: ours (code ``aa:<number>``) first,
        else the lowest id (a person entered in Tryton by hand)."""
        rows = self._search(
            "party.contact_mechanism",
            [["value_compact", "in", numbers], ["type", "in", list(PHONE_TYPES)]],
            ["value_compact", "party.code"],
        )
        candidates: dict[str, list[tuple[bool, int]]] = {}
        for row in rows:
            party = row.get("party")
            number = row.get("value_compact")
            if isinstance(number, str) and isinstance(party, dict) and isinstance(party.get("id"), int):
                theirs = party.get("code") != party_code(number)
                candidates.setdefault(number, []).append((theirs, int(party["id"])))
        return {number: min(found)[1] for number, found in candidates.items()}

    def _create_parties(self, numbers: list[str]) -> dict[str, int]:
        def values(number: str) -> dict[str, Any]:
            return {
                "name": number,
                "code": party_code(number),
                "contact_mechanisms": [["create", [{"type": "phone", "value": number}]]],
            }

        try:
            return dict(zip(numbers, self._create_many(PARTY, [values(n) for n in numbers]), strict=True))
        except RejectedError:
            pass  # another station created one of them meanwhile: one by one, looking up the codes taken
        created: dict[str, int] = {}
        for number in numbers:
            try:
                created[number] = self._create_one(PARTY, values(number))
            except RejectedError:
                rows = self._search(PARTY, [["code", "=", party_code(number)]], ["code"])
                if not rows:
                    raise
                created[number] = int(rows[0]["id"])
        return created

    # ------------------------------------------------------------------------------------------------ push

    def push_interactions(self, items: Sequence[InteractionPayload]) -> list[PushResult]:
        """Create one ``agent_assist.call`` per payload (``duplicate`` for an external id already there)."""

        def values(item: InteractionPayload, party: int) -> dict[str, Any]:
            return {
                "external_id": item.external_id,
                "party": party,
                "station": item.station,
                "direction": item.direction,
                "started_at": to_tryton(item.started_at),
                "answered_at": to_tryton(item.answered_at) if item.answered_at else None,
                "ended_at": to_tryton(item.ended_at) if item.ended_at else None,
                "duration": item.duration_s,
                "agent": item.agent_id,
                "professional": item.professional,
                "product": item.product,
                "verdict": item.verdict,
                "reason": item.reason,
                "disposition": item.disposition,
                "summary": _json_text(item.summary),
                "transcript": _json_text([line.model_dump(exclude_none=True) for line in item.transcript]),
                "dialled_against_forbidden": item.dialled_against_forbidden,
            }

        return self._push(CALL, items, values)

    def push_consent_events(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]:
        """Append one ``agent_assist.consent`` per payload (``duplicate`` for an external id already there)."""

        def values(item: ConsentEventPayload, party: int) -> dict[str, Any]:
            return {
                "external_id": item.external_id,
                "party": party,
                "kind": item.kind,
                "professional": item.professional,
                "products": _json_text(item.products),
                "occurred_at": to_tryton(item.occurred_at),
                "consent_uid": item.consent_uid,
                "consent": _json_text(item.consent),
                "source": item.source,
                "interaction_id": item.interaction_id,
            }

        return self._push(CONSENT, items, values)

    def _push(self, model: str, items: Sequence[_P], values: Callable[[_P, int], dict[str, Any]]) -> list[PushResult]:
        if not items:
            return []
        todo = list({item.external_id: item for item in items}.values())
        parties = self._party_ids([item.number for item in todo])
        rows = {item.external_id: values(item, parties[item.number]) for item in todo}
        created = self._create_batch(model, todo, rows)
        if isinstance(created, dict):
            results = created
        else:
            # A party remembered from earlier may have been deleted in Tryton since: find or create them again.
            for item in todo:
                self._parties.pop(item.number, None)
            parties = self._party_ids([item.number for item in todo])
            rows = {item.external_id: values(item, parties[item.number]) for item in todo}
            # Refused as a whole: what is already there is a duplicate (a retry after a lost answer)...
            results = {}
            for external_id, remote in self._ids_by_external_id(model, list(rows)).items():
                results[external_id] = PushResult(external_id=external_id, status="duplicate", remote_id=str(remote))
            rest = [item for item in todo if item.external_id not in results]
            if rest:
                # ...and the others go again together when some were duplicates, else one by one.
                again = self._create_batch(model, rest, rows) if len(rest) < len(todo) else None
                results.update(again if isinstance(again, dict) else self._push_one_by_one(model, rest, rows))
        # The same external id twice in one batch: one record, both answered with it.
        return [results[item.external_id] for item in items]

    def _create_batch(
        self, model: str, todo: Sequence[_P], rows: dict[str, dict[str, Any]]
    ) -> dict[str, PushResult] | RejectedError:
        """Create ``todo`` in one request (one transaction): the results, or Tryton's refusal of the whole."""
        try:
            ids = self._create_many(model, [rows[item.external_id] for item in todo])
        except RejectedError as error:
            return error
        return {
            item.external_id: PushResult(external_id=item.external_id, status="created", remote_id=str(remote))
            for item, remote in zip(todo, ids, strict=True)
        }

    def _push_one_by_one(self, model: str, todo: list[_P], rows: dict[str, dict[str, Any]]) -> dict[str, PushResult]:
        results: dict[str, PushResult] = {}
        for index, item in enumerate(todo):
            try:
                remote = self._create_one(model, rows[item.external_id])
            except RejectedError as error:
                results[item.external_id] = self._resolve_refused(model, item.external_id, error)
            except TransientError as error:
                if not results:
                    raise
                # Keep what is done; the rest is retried (each found as a duplicate if it did commit).
                for rest in todo[index:]:
                    results[rest.external_id] = PushResult(
                        external_id=rest.external_id, status="retry", message=str(error), retry_after=error.retry_after
                    )
                return results
            else:
                results[item.external_id] = PushResult(
                    external_id=item.external_id, status="created", remote_id=str(remote)
                )
        return results

    def _resolve_refused(self, model: str, external_id: str, error: RejectedError) -> PushResult:
        """A single create refused: a duplicate if the record is there now, else Tryton's message."""
        remote = self._ids_by_external_id(model, [external_id]).get(external_id)
        if remote is not None:
            return PushResult(external_id=external_id, status="duplicate", remote_id=str(remote))
        return PushResult(external_id=external_id, status="rejected", message=str(error))

    def push_reviews(self, items: Sequence[ReviewPayload]) -> list[PushResult]:
        """Write each review on its call; a review older than the one already there is answered ``duplicate``
        (superseded), a review of a call Tryton does not have yet ``retry``."""
        if not items:
            return []
        rows = self._search(
            CALL, [["external_id", "in", sorted({i.interaction_id for i in items})]], ["external_id", "reviewed_at"]
        )
        calls = {row["external_id"]: (int(row["id"]), from_tryton(row.get("reviewed_at"))) for row in rows}
        results: list[PushResult] = []
        for item in items:
            call = calls.get(item.interaction_id)
            if call is None:
                message = "tryton: the reviewed call is not in Tryton yet (its interaction is not pushed)"
                results.append(PushResult(external_id=item.external_id, status="retry", message=message))
                continue
            remote, reviewed_at = call
            if reviewed_at is not None and reviewed_at > item.at:
                results.append(PushResult(external_id=item.external_id, status="duplicate", remote_id=str(remote)))
                continue
            body = {
                "review_state": item.state,
                "review_comment": item.comment,
                "reviewer": item.reviewer,
                "reviewed_at": to_tryton(item.at),
            }
            try:
                self._request("PUT", f"{CALL}/{remote}", json=body)
            except RejectedError as error:
                results.append(PushResult(external_id=item.external_id, status="rejected", message=str(error)))
                continue
            calls[item.interaction_id] = (remote, item.at)
            results.append(PushResult(external_id=item.external_id, status="created", remote_id=str(remote)))
        return results

    # ------------------------------------------------------------------------------------------------ pull

    def pull_consent_changes(self, cursor: str | None, limit: int = 200) -> ConsentPage:
        """Consent events created after ``cursor``, oldest first, each once. Events committed late with a
        ``create_date`` up to ``pull_overlap_s`` before the newest one seen are still returned (PostgreSQL
        commits out of order); the cursor remembers the ids of that window so that they are not returned twice."""
        if limit < 1:
            raise InputError("tryton: the pull limit must be at least 1")
        state = _Cursor.parse(cursor)
        seen = dict(state.seen or {})
        domain: list[Any] = []
        if state.lo is not None:
            lo_date, lo_id = state.lo
            domain.append(
                [
                    "OR",
                    [["create_date", ">", _tryton_naive(lo_date)]],
                    [["create_date", "=", _tryton_naive(lo_date)], ["id", ">", lo_id]],
                ]
            )
        if seen:
            domain.append(["id", "not in", sorted(seen)])
        rows = self._search(
            CONSENT, domain, _CONSENT_FIELDS, order=[["create_date", "ASC"], ["id", "ASC"]], limit=limit
        )
        changes: list[ConsentEventPayload] = []
        top = state.top
        for row in rows:
            created = _naive(row.get("create_date"))
            seen[int(row["id"])] = created
            top = created if top is None or created > top else top
            change = self._consent_payload(row)
            if change is not None:
                changes.append(change)
        lo = state.lo
        if top is not None:
            window = (top - self.pull_overlap, 0)
            lo = window if lo is None or window > lo else lo
            seen = {key: value for key, value in seen.items() if (value, key) > lo}
            if len(seen) > MAX_SEEN:
                # Too many in the window: remember the newest; the older ones go below ``lo`` (never re-read).
                pairs = sorted((value, key) for key, value in seen.items())
                lo = max(lo, pairs[-MAX_SEEN - 1])
                seen = {key: value for value, key in pairs[-MAX_SEEN:]}
        new_cursor = _Cursor(lo, top, seen).dump()
        return ConsentPage(changes=changes, cursor=new_cursor, more=len(rows) >= limit)

    def _consent_payload(self, row: dict[str, Any]) -> ConsentEventPayload | None:
        number = _party_number(row.get("party"))
        occurred_at = from_tryton(row.get("occurred_at"))
        products = _json_value(row.get("products"))
        consent = _json_value(row.get("consent"))
        if number is None or occurred_at is None:
            log.warning("tryton: consent event %s has no E.164 number or date: skipped", row.get("id"))
            return None
        try:
            return ConsentEventPayload(
                external_id=row["external_id"],
                kind=row["kind"],
                number=number,
                professional=row.get("professional") or "",
                products=[str(p) for p in products] if isinstance(products, list) else [],
                occurred_at=occurred_at,
                consent_uid=row.get("consent_uid") or None,
                consent=consent if isinstance(consent, dict) else None,
                source=row.get("source") or "crm",
                interaction_id=row.get("interaction_id") or None,
            )
        except ValueError as error:
            log.warning("tryton: consent event %s is not readable: skipped (%s)", row.get("id"), type(error).__name__)
            return None

    def list_interactions(
        self, *, since: dt.datetime | None = None, review_state: ReviewState | None = None, limit: int = 200
    ) -> list[RemoteInteraction]:
        """Calls started at or after ``since`` (newest first), with their party's consent events (oldest first)."""
        domain: list[Any] = []
        if since is not None:
            domain.append(["started_at", ">=", to_tryton(since)])
        if review_state is not None:
            domain.append(["review_state", "=", review_state])
        rows = self._search(CALL, domain, _CALL_FIELDS, order=[["started_at", "DESC"], ["id", "DESC"]], limit=limit)
        party_ids = sorted({pid for row in rows if (pid := _party_id(row)) is not None})
        events: dict[int, list[ConsentEventPayload]] = {party: [] for party in party_ids}
        if party_ids:
            consent_rows = self._search(
                CONSENT, [["party", "in", party_ids]], _CONSENT_FIELDS, order=[["occurred_at", "ASC"], ["id", "ASC"]]
            )
            for consent_row in consent_rows:
                event = self._consent_payload(consent_row)
                if event is not None:
                    events.setdefault(_party_id(consent_row) or 0, []).append(event)
        return [self._interaction(row, events.get(_party_id(row) or 0, [])) for row in rows]

    def _interaction(self, row: dict[str, Any], events: list[ConsentEventPayload]) -> RemoteInteraction:
        summary = _json_value(row.get("summary"))
        transcript = _json_value(row.get("transcript"))
        lines: list[TranscriptLine] = []
        if isinstance(transcript, list):
            for line in transcript:
                try:
                    lines.append(TranscriptLine.model_validate(line))
                except ValueError:
                    continue  # a line edited into another shape in Tryton: the rest stays readable
        return RemoteInteraction(
            external_id=row["external_id"],
            station=row.get("station") or None,
            number=_party_number(row.get("party")),
            direction=row.get("direction") or None,
            agent_id=row.get("agent") or None,
            started_at=from_tryton(row.get("started_at")),
            duration_s=row.get("duration"),
            verdict=row.get("verdict") or None,
            reason=row.get("reason") or None,
            disposition=row.get("disposition") or None,
            summary=summary if isinstance(summary, dict) else None,
            transcript=lines,
            consent_events=events,
            review_state=row.get("review_state") or "pending",
            review_comment=row.get("review_comment") or None,
            dialled_against_forbidden=bool(row.get("dialled_against_forbidden")),
        )

    # ------------------------------------------------------------------------------------------------ health

    def health(self) -> Health:
        """One authenticated read of ``agent_assist.call``: checks the server, the key and the module."""
        return crm_http.probe(self._client, CALL, connector=NAME, endpoint=self.endpoint, params={"s": "1", "f": "id"})


def _tryton_naive(value: dt.datetime) -> dict[str, Any]:
    """A naive datetime read from Tryton, sent back as it was (create_date is in the server's own clock)."""
    return {
        "__class__": "datetime",
        "year": value.year,
        "month": value.month,
        "day": value.day,
        "hour": value.hour,
        "minute": value.minute,
        "second": value.second,
        "microsecond": value.microsecond,
    }


def _naive(value: Any) -> dt.datetime:
    aware = from_tryton(value)
    if aware is None:
        raise TransientError("tryton: a consent event came without create_date")
    return aware.replace(tzinfo=None)


def _party_number(party: Any) -> str | None:
    """The E.164 number of a party read with ``party.code/phone/mobile``: from our code, else its mobile, phone."""
    if not isinstance(party, dict):
        return None
    code = party.get("code")
    if isinstance(code, str) and code.startswith(PARTY_CODE_PREFIX):
        return _e164(code[len(PARTY_CODE_PREFIX) :])
    return _e164(party.get("mobile")) or _e164(party.get("phone"))


def _party_id(row: dict[str, Any]) -> int | None:
    party = row.get("party")
    if isinstance(party, dict) and isinstance(party.get("id"), int):
        return int(party["id"])
    return None
