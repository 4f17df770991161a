"""Station settings: ``settings.toml`` in the data folder, every key declared once with its type and default.

The effective settings also follow the machine policy (:mod:`desktop.machine_policy`): built-in defaults, then
the policy's ``[settings]`` (machine defaults), then ``settings.toml``, then the keys the policy locks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from desktop.core.consent.policy import format_validation_error, parse_duration
from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.machine_policy import MachinePolicy

log = logging.getLogger("agent_assist.config")
SETTINGS_FILE = "settings.toml"


class Station(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Legal entity on whose behalf this station calls (the consent must be given to it).
    professional: str | None = Field(default=None, min_length=1)
    #: Number presented to the called person (checked against the Arcep canvassing ranges).
    caller_id: str | None = None
    #: Default product/campaign when the call event names none.
    product: str | None = None
    agent_id: str | None = None


class Telephony(BaseModel):
    """Where the app learns about calls (``docs/telephony.md``): any combination of the sources below."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Active sources: ``baresip`` (its ctrl_tcp socket), ``hooks`` (``agent-assist event …`` run by the
    #: softphone; goes through the local API) and ``api`` (the local event API). baresip's MQTT module is not
    #: supported yet.
    sources: tuple[Literal["baresip", "hooks", "api"], ...] = ("baresip", "hooks", "api")
    #: Connect to the softphone when the app starts (else from the tray menu).
    auto_connect: bool = True
    baresip_host: str = "127.0.0.1"
    baresip_port: int = Field(default=4444, ge=1, le=65535)
    #: What an outbound dial to someone who may not be called does: ``warn`` (loud banner) or ``hangup``.
    on_forbidden_dial: Literal["warn", "hangup"] = "warn"
    #: Transcribe calls locally from baresip's recordings (its ``sndfile`` module writing to ``recordings_dir``).
    transcribe: bool = True
    #: Where baresip's ``snd_path`` points; empty means ``<data folder>/recordings``.
    recordings_dir: str | None = None
    #: Port of the local event API on 127.0.0.1; 0 picks a free one (written, with the token, in the data folder).
    api_port: int = Field(default=0, ge=0, le=65535)


class Crm(BaseModel):
    """The company CRM this station syncs with (``docs/crm.md``). Secrets are not here: they live in the OS
    keyring under the service ``agent-assist`` (``desktop.core.crm.credentials``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``none`` keeps everything local (the outbox fills and waits); else the connector to use.
    connector: Literal["none", "tryton", "webhook", "salesforce", "hubspot", "dynamics"] = "none"
    #: Base URL: Tryton ``http://host:8000/<database>``, the webhook's URL, the Salesforce My Domain, the
    #: HubSpot API root, the Dataverse organisation URL.
    endpoint: str | None = None
    #: This station's name in the CRM (events it sends carry ``agent-assist:<station_id>``); empty = host name.
    station_id: str | None = None
    #: Seconds between two pulls of consent changes (the opt-out propagation delay) and two pushes.
    pull_interval_s: float = Field(default=15.0, gt=0, le=3600)
    push_interval_s: float = Field(default=5.0, gt=0, le=3600)
    #: Seconds of overlap when re-reading consent changes (CRMs whose ids or dates commit out of order).
    pull_overlap_s: float = Field(default=5.0, ge=0, le=3600)
    #: HTTP request timeout, seconds.
    timeout_s: float = Field(default=20.0, gt=0, le=600)
    #: TLS certificate verification; a path is a CA bundle. Never off in production.
    verify_tls: bool | str = True
    #: Proxy URL; empty means the environment's (HTTPS_PROXY, NO_PROXY...).
    proxy: str | None = None


class Retention(BaseModel):
    """How long this station keeps call content before :mod:`desktop.core.store.retention` purges it, as ISO 8601
    durations (``P6M``, ``P1Y``, ``P30D``). Defaults follow the CNIL's references (``docs/policy.md``): recordings
    at most 6 months (transcripts are treated as recordings), analysis documents (summaries) at most 1 year.
    Consent proofs (consents, the consent ledger, decisions) are never purged by the station."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Transcript segments of a call, counted from the call's end (or start when it never ended).
    transcripts: str = "P6M"
    #: The call summaries (drafts and validated), and their copy in the CRM outbox.
    summaries: str = "P1Y"
    #: baresip's recording files (``dump-…-dec.wav`` / ``-enc.wav``) in the recordings folder, by file age.
    recordings: str = "P6M"

    @field_validator("transcripts", "summaries", "recordings")
    @classmethod
    def _positive_duration(cls, value: str) -> str:
        duration = parse_duration(value)
        probe = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        if probe + duration <= probe:
            raise ValueError(f"must be a positive duration, got {value!r}")
        return value


