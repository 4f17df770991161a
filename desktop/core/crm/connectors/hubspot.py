"""HubSpot connector (CRM API v3, ``reference/crm.md`` §5; what IT configures: ``docs/connectors.md``).

- Calls: ``POST /crm/v3/objects/calls/batch/upsert`` with ``idProperty = aa_external_id`` (a custom property
  with ``hasUniqueValue``), ≤ 100 inputs; ``new`` in each result tells created from duplicate; a 207
  Multi-Status carries per-item ``errors`` (matched to inputs by ``context.ids``). New calls are associated
  with the contact whose ``aa_phone_e164`` is the number (association type 194, call → contact).
- Consent: HubSpot's communication preferences have no voice channel, so phone consent is custom contact
  properties (``aa_phone_canvassing_consent`` granted/withdrawn/refused, ``aa_phone_consent_at``,
  ``aa_phone_consent_source``, ``aa_phone_consent_professional``, ``aa_consent_event_id``,
  ``aa_consent_payload``), written with a contacts batch upsert by ``aa_phone_e164``. The contact holds the
  latest event: an event older than the stored one is not written (answered ``duplicate``: superseded), and
  within a batch the latest per number wins, a tie going to the opt-out.
- Reviews: ``aa_review_state``, ``aa_review_comment``, ``aa_reviewer``, ``aa_review_id`` on the call.
- Pull: contacts search ``lastmodifieddate GTE since`` ascending, paging with ``after`` below the 10,000
  results cap, then a new query from the last stamp seen; each pull restarts ``crm.pull_overlap_s`` earlier.
- Throttling: 429 ``RATE_LIMITS`` → TransientError; ``Retry-After`` when sent, else the 10 s burst window.

Authentication: ``Authorization: Bearer <private app access token>`` from the keyring.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from desktop.core.crm import http
from desktop.core.crm.connectors import records
from desktop.core.crm.contract import (
    ConsentEventPayload,
    ConsentPage,
    Health,
    InteractionPayload,
    PushResult,
    RemoteInteraction,
    ReviewPayload,
    ReviewState,
    SyncError,
    TransientError,
)
from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.config import Crm

log = logging.getLogger("agent_assist.crm")

MAX_BATCH = 100
#: Search returns at most 10,000 results per query (§5): page below it, then start a new query.
SEARCH_CAP = 10_000
#: The burst limit is counted over 10 s windows; wait one window when HubSpot sends no Retry-After.
BURST_WINDOW_S = 10.0
#: A string property holds at most 65,536 characters.
PROPERTY_MAX = 65_536
CALL_ASSOCIATION_TO_CONTACT = 194
CONSENT_STATE = {"given": "granted", "withdrawn": "withdrawn", "objection": "refused"}
CONSENT_PROPERTIES = [
    "aa_phone_e164",
    "phone",
    "aa_phone_canvassing_consent",
    "aa_phone_consent_at",
    "aa_phone_consent_source",
    "aa_phone_consent_professional",
    "aa_consent_event_id",
    "aa_consent_payload",
    "lastmodifieddate",
]
CALL_PROPERTIES = [
    "aa_external_id",
    "aa_payload",
    "aa_review_state",
    "aa_review_comment",
    "aa_review_id",
    "hs_timestamp",
]


class HubSpotConnector:
    """The Connector protocol over HubSpot's CRM API (module docstring)."""

    name = "hubspot"
    max_batch = MAX_BATCH

    def __init__(self, crm: Crm, token: str) -> None:
        assert crm.endpoint is not None
        self.endpoint = crm.endpoint.rstrip("/")
        self._overlap = dt.timedelta(seconds=crm.pull_overlap_s)
        self._client = http.build_client(
            crm, base_url=self.endpoint + "/", headers={"Authorization": f"Bearer {token}"}
        )

    @classmethod
    def from_settings(cls, crm: Crm, secret: str | None) -> HubSpotConnector:
        """InputError (one line) when the API root or the private app token is missing."""
        if not crm.endpoint:
            raise InputError("crm.endpoint: missing (the HubSpot API root, https://api.hubapi.com)")
        if not secret:
            raise InputError("hubspot: no private app access token in the OS keyring (agent-assist sync secret set)")
        return cls(crm, secret)

    def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            response = http.request(self._client, method, path, connector=self.name, **kwargs)
        except TransientError as error:
            if error.retry_after is None and "RATE_LIMITS" in str(error):
                raise TransientError(str(error), retry_after=BURST_WINDOW_S) from None
            raise
        return response.status_code, http.response_json(response)

    # calls -----------------------------------------------------------------------------------------------
    def push_interactions(self, items: Sequence[InteractionPayload]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(items), MAX_BATCH):
            results.extend(self._push_calls(items[start : start + MAX_BATCH]))
        return results

    def _push_calls(self, items: Sequence[InteractionPayload]) -> list[PushResult]:
        unique = list({item.external_id: item for item in items}.values())
        inputs = [
            {"id": item.external_id, "idProperty": "aa_external_id", "properties": self._call_properties(item)}
            for item in unique
        ]
        _, body = self._call("POST", "crm/v3/objects/calls/batch/upsert", json={"inputs": inputs})
        done, failed = _batch_outcome(body, "aa_external_id")
        results: dict[str, PushResult] = {}
        new_calls: dict[str, str] = {}
        for item in unique:
            if item.external_id in done:
                result = done[item.external_id]
                status = "created" if result.get("new") else "duplicate"
                results[item.external_id] = PushResult(
                    external_id=item.external_id, status=status, remote_id=str(result.get("id"))
                )
                if status == "created":
                    new_calls[item.number] = str(result.get("id"))
            elif item.external_id in failed:
                results[item.external_id] = PushResult(
                    external_id=item.external_id, status="rejected", message=failed[item.external_id]
                )
        self._associate(new_calls)
        return [
            results.get(
                i.external_id, PushResult(external_id=i.external_id, status="retry", message="hubspot: no result")
            )
            for i in items
        ]

    def _call_properties(self, item: InteractionPayload) -> dict[str, Any]:
        ended = item.ended_at or item.started_at
        return {
            "aa_external_id": item.external_id,
            "hs_timestamp": records.iso_z(item.started_at),
            "hs_call_title": records.call_subject(item),
            "hs_call_body": records.call_note(item)[:PROPERTY_MAX],
            "hs_call_direction": "INBOUND" if item.direction == "inbound" else "OUTBOUND",
            "hs_call_duration": str(
                (item.duration_s if item.duration_s is not None else int((ended - item.started_at).total_seconds()))
                * 1000
            ),
            "hs_call_status": "COMPLETED",
            ("hs_call_from_number" if item.direction == "inbound" else "hs_call_to_number"): item.number,
            "aa_payload": records.interaction_record(item, PROPERTY_MAX),
        }

    def _associate(self, calls_by_number: dict[str, str]) -> None:
        if not calls_by_number:
            return
        try:
            contacts = self._contacts(list(calls_by_number), ["aa_phone_e164"])
            inputs = [
                {
                    "from": {"id": call_id},
                    "to": {"id": contacts[number]["id"]},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": CALL_ASSOCIATION_TO_CONTACT}
                    ],
                }
                for number, call_id in calls_by_number.items()
                if number in contacts
            ]
            if inputs:
                self._call("POST", "crm/v4/associations/calls/contacts/batch/create", json={"inputs": inputs})
        except SyncError as error:  # the call is logged; the link to the contact is a convenience
            log.warning("hubspot: call-contact association failed: %s", error)

    def _contacts(self, numbers: list[str], properties: list[str]) -> dict[str, dict[str, Any]]:
        inputs = [{"id": n} for n in dict.fromkeys(numbers)]
        _, body = self._call(
            "POST",
            "crm/v3/objects/contacts/batch/read",
            json={"idProperty": "aa_phone_e164", "inputs": inputs, "properties": properties},
        )
        found, _ = _batch_outcome(body, "aa_phone_e164")
        return found

    # consent ---------------------------------------------------------------------------------------------
    def push_consent_events(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(items), MAX_BATCH):
            results.extend(self._push_consents(items[start : start + MAX_BATCH]))
        return results

    def _push_consents(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]:
        current = self._contacts([i.number for i in items], CONSENT_PROPERTIES)
        latest: dict[str, ConsentEventPayload] = {}
        for item in items:
            held = latest.get(item.number)
            if held is None or _newer(item, held):
                latest[item.number] = item
        results: dict[str, PushResult] = {}
        inputs = []
        for number, item in latest.items():
            props = (current.get(number) or {}).get("properties") or {}
            if props.get("aa_consent_event_id") == item.external_id:
                results[item.external_id] = _dup(item.external_id, current[number].get("id"))
                continue
            stored_at = records.parse_instant(props.get("aa_phone_consent_at"))
            if stored_at is not None and stored_at > records.utc(item.occurred_at):
                results[item.external_id] = _dup(item.external_id, current[number].get("id"))  # superseded
                continue
            inputs.append({"id": number, "idProperty": "aa_phone_e164", "properties": self._consent_properties(item)})
        if inputs:
            _, body = self._call("POST", "crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs})
            done, failed = _batch_outcome(body, "aa_phone_e164")
            for number, item in latest.items():
                if number in done and item.external_id not in results:
                    results[item.external_id] = PushResult(
                        external_id=item.external_id, status="created", remote_id=str(done[number].get("id"))
                    )
                elif number in failed:
                    results[item.external_id] = PushResult(
                        external_id=item.external_id, status="rejected", message=failed[number]
                    )
        out = []
        for item in items:
            if item.external_id in results:
                out.append(results[item.external_id])
            elif latest.get(item.number) is not item and item.number in latest:
                winner = results.get(latest[item.number].external_id)
                if winner is not None and winner.status in ("created", "duplicate"):
                    out.append(_dup(item.external_id, winner.remote_id))  # superseded by a later event of the batch
                else:
                    out.append(
                        PushResult(
                            external_id=item.external_id, status="retry", message="hubspot: retried with its batch"
                        )
                    )
            else:
                out.append(PushResult(external_id=item.external_id, status="retry", message="hubspot: no result"))
        return out

    def _consent_properties(self, item: ConsentEventPayload) -> dict[str, Any]:
        return {
            "aa_phone_e164": item.number,
            "aa_phone_canvassing_consent": CONSENT_STATE[item.kind],
            "aa_phone_consent_at": records.iso_z(item.occurred_at),
            "aa_phone_consent_source": item.source,
            "aa_phone_consent_professional": item.professional,
            "aa_consent_event_id": item.external_id,
            "aa_consent_payload": records.consent_record(item),
        }

    # reviews ---------------------------------------------------------------------------------------------
    def push_reviews(self, items: Sequence[ReviewPayload]) -> list[PushResult]:
        results = []
        for start in range(0, len(items), MAX_BATCH):
            chunk = items[start : start + MAX_BATCH]
            _, body = self._call(
                "POST",
                "crm/v3/objects/calls/batch/read",
                json={
                    "idProperty": "aa_external_id",
                    "inputs": [{"id": i.interaction_id} for i in dict.fromkeys(chunk)],
                    "properties": ["aa_review_id", "aa_external_id"],
                },
            )
            calls, _ = _batch_outcome(body, "aa_external_id")
            updates = []
            for item in chunk:
                call = calls.get(item.interaction_id)
                if call is None:
                    results.append(
                        PushResult(
                            external_id=item.external_id,
                            status="retry",
                            message="hubspot: the call is not in HubSpot yet",
                        )
                    )
                elif (call.get("properties") or {}).get("aa_review_id") == item.external_id:
                    results.append(_dup(item.external_id, call.get("id")))
                else:
                    props = {
                        "aa_review_state": item.state,
                        "aa_review_comment": item.comment or "",
                        "aa_reviewer": item.reviewer,
                        "aa_review_id": item.external_id,
                    }
                    updates.append({"id": str(call.get("id")), "properties": props})
                    results.append(
                        PushResult(external_id=item.external_id, status="created", remote_id=str(call.get("id")))
                    )
            if updates:
                self._call("POST", "crm/v3/objects/calls/batch/update", json={"inputs": updates})
        return results

    # reads -----------------------------------------------------------------------------------------------
    def pull_consent_changes(self, cursor: str | None, limit: int = 200) -> ConsentPage:
        position = _decode(cursor)
        since = position["since"]
        after = position.get("after")
        request: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(_ms(since))},
                        {"propertyName": "aa_phone_canvassing_consent", "operator": "HAS_PROPERTY"},
                    ]
                }
            ],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "properties": CONSENT_PROPERTIES,
            "limit": min(limit, 200),
        }
        if after:
            request["after"] = str(after)
        _, body = self._call("POST", "crm/v3/objects/contacts/search", json=request)
        rows = body.get("results", []) if isinstance(body, dict) else []
        last = position["last"]
        changes = []
        for row in rows:
            props = row.get("properties") or {}
            stamp = records.parse_instant(props.get("lastmodifieddate"))
            if stamp is not None and (last is None or stamp > last):
                last = stamp
            change = _change(row)
            if change is not None:
                changes.append(change)
        following = ((body.get("paging") or {}).get("next") or {}).get("after") if isinstance(body, dict) else None
        if following and int(following) + min(limit, 200) <= SEARCH_CAP:
            state = {"since": since, "after": str(following), "last": last}
            more = True
        elif following:  # the 10,000 cap: start a new query from the last stamp seen
            state = {"since": last or since, "after": None, "last": last}
            more = True
        else:
            state = {"since": (last - self._overlap) if last else since, "after": None, "last": last}
            more = False
        return ConsentPage(changes=changes, cursor=_encode(state), more=more)

    def list_interactions(
        self, *, since: dt.datetime | None = None, review_state: ReviewState | None = None, limit: int = 200
    ) -> list[RemoteInteraction]:
        filters: list[dict[str, Any]] = [{"propertyName": "aa_external_id", "operator": "HAS_PROPERTY"}]
        if since is not None:
            filters.append({"propertyName": "hs_timestamp", "operator": "GTE", "value": str(_ms(since))})
        out: list[RemoteInteraction] = []
        after: str | None = None
        while len(out) < limit:
            request: dict[str, Any] = {
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": "hs_timestamp", "direction": "DESCENDING"}],
                "properties": CALL_PROPERTIES,
                "limit": 100,
            }
            if after:
                request["after"] = after
            _, body = self._call("POST", "crm/v3/objects/calls/search", json=request)
            for row in body.get("results", []) if isinstance(body, dict) else []:
                props = row.get("properties") or {}
                item = records.remote_interaction(
                    props.get("aa_payload"),
                    external_id=str(props.get("aa_external_id")),
                    review_state=props.get("aa_review_state"),
                    review_comment=props.get("aa_review_comment"),
                )
                # "pending" is also an unset property, which a search filter cannot express: filter here.
                if review_state is None or item.review_state == review_state:
                    out.append(item)
            after = ((body.get("paging") or {}).get("next") or {}).get("after") if isinstance(body, dict) else None
            if not after or int(after) >= SEARCH_CAP:
                break
        return out[:limit]

    def health(self) -> Health:
        def note(response: Any) -> str | None:
            remaining = response.headers.get("X-HubSpot-RateLimit-Daily-Remaining")
            return f"daily requests remaining: {remaining}" if remaining else None

        return http.probe(
            self._client,
            "crm/v3/objects/contacts",
            connector=self.name,
            endpoint=self.endpoint,
            note=note,
            params={"limit": 1},
        )

    def close(self) -> None:
        self._client.close()


