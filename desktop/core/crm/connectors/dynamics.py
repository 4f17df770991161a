"""Dynamics 365 / Dataverse connector (Web API v9.2, ``reference/crm.md`` §6; IT setup in ``docs/connectors.md``).

- Calls: ``phonecall`` activities created once through the alternate key ``aa_externalid``:
  ``PATCH /phonecalls(aa_externalid='…')`` with ``If-None-Match: *`` (create-only): 204 created, **412** =
  already there (answered ``duplicate`` with the id read back by the key). The activity is left open: a
  completed activity is read-only, and the team-lead review is written on it later (IT may close it by a flow).
- Consent: a custom table ``aa_consentevent`` (alternate key ``aa_externalid``, append-only, created the same
  create-only way) and, for an opt-out, ``contact.donotphone = true`` on the contacts whose ``aa_phonee164``
  is the number (a failed mirror is logged; the event table is the truth).
- Reviews: columns ``aa_reviewstate``, ``aa_reviewcomment``, ``aa_reviewer``, ``aa_reviewid`` on the phone call.
- Pull: change tracking on ``aa_consentevent``: ``Prefer: odata.track-changes`` gives pages
  (``@odata.nextLink``) and finally an ``@odata.deltaLink``; the link is the cursor (no overlap needed: the
  server keeps the version).
- Throttling: 429 with ``Retry-After`` and codes ``0x80072322``/``0x80072321``/``0x80072326`` →
  TransientError (``desktop.core.crm.http``).

Authentication: ``Authorization: Bearer <access token>`` for an application user (Entra ID app registration).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
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
    RejectedError,
    RemoteInteraction,
    ReviewPayload,
    ReviewState,
    SyncError,
)
from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.config import Crm

log = logging.getLogger("agent_assist.crm")

API = "api/data/v9.2/"
#: A multiline text column holds up to 1,048,576 characters; description is limited to 2,000 on phonecall.
PAYLOAD_MAX = 1_048_576
DESCRIPTION_MAX = 2_000
CONSENT_SET = "aa_consentevents"
CONSENT_SELECT = "aa_externalid,aa_payload,aa_phonee164,aa_kind,aa_professional,aa_occurredat,aa_source"
_ENTITY_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")


def key(value: str) -> str:
    """An OData string literal for an alternate key (quotes doubled, then URL-escaped by httpx)."""
    return "'" + value.replace("'", "''") + "'"


class DynamicsConnector:
    """The Connector protocol over the Dataverse Web API (module docstring)."""

    name = "dynamics"
    max_batch = 50  # one request per item: create-only PATCH; a batch is the worker's unit of retry

    def __init__(self, crm: Crm, token: str) -> None:
        assert crm.endpoint is not None
        self.endpoint = crm.endpoint.rstrip("/")
        self._client = http.build_client(
            crm,
            base_url=f"{self.endpoint}/{API}",
            headers={"Authorization": f"Bearer {token}", "OData-MaxVersion": "4.0", "OData-Version": "4.0"},
        )

    @classmethod
    def from_settings(cls, crm: Crm, secret: str | None) -> DynamicsConnector:
        """InputError (one line) when the organisation URL or the access token is missing."""
        if not crm.endpoint:
            raise InputError(
                "crm.endpoint: missing (the Dataverse organisation URL, e.g. https://org.crm4.dynamics.com)"
            )
        if not secret:
            raise InputError("dynamics: no access token in the OS keyring (agent-assist sync secret set)")
        return cls(crm, secret)

    def _create_once(self, entity_set: str, primary: str, external_id: str, body: dict[str, Any]) -> PushResult:
        """Create by alternate key unless it exists: created, duplicate, or rejected with Dataverse's message."""
        path = f"{entity_set}(aa_externalid={key(external_id)})"
        try:
            response = http.request(
                self._client, "PATCH", path, connector=self.name, json=body, headers={"If-None-Match": "*"}, ok={412}
            )
        except RejectedError as error:  # validation of this item: parked with Dataverse's message
            return PushResult(external_id=external_id, status="rejected", message=str(error))
        if response.status_code == 412:
            found = http.request(self._client, "GET", path, connector=self.name, params={"$select": primary})
            data = http.response_json(found)
            remote = data.get(primary) if isinstance(data, dict) else None
            return PushResult(
                external_id=external_id, status="duplicate", remote_id=None if remote is None else str(remote)
            )
        match = _ENTITY_ID.search(response.headers.get("OData-EntityId", ""))
        return PushResult(external_id=external_id, status="created", remote_id=match.group(1) if match else None)

    # pushes ----------------------------------------------------------------------------------------------
    def push_interactions(self, items: Sequence[InteractionPayload]) -> list[PushResult]:
        return [
            self._create_once("phonecalls", "activityid", item.external_id, self._phonecall(item)) for item in items
        ]

    def _phonecall(self, item: InteractionPayload) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subject": records.call_subject(item)[:200],
            "description": records.call_note(item)[:DESCRIPTION_MAX],
            "phonenumber": item.number,
            "directioncode": item.direction == "outbound",
            "actualstart": records.iso_z(item.started_at),
            "aa_payload": records.interaction_record(item, PAYLOAD_MAX),
        }
        if item.ended_at is not None:
            body["actualend"] = records.iso_z(item.ended_at)
        if item.duration_s is not None:
            body["actualdurationminutes"] = max(1, round(item.duration_s / 60))
        return body

    def push_consent_events(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]:
        results = []
        opted_out: list[str] = []
        for item in items:
            body = {
                "aa_phonee164": item.number,
                "aa_kind": item.kind,
                "aa_professional": item.professional[:200],
                "aa_occurredat": records.iso_z(item.occurred_at),
                "aa_source": item.source[:200],
                "aa_interactionid": item.interaction_id,
                "aa_payload": records.consent_record(item),
            }
            result = self._create_once(CONSENT_SET, "aa_consenteventid", item.external_id, body)
            results.append(result)
            if result.status == "created" and records.opts_out(item):
                opted_out.append(item.number)
        for number in dict.fromkeys(opted_out):
            self._mirror_do_not_phone(number)
        return results

    def _mirror_do_not_phone(self, number: str) -> None:
        try:
            response = http.request(
                self._client,
                "GET",
                "contacts",
                connector=self.name,
                params={"$select": "contactid", "$filter": f"aa_phonee164 eq {key(number)}"},
            )
            for row in (http.response_json(response) or {}).get("value", []):
                http.request(
                    self._client,
                    "PATCH",
                    f"contacts({row['contactid']})",
                    connector=self.name,
                    json={"donotphone": True},
                    headers={"If-Match": "*"},
                )
        except SyncError as error:
            log.warning("dynamics: contact.donotphone mirror failed: %s", error)

    def push_reviews(self, items: Sequence[ReviewPayload]) -> list[PushResult]:
        results = []
        for item in items:
            path = f"phonecalls(aa_externalid={key(item.interaction_id)})"
            response = http.request(
                self._client, "GET", path, connector=self.name, params={"$select": "activityid,aa_reviewid"}, ok={404}
            )
            call = http.response_json(response)
            if response.status_code == 404 or not isinstance(call, dict):
                results.append(
                    PushResult(
                        external_id=item.external_id,
                        status="retry",
                        message="dynamics: the call is not in Dataverse yet",
                    )
                )
                continue
            if call.get("aa_reviewid") == item.external_id:
                results.append(
                    PushResult(external_id=item.external_id, status="duplicate", remote_id=call.get("activityid"))
                )
                continue
            body = {
                "aa_reviewstate": item.state,
                "aa_reviewcomment": item.comment,
                "aa_reviewer": item.reviewer[:200],
                "aa_reviewid": item.external_id,
            }
            http.request(
                self._client,
                "PATCH",
                f"phonecalls({call['activityid']})",
                connector=self.name,
                json=body,
                headers={"If-Match": "*"},
            )
            results.append(PushResult(external_id=item.external_id, status="created", remote_id=call.get("activityid")))
        return results

    # reads -----------------------------------------------------------------------------------------------
    def pull_consent_changes(self, cursor: str | None, limit: int = 200) -> ConsentPage:
        headers = {"Prefer": f"odata.track-changes,odata.maxpagesize={limit}"}
        if cursor is None:
            response = http.request(
                self._client,
                "GET",
                CONSENT_SET,
                connector=self.name,
                params={"$select": CONSENT_SELECT},
                headers=headers,
            )
        else:
            if not cursor.startswith(self.endpoint + "/"):
                raise InputError(
                    "consent pull cursor: not a delta link of this Dataverse organisation (reset the sync state)"
                )
            response = http.request(self._client, "GET", cursor, connector=self.name, headers=headers)
        body = http.response_json(response) or {}
        changes = []
        for row in body.get("value", []):
            if "@odata.context" in row and "$deletedEntity" in str(row.get("@odata.context")):
                continue  # events are append-only: a deleted row withdraws nothing
            change = records.consent_from_record(row.get("aa_payload")) or _change(row)
            if change is not None:
                changes.append(change)
        next_link = body.get("@odata.nextLink")
        delta = body.get("@odata.deltaLink")
        return ConsentPage(changes=changes, cursor=str(next_link or delta or cursor) or None, more=bool(next_link))

    def list_interactions(
        self, *, since: dt.datetime | None = None, review_state: ReviewState | None = None, limit: int = 200
    ) -> list[RemoteInteraction]:
        condition = "aa_externalid ne null"
        if since is not None:
            condition += f" and createdon ge {records.iso_z(since)}"
        params = {
            "$select": "activityid,aa_externalid,aa_payload,aa_reviewstate,aa_reviewcomment,createdon",
            "$filter": condition,
            "$orderby": "createdon desc",
            "$top": str(limit if review_state is None else 5000),
        }
        response = http.request(self._client, "GET", "phonecalls", connector=self.name, params=params)
        out = []
        for row in (http.response_json(response) or {}).get("value", []):
            item = records.remote_interaction(
                row.get("aa_payload"),
                external_id=str(row.get("aa_externalid")),
                review_state=row.get("aa_reviewstate"),
                review_comment=row.get("aa_reviewcomment"),
            )
            # "pending" is also an empty column, which $filter would need two clauses for: filter here.
            if review_state is None or item.review_state == review_state:
                out.append(item)
        return out[:limit]

    def health(self) -> Health:
        def note(response: Any) -> str | None:
            remaining = response.headers.get("x-ms-ratelimit-burst-remaining-xrm-requests")
            return f"burst requests remaining: {remaining}" if remaining else None

        return http.probe(self._client, "WhoAmI", connector=self.name, endpoint=self.endpoint, note=note)

    def close(self) -> None:
        self._client.close()


def _change(row: dict[str, Any]) -> ConsentEventPayload | None:
    """A consent event entered by hand in Dataverse (no payload): usable when its columns are filled."""
    at = records.parse_instant(row.get("aa_occurredat"))
    kind = row.get("aa_kind")
    if not row.get("aa_phonee164") or not row.get("aa_professional") or at is None or not row.get("aa_externalid"):
        log.warning("dynamics: consent row skipped (no aa_phonee164, aa_professional or aa_occurredat)")
        return None
    return ConsentEventPayload(
        external_id=str(row["aa_externalid"]),
        kind=kind if kind in ("given", "withdrawn", "objection") else "withdrawn",  # unknown states opt out
        number=str(row["aa_phonee164"]),
        professional=str(row["aa_professional"]),
        occurred_at=at,
        source=str(row.get("aa_source") or "crm"),
    )
