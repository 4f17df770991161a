"""A fake Salesforce REST API, written from ``reference/crm.md`` §4 and the Salesforce pages it cites
(dome-upsert, resources_composite_sobjects_collections_upsert / _create / _update, sforce_api_objects_task,
errorcodes, salesforce_app_limits_platform_api).

UNIT-TEST DOUBLE, not Salesforce. What it implements, as documented:

- ``Authorization: Bearer`` checked; a wrong token → 401 ``[{"message","errorCode":"INVALID_SESSION_ID"}]``;
- ``GET /services/data/vXX.X/query?q=SOQL``: a small SOQL subset (``SELECT f, Rel.f FROM X [WHERE …]
  [ORDER BY f [DESC], …] [LIMIT n]`` with ``= != > >= < <=``, ``IN (…)``, ``AND``, ``OR``, parentheses,
  string/datetime/null literals) → ``{"totalSize","done","records"}``;
- composite collections ≤ 200 records: ``POST /composite/sobjects`` (create), ``PATCH /composite/sobjects``
  (update by ``id``), ``PATCH /composite/sobjects/{SObject}/{ExternalIdField}`` (upsert: ``created``
  true/false), ``allOrNone: false`` → per-record ``{"id","success","errors":[{"statusCode","message","fields"}]}``
  in order; more than 200 → 400 ``EXCEEDED_ID_LIMIT``;
- unique External ID fields (``AA_External_Id__c``, ``AA_Phone_E164__c``): a second create → ``DUPLICATE_VALUE``;
- create-only ``Task.TaskSubtype``: sending it on an update → ``INVALID_FIELD_FOR_INSERT_UPDATE``;
- required fields (``LastName`` on Contact/Individual, ``Name``/``PartyId``/``ContactPointType`` on
  ContactPointTypeConsent) → ``REQUIRED_FIELD_MISSING``; restricted picklists (``CallType``,
  ``PrivacyConsentStatus``) → ``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``;
- ``GET /sobjects/{SObject}/{ExternalIdField}/{value}`` (404 ``NOT_FOUND`` array), ``PATCH /sobjects/{SObject}/{Id}``
  (204), ``GET /limits``; every response carries ``Sforce-Limit-Info: api-usage=n/15000``;
- ``SystemModstamp`` / ``CreatedDate`` set on every write, returned as ``2026-11-22T10:00:00.000+0000``.

The API limit (403 ``REQUEST_LIMIT_EXCEEDED``) is injected by the tests with :meth:`FakeCrm.fail_next`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from typing import Any

from werkzeug import Request, Response

from tests.fakes import FakeCrm, body_json, raw

API = "/services/data/v62.0"
UNIQUE = {"AA_External_Id__c", "AA_Phone_E164__c"}
CREATE_ONLY = {"Task": {"TaskSubtype"}}
REQUIRED = {
    "Contact": ["LastName"],
    "Individual": ["LastName"],
    "ContactPointTypeConsent": ["Name", "PartyId", "ContactPointType"],
}
PICKLISTS = {
    ("Task", "CallType"): {"Inbound", "Outbound", "Internal"},
    ("ContactPointTypeConsent", "PrivacyConsentStatus"): {"NotSeen", "Seen", "OptIn", "OptOut"},
}
PREFIX = {"Task": "00T", "Contact": "003", "Individual": "0PK", "ContactPointTypeConsent": "0ZY"}


def stamp(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}+0000"


def _error(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"statusCode": code, "message": message, "fields": fields or []}


class FakeSalesforce(FakeCrm):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.api_usage = 0
        self._ids = itertools.count(1)
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.tables.clear()
            self.api_usage = 0

    def table(self, sobject: str) -> dict[str, dict[str, Any]]:
        return self.tables.setdefault(sobject, {})

    # routing ---------------------------------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        self.api_usage += 1
        headers = {"Sforce-Limit-Info": f"api-usage={self.api_usage}/15000"}
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return raw(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], headers)
        path = request.path.removeprefix(API)
        status, body = self._handle(request, path)
        return raw(status, body, headers)

    def _handle(self, request: Request, path: str) -> tuple[int, Any]:
        method = request.method
        if method == "GET" and path == "/query":
            return self._soql(request.args.get("q", ""))
        if method == "GET" and path == "/limits":
            return 200, {"DailyApiRequests": {"Max": 15000, "Remaining": 15000 - self.api_usage}}
        document = body_json(request)
        if path == "/composite/sobjects" and method in ("POST", "PATCH"):
            rows = document.get("records") if isinstance(document, dict) else None
            if not isinstance(rows, list):
                return 400, [{"message": "records: required", "errorCode": "JSON_PARSER_ERROR"}]
            if len(rows) > 200:
                return 400, [{"message": "Record limit exceeded (200)", "errorCode": "EXCEEDED_ID_LIMIT"}]
            return 200, [self._create(r) if method == "POST" else self._update(r) for r in rows]
        match = re.fullmatch(r"/composite/sobjects/(\w+)/(\w+)", path)
        if match and method == "PATCH":
            rows = document.get("records") if isinstance(document, dict) else None
            if not isinstance(rows, list) or len(rows) > 200:
                return 400, [{"message": "Record limit exceeded (200)", "errorCode": "EXCEEDED_ID_LIMIT"}]
            return 200, [self._upsert(match[1], match[2], r) for r in rows]
        match = re.fullmatch(r"/sobjects/(\w+)/(\w+)/(.+)", path)
        if match and method == "GET":
            rows = [r for r in self.table(match[1]).values() if r.get(match[2]) == match[3]]
            if len(rows) > 1:
                return 300, [f"{API}/sobjects/{match[1]}/{r['Id']}" for r in rows]
            if not rows:
                return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            fields = (request.args.get("fields") or "Id").split(",")
            return 200, self._select(match[1], rows[0], fields)
        match = re.fullmatch(r"/sobjects/(\w+)/(\w+)", path)
        if match and method == "PATCH":
            if match[2] not in self.table(match[1]):
                return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            answer = self._update({"attributes": {"type": match[1]}, "id": match[2], **document})
            return (
                (204, None)
                if answer["success"]
                else (400, [{**e, "errorCode": e["statusCode"]} for e in answer["errors"]])
            )
        return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]

    # writes ----------------------------------------------------------------------------------------------
    def _check(
        self, sobject: str, fields: dict[str, Any], *, creating: bool, own_id: str | None
    ) -> list[dict[str, Any]]:
        errors = []
        if creating:
            missing = [f for f in REQUIRED.get(sobject, []) if not fields.get(f)]
            if missing:
                errors.append(
                    _error("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
                )
        else:
            for field in CREATE_ONLY.get(sobject, set()) & fields.keys():
                errors.append(
                    _error("INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {field}.", [field])
                )
        for (obj, field), allowed in PICKLISTS.items():
            if obj == sobject and field in fields and fields[field] not in allowed:
                errors.append(
                    _error(
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        f"{field}: bad value for restricted picklist field: {fields[field]}",
                        [field],
                    )
                )
        for field in UNIQUE & fields.keys():
            for other in self.table(sobject).values():
                if other["Id"] != own_id and fields[field] is not None and other.get(field) == fields[field]:
                    errors.append(
                        _error(
                            "DUPLICATE_VALUE",
                            f"duplicate value found: {field} duplicates value on record with id: {other['Id']}",
                            [field],
                        )
                    )
        return errors

    def _create(self, row: dict[str, Any]) -> dict[str, Any]:
        sobject = row.get("attributes", {}).get("type", "")
        fields = {k: v for k, v in row.items() if k != "attributes"}
        errors = self._check(sobject, fields, creating=True, own_id=None)
        if errors:
            return {"success": False, "errors": errors}
        record_id = f"{PREFIX.get(sobject, '001')}{next(self._ids):012d}AAA"
        now = stamp(self.clock())
        self.table(sobject)[record_id] = {**fields, "Id": record_id, "CreatedDate": now, "SystemModstamp": now}
        return {"id": record_id, "success": True, "errors": []}

    def _update(self, row: dict[str, Any]) -> dict[str, Any]:
        sobject = row.get("attributes", {}).get("type", "")
        record_id = row.get("id")
        record = self.table(sobject).get(str(record_id))
        if record is None:
            return {"id": record_id, "success": False, "errors": [_error("ENTITY_IS_DELETED", "entity is deleted")]}
        fields = {k: v for k, v in row.items() if k not in ("attributes", "id")}
        errors = self._check(sobject, fields, creating=False, own_id=record["Id"])
        if errors:
            return {"id": record_id, "success": False, "errors": errors}
        record.update(fields, SystemModstamp=stamp(self.clock()))
        return {"id": record_id, "success": True, "errors": []}

    def _upsert(self, sobject: str, field: str, row: dict[str, Any]) -> dict[str, Any]:
        value = row.get(field)
        matches = [r for r in self.table(sobject).values() if r.get(field) == value]
        if len(matches) > 1:
            return {
                "success": False,
                "errors": [_error("DUPLICATE_EXTERNAL_ID", f"{field}: more than one record found")],
            }
        if not matches:
            answer = self._create({**row, "attributes": {"type": sobject}})
            return {**answer, "created": answer["success"]}
        update = {k: v for k, v in row.items() if k not in ("attributes", field)}
        answer = self._update({"attributes": {"type": sobject}, "id": matches[0]["Id"], **update})
        return {**answer, "created": False}

    # SOQL ------------------------------------------------------------------------------------------------
    def _soql(self, soql: str) -> tuple[int, Any]:
        match = re.fullmatch(
            r"SELECT (?P<fields>.+?) FROM (?P<obj>\w+)(?: WHERE (?P<where>.+?))?(?: ORDER BY (?P<order>.+?))?(?: LIMIT (?P<limit>\d+))?",
            soql.strip(),
        )
        if not match:
            return 400, [{"message": f"unexpected token in: {soql[:60]}", "errorCode": "MALFORMED_QUERY"}]
        sobject = match["obj"]
        fields = [f.strip() for f in match["fields"].split(",")]
        rows = list(self.table(sobject).values())
        if match["where"]:
            try:
                predicate = _Where(match["where"], self).parse()
            except ValueError as error:
                return 400, [{"message": str(error), "errorCode": "MALFORMED_QUERY"}]
            rows = [r for r in rows if predicate(r)]
        for part in reversed((match["order"] or "").split(",")):
            if part.strip():
                name, _, direction = part.strip().partition(" ")
                rows.sort(key=lambda r, n=name: _sortable(self.get(r, n)), reverse=direction.upper() == "DESC")
        if match["limit"]:
            rows = rows[: int(match["limit"])]
        selected = [self._select(sobject, r, fields) for r in rows]
        return 200, {"totalSize": len(selected), "done": True, "records": selected}

    def _select(self, sobject: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": {"type": sobject, "url": f"{API}/sobjects/{sobject}/{record['Id']}"}}
        for field in fields:
            if "." in field:
                relation, _, name = field.partition(".")
                target = self.find(record.get(f"{relation}Id"))
                out[relation] = None if target is None else {name: target.get(name)}
            else:
                out[field] = record.get(field)
        return out

    def find(self, record_id: object) -> dict[str, Any] | None:
        for table in self.tables.values():
            if record_id in table:
                return table[record_id]  # type: ignore[index]
        return None

    def get(self, record: dict[str, Any], field: str) -> Any:
        if "." in field:
            relation, _, name = field.partition(".")
            target = self.find(record.get(f"{relation}Id"))
            return None if target is None else target.get(name)
        return record.get(field)


def _sortable(value: Any) -> Any:
    instant = _instant(value)
    return (0, instant) if instant is not None else (1, str(value))


def _instant(value: Any) -> dt.datetime | None:
    if isinstance(value, str) and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d{4}|[+-]\d\d:\d\d)", value
    ):
        text = value.replace("Z", "+00:00")
        if re.search(r"[+-]\d{4}$", text):
            text = text[:-2] + ":" + text[-2:]
        return dt.datetime.fromisoformat(text)
    return None


_TOKEN = re.compile(r"\s*('(?:\\.|[^'\\])*'|\d{4}-\d\d-\d\dT[\d:.]+Z|>=|<=|!=|=|>|<|\(|\)|,|[\w.]+)")


class _Where:
    """A recursive-descent parser of the WHERE subset, building a predicate."""

    def __init__(self, text: str, fake: FakeSalesforce) -> None:
        self.tokens = [t for t in _TOKEN.findall(text) if t]
        self.at = 0
        self.fake = fake

    def parse(self) -> Callable[[dict[str, Any]], bool]:
        predicate = self._or()
        if self.at != len(self.tokens):
            raise ValueError(f"unexpected token {self.tokens[self.at]!r}")
        return predicate

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError("unexpected end of query")
        self.at += 1
        return token

    def _or(self) -> Callable[[dict[str, Any]], bool]:
        parts = [self._and()]
        while (self._peek() or "").upper() == "OR":
            self._take()
            parts.append(self._and())
        return lambda r: any(p(r) for p in parts)

    def _and(self) -> Callable[[dict[str, Any]], bool]:
        parts = [self._atom()]
        while (self._peek() or "").upper() == "AND":
            self._take()
            parts.append(self._atom())
        return lambda r: all(p(r) for p in parts)

    def _atom(self) -> Callable[[dict[str, Any]], bool]:
        if self._peek() == "(":
            self._take()
            inner = self._or()
            if self._take() != ")":
                raise ValueError("missing )")
            return inner
        field = self._take()
        op = self._take()
        if op.upper() == "IN":
            if self._take() != "(":
                raise ValueError("IN needs (")
            values = [self._value(self._take())]
            while self._peek() == ",":
                self._take()
                values.append(self._value(self._take()))
            self._take()
            return lambda r: self.fake.get(r, field) in values
        value = self._value(self._take())
        compare = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            ">": lambda a, b: a is not None and a > b,
            ">=": lambda a, b: a is not None and a >= b,
            "<": lambda a, b: a is not None and a < b,
            "<=": lambda a, b: a is not None and a <= b,
        }[op]

        def predicate(record: dict[str, Any]) -> bool:
            actual = self.fake.get(record, field)
            if isinstance(value, dt.datetime):
                actual = _instant(actual)
            return bool(compare(actual, value))

        return predicate

    def _value(self, token: str) -> Any:
        if token.startswith("'"):
            return re.sub(r"\\(.)", r"\1", token[1:-1])
        if token.lower() == "null":
            return None
        instant = _instant(token)
        if instant is not None:
            return instant
        raise ValueError(f"unexpected literal {token!r}")
