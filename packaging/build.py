"""Build the one-folder frozen app: ``python packaging/build.py [--with-models] [--dist DIR]``.

Run it with the project's Python (``.venv/bin/python``): the build bundles what that environment has installed.
It installs the pinned PyInstaller into that environment when it is a virtualenv and PyInstaller is missing
(elsewhere it prints the pip command and stops), stamps the build (version, git commit, date) into
``build_info.json``, and runs ``packaging/agent-assist.spec``. ``--with-models`` first installs the default speech
model with the app's own installer, from the packages installed here (no network), and bundles its folder.

The result is ``DIST/agent-assist/`` (default ``dist/agent-assist``, ``dist/with-models/agent-assist``) with the ``agent-assist`` executable inside.
The last line printed is a JSON summary: path, size in bytes, seconds taken, build id. Exit codes: 0 built,
2 bad usage or PyInstaller not installable here, 1 the build failed (PyInstaller's output says why).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "agent-assist.spec"
#: Pinned on purpose: a new PyInstaller or hooks release can change what gets bundled. Upgrade on purpose.
PINS = {"pyinstaller": "6.22.3", "pyinstaller-hooks-contrib": "2026.9"}
APP_FOLDER = "agent-assist"


class BuildError(Exception):
    """The build cannot go on; the message says why and what to do."""


def _pip_command() -> list[str]:
    return [sys.executable, "-m", "pip", "install", *(f"{name}=={version}" for name, version in PINS.items())]


def ensure_pyinstaller(*, install: bool = True) -> None:
    """PyInstaller at the pinned versions in this environment: installed if missing (virtualenvs only)."""
    wrong = {}
    for name, version in PINS.items():
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found = None
        if found != version:
            wrong[name] = found
    if not wrong:
        return
    command = " ".join(_pip_command())
    in_venv = sys.prefix != sys.base_prefix
    if not install or not in_venv:
        found = ", ".join(f"{name} {version or 'missing'}" for name, version in wrong.items())
        raise BuildError(f"PyInstaller is not at the pinned version ({found}): run {command}")
    print(f"installing {', '.join(f'{n}=={v}' for n, v in PINS.items())} into {sys.prefix}", flush=True)
    done = subprocess.run(_pip_command(), check=False)
    if done.returncode != 0:
        raise BuildError(f"pip could not install PyInstaller: run {command} and read its error")


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def build_info(with_models: bool) -> dict[str, object]:
    """What the build is: release, git commit (and whether the tree had uncommitted changes), date, options."""
    sys.path.insert(0, str(ROOT))
    from desktop import RELEASE

    commit = _git("rev-parse", "HEAD") or "unknown"
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    now = dt.datetime.now(dt.UTC)
    build_id = f"g{commit[:7]}.{now:%Y%m%d}" + (".dirty" if dirty else "")
    if commit == "unknown":
        build_id = f"nogit.{now:%Y%m%d}"
    return {
        "version": RELEASE,
        "build_id": build_id,
        "commit": commit,
        "dirty": dirty,
        "built_at": now.isoformat(timespec="seconds"),
        "with_models": with_models,
        "python": ".".join(map(str, sys.version_info[:3])),
        "platform": sys.platform,
        "pyinstaller": PINS["pyinstaller"],
    }


def install_models(folder: Path) -> Path:
    """The default speech model, installed into ``folder`` by the app's installer from this machine's packages."""
    sys.path.insert(0, str(ROOT))
    from desktop.core.errors import NotFoundError
    from desktop.core.models import install, load_manifest

    name = load_manifest().default("speech").name
    try:
        installed = install(name, folder, offline_only=True)
    except NotFoundError as error:
        raise BuildError(f"--with-models: {error}") from None
    print(f"bundling model {name} from {installed}", flush=True)
    return folder


def folder_size(folder: Path) -> int:
    """Bytes of every file under ``folder`` (links not followed)."""
    return sum(path.lstat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def build(dist: Path, work: Path, *, with_models: bool, clean: bool) -> dict[str, object]:
    """Run PyInstaller on the spec into ``dist/agent-assist``; returns the summary printed at the end."""
    ensure_pyinstaller()
    started = time.monotonic()
    work.mkdir(parents=True, exist_ok=True)
    info = build_info(with_models)
    info_file = work / "build_info.json"
    info_file.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
        "--distpath", str(dist), "--workpath", str(work / "pyinstaller"),
    ]  # fmt: skip
    if clean:
        command.append("--clean")
    command += [str(SPEC), "--", "--build-info", str(info_file)]
    if with_models:
        command += ["--models-dir", str(install_models(work / "models"))]
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same inputs give the same archive
    done = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if done.returncode != 0:
        raise BuildError(f"PyInstaller failed (exit {done.returncode}): see its output above")
    folder = dist / APP_FOLDER
    executable = folder / ("agent-assist.exe" if sys.platform == "win32" else "agent-assist")
    if not executable.is_file():
        raise BuildError(f"PyInstaller finished but {executable} is missing")
    return {
        "path": str(folder),
        "executable": str(executable),
        "size": folder_size(folder),
        "seconds": round(time.monotonic() - started, 1),
        "build_id": info["build_id"],
        "with_models": with_models,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/build.py", description="Build the one-folder frozen app.")
    parser.add_argument("--with-models", action="store_true", help="bundle the default speech model")
    parser.add_argument("--dist", help="output folder (default: dist/, with models: dist/with-models/)")
    parser.add_argument("--work", help="PyInstaller's work folder (default: build/<dist name>)")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first (slower)")
    args = parser.parse_args(argv)
    default_dist = ROOT / "dist" / "with-models" if args.with_models else ROOT / "dist"
    dist = Path(args.dist).expanduser().resolve() if args.dist else default_dist
    work = Path(args.work).expanduser().resolve() if args.work else ROOT / "build" / "pyinstaller"
    if args.with_models and args.work is None:
        work = work.with_name(work.name + "-with-models")
    try:
        if args.clean and (dist / APP_FOLDER).exists():
            shutil.rmtree(dist / APP_FOLDER)
        summary = build(dist, work, with_models=args.with_models, clean=args.clean)
    except BuildError as error:
        print(f"build.py: {error}", file=sys.stderr)
        return 2 if "pinned" in str(error) or "pip" in str(error) else 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
