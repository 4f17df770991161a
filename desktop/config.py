"""Station settings: ``settings.toml`` in the data folder, every key declared once with its type and default."""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from desktop.core.consent.policy import format_validation_error
from desktop.core.errors import InputError

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


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Literal["fr", "en"] = "fr"
    #: Keep the agent panel above the softphone and other windows.
    always_on_top: bool = True
    #: Policy pack file; empty means the pack shipped with the app.
    policy_pack: str | None = None
    station: Station = Station()


def load_settings(data_dir: Path) -> Settings:
    """The settings of this data folder; defaults when the file does not exist; InputError naming the key."""
    path = data_dir / SETTINGS_FILE
    if not path.exists():
        return Settings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid TOML: {error}") from None
    try:
        return Settings.model_validate(document)
    except ValidationError as error:
        raise InputError(format_validation_error(error, str(path))) from None


def save_settings(data_dir: Path, settings: Settings) -> Path:
    """Write ``settings.toml`` atomically (temporary file, then ``os.replace``); returns its path.

    Keys left at None are omitted (TOML has no null). Comments in an existing file are not kept.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SETTINGS_FILE
    text = dumps_toml(settings.model_dump(mode="json"))
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
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string once DEL is escaped too.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    raise TypeError(f"cannot write {type(value).__name__} to settings.toml")