class Assist(BaseModel):
    """The optional generator that adapts the best approved reply and writes the summary's prose
    (``docs/generation.md``). Approved replies and the extractive summary work without it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``none``; ``local`` (a transformers folder in the models folder: ``smollm2-135m`` or a site model such as
    #: a Qwen2.5-Instruct copied by IT); ``openai`` (an OpenAI-compatible server: vLLM, llama.cpp server).
    generator: Literal["none", "local", "openai"] = "none"
    #: The local model's name (its folder under the models folder) or the server's model name.
    generator_model: str = ""
    #: The server's base URL, e.g. ``http://127.0.0.1:8000/v1`` (plain http only on the loopback).
    openai_url: str = ""

    @field_validator("openai_url")
    @classmethod
    def _server_url(cls, value: str) -> str:
        if not value:
            return value
        from desktop.core.assist.generator import check_server_url

        try:
            return check_server_url(value)
        except InputError as error:
            raise ValueError(str(error)) from None


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Literal["fr", "en"] = "fr"
    #: Keep the agent panel above the softphone and other windows.
    always_on_top: bool = True
    #: Policy pack file; empty means the pack shipped with the app.
    policy_pack: str | None = None
    #: Folder of the local models (a machine-wide one for packaged installs); empty means ``<data folder>/models``.
    #: ``$AGENT_ASSIST_MODELS`` wins over it.
    models_dir: str | None = None
    station: Station = Station()
    telephony: Telephony = Telephony()
    crm: Crm = Crm()
    retention: Retention = Retention()
    assist: Assist = Assist()


def load_settings(data_dir: Path, *, machine: MachinePolicy | None = None) -> Settings:
    """The effective settings of this data folder: defaults, the machine policy's values, ``settings.toml``, then
    the keys the policy locks. InputError naming the file and key (MalformedPolicyError for the policy file).

    ``machine`` defaults to the policy of this machine (:func:`desktop.machine_policy.load_machine_policy`).
    """
    from desktop.machine_policy import flatten, load_machine_policy, set_dotted

    machine = machine if machine is not None else load_machine_policy()
    path = data_dir / SETTINGS_FILE
    user = load_user_document(data_dir)
    try:
        own = Settings.model_validate(user)
    except ValidationError as error:
        raise InputError(format_validation_error(error, str(path))) from None
    if not machine.values and not machine.locked:
        return own
    document = Settings().model_dump(mode="json")
    for key, value in machine.values.items():
        set_dotted(document, key, value)
    own_values = flatten(own.model_dump(mode="json"))
    user_keys = flatten(user)
    for key in user_keys:
        if key in own_values:
            set_dotted(document, key, own_values[key])
    for key, value in machine.locked_values.items():
        if key in user_keys and own_values.get(key) != value:
            log.info("%s sets %s, locked by the machine policy %s: the machine value applies", path, key, machine.path)
        set_dotted(document, key, value)
    return Settings.model_validate(document)


def load_user_document(data_dir: Path) -> dict[str, Any]:
    """The raw TOML document of ``settings.toml`` (empty when there is none); InputError for bad TOML."""
    path = data_dir / SETTINGS_FILE
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid TOML: {error}") from None


def save_settings(data_dir: Path, settings: Settings, machine: MachinePolicy | None = None) -> Path:
    """Write ``settings.toml`` atomically (temporary file, then ``os.replace``); returns its path.

    Keys left at None are omitted (TOML has no null). Comments in an existing file are not kept. Under a machine
    policy (``machine``, default: this machine's), a locked key keeps what the user's file had (the machine value
    never lands in the user's file) and a key equal to the policy's machine default is left out, so the station
    follows IT's default until the user picks something else.
    """
    from desktop.machine_policy import flatten, load_machine_policy, pop_dotted, set_dotted

    machine = machine if machine is not None else load_machine_policy()
    document = settings.model_dump(mode="json")
    if machine.values or machine.locked:
        try:
            previous = flatten(load_user_document(data_dir))
        except InputError:
            previous = {}
        for key in machine.locked:
            pop_dotted(document, key)
            if key in previous:
                set_dotted(document, key, previous[key])
        flat = flatten(document)
        for key, value in machine.values.items():
            if key not in machine.locked and flat.get(key) == value:
                pop_dotted(document, key)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SETTINGS_FILE
    text = dumps_toml(document)
    handle, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".toml", dir=data_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def dumps_toml(document: dict[str, Any]) -> str:
    """TOML text of a settings document: scalars first, then one ``[table]`` per nested dict."""
    lines: list[str] = ["# Agent Assist station settings (written by the settings dialog)."]
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in document.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    for name, table in tables:
        lines += ["", f"[{name}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in table.items() if value is not None]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string once DEL is escaped too.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    raise TypeError(f"cannot write {type(value).__name__} to settings.toml")
