"""Generic webhook connector for in-house CRMs: signed JSON over HTTPS (wire format in ``docs/connectors.md``).

Pushes: ``POST <endpoint>/interactions``, ``/consent-events``, ``/reviews`` with body ``{"sent_at": <unix s>,
"items": [<payload>...]}`` (up to :attr:`WebhookConnector.max_batch` items) and headers
``X-Agent-Assist-Timestamp`` (= ``sent_at``), ``X-Agent-Assist-Signature: sha256=<hex HMAC-SHA256 of the raw
body with the shared secret>``, ``Idempotency-Key`` (the item's ``external_id``; for several items
``sha256:<hex of their ids joined by newlines>``). The receiver answers ``{"results": [{"external_id",
"status": "created"|"duplicate"|"rejected", "remote_id", "message"}]}``; an item it does not mention is
retried.

Reads: ``GET <endpoint>/consent-changes?limit=N[&cursor=C]`` answers a ConsentPage (``{"changes", "cursor",
"more"}``), ``GET <endpoint>/interactions?limit=N[&since=ISO][&review_state=S]`` answers ``{"interactions":
[RemoteInteraction...]}``, ``GET <endpoint>/health`` answers 2xx. A GET has no body, so its signature covers
``<timestamp>.GET.<path?query>`` instead (see :func:`signature_base`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ValidationError

from desktop.core.crm import http
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
)
from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.config import Crm

SIGNATURE_HEADER = "X-Agent-Assist-Signature"
TIMESTAMP_HEADER = "X-Agent-Assist-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: How far a receiver should accept ``sent_at`` from its own clock (replay window), seconds.
REPLAY_WINDOW_S = 300


def sign(secret: str, message: bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of ``message`` keyed with the UTF-8 ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_base(method: str, path_and_query: str, timestamp: str, body: bytes) -> bytes:
    """What the signature covers: the raw body for a request with one (its JSON holds ``sent_at``), else
    ``<timestamp>.<METHOD>.<path?query>``."""
    if body:
        return body
    return f"{timestamp}.{method.upper()}.{path_and_query}".encode()


def idempotency_key(external_ids: Sequence[str]) -> str:
    """The ``Idempotency-Key`` of a push: the id itself for one item, a digest of the ids for a batch."""
    if len(external_ids) == 1:
        return external_ids[0]
    return "sha256:" + hashlib.sha256("\n".join(external_ids).encode()).hexdigest()


class _Signed(httpx.Auth):
    """Adds the timestamp and signature headers to every request."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timestamp = request.headers.get(TIMESTAMP_HEADER) or str(int(time.time()))
        request.headers[TIMESTAMP_HEADER] = timestamp
        target = request.url.raw_path.decode("ascii")
        base = signature_base(request.method, target, timestamp, request.content)
        request.headers[SIGNATURE_HEADER] = sign(self._secret, base)
        yield request


class _Result(BaseModel):
    external_id: str
    status: Literal["created", "duplicate", "rejected"]  # anything else is no result: the item is retried
    remote_id: str | None = None
    message: str | None = None


class WebhookConnector:
    """The Connector protocol over the signed webhook wire format (module docstring, ``docs/connectors.md``)."""

    name = "webhook"
    max_batch = 50

    def __init__(self, crm: Crm, secret: str) -> None:
        assert crm.endpoint is not None
        self.endpoint = crm.endpoint.rstrip("/")
        self._client = http.build_client(crm, base_url=self.endpoint + "/", auth=_Signed(secret))

    @classmethod
    def from_settings(cls, crm: Crm, secret: str | None) -> WebhookConnector:
        """InputError (one line) when the endpoint or the shared secret is missing."""
        if not crm.endpoint:
            raise InputError(
                "crm.endpoint: missing (the webhook's base URL, e.g. https://crm.example.com/agent-assist)"
            )
        if not secret:
            raise InputError("webhook: no shared secret in the OS keyring (agent-assist sync secret set)")
        return cls(crm, secret)

    # pushes ----------------------------------------------------------------------------------------------
    def push_interactions(self, items: Sequence[InteractionPayload]) -> list[PushResult]:
        return self._push("interactions", items)

    def push_consent_events(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]:
        return self._push("consent-events", items)

    def push_reviews(self, items: Sequence[ReviewPayload]) -> list[PushResult]:
        return self._push("reviews", items)

    def _push(self, path: str, items: Sequence[BaseModel]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(items), self.max_batch):
            results.extend(self._push_batch(path, items[start : start + self.max_batch]))
        return results

    def _push_batch(self, path: str, items: Sequence[BaseModel]) -> list[PushResult]:
        if not items:
            return []
        ids = [str(getattr(item, "external_id")) for item in items]  # noqa: B009 - every payload has one
        sent_at = int(time.time())
        body = json.dumps(
            {"sent_at": sent_at, "items": [item.model_dump(mode="json") for item in items]},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(sent_at),
            IDEMPOTENCY_HEADER: idempotency_key(ids),
        }
        response = http.request(self._client, "POST", path, connector=self.name, content=body, headers=headers)
        answered = self._results(response)
        results = []
        for external_id in ids:
            result = answered.get(external_id)
            if result is None:
                results.append(
                    PushResult(external_id=external_id, status="retry", message="webhook: no result for this item")
                )
            elif result.status == "rejected":
                message = http.mask_pii(" ".join((result.message or "rejected by the receiver").split()))
                results.append(
                    PushResult(
                        external_id=external_id, status="rejected", message=f"webhook: {message}"[: http.MAX_MESSAGE]
                    )
                )
            else:
                results.append(PushResult(external_id=external_id, status=result.status, remote_id=result.remote_id))
        return results

    def _results(self, response: httpx.Response) -> dict[str, _Result]:
        body = http.response_json(response)
        raw = body.get("results") if isinstance(body, dict) else None
        if not isinstance(raw, list):
            raise RejectedError("webhook: the receiver's answer has no results list (see docs/connectors.md)")
        answered: dict[str, _Result] = {}
        for entry in raw:
            try:
                result = _Result.model_validate(entry)
            except ValidationError:
                continue
            answered[result.external_id] = result
        return answered

    # reads -----------------------------------------------------------------------------------------------
    def pull_consent_changes(self, cursor: str | None, limit: int = 200) -> ConsentPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = http.request(self._client, "GET", "consent-changes?" + urlencode(params), connector=self.name)
        try:
            return ConsentPage.model_validate(http.response_json(response))
        except ValidationError as error:
            raise RejectedError(f"webhook: consent-changes answer is not a ConsentPage ({_first(error)})") from None

    def list_interactions(
        self, *, since: dt.datetime | None = None, review_state: ReviewState | None = None, limit: int = 200
    ) -> list[RemoteInteraction]:
        params: dict[str, Any] = {"limit": limit}
        if since is not None:
            params["since"] = since.isoformat()
        if review_state is not None:
            params["review_state"] = review_state
        response = http.request(self._client, "GET", "interactions?" + urlencode(params), connector=self.name)
        body = http.response_json(response)
        raw = body.get("interactions") if isinstance(body, dict) else None
        if not isinstance(raw, list):
            raise RejectedError("webhook: interactions answer has no interactions list (see docs/connectors.md)")
        try:
            return [RemoteInteraction.model_validate(entry) for entry in raw]
        except ValidationError as error:
            raise RejectedError(f"webhook: interactions answer is not valid ({_first(error)})") from None

    def health(self) -> Health:
        return http.probe(self._client, "health", connector=self.name, endpoint=self.endpoint)

    def close(self) -> None:
        self._client.close()


def _first(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"
