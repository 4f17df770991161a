"""Salesforce connector (REST API, ``reference/crm.md`` §4; what IT configures: ``docs/connectors.md``).

- Calls are ``Task`` records with ``TaskSubtype = 'Call'``, keyed by the custom External ID field
  ``AA_External_Id__c``. ``TaskSubtype`` is create-only, so an upsert's update path would fail on it: existing
  ids are looked up first (one SOQL ``IN`` query per batch, answered ``duplicate``), the rest are created with
  a composite collection (``POST /composite/sobjects``, ``allOrNone: false``, ≤ 200, per-record results); a
  ``DUPLICATE_VALUE`` on create (a lost response that committed) is resolved by the same lookup.
- Consent events: one ``Individual`` per phone number upserted by ``AA_Phone_E164__c`` (the required
  ``PartyId``), then a ``ContactPointTypeConsent`` per event upserted by ``AA_External_Id__c`` with a
  composite collection upsert (``PATCH /composite/sobjects/ContactPointTypeConsent/AA_External_Id__c``);
  ``created: false`` is a duplicate. An opt-out is mirrored to ``Contact.DoNotCall`` on the contacts whose
  ``AA_Phone_E164__c`` is that number (a failed mirror is logged; the consent record is the truth).
- Reviews: fields on the call's Task (``AA_Review_State__c``, ``AA_Review_Comment__c``, ``AA_Reviewer__c``,
  ``AA_Review_Id__c``), written by ``PATCH /sobjects/Task/{Id}`` after a lookup by external id.
- Pull: SOQL on ``ContactPointTypeConsent`` ordered by ``(SystemModstamp, Id)`` with keyset paging and an
  overlap window (``crm.pull_overlap_s``) at the start of each pull.
- Throttling: 403 ``REQUEST_LIMIT_EXCEEDED`` (not 429) becomes a TransientError (``desktop.core.crm.http``).

Authentication: ``Authorization: Bearer <access token>`` from the keyring (IT's connected app issues it).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

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
)
from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.config import Crm

log = logging.getLogger("agent_assist.crm")

API_VERSION = "v62.0"
#: Composite collections take at most 200 records (§4).
MAX_COLLECTION = 200
#: Task.Description is limited to 32,000 characters; a Long Text Area field to 131,072.
DESCRIPTION_MAX = 32_000
PAYLOAD_MAX = 131_072

TASK_FIELDS = "Id, AA_External_Id__c, AA_Payload__c, AA_Review_State__c, AA_Review_Comment__c, CreatedDate"
CONSENT_FIELDS = (
    "Id, AA_External_Id__c, AA_Payload__c, AA_Professional__c, PrivacyConsentStatus, CaptureDate, CaptureSource,"
    " SystemModstamp, Party.AA_Phone_E164__c"
)


def soql_string(value: str) -> str:
    """A SOQL string literal (backslash and quote escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def soql_datetime(instant: dt.datetime) -> str:
    """A SOQL datetime literal (unquoted, UTC)."""
    return records.iso_z(instant)


class SalesforceConnector:
    """The Connector protocol over Salesforce's REST API (module docstring)."""

    name = "salesforce"
    max_batch = MAX_COLLECTION

    def __init__(self, crm: Crm, token: str) -> None:
        assert crm.endpoint is not None
        self.endpoint = crm.endpoint.rstrip("/")
        self._overlap = dt.timedelta(seconds=crm.pull_overlap_s)
        self._client = http.build_client(
            crm,
            base_url=f"{self.endpoint}/services/data/{API_VERSION}/",
            headers={"Authorization": f"Bearer {token}"},
        )

    @classmethod
    def from_settings(cls, crm: Crm, secret: str | None) -> SalesforceConnector:
        """InputError (one line) when the My Domain URL or the access token is missing."""
        if not crm.endpoint:
            raise InputError(
                "crm.endpoint: missing (the Salesforce My Domain URL, e.g. https://acme.my.salesforce.com)"
            )
        if not secret:
            raise InputError("salesforce: no access token in the OS keyring (agent-assist sync secret set)")
        return cls(crm, secret)

    # plumbing --------------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = http.request(self._client, method, path, connector=self.name, **kwargs)
        return http.response_json(response)

    def _query(self, soql: str) -> list[dict[str, Any]]:
        body = self._call("GET", "query", params={"q": soql})
        rows: list[dict[str, Any]] = list(body.get("records", [])) if isinstance(body, dict) else []
        while isinstance(body, dict) and body.get("nextRecordsUrl"):
            body = self._call("GET", str(body["nextRecordsUrl"]))
            rows.extend(body.get("records", []) if isinstance(body, dict) else [])
        return rows

    def _by_external_id(
        self, sobject: str, field: str, values: Iterable[str], fields: str
    ) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(values))
        if not wanted:
            return {}
        soql = f"SELECT {fields} FROM {sobject} WHERE {field} IN ({', '.join(soql_string(v) for v in wanted)})"
        return {str(row[field]): row for row in self._query(soql)}

    # interactions ----------------------------------------------------------------------------------------
    def push_interactions(self, items: Sequence[InteractionPayload]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(items), MAX_COLLECTION):
            results.extend(self._push_calls(items[start : start + MAX_COLLECTION]))
        return results

    def _push_calls(self, items: Sequence[InteractionPayload]) -> list[PushResult]:
        ids = [item.external_id for item in items]
        existing = self._by_external_id("Task", "AA_External_Id__c", ids, "Id, AA_External_Id__c")
        contacts = self._by_external_id(
            "Contact", "AA_Phone_E164__c", [i.number for i in items], "Id, AA_Phone_E164__c"
        )
        results: dict[str, PushResult] = {}
        to_create: list[InteractionPayload] = []
        for item in items:
            if item.external_id in existing:
                results[item.external_id] = _duplicate(item.external_id, existing[item.external_id]["Id"])
            elif item.external_id not in {i.external_id for i in to_create}:
                to_create.append(item)
        if to_create:
            body = {"allOrNone": False, "records": [self._task(item, contacts) for item in to_create]}
            answers = self._call("POST", "composite/sobjects", json=body)
            late: list[str] = []
            for item, answer in zip(to_create, _list(answers), strict=False):
                if answer.get("success"):
                    results[item.external_id] = PushResult(
                        external_id=item.external_id, status="created", remote_id=str(answer.get("id"))
                    )
                elif _codes(answer) & {"DUPLICATE_VALUE", "DUPLICATE_EXTERNAL_ID"}:
                    late.append(item.external_id)
                else:
                    results[item.external_id] = _rejected(item.external_id, answer)
            found = self._by_external_id("Task", "AA_External_Id__c", late, "Id, AA_External_Id__c")
            for external_id in late:
                if external_id in found:
                    results[external_id] = _duplicate(external_id, found[external_id]["Id"])
        return [
            results.get(i, PushResult(external_id=i, status="retry", message="salesforce: no result for this record"))
            for i in ids
        ]

    def _task(self, item: InteractionPayload, contacts: dict[str, dict[str, Any]]) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "attributes": {"type": "Task"},
            "AA_External_Id__c": item.external_id,
            "TaskSubtype": "Call",
            "Subject": records.call_subject(item)[:255],
            "Status": "Completed",
            "ActivityDate": records.utc(item.started_at).date().isoformat(),
            "CallType": "Inbound" if item.direction == "inbound" else "Outbound",
            "CallDurationInSeconds": item.duration_s,
            "CallDisposition": (item.disposition or "")[:255] or None,
            "CallObject": item.external_id[:255],
            "Description": records.call_note(item)[:DESCRIPTION_MAX],
            "AA_Payload__c": records.interaction_record(item, PAYLOAD_MAX),
            "AA_Review_State__c": "pending",
        }
        contact = contacts.get(item.number)
        if contact is not None:
            fields["WhoId"] = contact["Id"]
        return fields

    # consent ---------------------------------------------------------------------------------------------
    def push_consent_events(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(items), MAX_COLLECTION):
            results.extend(self._push_consents(items[start : start + MAX_COLLECTION]))
        return results

    def _push_consents(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]:
        numbers = sorted({item.number for item in items})
        individuals = self._upsert(
            "Individual",
            "AA_Phone_E164__c",
            # One Individual per number, owned by Agent Assist: LastName is required and holds the number.
            [{"attributes": {"type": "Individual"}, "AA_Phone_E164__c": n, "LastName": n} for n in numbers],
        )
        party = {n: a.get("id") for n, a in zip(numbers, individuals, strict=False) if a.get("success")}
        results: dict[str, PushResult] = {}
        sendable: list[ConsentEventPayload] = []
        for item in items:
            if party.get(item.number):
                sendable.append(item)
            else:
                answer = (
                    individuals[numbers.index(item.number)] if numbers.index(item.number) < len(individuals) else {}
                )
                results[item.external_id] = _rejected(item.external_id, answer, what="Individual")
        answers = self._upsert(
            "ContactPointTypeConsent",
            "AA_External_Id__c",
            [self._consent(item, str(party[item.number])) for item in sendable],
        )
        for item, answer in zip(sendable, answers, strict=False):
            if answer.get("success"):
                status = "created" if answer.get("created") else "duplicate"
                results[item.external_id] = PushResult(
                    external_id=item.external_id, status=status, remote_id=str(answer.get("id"))
                )
            else:
                results[item.external_id] = _rejected(item.external_id, answer)
        opted_out = [i.number for i in sendable if records.opts_out(i) and results[i.external_id].status != "rejected"]
        self._mirror_do_not_call(opted_out)
        return [
            results.get(
                i.external_id, PushResult(external_id=i.external_id, status="retry", message="salesforce: no result")
            )
            for i in items
        ]

    def _consent(self, item: ConsentEventPayload, party_id: str) -> dict[str, Any]:
        return {
            "attributes": {"type": "ContactPointTypeConsent"},
            "AA_External_Id__c": item.external_id,
            "Name": f"Téléphone – {item.professional}"[:80],
            "PartyId": party_id,
            "ContactPointType": "Phone",
            "CaptureContactPointType": "Phone",
            "PrivacyConsentStatus": "OptOut" if records.opts_out(item) else "OptIn",
            "CaptureDate": records.iso_z(item.occurred_at),
            "EffectiveFrom": records.iso_z(item.occurred_at),
            "CaptureSource": item.source[:255],
            "AA_Professional__c": item.professional[:255],
            "AA_Interaction_Id__c": item.interaction_id,
            "AA_Payload__c": records.consent_record(item),
        }

    def _upsert(self, sobject: str, field: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not rows:
            return []
        body = {"allOrNone": False, "records": rows}
        return _list(self._call("PATCH", f"composite/sobjects/{sobject}/{field}", json=body))

    def _mirror_do_not_call(self, numbers: list[str]) -> None:
        if not numbers:
            return
        try:
            contacts = self._by_external_id("Contact", "AA_Phone_E164__c", numbers, "Id, AA_Phone_E164__c")
            rows = [{"attributes": {"type": "Contact"}, "id": c["Id"], "DoNotCall": True} for c in contacts.values()]
            if rows:
                answers = _list(self._call("PATCH", "composite/sobjects", json={"allOrNone": False, "records": rows}))
                failed = sum(1 for answer in answers if not answer.get("success"))
                if failed:
                    log.warning("salesforce: Contact.DoNotCall not set on %d contact(s)", failed)
        except SyncError as error:
            log.warning("salesforce: Contact.DoNotCall mirror failed: %s", error)

    # reviews ---------------------------------------------------------------------------------------------
    def push_reviews(self, items: Sequence[ReviewPayload]) -> list[PushResult]:
        results = []
        for item in items:
            response = http.request(
                self._client,
                "GET",
                f"sobjects/Task/AA_External_Id__c/{quote(item.interaction_id, safe='')}",
                connector=self.name,
                params={"fields": "Id,AA_Review_Id__c"},
                ok={404},
            )
            task = http.response_json(response)
            if response.status_code == 404 or not isinstance(task, dict):
                results.append(
                    PushResult(
                        external_id=item.external_id,
                        status="retry",
                        message="salesforce: the call is not in Salesforce yet",
                    )
                )
                continue
            if task.get("AA_Review_Id__c") == item.external_id:
                results.append(_duplicate(item.external_id, task["Id"]))
                continue
            self._call(
                "PATCH",
                f"sobjects/Task/{task['Id']}",
                json={
                    "AA_Review_State__c": item.state,
                    "AA_Review_Comment__c": item.comment,
                    "AA_Reviewer__c": item.reviewer[:255],
                    "AA_Review_Id__c": item.external_id,
                },
            )
            results.append(PushResult(external_id=item.external_id, status="created", remote_id=str(task["Id"])))
        return results

    # reads -----------------------------------------------------------------------------------------------
    def pull_consent_changes(self, cursor: str | None, limit: int = 200) -> ConsentPage:
        position = records.TimeCursor.decode(cursor)
        where = ""
        if position is not None and position.resume:
            where = f" WHERE SystemModstamp >= {soql_datetime(position.at - self._overlap)}"
        elif position is not None:
            at = soql_datetime(position.at)
            where = f" WHERE (SystemModstamp > {at} OR (SystemModstamp = {at} AND Id > {soql_string(position.id)}))"
        soql = f"SELECT {CONSENT_FIELDS} FROM ContactPointTypeConsent{where} ORDER BY SystemModstamp, Id LIMIT {limit}"
        rows = self._query(soql)
        changes = [change for change in (self._change(row) for row in rows) if change is not None]
        more = len(rows) >= limit
        if rows:
            last = rows[-1]
            stamp = records.parse_instant(last.get("SystemModstamp"))
            if stamp is None:
                raise InputError("salesforce: SystemModstamp missing from a ContactPointTypeConsent row")
            next_cursor: str | None = records.TimeCursor(stamp, str(last["Id"]), resume=not more).encode()
        elif position is not None:
            next_cursor = records.TimeCursor(position.at, position.id, resume=True).encode()
        else:
            next_cursor = None
        return ConsentPage(changes=changes, cursor=next_cursor, more=more)

    def _change(self, row: dict[str, Any]) -> ConsentEventPayload | None:
        stored = records.consent_from_record(row.get("AA_Payload__c"))
        if stored is not None:
            return stored
        # A consent recorded in Salesforce itself: usable when its person and professional are known.
        party = row.get("Party") if isinstance(row.get("Party"), dict) else {}
        number = party.get("AA_Phone_E164__c") if party else None
        professional = row.get("AA_Professional__c")
        at = records.parse_instant(row.get("CaptureDate")) or records.parse_instant(row.get("SystemModstamp"))
        if not number or not professional or at is None:
            log.warning(
                "salesforce: consent record %s skipped (no AA_Phone_E164__c or AA_Professional__c)", row.get("Id")
            )
            return None
        return ConsentEventPayload(
            external_id=f"salesforce:{row['Id']}:{records.iso_z(at)}",
            kind="given" if row.get("PrivacyConsentStatus") == "OptIn" else "withdrawn",  # anything else opts out
            number=str(number),
            professional=str(professional),
            occurred_at=at,
            source=str(row.get("CaptureSource") or "crm"),
        )

    def list_interactions(
        self, *, since: dt.datetime | None = None, review_state: ReviewState | None = None, limit: int = 200
    ) -> list[RemoteInteraction]:
        where = ["TaskSubtype = 'Call'", "AA_External_Id__c != null"]
        if since is not None:
            where.append(f"CreatedDate >= {soql_datetime(since)}")
        if review_state is not None:
            where.append(f"AA_Review_State__c = {soql_string(review_state)}")
        soql = f"SELECT {TASK_FIELDS} FROM Task WHERE {' AND '.join(where)} ORDER BY CreatedDate DESC LIMIT {limit}"
        rows = self._query(soql)
        events: dict[str, list[ConsentEventPayload]] = {}
        ids = [str(row["AA_External_Id__c"]) for row in rows]
        if ids:
            soql = (
                f"SELECT {CONSENT_FIELDS} FROM ContactPointTypeConsent WHERE AA_Interaction_Id__c IN"
                f" ({', '.join(soql_string(i) for i in ids)})"
            )
            for row in self._query(soql):
                change = self._change(row)
                if change is not None and change.interaction_id:
                    events.setdefault(change.interaction_id, []).append(change)
        return [
            records.remote_interaction(
                row.get("AA_Payload__c"),
                external_id=str(row["AA_External_Id__c"]),
                review_state=row.get("AA_Review_State__c"),
                review_comment=row.get("AA_Review_Comment__c"),
                consent_events=events.get(str(row["AA_External_Id__c"])),
            )
            for row in rows
        ]

    def health(self) -> Health:
        return http.probe(
            self._client,
            "limits",
            connector=self.name,
            endpoint=self.endpoint,
            note=lambda response: response.headers.get("Sforce-Limit-Info"),
        )

    def close(self) -> None:
        self._client.close()


def _list(body: Any) -> list[dict[str, Any]]:
    return [entry for entry in body if isinstance(entry, dict)] if isinstance(body, list) else []


def _codes(answer: dict[str, Any]) -> set[str]:
    return {str(e.get("statusCode") or e.get("errorCode")) for e in answer.get("errors") or [] if isinstance(e, dict)}


def _duplicate(external_id: str, remote_id: object) -> PushResult:
    return PushResult(external_id=external_id, status="duplicate", remote_id=str(remote_id))


def _rejected(external_id: str, answer: dict[str, Any], *, what: str = "") -> PushResult:
    parts = []
    for error in answer.get("errors") or []:
        if isinstance(error, dict):
            code = error.get("statusCode") or error.get("errorCode")
            parts.append(f"{error.get('message', '')} ({code})" if code else str(error.get("message", "")))
    text = "; ".join(parts) or "rejected without a message"
    prefix = f"salesforce: {what}: " if what else "salesforce: "
    message = (prefix + http.mask_pii(" ".join(text.split())))[: http.MAX_MESSAGE]
    return PushResult(external_id=external_id, status="rejected", message=message)
