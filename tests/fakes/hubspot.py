"""A fake HubSpot CRM API, written from ``reference/crm.md`` §5 and the HubSpot pages it cites (crm/calls,
objects batch endpoints, search, api-error-responses, rate-limit headers).

UNIT-TEST DOUBLE, not HubSpot. What it implements, as documented:

- private-app ``Authorization: Bearer``; a wrong token → 401 ``{"status":"error","message",
  "category":"INVALID_AUTHENTICATION","correlationId"}``;
- ``POST /crm/v3/objects/{calls|contacts}/batch/upsert`` with ``idProperty`` (a unique property): ``new``
  per result; invalid items → **207 Multi-Status** with ``errors[{"status","category","message",
  "context":{"ids"}}]``; duplicate ids in one batch → 400; more than 100 inputs → 400;
- ``batch/read`` (by ``idProperty``; missing ids as 207 ``OBJECT_NOT_FOUND``), ``batch/update`` (by id);
- ``POST /crm/v4/associations/calls/contacts/batch/create`` (association type 194 recorded);
- ``POST /crm/v3/objects/{obj}/search``: ``GTE``/``EQ``/``HAS_PROPERTY`` filters, one sort, ``limit`` ≤ 200,
  ``after`` paging, **10,000 results cap** (an ``after`` beyond it → 400);
- calls validation: ``hs_timestamp`` required, ``hs_call_direction`` INBOUND|OUTBOUND;
- ``lastmodifieddate`` set on every write; every answer carries ``X-HubSpot-RateLimit-Daily`` /
  ``-Daily-Remaining``.

Throttling (429 ``RATE_LIMITS``, with or without ``Retry-After``) is injected by the tests with ``fail_next``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug import Request, Response

from tests.fakes import FakeCrm, body_json, raw

UNIQUE = {"calls": {"aa_external_id"}, "contacts": {"aa_phone_e164", "email"}}
DAILY = 250_000


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def _instant(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    text = str(value)
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC)
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def error(message: str, category: str = "VALIDATION_ERROR", **extra: Any) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}


class FakeHubSpot(FakeCrm):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.objects: dict[str, dict[str, dict[str, Any]]] = {"calls": {}, "contacts": {}}
        self.associations: list[tuple[str, str, int]] = []
        self.used = 0
        self._ids = itertools.count(1001)
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            for table in self.objects.values():
                table.clear()
            self.associations.clear()
            self.used = 0

    def route(self, request: Request) -> Response:
        self.used += 1
        headers = {
            "X-HubSpot-RateLimit-Daily": str(DAILY),
            "X-HubSpot-RateLimit-Daily-Remaining": str(DAILY - self.used),
        }
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            body = error("Authentication credentials not found.", "INVALID_AUTHENTICATION")
            return raw(401, body, headers)
        status, body = self._handle(request)
        return raw(status, body, headers)

    def _handle(self, request: Request) -> tuple[int, Any]:
        parts = request.path.strip("/").split("/")
        document = body_json(request) or {}
        if request.method == "GET" and parts == ["crm", "v3", "objects", "contacts"]:
            limit = int(request.args.get("limit", 10))
            return 200, {"results": [self._public(r, None) for r in list(self.objects["contacts"].values())[:limit]]}
        if parts == ["crm", "v4", "associations", "calls", "contacts", "batch", "create"]:
            for item in document.get("inputs", []):
                for kind in item.get("types", []):
                    self.associations.append((item["from"]["id"], item["to"]["id"], kind["associationTypeId"]))
            return 200, {"status": "COMPLETE", "results": document.get("inputs", [])}
        if len(parts) >= 5 and parts[:3] == ["crm", "v3", "objects"] and parts[3] in self.objects:
            obj, action = parts[3], "/".join(parts[4:])
            if action == "batch/upsert":
                return self._upsert(obj, document)
            if action == "batch/read":
                return self._read(obj, document)
            if action == "batch/update":
                return self._update(obj, document)
            if action == "search":
                return self._search(obj, document)
        return 404, error(f"Unable to route {request.method} {request.path}", "OBJECT_NOT_FOUND")

    # batch ------------------------------------------------------------------------------------------------
    def _validate(self, obj: str, props: dict[str, Any], creating: bool) -> str | None:
        if obj == "calls":
            if creating and not props.get("hs_timestamp"):
                return 'Property "hs_timestamp" is required'
            if "hs_call_direction" in props and props["hs_call_direction"] not in ("INBOUND", "OUTBOUND"):
                return f'Property values were not valid: "{props["hs_call_direction"]}" is not a valid option for hs_call_direction'
        if obj == "contacts" and props.get("aa_phone_canvassing_consent") not in (
            None,
            "granted",
            "withdrawn",
            "refused",
        ):
            return "Property values were not valid: aa_phone_canvassing_consent"
        return None

    def _find(self, obj: str, prop: str, value: Any) -> dict[str, Any] | None:
        if prop == "hs_object_id":
            return self.objects[obj].get(str(value))
        return next((r for r in self.objects[obj].values() if r["properties"].get(prop) == value), None)

    def _write(self, record: dict[str, Any], props: dict[str, Any]) -> None:
        now = _iso(self.clock())
        record["properties"].update({k: (None if v is None else str(v)) for k, v in props.items()})
        record["properties"]["lastmodifieddate"] = record["properties"]["hs_lastmodifieddate"] = now
        record["updatedAt"] = now

    def _upsert(self, obj: str, document: dict[str, Any]) -> tuple[int, Any]:
        inputs = document.get("inputs") or []
        if len(inputs) > 100:
            return 400, error("Batch input is limited to 100 items")
        ids = [i.get("id") for i in inputs]
        if len(set(ids)) != len(ids):
            return 400, error("Duplicate IDs found in batch input")
        results, errors = [], []
        for item in inputs:
            prop = item.get("idProperty")
            if prop not in UNIQUE[obj]:
                return 400, error(f"{prop} is not a unique property")
            props = {**item.get("properties", {}), prop: item["id"]}
            existing = self._find(obj, prop, item["id"])
            problem = self._validate(obj, props, existing is None)
            if problem:
                errors.append(error(problem, context={"ids": [item["id"]]}))
                continue
            if existing is None:
                record_id = str(next(self._ids))
                now = _iso(self.clock())
                existing = {
                    "id": record_id,
                    "properties": {"hs_object_id": record_id, "createdate": now},
                    "createdAt": now,
                }
                self.objects[obj][record_id] = existing
                self._write(existing, props)
                results.append({**self._public(existing, None), "new": True})
            else:
                self._write(existing, props)
                results.append({**self._public(existing, None), "new": False})
        body = {"status": "COMPLETE", "results": results}
        if errors:
            return 207, {**body, "numErrors": len(errors), "errors": errors}
        return 200, body

    def _read(self, obj: str, document: dict[str, Any]) -> tuple[int, Any]:
        prop = document.get("idProperty") or "hs_object_id"
        wanted = list(document.get("properties", []))  # only what was asked, as HubSpot does
        results, missing = [], []
        for item in document.get("inputs", []):
            record = self._find(obj, prop, item["id"])
            if record is None:
                missing.append(item["id"])
            else:
                results.append(self._public(record, wanted))
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            body.update(
                numErrors=1, errors=[error("Could not get some objects", "OBJECT_NOT_FOUND", context={"ids": missing})]
            )
            return 207, body
        return 200, body

    def _update(self, obj: str, document: dict[str, Any]) -> tuple[int, Any]:
        results = []
        for item in document.get("inputs", []):
            record = self.objects[obj].get(str(item["id"]))
            if record is None:
                return 404, error(f"Object {item['id']} not found", "OBJECT_NOT_FOUND")
            self._write(record, item.get("properties", {}))
            results.append(self._public(record, None))
        return 200, {"status": "COMPLETE", "results": results}

    def _search(self, obj: str, document: dict[str, Any]) -> tuple[int, Any]:
        limit = int(document.get("limit", 10))
        offset = int(document.get("after") or 0)
        if limit > 200:
            return 400, error("limit: must be at most 200")
        if offset + limit > 10_000:
            return 400, error("The search API can return at most 10000 results for a query")
        rows = [
            r
            for r in self.objects[obj].values()
            if any(self._match(r, g) for g in document.get("filterGroups") or [{}])
        ]
        for sort in reversed(document.get("sorts") or []):
            name = sort["propertyName"]
            rows.sort(
                key=lambda r, n=name: _instant(r["properties"].get(n)) or dt.datetime.min.replace(tzinfo=dt.UTC),
                reverse=sort.get("direction") == "DESCENDING",
            )
        page = rows[offset : offset + limit]
        body: dict[str, Any] = {
            "total": len(rows),
            "results": [self._public(r, document.get("properties")) for r in page],
        }
        if offset + limit < len(rows):
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return 200, body

    def _match(self, record: dict[str, Any], group: dict[str, Any]) -> bool:
        for flt in group.get("filters") or []:
            value = record["properties"].get(flt["propertyName"])
            op = flt["operator"]
            if op == "HAS_PROPERTY" and value in (None, ""):
                return False
            if op == "EQ" and str(value) != str(flt["value"]):
                return False
            if op == "GTE":
                left, right = _instant(value), _instant(flt["value"])
                if left is None or right is None or left < right:
                    return False
        return True

    @staticmethod
    def _public(record: dict[str, Any], properties: list[str] | None) -> dict[str, Any]:
        props = record["properties"]
        if properties is not None:
            props = {k: props.get(k) for k in properties}
        return {
            "id": record["id"],
            "properties": dict(props),
            "createdAt": record.get("createdAt"),
            "updatedAt": record.get("updatedAt"),
            "archived": False,
        }
