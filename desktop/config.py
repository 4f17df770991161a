"""Station settings: ``settings.toml`` in the data folder, every key declared once with its type and default."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

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
