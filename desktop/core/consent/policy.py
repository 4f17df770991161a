"""The policy pack: every parameter, range, calendar and message of the consent rules, from a versioned file.

A pack is a TOML file under ``assets/policies/``. It is validated when loaded: an unknown key, a wrong type or
an impossible value fails with one line naming the file and the key. The engine never reads a constant that a
compliance officer may need to change; it reads this object.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
import isodate
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
)

from desktop.core.assist.redact import RedactionSettings
from desktop.core.errors import InputError
from desktop.paths import assets_dir

DEFAULT_PACK = assets_dir() / "policies" / "fr.toml"

#: Reason codes of consent-rules.md. Every one needs a legal reference and a message in the pack.
REASON_CODES = (
    "OUT_OF_SCOPE_INBOUND",
    "OUT_OF_SCOPE_NON_COMMERCIAL",
    "OUT_OF_SCOPE_BUSINESS_LINE",
    "OUT_OF_SCOPE_INFO_REQUEST",
    "CALLER_ID_NOT_CANVASSING_RANGE",
    "CALLER_ID_UNKNOWN",
    "SECTOR_BAN",
    "CONTRACT_RELATED",
    "CONSENT_REVOKED",
    "MARKETING_OBJECTION",
    "WEEKEND",
    "PUBLIC_HOLIDAY",
    "LOCAL_HOLIDAY",
    "OUTSIDE_CALLING_HOURS",
    "OUT_OF_HOURS_CONSENT",
    "FREQUENCY_CAP",
    "REFUSAL_WITHIN_60_DAYS",
    "PRESS_EXEMPTION",
    "OPPOSITION_LIST_REGISTERED",
    "OPPOSITION_SCRUB_STALE",
    "OPPOSITION_LIST_CLEAR",
    "VALID_CONSENT",
    "NO_VALID_CONSENT",
    "CONSENT_MISSING",
    "CONSENT_OTHER_PROFESSIONAL",
    "CONSENT_OUT_OF_SCOPE",
    "CONSENT_PRE_TICKED",
    "CONSENT_NO_AFFIRMATIVE_ACT",
    "CONSENT_NO_PROOF",
    "CONSENT_EXPIRED",
    "CONSENT_FROM_UNLAWFUL_CALL",
    "CONSENT_BY_PHONE_INSURANCE",
    "INSURANCE_REFUSAL",
    "CONSENT_DATA_STALE",
)
#: Message ids that are not codes: variants of a code's message.
EXTRA_MESSAGES = ("CONSENT_COLLECTED_AFTER_CALL",)
LANGUAGES = ("fr", "en")


def parse_duration(value: object) -> dt.timedelta | isodate.Duration:
    """An ISO 8601 duration such as ``P1Y``, ``P1M``, ``PT15M``; anything else is a ValueError."""
    if not isinstance(value, str):
        raise ValueError(f'expected an ISO 8601 duration string such as "P1Y", got {json.dumps(value)}')
    try:
        parsed = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError):
        raise ValueError(f"not an ISO 8601 duration: {value!r}") from None
    if not isinstance(parsed, dt.timedelta | isodate.Duration):  # pragma: no cover - isodate's contract
        raise ValueError(f"not an ISO 8601 duration: {value!r}")
    return parsed


def add_duration(instant: dt.datetime, duration: dt.timedelta | isodate.Duration) -> dt.datetime:
    """Calendar arithmetic on the local date-time as written: 29 Feb + P1Y = 28 Feb, 31 Jan + P1M = 28 Feb."""
    result = instant + duration
    assert isinstance(result, dt.datetime)
    return result


def add_duration_to_date(day: dt.date, duration: dt.timedelta | isodate.Duration) -> dt.date:
    result = day + duration
    return result.date() if isinstance(result, dt.datetime) else result


Duration = Annotated[dt.timedelta | isodate.Duration, BeforeValidator(parse_duration)]
_STRICT = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Parameters(BaseModel):
    """The [policy] switches of consent-rules.md, by their interface names."""

    model_config = _STRICT

    info_request_exception: StrictBool
    info_request_working_days: StrictInt = Field(ge=0, le=60)
    max_slot_width: Duration
    block_local_holidays: StrictBool
    frequency_cap: StrictInt = Field(ge=0, le=1000)
    frequency_window_days: StrictInt = Field(ge=1, le=366)
    refusal_quiet_days: StrictInt = Field(ge=0, le=3660)
    scrub_max_age: Duration
    consent_max_age: Duration
    reject_consent_from_unlawful_call: StrictBool
    insurance_rejects_phone_consent: StrictBool
    max_sync_age: Duration


class PackInfo(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    title: str = ""
    default_region: str = Field(min_length=2, max_length=2)


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


TimeZoneName = Annotated[str, BeforeValidator(lambda v: _zone(v) if isinstance(v, str) else v)]


class Regime(BaseModel):
    model_config = _STRICT
    opt_in_from: str
    timezone: TimeZoneName

    @field_validator("opt_in_from")
    @classmethod
    def _naive_local(cls, value: str) -> str:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a local date-time: {value!r}") from None
        if parsed.tzinfo is not None:
            raise ValueError("write the local date-time without an offset; the zone is [regime].timezone")
        return value


class Scope(BaseModel):
    model_config = _STRICT
    non_commercial_purposes: tuple[str, ...]


class CallerId(BaseModel):
    model_config = _STRICT
    canvassing_prefixes: tuple[str, ...] = Field(min_length=1)

    @field_validator("canvassing_prefixes")
    @classmethod
    def _national_form(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in value:
            if not (prefix.isdigit() and prefix.startswith("0") and 2 <= len(prefix) <= 10):
                raise ValueError(f'{prefix!r} is not a national-form number prefix such as "0162"')
        return value


class Sectors(BaseModel):
    model_config = _STRICT
    banned: tuple[str, ...]
    press: tuple[str, ...]
    insurance: tuple[str, ...]
    phone_methods: tuple[str, ...]


def _clock(value: str) -> dt.time:
    try:
        parsed = dt.time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a time of day HH:MM: {value!r}") from None
    return parsed


class CallingHours(BaseModel):
    model_config = _STRICT
    weekdays: tuple[StrictInt, ...] = Field(min_length=1)
    windows: tuple[tuple[str, str], ...] = Field(min_length=1)

    @field_validator("weekdays")
    @classmethod
    def _iso_weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 1 or day > 7 for day in value):
            raise ValueError("weekdays are ISO numbers, 1 (Monday) to 7 (Sunday)")
        return value

    @field_validator("windows")
    @classmethod
    def _ordered(cls, value: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        previous_end = dt.time.min
        for start, end in value:
            start_t, end_t = _clock(start), _clock(end)
            if not start_t < end_t:
                raise ValueError(f"window {start}-{end} ends before it starts")
            if start_t < previous_end:
                raise ValueError(f"window {start}-{end} overlaps or precedes the previous one")
            previous_end = end_t
        return value

    @cached_property
    def window_times(self) -> tuple[tuple[dt.time, dt.time], ...]:
        return tuple((_clock(start), _clock(end)) for start, end in self.windows)


class NumberZone(BaseModel):
    model_config = _STRICT
    prefix: str = Field(pattern=r"^\+\d+$")
    timezone: TimeZoneName


class TimeZones(BaseModel):
    model_config = _STRICT
    default: TimeZoneName
    by_number: tuple[NumberZone, ...]


class LocalHolidays(BaseModel):
    model_config = _STRICT
    name: str
    subdivision: str
    keep: tuple[str, ...] = Field(min_length=1)
    departments: tuple[str, ...] = ()
    timezones: tuple[TimeZoneName, ...] = ()
    unknown_department: StrictBool = False


class Holidays(BaseModel):
    model_config = _STRICT
    country: str
    local: tuple[LocalHolidays, ...] = ()


class Phrases(BaseModel):
    model_config = _STRICT
    withdrawal: tuple[str, ...] = Field(min_length=1)
    objection: tuple[str, ...] = ()
    proof_request: tuple[str, ...] = ()
    recording_refused: tuple[str, ...] = ()
    not_interested: tuple[str, ...] = ()


class PackFile(BaseModel):
    """The whole file, as written."""

    model_config = _STRICT

    pack: PackInfo
    regime: Regime
    parameters: Parameters
    scope: Scope
    caller_id: CallerId
    sectors: Sectors
    calling_hours: CallingHours
    timezones: TimeZones
    holidays: Holidays
    phrases: Phrases
    rules: dict[str, str]
    messages: dict[str, dict[str, str]]
    redaction: RedactionSettings = RedactionSettings()  # optional [redaction] table: extra patterns to mask

    @field_validator("rules")
    @classmethod
    def _every_code_has_a_rule(cls, value: dict[str, str]) -> dict[str, str]:
        _same_keys(value, REASON_CODES, "")
        return value

    @field_validator("messages")
    @classmethod
    def _every_code_has_messages(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        if "fr" not in value:
            raise ValueError("the French messages [messages.fr] are required")
        for language, table in value.items():
            if language not in LANGUAGES:
                raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
            _same_keys(table, REASON_CODES + EXTRA_MESSAGES, f"{language}.")
        return value


def _same_keys(table: Mapping[str, object], expected: tuple[str, ...], where: str) -> None:
    missing = [code for code in expected if code not in table]
    unknown = [key for key in table if key not in expected]
    if missing:
        raise ValueError(f"missing {where}{missing[0]}")
    if unknown:
        raise ValueError(f"unknown key {where}{unknown[0]}")


def format_validation_error(error: ValidationError, where: str) -> str:
    """One line: the first problem, with the dotted path of the key it concerns."""
    first = error.errors()[0]
    path = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif first["type"] == "missing":
        message = "missing key"
    return f"{where}: {path}: {message}" if path else f"{where}: {message}"


@dataclass(frozen=True)
class Policy:
    """A validated policy pack, with the calendars and zones the engine needs, built once and cached."""

    source: str
    data: PackFile
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.data.pack.name

    @property
    def version(self) -> str:
        return self.data.pack.version

    @property
    def params(self) -> Parameters:
        return self.data.parameters

    def stamp(self) -> dict[str, str]:
        """What a decision carries so that an audit can replay it."""
        return {"name": self.name, "version": self.version}

    @cached_property
    def opt_in_from(self) -> dt.datetime:
        zone = ZoneInfo(self.data.regime.timezone)
        return dt.datetime.fromisoformat(self.data.regime.opt_in_from).replace(tzinfo=zone)

    @cached_property
    def zone_by_number(self) -> tuple[tuple[str, ZoneInfo], ...]:
        return tuple((rule.prefix, ZoneInfo(rule.timezone)) for rule in self.data.timezones.by_number)

    @cached_property
    def default_zone(self) -> ZoneInfo:
        return ZoneInfo(self.data.timezones.default)

    def rule(self, code: str) -> str:
        return self.data.rules[code]

    def message(self, message_id: str, language: str = "fr") -> str:
        table = self.data.messages.get(language) or self.data.messages["fr"]
        return table[message_id]

    def national_holiday(self, day: dt.date) -> str | None:
        """Name (French) of the L3133-1 public holiday on this day, or None."""
        return _national_holidays(self.data.holidays.country, day.year).get(day)

    def local_holiday(self, day: dt.date, zone_key: str, department: str | None) -> str | None:
        """Name (French) of a local holiday that applies to a consumer in this zone and department."""
        for local in self.data.holidays.local:
            if local.timezones:
                applies = zone_key in local.timezones
            elif local.departments:
                metropolitan = zone_key == self.data.timezones.default
                applies = metropolitan and (
                    department in local.departments if department is not None else local.unknown_department
                )
            else:  # pragma: no cover - rejected at load
                applies = False
            if applies:
                name = _local_holidays(self.data.holidays.country, local.subdivision, local.keep, day.year).get(day)
                if name is not None:
                    return name
        return None

    def with_overrides(self, overrides: Mapping[str, Any]) -> Policy:
        """The same pack with some parameters replaced (``consent evaluate --set``); unknown keys are errors."""
        if not overrides:
            return self
        known = set(Parameters.model_fields)
        for key in overrides:
            if key not in known:
                raise InputError(f"unknown policy parameter {key!r} (known: {', '.join(sorted(known))})")
        merged = dict(self.data.parameters.model_dump())
        merged = {key: _raw_parameter(value) for key, value in merged.items()}
        merged.update(overrides)
        try:
            parameters = Parameters.model_validate(merged)
        except ValidationError as error:
            raise InputError(format_validation_error(error, "policy parameter")) from None
        data = self.data.model_copy(update={"parameters": parameters})
        return Policy(self.source, data, {**self.overrides, **overrides})


def _raw_parameter(value: Any) -> Any:
    if isinstance(value, isodate.Duration | dt.timedelta):
        return isodate.duration_isoformat(value)
    return value


@lru_cache(maxsize=64)
def _national_holidays(country: str, year: int) -> dict[dt.date, str]:
    return dict(holidays_lib.country_holidays(country, years=year, language="fr").items())


@lru_cache(maxsize=256)
def _local_holidays(country: str, subdivision: str, keep: tuple[str, ...], year: int) -> dict[dt.date, str]:
    english = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    french = holidays_lib.country_holidays(country, subdiv=subdivision, years=year, language="fr")
    return {day: french.get(day, name) for day, name in english.items() if name in keep}


def load_policy(path: Path | str | None = None) -> Policy:
    """Load and validate a pack; a bad pack raises InputError naming the file and the key."""
    pack_path = Path(path) if path is not None else DEFAULT_PACK
    return _load_cached(str(pack_path.resolve()))


@lru_cache(maxsize=8)
def _load_cached(path: str) -> Policy:
    pack_path = Path(path)
    try:
        raw = pack_path.read_bytes().decode("utf-8")
    except OSError as error:
        raise InputError(f"{pack_path}: cannot read the policy pack ({error.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{pack_path}: the policy pack is not UTF-8 text") from None
    try:
        document = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{pack_path}: not valid TOML: {error}") from None
    try:
        data = PackFile.model_validate(document)
    except ValidationError as error:
        raise InputError(format_validation_error(error, str(pack_path))) from None
    for index, local in enumerate(data.holidays.local):
        if not local.departments and not local.timezones:
            raise InputError(f"{pack_path}: holidays.local.{index}: give departments or timezones")
        try:
            found = holidays_lib.country_holidays(data.holidays.country, subdiv=local.subdivision, years=2027)
        except NotImplementedError:
            raise InputError(
                f"{pack_path}: holidays.local.{index}.subdivision: unknown subdivision {local.subdivision!r}"
            ) from None
        for name in local.keep:
            if name not in found.values():
                raise InputError(
                    f"{pack_path}: holidays.local.{index}.keep: {name!r} is not a holiday of {local.subdivision!r}"
                )
    return Policy(str(pack_path), data)
