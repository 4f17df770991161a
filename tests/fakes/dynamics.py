"""A fake Dataverse Web API (Dynamics 365), written from ``reference/crm.md`` §6 and the Microsoft pages it
cites (update-delete-entities-using-web-api "upsert", use-change-tracking-delta-link, api-limits,
web-api-client-errors).

UNIT-TEST DOUBLE, not Dataverse. What it implements, as documented:

- ``Authorization: Bearer``; a wrong token → 401 with an empty body (and ``WWW-Authenticate``);
- alternate keys ``aa_externalid`` on ``phonecalls`` and ``aa_consentevents``: ``PATCH /set(aa_externalid='v')``
  upserts (204 both ways, ``OData-EntityId`` header); with ``If-None-Match: *`` it only creates (**412**
  ``0x80060882`` when the key exists); with ``If-Match: *`` it only updates (404 when missing);
- ``GET /set(aa_externalid='v')`` and ``/set(<guid>)`` (404 ``{"error":{"code":"0x80060888"}}``),
  ``PATCH /set(<guid>)``;
- ``GET /set?$select&$filter&$orderby&$top`` with ``$filter`` of ``x eq 'v'``, ``x ne null``, ``x ge <datetime>``
  joined by ``and``; ``Prefer: odata.track-changes,odata.maxpagesize=N`` → pages with ``@odata.nextLink`` and a
  final ``@odata.deltaLink`` (``$deltatoken`` = a row version) returning only rows changed after it;
- validation: ``aa_kind`` must be given|withdrawn|objection, ``subject`` ≤ 200 → 400 ``{"error":{"code","message"}}``;
- ``GET /WhoAmI``; every answer carries ``x-ms-ratelimit-burst-remaining-xrm-requests``.

Service protection (429 + ``Retry-After`` + ``0x80072322``...) is injected by the tests with ``fail_next``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from werkzeug import Request, Response

from tests.fakes import FakeCrm, body_json, raw

API = "/api/data/v9.2"
KEYS = {"phonecalls": "activityid", "aa_consentevents": "aa_consenteventid", "contacts": "contactid"}


def err(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class FakeDynamics(FakeCrm):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in KEYS}
        self.version = 0

    def reset(self) -> None:
        super().reset()
        with self.lock:
            for table in self.tables.values():
                table.clear()
            self.version = 0

    def route(self, request: Request) -> Response:
        headers = {"x-ms-ratelimit-burst-remaining-xrm-requests": "5999"}
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return raw(401, None, {**headers, "WWW-Authenticate": "Bearer authorization_uri=https://login.example"})
        path = unquote(request.path.removeprefix(API).strip("/"))
        status, body, extra = self._handle(request, path)
        return raw(status, body, {**headers, **extra})

    def _handle(self, request: Request, path: str) -> tuple[int, Any, dict[str, str]]:
        if path == "WhoAmI":
            return 200, {"UserId": str(uuid.uuid4())}, {}
        match = re.fullmatch(r"(\w+)\((?:aa_externalid='((?:[^']|'')*)'|([0-9a-f-]{36}))\)", path)
        if match and match[1] in self.tables:
            return self._one(request, match[1], match[2].replace("''", "'") if match[2] is not None else None, match[3])
        if path in self.tables and request.method == "GET":
            return self._many(request, path)
        return 404, err("0x80060888", f"Resource not found for the segment '{path}'."), {}

    def _find(self, table: str, external: str | None, guid: str | None) -> dict[str, Any] | None:
        rows = self.tables[table]
        if guid is not None:
            return rows.get(guid)
        return next((r for r in rows.values() if r.get("aa_externalid") == external), None)

    def _one(
        self, request: Request, table: str, external: str | None, guid: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        row = self._find(table, external, guid)
        if request.method == "GET":
            if row is None:
                return 404, err("0x80060888", f"{table[:-1]} With Id = {guid or external} Does Not Exist"), {}
            select = request.args.get("$select")
            return 200, {k: row.get(k) for k in select.split(",")} if select else row, {}
        if request.method != "PATCH":
            return 405, err("0x80060888", "method not allowed"), {}
        if request.headers.get("If-None-Match") == "*" and row is not None:
            return 412, err("0x80060882", "A record with matching key values already exists."), {}
        if request.headers.get("If-Match") == "*" and row is None:
            return 404, err("0x80060888", "Does Not Exist"), {}
        document = body_json(request) or {}
        problem = self._validate(table, document)
        if problem:
            return 400, err("0x80044331", problem), {}
        if row is None:
            row = {KEYS[table]: str(uuid.uuid4()), "createdon": self._now()}
            if external is not None:
                row["aa_externalid"] = external
            self.tables[table][row[KEYS[table]]] = row
        row.update(document)
        self.version += 1
        row["_version"] = self.version
        return 204, None, {"OData-EntityId": f"{request.host_url.rstrip('/')}{API}/{table}({row[KEYS[table]]})"}

    def _validate(self, table: str, document: dict[str, Any]) -> str | None:
        if table == "aa_consentevents" and document.get("aa_kind") not in (None, "given", "withdrawn", "objection"):
            return f"A validation error occurred. The value {document['aa_kind']!r} of 'aa_kind' is outside the valid range."
        if table == "phonecalls" and len(document.get("subject") or "") > 200:
            return "A validation error occurred. The length of the 'subject' attribute exceeded the maximum allowed length of '200'."
        return None

    @staticmethod
    def _now() -> str:
        return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _many(self, request: Request, table: str) -> tuple[int, Any, dict[str, str]]:
        rows = sorted(self.tables[table].values(), key=lambda r: r["_version"])
        query = {k: v[0] for k, v in parse_qs(request.query_string.decode()).items()}
        for clause in filter(None, (query.get("$filter") or "").split(" and ")):
            rows = [r for r in rows if self._matches(r, clause)]
        if query.get("$orderby", "").endswith(" desc"):
            rows.reverse()
        prefer = request.headers.get("Prefer", "")
        select = query.get("$select", "").split(",") if query.get("$select") else None

        def shape(row: dict[str, Any]) -> dict[str, Any]:
            return (
                {k: row.get(k) for k in select} if select else {k: v for k, v in row.items() if not k.startswith("_")}
            )

        if "odata.track-changes" not in prefer:
            top = int(query.get("$top", 5000))
            return 200, {"value": [shape(r) for r in rows[:top]]}, {}
        size = int(re.search(r"odata.maxpagesize=(\d+)", prefer)[1]) if "maxpagesize" in prefer else 5000  # type: ignore[index]
        token = int(query.get("$deltatoken", 0))
        after = int(query.get("$skiptoken", token))
        changed = [r for r in rows if r["_version"] > after]
        page = changed[:size]
        body: dict[str, Any] = {"value": [shape(r) for r in page]}
        base = f"{request.host_url.rstrip('/')}{API}/{table}?"
        keep = {"$select": query["$select"]} if "$select" in query else {}
        if len(changed) > size:
            body["@odata.nextLink"] = base + urlencode(
                {**keep, "$deltatoken": token, "$skiptoken": page[-1]["_version"]}
            )
        else:
            newest = page[-1]["_version"] if page else after
            body["@odata.deltaLink"] = base + urlencode({**keep, "$deltatoken": newest})
        return 200, body, {"Preference-Applied": "odata.track-changes"}

    @staticmethod
    def _matches(row: dict[str, Any], clause: str) -> bool:
        field, op, value = clause.split(" ", 2)
        if value == "null":
            return (row.get(field) is not None) if op == "ne" else (row.get(field) is None)
        if value.startswith("'"):
            return (row.get(field) == value[1:-1].replace("''", "'")) == (op == "eq")
        if op == "ge":
            return str(row.get(field) or "") >= value
        raise ValueError(f"unsupported filter {clause!r}")
