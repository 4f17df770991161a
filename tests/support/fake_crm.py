"""An in-memory CRM connector: a unit-test double of the Connector protocol, with scripted failures.

It keeps one record per ``external_id`` (a second push of the same id answers ``duplicate``), records every
request it was sent, and plays a queue of per-request faults: an exception to raise, or ``commit_then_raise``
(the push is applied, then the answer is "lost" as a TransientError, like a dropped response after a commit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from desktop.core.crm.contract import (
    ConsentEventPayload,
    ConsentPage,
    Health,
    InteractionPayload,
    PushResult,
    RemoteInteraction,
    ReviewPayload,
    ReviewState,
    TransientError,
)

COMMIT_THEN_RAISE = "commit_then_raise"


class FakeConnector:
    name = "fake"

    def __init__(self, max_batch: int = 10) -> None:
        self.max_batch = max_batch
        self.records: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, list[str]]] = []
        self.faults: list[BaseException | str] = []
        self.reject: dict[str, str] = {}  # external_id -> the CRM's message for a per-item rejection
        self.retry: dict[str, float | None] = {}  # external_id -> retry_after of a per-item "retry"
        self.closed = False
        self.pulls = 0

    def _push(self, kind: str, items: Sequence[Any]) -> list[PushResult]:
        ids = [item.external_id for item in items]
        self.requests.append((kind, ids))
        fault = self.faults.pop(0) if self.faults else None
        if isinstance(fault, BaseException):
            raise fault
        results = []
        for item in items:
            if item.external_id in self.reject:
                results.append(
                    PushResult(external_id=item.external_id, status="rejected", message=self.reject[item.external_id])
                )
            elif item.external_id in self.retry:
                after = self.retry.pop(item.external_id)
                results.append(
                    PushResult(external_id=item.external_id, status="retry", message="busy", retry_after=after)
                )
            elif item.external_id in self.records:
                results.append(
                    PushResult(
                        external_id=item.external_id, status="duplicate", remote_id=self.records[item.external_id]["id"]
                    )
                )
            else:
                remote = str(len(self.records) + 1)
                self.records[item.external_id] = {"id": remote, "kind": kind, "payload": item}
                results.append(PushResult(external_id=item.external_id, status="created", remote_id=remote))
        if fault == COMMIT_THEN_RAISE:
            raise TransientError("connection lost while reading the answer")
        return results

    def push_interactions(self, items: Sequence[InteractionPayload]) -> list[PushResult]:
        return self._push("interaction", items)

    def push_consent_events(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]:
        return self._push("consent_event", items)

    def push_reviews(self, items: Sequence[ReviewPayload]) -> list[PushResult]:
        return self._push("review", items)

    def pull_consent_changes(self, cursor: str | None, limit: int = 200) -> ConsentPage:
        self.pulls += 1
        return ConsentPage(changes=[], cursor=cursor)

    def list_interactions(
        self, *, since: dt.datetime | None = None, review_state: ReviewState | None = None, limit: int = 200
    ) -> list[RemoteInteraction]:
        return []

    def health(self) -> Health:
        return Health(ok=True, connector=self.name, endpoint="memory://")

    def close(self) -> None:
        self.closed = True
