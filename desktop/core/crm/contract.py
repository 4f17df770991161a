"""The one contract between the sync worker and every CRM connector.

The worker (``desktop.core.crm.worker``) reads the outbox, hands connectors typed payloads, and records what
they answer; a connector (``desktop.core.crm.connectors.<name>``) only translates between these payloads and
one CRM's API. Connectors never touch the local store, and the worker never speaks HTTP.

Error model: a connector raises :class:`TransientError` for anything worth retrying (connection refused or
reset, timeout, 429, 5xx, Salesforce's 403 ``REQUEST_LIMIT_EXCEEDED``; ``retry_after`` in seconds when the
CRM said so), :class:`RejectedError` for what retrying cannot fix (validation 4xx, with the CRM's own message,
normalised to one line), and :class:`AuthError` for missing or refused credentials. Per item results in a
batch are :class:`PushResult`; a whole-request failure is an exception.

Idempotency: every payload carries ``external_id`` (generated on the station, stable across retries). Pushing
the same ``external_id`` twice must leave one record in the CRM: a connector that gets "already exists" (or
cannot know whether a lost response committed) looks the record up by ``external_id`` and answers
``duplicate`` with its remote id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

OutboxKind = Literal["consent_event", "interaction", "review"]
# Revocations first: the worker sends consent events before interactions, and reviews last.
KIND_PRIORITY: dict[str, int] = {"consent_event": 10, "interaction": 50, "review": 90}

ConsentEventKind = Literal["given", "withdrawn", "objection"]
ReviewState = Literal["pending", "approved", "flagged"]
Verdict = Literal["allowed", "contract_only", "forbidden"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TranscriptLine(_Model):
    speaker: Literal["agent", "customer"]
    start: float | None = None
    end: float | None = None
    text: str  # already redacted at the source: never a card number or an IBAN


class InteractionPayload(_Model):
    """One finished call, its verdict, transcript and validated summary (``kind = "interaction"``)."""

    external_id: str  # the interaction's uid
    station: str  # the station that handled the call
    number: str  # E.164
    direction: Literal["inbound", "outbound"]
    professional: str | None = None
    product: str | None = None
    agent_id: str | None = None
    started_at: dt.datetime  # timezone-aware
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_s: int | None = None
    verdict: Verdict | None = None
    reason: str | None = None  # the deciding reason code
    disposition: str | None = None
    summary: dict[str, Any] | None = None  # the summary JSON of architecture.md, as validated by the agent
    transcript: list[TranscriptLine] = Field(default_factory=list)
    dialled_against_forbidden: bool = False  # a commercial call placed while the verdict was forbidden


class ConsentEventPayload(_Model):
    """One ledger event to share (``kind = "consent_event"``); also what a pull returns."""

    external_id: str  # stable id of the event: "<station>:<ledger seq>" or the CRM's own for pulled ones
    kind: ConsentEventKind
    number: str  # E.164
    professional: str  # to whom the consent was given / from whom the person withdraws
    products: list[str] = Field(default_factory=list)  # scope; empty = every product of the professional
    occurred_at: dt.datetime  # timezone-aware
    consent_uid: str | None = None
    consent: dict[str, Any] | None = None  # for ``given``: the consent content (ConsentRecord.content())
    source: str  # "agent-assist:<station>", "crm", an import name...
    interaction_id: str | None = None  # the call during which it was said, if any


class ReviewPayload(_Model):
    """A team lead's review of an interaction (``kind = "review"``)."""

    external_id: str  # "<interaction uid>:review:<n>"
    interaction_id: str  # the interaction's uid (its external id in the CRM)
    state: ReviewState
    comment: str | None = None
    reviewer: str
    at: dt.datetime


class PushResult(_Model):
    external_id: str
    status: Literal["created", "duplicate", "rejected", "retry"]
    remote_id: str | None = None
    message: str | None = None  # one line, the CRM's words, for "rejected" and "retry"
    retry_after: float | None = None


class ConsentPage(_Model):
    """Consent changes after a cursor. ``cursor`` is opaque to the worker; pass it back unchanged."""

    changes: list[ConsentEventPayload]
    cursor: str | None
    more: bool = False


class RemoteInteraction(_Model):
    """What the team-lead review lists from the CRM."""

    external_id: str
    station: str | None = None
    number: str | None = None
    direction: Literal["inbound", "outbound"] | None = None
    agent_id: str | None = None
    started_at: dt.datetime | None = None
    duration_s: int | None = None
    verdict: Verdict | None = None
    reason: str | None = None
    disposition: str | None = None
    summary: dict[str, Any] | None = None
    transcript: list[TranscriptLine] = Field(default_factory=list)
    consent_events: list[ConsentEventPayload] = Field(default_factory=list)
    review_state: ReviewState = "pending"
    review_comment: str | None = None
    dialled_against_forbidden: bool = False


class Health(_Model):
    ok: bool
    connector: str
    endpoint: str
    latency_ms: float | None = None
    message: str | None = None


class SyncError(Exception):
    """Base of what a connector raises; ``str()`` is one line fit for the agent and the logs (no PII)."""


class TransientError(SyncError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RejectedError(SyncError):
    """The CRM refused the content: parked, shown with the CRM's message, never retried blindly."""


class AuthError(SyncError):
    """Credentials missing or refused: nothing is retried until they are fixed."""


@runtime_checkable
class Connector(Protocol):
    name: str
    max_batch: int  # items per push request the CRM allows (1 where it has no batch API)

    def push_interactions(self, items: Sequence[InteractionPayload]) -> list[PushResult]: ...

    def push_consent_events(self, items: Sequence[ConsentEventPayload]) -> list[PushResult]: ...

    def push_reviews(self, items: Sequence[ReviewPayload]) -> list[PushResult]: ...

    def pull_consent_changes(self, cursor: str | None, limit: int = 200) -> ConsentPage: ...

    def list_interactions(
        self, *, since: dt.datetime | None = None, review_state: ReviewState | None = None, limit: int = 200
    ) -> list[RemoteInteraction]: ...

    def health(self) -> Health: ...

    def close(self) -> None: ...
