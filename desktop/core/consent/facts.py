"""The engine's input: the facts format of consent-rules.md, validated strictly.

Unknown keys are errors; instants must carry an offset; dates must exist; numbers must parse. A required key
may be ``null`` when the value is unknown, and the engine then decides fail-closed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from desktop.core.consent import phone
from desktop.core.consent.policy import format_validation_error
from desktop.core.errors import InputError

Direction = Literal["outbound", "inbound"]
Purpose = Literal["prospection", "contract", "service", "survey"]
Sector = Literal["energy_renovation", "housing_adaptation", "cpf_training", "insurance", "press"]
Method = Literal["web_form", "paper", "store", "email", "phone_call", "recorded_call", "broker_file"]
LineType = Literal["consumer", "business"]
ObjectionScope = Literal["marketing", "all"]


def parse_instant(value: object) -> dt.datetime:
    """ISO 8601 date-time with an offset ("2026-11-24T10:30:00+01:00"); anything else is a ValueError."""
    if isinstance(value, dt.datetime):
        instant = value
    elif isinstance(value, str):
        try:
            instant = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time, or an impossible one: {value!r}") from None
    else:
        raise ValueError(f"expected an ISO 8601 date-time string, got {json.dumps(value)}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"date-time without a UTC offset: {value!r}")
    return instant


def parse_day(value: object) -> dt.date:
    """A calendar date YYYY-MM-DD."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"expected a date YYYY-MM-DD, got {json.dumps(value, default=str)}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"impossible date {value!r}") from None


def _number(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a phone number string, got {json.dumps(value)}")
    try:
        return phone.normalize(value)
    except InputError as error:
        raise ValueError(str(error)) from None


def _department(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f'expected a department code string such as "67", got {json.dumps(value)}')
    code = value.strip().upper()
    if not ((len(code) == 2 and (code.isdigit() or code in ("2A", "2B"))) or (len(code) == 3 and code.isdigit())):
        raise ValueError(f"not a French department code: {value!r}")
    return code


def _zone(value: object) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(value, str):
        raise ValueError(f'expected a time zone name such as "Europe/Paris", got {json.dumps(value)}')
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


Instant = Annotated[dt.datetime, BeforeValidator(parse_instant)]
Day = Annotated[dt.date, BeforeValidator(parse_day)]
Number = Annotated[str, BeforeValidator(_number)]
Department = Annotated[str, BeforeValidator(_department)]
ZoneName = Annotated[str, BeforeValidator(_zone)]
Text = Annotated[str, Field(strict=True)]
Flag = Annotated[bool, Field(strict=True)]

_MODEL = ConfigDict(extra="forbid", frozen=True)


class Call(BaseModel):
    model_config = _MODEL

    number: Number | None
    direction: Direction | None
    at: Instant
    purpose: Purpose | None
    product: Text | None
    professional: Text | None
    line_type: LineType | None
    sector: Sector | None = None
    caller_id: Number | None = None
    consumer_timezone: ZoneName | None = None
    consumer_department: Department | None = None


class Slot(BaseModel):
    model_config = _MODEL
    start: Instant
    end: Instant


class Consent(BaseModel):
    model_config = _MODEL

    professional: Text | None
    products: tuple[Text, ...] | None
    collected_at: Instant | None
    method: Method | None
    affirmative_act: Flag | None
    pre_ticked: Flag | None
    evidence_ref: Text | None
    text_shown: Text | None = None
    collected_during_unlawful_call: Flag | None = False
    out_of_hours_slots: tuple[Slot, ...] | None = ()
    out_of_hours_any: Flag | None = False
    revoked_at: Instant | None = None


class Contract(BaseModel):
    model_config = _MODEL

    professional: Text | None
    products: tuple[Text, ...] | None
    status: Text | None
    related_products: tuple[Text, ...] | None = ()
    ended_at: Instant | None = None


class Objection(BaseModel):
    model_config = _MODEL
    at: Instant
    scope: ObjectionScope | None


class Refusal(BaseModel):
    model_config = _MODEL
    at: Instant


class Attempt(BaseModel):
    model_config = _MODEL
    at: Instant
    professional: Text | None


class OppositionList(BaseModel):
    model_config = _MODEL
    registered: Flag | None
    since: Day | None = None
    last_scrub: Day | None = None


class InfoRequest(BaseModel):
    model_config = _MODEL
    at: Instant
    products: tuple[Text, ...] | None


class Sync(BaseModel):
    model_config = _MODEL
    last_consent_pull: Instant | None


class Facts(BaseModel):
    """Everything the engine knows about one call. Everything but ``call`` may be omitted: none on record."""

    model_config = _MODEL

    call: Call
    evaluated_at: Instant | None = None
    consents: tuple[Consent, ...] = ()
    contracts: tuple[Contract, ...] = ()
    objections: tuple[Objection, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    opposition_list: OppositionList | None = None
    info_requests: tuple[InfoRequest, ...] = ()
    sync: Sync | None = None

    @property
    def at(self) -> dt.datetime:
        return self.call.at

    @property
    def asked_at(self) -> dt.datetime:
        """The instant of the question: ``evaluated_at``, else the call start."""
        return self.evaluated_at or self.call.at


def parse_facts(document: Any, where: str = "facts") -> Facts:
    """Validate a decoded JSON document; InputError names the key (``call.at``) and what is wrong with it."""
    if not isinstance(document, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(document).__name__}")
    try:
        facts = Facts.model_validate(document)
    except ValidationError as error:
        raise InputError(format_validation_error(error, where)) from None
    if facts.evaluated_at is not None and facts.evaluated_at < facts.call.at:
        raise InputError(f"{where}: evaluated_at: earlier than call.at")
    return facts


def load_facts_text(text: str, where: str) -> tuple[Facts, dict[str, Any]]:
    """Facts from JSON text, and the policy overrides of a worked case.

    The text is either a facts document or a worked case (``{"id", "facts", "policy", "expect", ...}`` as in
    the examples folder), whose ``policy`` overrides apply. Malformed JSON names the line and column.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{where}: line {error.lineno} column {error.colno}: malformed JSON: {error.msg}") from None
    if isinstance(document, dict) and "facts" in document and "call" not in document:
        unknown = set(document) - {"id", "title", "policy", "facts", "expect", "rule"}
        if unknown:
            raise InputError(f"{where}: {sorted(unknown)[0]}: unknown key")
        overrides = document.get("policy") or {}
        if not isinstance(overrides, dict):
            raise InputError(f"{where}: policy: expected an object of policy parameters")
        return parse_facts(document["facts"], f"{where}: facts"), overrides
    return parse_facts(document, where), {}
