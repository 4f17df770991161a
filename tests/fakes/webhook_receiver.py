"""A receiver of the Agent Assist webhook, written from ``docs/connectors.md`` ("Webhook: wire format").

UNIT-TEST DOUBLE of what an in-house team builds: it checks every request the way the document asks (HMAC
signature over the raw body or, for a GET, over ``<timestamp>.GET.<path?query>``; timestamp within the
replay window; ``sent_at`` equal to the timestamp header), upserts items by ``external_id`` (a second push
of an id answers ``duplicate``), rejects invalid items with a message, serves consent changes after an
opaque cursor and the interactions with their review state. It doubles as the reference implementation the
document points to.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from werkzeug import Request, Response

from tests.fakes import FakeCrm, body_json, raw

WINDOW_S = 300


class WebhookReceiver(FakeCrm):
    def __init__(self, secret: str, *, base: str = "/agent-assist") -> None:
        super().__init__()
        self.secret = secret
        self.base = base
        self.records: dict[str, dict[str, dict[str, Any]]] = {"interactions": {}, "consent-events": {}, "reviews": {}}
        self.consent_log: list[dict[str, Any]] = []  # consent events in arrival order: the pull's sequence
        self.rejected_signatures = 0
        self.idempotency_keys: list[str] = []

    @property
    def endpoint(self) -> str:
        return self.url + self.base

    def reset(self) -> None:
        super().reset()
        with self.lock:
            for table in self.records.values():
                table.clear()
            self.consent_log.clear()
            self.rejected_signatures = 0
            self.idempotency_keys.clear()

    # the checks a receiver must make ---------------------------------------------------------------------
    def verify(self, request: Request) -> str | None:
        """None when the request is authentic and fresh, else why not."""
        timestamp = request.headers.get("X-Agent-Assist-Timestamp", "")
        signature = request.headers.get("X-Agent-Assist-Signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > WINDOW_S:
            return "timestamp missing or outside the replay window"
        body = request.get_data()
        if body:
            signed = body
            document = body_json(request)
            if not isinstance(document, dict) or str(document.get("sent_at")) != timestamp:
                return "sent_at does not match the timestamp header"
        else:
            target = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
            signed = f"{timestamp}.{request.method}.{target}".encode()
        expected = "sha256=" + hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return "bad signature"
        return None

    def route(self, request: Request) -> Response:
        problem = self.verify(request)
        if problem is not None:
            self.rejected_signatures += 1
            return raw(401, {"message": problem})
        path = request.path.removeprefix(self.base)
        if request.method == "POST" and path.strip("/") in self.records:
            return self._push(path.strip("/"), request)
        if request.method == "GET" and path == "/consent-changes":
            return self._changes(request)
        if request.method == "GET" and path == "/interactions":
            return self._interactions(request)
        if request.method == "GET" and path == "/health":
            return raw(200, {"ok": True})
        return raw(404, "<html><body>Not Found</body></html>")

    def _push(self, kind: str, request: Request) -> Response:
        self.idempotency_keys.append(request.headers.get("Idempotency-Key", ""))
        document = body_json(request)
        items = document.get("items") if isinstance(document, dict) else None
        if not isinstance(items, list):
            return raw(400, {"message": "items: a list is required"})
        results = []
        table = self.records[kind]
        for item in items:
            external_id = item.get("external_id") if isinstance(item, dict) else None
            if not isinstance(external_id, str) or not external_id:
                continue
            if kind == "interactions" and item.get("direction") not in ("inbound", "outbound"):
                results.append(
                    {
                        "external_id": external_id,
                        "status": "rejected",
                        "message": "direction: must be inbound or outbound",
                    }
                )
                continue
            if external_id in table:
                results.append(
                    {"external_id": external_id, "status": "duplicate", "remote_id": table[external_id]["_id"]}
                )
                continue
            record = {**item, "_id": f"{kind[:3]}-{len(table) + 1}"}
            table[external_id] = record
            if kind == "consent-events":
                self.consent_log.append(item)
            if kind == "reviews":
                target = self.records["interactions"].get(item["interaction_id"])
                if target is not None:
                    target["_review"] = item
            results.append({"external_id": external_id, "status": "created", "remote_id": record["_id"]})
        return raw(200, {"results": results})

    def _changes(self, request: Request) -> Response:
        start = int(request.args.get("cursor") or 0)
        limit = int(request.args.get("limit") or 200)
        page = self.consent_log[start : start + limit]
        end = start + len(page)
        return raw(200, {"changes": page, "cursor": str(end), "more": end < len(self.consent_log)})

    def _interactions(self, request: Request) -> Response:
        wanted = request.args.get("review_state")
        out = []
        for record in self.records["interactions"].values():
            review = record.get("_review") or {}
            state = review.get("state", "pending")
            if wanted and state != wanted:
                continue
            fields = {
                k: v
                for k, v in record.items()
                if not k.startswith("_") and k not in ("product", "professional", "answered_at", "ended_at")
            }
            fields.update(review_state=state, review_comment=review.get("comment"))
            out.append(fields)
        limit = int(request.args.get("limit") or 200)
        return raw(200, {"interactions": out[:limit]})
