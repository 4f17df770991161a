"""The machine-wide policy: a TOML file IT drops in the OS machine configuration folder to set and lock settings.

Where it is (:func:`policy_path`): ``$AGENT_ASSIST_POLICY`` when set (tests, IT trials; the file must then exist;
``/dev/null`` means none), else ``/etc/agent-assist/policy.toml`` on Linux, ``%ProgramData%\\AgentAssist\\policy.toml``
on Windows and ``/Library/Application Support/AgentAssist/policy.toml`` on macOS (platformdirs' machine
configuration folder on those two). No file there means no policy.

Its format (docs/policy.md)::

    locked = ["crm.connector", "crm.endpoint", "telephony.on_forbidden_dial", "retention"]

    [settings]                 # the same keys as settings.toml
    models_dir = "/opt/agent-assist/models"

    [settings.crm]
    connector = "tryton"
    endpoint = "https://crm.example.com/acme"

``[settings]`` gives machine defaults; ``locked`` names the keys (or whole blocks) the user cannot change: their
machine value (from ``[settings]``, else the built-in default) always applies. Effective settings are built-in
defaults, then the policy's ``[settings]``, then the user's ``settings.toml``, then the locked keys again.

A malformed file (bad TOML, unknown key, wrong type, a locked key that is not a setting) raises
:class:`MalformedPolicyError`, an :class:`InputError` whose one-line message names the file, the key and the line:
the app and every command stop on it with exit code 2.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from desktop.core.errors import InputError

POLICY_ENV = "AGENT_ASSIST_POLICY"
POLICY_FILE = "policy.toml"


class MalformedPolicyError(InputError):
    """The machine policy file cannot be used; the message is one line naming the file, the key and the line."""


def policy_path() -> Path:
    """Where the machine policy is read from on this machine (it may not exist)."""
    from_env = os.environ.get(POLICY_ENV)
    if from_env:
        return Path(from_env).expanduser()
    if sys.platform == "win32":
        program_data = os.environ.get("PROGRAMDATA") or r"C:\ProgramData"
        return Path(program_data) / "AgentAssist" / POLICY_FILE
    if sys.platform == "darwin":
        return Path("/Library/Application Support/AgentAssist") / POLICY_FILE
    # Not platformdirs' /etc/xdg: a machine policy is system configuration, where IT's tools look (FHS).
    return Path("/etc/agent-assist") / POLICY_FILE


@dataclass(frozen=True)
class MachinePolicy:
    """A validated machine policy: the values it sets (dotted keys, normalised as settings.toml writes them) and
    the keys it locks (every locked key has a machine value: the policy's, else the built-in default)."""

    path: Path | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    locked: frozenset[str] = frozenset()
    locked_values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return self.path is not None

    def is_locked(self, key: str) -> bool:
        """Whether the dotted key (``crm.endpoint``) is locked; a block name is locked when all its keys are."""
        if key in self.locked:
            return True
        inside = [name for name in self.locked if name.startswith(key + ".")]
        return bool(inside) and all(name in self.locked for name in setting_keys() if name.startswith(key + "."))

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path) if self.path else None,
            "sets": sorted(self.values),
            "locked": sorted(self.locked),
        }


NO_POLICY = MachinePolicy()


