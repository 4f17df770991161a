"""The after-call summary: its structure (architecture.md), validated, and the draft the agent starts from.

Until the extractive and model engines land, the draft holds what the call session knows for certain: the
consent events confirmed or detected during the call, the opening-disclosure checklist, and a disposition
implied by them. The agent completes and validates it; nothing is invented.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from desktop.core.consent.policy import format_validation_error
from desktop.core.errors import InputError

DISPOSITIONS = (
    "sale",
    "appointment_set",
    "callback_scheduled",
    "resolved",
    "escalated",
    "not_interested",
    "do_not_call",
    "information_given",
    "cancelled",
    "retained",
)
Disposition = Literal[
    "sale",
    "appointment_set",
    "callback_scheduled",
    "resolved",
    "escalated",
    "not_interested",
    "do_not_call",
    "information_given",
    "cancelled",
    "retained",
]
ConsentEventKind = Literal["withdrawal", "objection", "consent_given", "proof_requested", "recording_refused"]
_STRICT = ConfigDict(extra="forbid")


class NextStep(BaseModel):
    model_config = _STRICT
    owner: Literal["agent", "company", "customer"]
    action: str = Field(min_length=1)
    due: dt.date | None = None


class ConsentEvent(BaseModel):
    model_config = _STRICT
    kind: ConsentEventKind
    at: dt.datetime
    segment: int | None = None


class Entities(BaseModel):
    model_config = _STRICT
    amounts_eur: list[float] = []
    dates: list[dt.date] = []
    times: list[str] = []
    references: list[str] = []


class OpeningDisclosure(BaseModel):
    model_config = _STRICT
    identity: bool = False
    on_behalf_of: bool = False
    commercial_nature: bool = False
    recording_notice: bool = False


class GeneratedBy(BaseModel):
    model_config = _STRICT
    method: Literal["extractive", "model"]
    model: str | None = None


class Summary(BaseModel):
    model_config = _STRICT

    reason: str
    actions: list[str] = []
    resolution: Literal["resolved", "partial", "unresolved", "not_applicable"]
    next_steps: list[NextStep] = []
    disposition: Disposition
    consent_events: list[ConsentEvent] = []
    entities: Entities = Entities()
    opening_disclosure: OpeningDisclosure = OpeningDisclosure()
    generated_by: GeneratedBy = GeneratedBy(method="extractive")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse_summary(document: Any, where: str = "summary") -> Summary:
    try:
        return Summary.model_validate(document)
    except ValidationError as error:
        raise InputError(format_validation_error(error, where)) from None


def draft_summary(
    *,
    direction: str,
    purpose: str,
    consent_events: list[dict[str, Any]],
    disclosure: dict[str, bool] | None,
) -> Summary:
    """What the session knows for certain; the agent writes the reason and the actions."""
    kinds = {event["kind"] for event in consent_events}
    commercial = direction == "outbound" and purpose in ("prospection", "contract")
    if "withdrawal" in kinds:
        disposition: Disposition = "do_not_call"
    elif kinds & {"objection", "recording_refused"}:
        disposition = "not_interested"
    else:
        disposition = "information_given"
    return Summary(
        reason="",
        resolution="not_applicable" if commercial else "unresolved",
        disposition=disposition,
        consent_events=[ConsentEvent.model_validate(event) for event in consent_events],
        opening_disclosure=OpeningDisclosure.model_validate(disclosure or {}),
    )