def _batch_outcome(body: Any, key: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Results by their ``key`` property (or ``id``) and per-item error messages by input id (207)."""
    done: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    if not isinstance(body, dict):
        return done, failed
    for result in body.get("results") or []:
        if isinstance(result, dict):
            value = (result.get("properties") or {}).get(key) or result.get("id")
            done[str(value)] = result
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        message = " ".join(str(error.get("message") or "rejected").split())
        category = error.get("category")
        text = f"hubspot: {http.mask_pii(message)}" + (f" ({category})" if category else "")
        for value in (error.get("context") or {}).get("ids") or []:
            failed[str(value)] = text[: http.MAX_MESSAGE]
    return done, failed


def _change(row: dict[str, Any]) -> ConsentEventPayload | None:
    props = row.get("properties") or {}
    stored = records.consent_from_record(props.get("aa_consent_payload"))
    if stored is not None and stored.external_id == props.get("aa_consent_event_id"):
        return stored
    # Set by hand in HubSpot (or the payload is stale): the properties say what the state is now.
    number = props.get("aa_phone_e164")
    professional = props.get("aa_phone_consent_professional")
    at = records.parse_instant(props.get("aa_phone_consent_at")) or records.parse_instant(props.get("lastmodifieddate"))
    if not number or not professional or at is None:
        log.warning("hubspot: contact %s skipped (no aa_phone_e164 or aa_phone_consent_professional)", row.get("id"))
        return None
    state = props.get("aa_phone_canvassing_consent")
    return ConsentEventPayload(
        external_id=f"hubspot:{row.get('id')}:{records.iso_z(at)}",
        kind="given" if state == "granted" else ("objection" if state == "refused" else "withdrawn"),
        number=str(number),
        professional=str(professional),
        occurred_at=at,
        source=str(props.get("aa_phone_consent_source") or "crm"),
    )


def _newer(item: ConsentEventPayload, held: ConsentEventPayload) -> bool:
    if records.utc(item.occurred_at) != records.utc(held.occurred_at):
        return records.utc(item.occurred_at) > records.utc(held.occurred_at)
    return records.opts_out(item) and not records.opts_out(held)  # a tie goes to the opt-out


def _dup(external_id: str, remote_id: object) -> PushResult:
    return PushResult(
        external_id=external_id, status="duplicate", remote_id=None if remote_id is None else str(remote_id)
    )


def _ms(instant: dt.datetime) -> int:
    return int(records.utc(instant).timestamp() * 1000)


def _encode(state: dict[str, Any]) -> str:
    return json.dumps(
        {
            "since": records.iso_z(state["since"]),
            "after": state.get("after"),
            "last": records.iso_z(state["last"]) if state.get("last") else None,
        },
        separators=(",", ":"),
    )


def _decode(cursor: str | None) -> dict[str, Any]:
    if cursor is None:
        return {"since": dt.datetime(1970, 1, 1, tzinfo=dt.UTC), "after": None, "last": None}
    try:
        data = json.loads(cursor)
        since = records.parse_instant(data["since"])
        if since is None:
            raise ValueError
        return {"since": since, "after": data.get("after"), "last": records.parse_instant(data.get("last"))}
    except (ValueError, KeyError, TypeError):
        raise InputError("consent pull cursor: not one the HubSpot connector wrote (reset the sync state)") from None