def load_machine_policy(path: Path | None = None) -> MachinePolicy:
    """The machine policy at ``path`` (default :func:`policy_path`); :data:`NO_POLICY` when there is none.

    Raises :class:`MalformedPolicyError` (one line: file, key, line) for anything IT must fix. A file named by
    ``$AGENT_ASSIST_POLICY`` that does not exist is an error too (a typo must not silently mean "no policy").
    """
    explicit = path is not None or bool(os.environ.get(POLICY_ENV))
    path = path if path is not None else policy_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise MalformedPolicyError(f"machine policy {path}: no such file (set by {POLICY_ENV})") from None
        return NO_POLICY
    except IsADirectoryError:
        raise MalformedPolicyError(f"machine policy {path}: is a folder, not a file") from None
    except OSError as error:
        raise MalformedPolicyError(f"machine policy {path}: cannot read ({error.strerror})") from None
    if not raw.strip():
        return MachinePolicy(path=path)
    try:
        text = raw.decode("utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError as error:
        raise MalformedPolicyError(f"machine policy {path}: not UTF-8 text (byte {error.start})") from None
    except tomllib.TOMLDecodeError as error:
        # tomllib's message ends with "(at line L, column C)": put the line where the other errors have it.
        found = _TOML_AT.search(str(error))
        if found is None:
            raise MalformedPolicyError(f"machine policy {path}: not valid TOML: {error}") from None
        message = str(error)[: found.start()].rstrip()
        raise MalformedPolicyError(
            f"machine policy {path}, line {found.group(1)}: not valid TOML: {message} (column {found.group(2)})"
        ) from None
    return _validate(path, text, document)


def _validate(path: Path, text: str, document: dict[str, Any]) -> MachinePolicy:
    from desktop.config import Settings

    def fail(key: str, message: str, line: int | None = None) -> MalformedPolicyError:
        parts = key.split(".")
        while line is None and parts:  # "settings.telephony.sources.0" is written on the line of its list
            line = find_line(text, ".".join(parts))
            parts.pop()
        where = f", line {line}" if line else ""
        return MalformedPolicyError(f"machine policy {path}{where}: {key}: {message}")

    for key in document:
        if key not in ("settings", "locked"):
            raise fail(key, 'unknown key (expected "locked" and a [settings] table)')
    settings_doc = document.get("settings", {})
    if not isinstance(settings_doc, dict):
        raise fail("settings", "must be a table ([settings])")
    try:
        # Strict: IT's file must have the right types ("4444" is not a port); JSON mode so arrays fill tuples.
        # TOML dates have no setting: they become an object that fails validation naming their key.
        text_doc = json.dumps(settings_doc, default=lambda value: {"toml_date": str(value)})
        validated = Settings.model_validate_json(text_doc, strict=True)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(["settings", *(str(part) for part in first["loc"])])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        raise fail(key, message) from None
    normalised = flatten(validated.model_dump(mode="json"))
    values = {key: normalised[key] for key in flatten(settings_doc, keep_tables=False) if key in normalised}

    locked_doc = document.get("locked", [])
    if not isinstance(locked_doc, list) or not all(isinstance(name, str) for name in locked_doc):
        raise fail("locked", 'must be a list of setting names such as ["crm.endpoint", "retention"]')
    known = setting_keys()
    blocks = {name.partition(".")[0] for name in known if "." in name}
    locked: set[str] = set()
    for name in locked_doc:
        if name in known:
            locked.add(name)
        elif name in blocks:
            locked.update(key for key in known if key.startswith(name + "."))
        else:
            raise fail("locked", f"{name!r} is not a setting", find_line(text, "locked"))
    defaults = flatten(Settings().model_dump(mode="json"))
    locked_values = {key: values.get(key, defaults.get(key)) for key in locked}
    return MachinePolicy(path=path, values=values, locked=frozenset(locked), locked_values=locked_values)


def setting_keys() -> tuple[str, ...]:
    """Every dotted settings key (``language``, ``crm.endpoint``...), blocks expanded to their fields."""
    from desktop.config import Settings

    return tuple(_keys(Settings))


def _keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _keys(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def flatten(document: Mapping[str, Any], prefix: str = "", *, keep_tables: bool = False) -> dict[str, Any]:
    """Nested tables as dotted keys: ``{"crm": {"endpoint": x}}`` → ``{"crm.endpoint": x}``."""
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, Mapping):
            if keep_tables:
                flat[f"{prefix}{key}"] = value
            flat.update(flatten(value, f"{prefix}{key}.", keep_tables=keep_tables))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def set_dotted(document: dict[str, Any], key: str, value: Any) -> None:
    """Set ``document[a][b] = value`` for ``key = "a.b"``, creating the tables on the way."""
    *tables, leaf = key.split(".")
    for table in tables:
        document = document.setdefault(table, {})
    document[leaf] = value


def pop_dotted(document: dict[str, Any], key: str) -> Any:
    """Remove a dotted key if present (returns its value or None); an emptied table stays."""
    *tables, leaf = key.split(".")
    for table in tables:
        inner = document.get(table)
        if not isinstance(inner, dict):
            return None
        document = inner
    return document.pop(leaf, None)


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)$")
_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
_ASSIGN = re.compile(r'^\s*("?)([A-Za-z0-9_.\- "]+?)\1\s*=')


def find_line(text: str, key: str) -> int | None:
    """Best effort: the line (1-based) where the dotted ``key`` is assigned in the TOML text, or its table
    header; None when it cannot be found (inline tables, unusual quoting)."""
    table = ""
    header_line = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = ".".join(part.strip().strip('"') for part in header.group(1).split("."))
            if table == key:
                header_line = number
            continue
        assign = _ASSIGN.match(line)
        if assign:
            name = ".".join(part.strip().strip('"') for part in assign.group(2).split("."))
            full = f"{table}.{name}" if table else name
            if full == key:
                return number
    return header_line
