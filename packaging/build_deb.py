"""Debian package of the frozen app: ``python packaging/build_deb.py [--app DIR] [--out DIR] [--test]``.

Packs the one-folder build (default ``dist/agent-assist``, made by ``packaging/build.py``) with ``dpkg-deb``:

- ``/opt/agent-assist/``: the frozen build; ``/usr/bin/agent-assist``: a link to its executable;
- ``/usr/share/applications/agent-assist.desktop`` and the icon (hicolor, scalable);
- ``/etc/agent-assist/policy.toml.example``: a commented example of the machine policy (a conffile);
- ``/var/lib/agent-assist/models/``: the machine-wide models folder (``sudo agent-assist models install ...``);
- ``Depends``: the Debian packages holding the shared libraries the build needs and does not carry (computed
  from the ELF files, like dpkg-shlibdeps: the Qt xcb platform's libraries among them); libraries needed only by
  optional Qt plugins (Wayland, GTK theme, EGLFS...) go to ``Recommends``.

``--test`` then installs the package (``dpkg -i``, as root), runs ``packaging/smoke_test.py`` on
``/usr/bin/agent-assist``, checks the files are in place, and removes it (``dpkg -r``), even on failure.
The last line printed is a JSON summary. Exit codes: 0 done, 1 the package or its test failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
DEB = HERE / "deb"
PACKAGE = "agent-assist"
PREFIX = Path("opt") / PACKAGE
#: Qt plugins whose missing libraries only disable that plugin: their needs are Recommends, not Depends.
OPTIONAL_PLUGINS = (
    "platforms/libqwayland", "platforms/libqeglfs", "platforms/libqvnc", "platforms/libqvkkhrdisplay",
    "platforms/libqlinuxfb", "platforms/libqminimalegl", "platformthemes/", "wayland-", "egldeviceintegrations/",
    "platforminputcontexts/", "networkinformation/", "generic/",
)  # fmt: skip


class PackagingError(Exception):
    """The package cannot be built or does not pass its test; the message says why."""


#: The Debian package of each tool this script runs, for the "not installed" message.
TOOLS = {"readelf": "binutils", "desktop-file-validate": "desktop-file-utils", "ldconfig": "libc-bin"}


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]
    except FileNotFoundError:
        package = TOOLS.get(command[0], "dpkg")
        raise PackagingError(f"{command[0]} is not installed: apt-get install {package}") from None


def _elf_files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as stream:
                if stream.read(4) == b"\x7fELF":
                    yield path


def _needed(path: Path) -> list[str]:
    done = _run(["readelf", "-d", "--wide", str(path)])
    return [line.split("[", 1)[1].split("]", 1)[0] for line in done.stdout.splitlines() if "(NEEDED)" in line]


def _is_root(relative: str) -> bool:
    """Where the loader starts: the executables, Python's extension modules and the Qt plugins."""
    name = relative.rsplit("/", 1)[-1]
    return "/" not in relative or ".cpython-" in name or name.endswith(".abi3.so") or "/plugins/" in relative


def _is_optional(relative: str) -> bool:
    return "/plugins/" in relative and relative.split("/plugins/", 1)[1].startswith(OPTIONAL_PLUGINS)


def system_libraries(app: Path) -> tuple[set[str], set[str]]:
    """The shared libraries the build needs but does not carry: (needed by the app, needed only by optional plugins).

    Walks the NEEDED entries from the executables, the extension modules and the Qt plugins through the bundled
    libraries (a bundled library only an optional plugin loads, such as Qt's Wayland client, is optional too).
    """
    elves = {path.relative_to(app).as_posix(): path for path in _elf_files(app)}
    by_name: dict[str, str] = {}
    for relative in elves:
        by_name.setdefault(relative.rsplit("/", 1)[-1], relative)
    for link in app.rglob("*.so*"):  # sonames that are links to a bundled file
        if link.is_symlink() and link.resolve().is_file():
            by_name.setdefault(link.name, link.resolve().relative_to(app.resolve()).as_posix())
    needed = {relative: _needed(path) for relative, path in elves.items()}

    def walk(roots: Iterable[str]) -> set[str]:
        seen, system, todo = set(), set(), list(roots)
        while todo:
            relative = todo.pop()
            if relative in seen:
                continue
            seen.add(relative)
            for soname in needed.get(relative, []):
                if soname in by_name:
                    todo.append(by_name[soname])
                else:
                    system.add(soname)
        return system

    roots = [relative for relative in elves if _is_root(relative)]
    required = walk(relative for relative in roots if not _is_optional(relative))
    optional = walk(relative for relative in roots if _is_optional(relative))
    return required, optional - required


def _library_paths() -> dict[str, str]:
    done = _run(["ldconfig", "-p"])
    paths: dict[str, str] = {}
    wide = sys.maxsize > 2**32
    for line in done.stdout.splitlines()[1:]:
        if "=>" not in line:
            continue
        left, path = line.split("=>", 1)
        if wide and "64" not in left:  # e.g. "(libc6)": an i386 library of a multiarch system
            continue
        paths.setdefault(left.strip().split(" ", 1)[0], path.strip())
    return paths


def packages_for(sonames: Iterable[str]) -> tuple[list[str], list[str]]:
    """The Debian packages holding the libraries (``dpkg -S``), and the libraries found on no package here."""
    paths = _library_paths()
    packages: set[str] = set()
    unknown = []
    for soname in sorted(sonames):
        path = paths.get(soname)
        owner = None
        if path:
            for candidate in (path, str(Path(path).resolve())):
                done = _run(["dpkg", "-S", candidate])
                if done.returncode == 0:
                    owner = done.stdout.split(":", 1)[0].strip()
                    break
                if candidate.startswith("/lib/"):  # merged /usr: dpkg may know it under /usr/lib
                    done = _run(["dpkg", "-S", "/usr" + candidate])
                    if done.returncode == 0:
                        owner = done.stdout.split(":", 1)[0].strip()
                        break
        if owner:
            packages.add(owner)
        else:
            unknown.append(soname)
    return sorted(packages), unknown


def _folder_kib(folder: Path) -> int:
    return sum(path.lstat().st_size for path in folder.rglob("*") if not path.is_dir()) // 1024 + 1


def stage(app: Path, staging: Path, info: dict[str, object], arch: str) -> dict[str, object]:
    """Lay out the package's files and DEBIAN/ under ``staging``; returns the control fields chosen."""
    if staging.exists():
        shutil.rmtree(staging)
    opt = staging / PREFIX
    shutil.copytree(app, opt, symlinks=True)
    bin_dir = staging / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / PACKAGE).symlink_to(f"/{PREFIX}/{PACKAGE}")
    applications = staging / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    shutil.copy2(DEB / "agent-assist.desktop", applications / "agent-assist.desktop")
    icons = staging / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps"
    icons.mkdir(parents=True)
    shutil.copy2(DEB / "agent-assist.svg", icons / "agent-assist.svg")
    doc = staging / "usr" / "share" / "doc" / PACKAGE
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "Agent Assist\nCopyright: the Agent Assist maintainers. Proprietary; see the bundled licences of the\n"
        "third-party components under /opt/agent-assist/_internal.\n",
        encoding="utf-8",
    )
    etc = staging / "etc" / PACKAGE
    etc.mkdir(parents=True)
    shutil.copy2(DEB / "policy.toml.example", etc / "policy.toml.example")
    (staging / "var" / "lib" / PACKAGE / "models").mkdir(parents=True)

    required, optional = system_libraries(app)
    depends, unknown = packages_for(required)
    if unknown:
        raise PackagingError(
            f"no installed Debian package holds {', '.join(unknown)}: install the packages providing them on the"
            " build machine (see docs/it.md) so that Depends can name them"
        )
    recommends, _ = packages_for(optional)
    recommends = [name for name in recommends if name not in depends]
    control_dir = staging / "DEBIAN"
    control_dir.mkdir()
    version = f"{info['version']}+{info['build_id']}"
    control = (DEB / "control.in").read_text(encoding="utf-8")
    for key, value in {
        "@VERSION@": version,
        "@ARCH@": arch,
        "@INSTALLED_SIZE@": str(_folder_kib(staging) - _folder_kib(control_dir)),
        "@DEPENDS@": ", ".join(depends),
    }.items():
        control = control.replace(key, value)
    if recommends:
        control = control.replace("Depends:", f"Recommends: {', '.join(recommends)}\nDepends:", 1)
    (control_dir / "control").write_text(control, encoding="utf-8")
    (control_dir / "conffiles").write_text(f"/etc/{PACKAGE}/policy.toml.example\n", encoding="utf-8")
    shutil.copy2(DEB / "postrm", control_dir / "postrm")
    (control_dir / "postrm").chmod(0o755)
    for path in [staging, *staging.rglob("*")]:  # dpkg wants 0755 folders whatever the umask was
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    return {"version": version, "depends": depends, "recommends": recommends}


#: dpkg-deb compressor and level: zstd packs the 600 MB build in seconds where xz takes minutes (Debian 12,
#: Ubuntu 18.04 and later read it); ``--compression xz`` gives a smaller file for a release.
COMPRESSION = {"zstd": ["-Zzstd", "-z9"], "xz": ["-Zxz", "-z6"], "gzip": ["-Zgzip", "-z6"]}


def build_deb(app: Path, out: Path, work: Path, compression: str = "zstd") -> dict[str, object]:
    """Build ``out/agent-assist_<version>_<arch>.deb`` from the frozen folder ``app``; returns a summary."""
    started = time.monotonic()
    info_path = app / "_internal" / "build_info.json"
    if not info_path.is_file():
        raise PackagingError(f"{app} is not a build of packaging/build.py (no _internal/build_info.json)")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    arch = _run(["dpkg", "--print-architecture"]).stdout.strip()
    if not arch:
        raise PackagingError("dpkg --print-architecture gave nothing: build the package on Debian or Ubuntu")
    staging = work / "deb-root"
    fields = stage(app, staging, info, arch)
    out.mkdir(parents=True, exist_ok=True)
    deb = out / f"{PACKAGE}_{fields['version']}_{arch}.deb"
    done = _run(["dpkg-deb", "--root-owner-group", *COMPRESSION[compression], "--build", str(staging), str(deb)])
    if done.returncode != 0:
        raise PackagingError(
            f"dpkg-deb failed: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}"
        )
    shutil.rmtree(staging)
    return {"deb": str(deb), "size": deb.stat().st_size, "seconds": round(time.monotonic() - started, 1), **fields}


def install_test(deb: Path, *, expect_models: bool = False) -> str:
    """Install ``deb``, smoke-test ``/usr/bin/agent-assist``, check the files, remove it (always); the smoke line."""
    if os.geteuid() != 0:
        raise PackagingError("--test installs the package: run it as root (sudo)")
    already = _run(["dpkg-query", "-W", "-f=${Status}", PACKAGE])
    if already.returncode == 0 and "installed" in already.stdout and "not-installed" not in already.stdout:
        raise PackagingError(f"{PACKAGE} is already installed here: remove it first (dpkg -r {PACKAGE})")
    done = _run(["dpkg", "-i", str(deb)], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    try:
        if done.returncode != 0:
            missing = [line.strip() for line in done.stderr.splitlines() if "depends on" in line]
            hint = f" (apt-get install -f, or apt-get install ./{deb.name}): {'; '.join(missing)}" if missing else ""
            raise PackagingError(f"dpkg -i failed{hint}: {_last(done.stderr)}")
        for path in (
            Path("/usr/bin/agent-assist"),
            Path("/opt/agent-assist/agent-assist"),
            Path("/usr/share/applications/agent-assist.desktop"),
            Path("/usr/share/icons/hicolor/scalable/apps/agent-assist.svg"),
            Path("/etc/agent-assist/policy.toml.example"),
            Path("/var/lib/agent-assist/models"),
        ):
            if not path.exists():
                raise PackagingError(f"installed package lacks {path}")
        desktop_check = _run(["desktop-file-validate", "/usr/share/applications/agent-assist.desktop"])
        complaints = [line for line in desktop_check.stdout.splitlines() if "error:" in line or "warning:" in line]
        if desktop_check.returncode != 0 or complaints:
            raise PackagingError(f"desktop entry: {(complaints or [_last(desktop_check.stdout)])[0].strip()}")
        command = [sys.executable, str(HERE / "smoke_test.py"), "/usr/bin/agent-assist"]
        if expect_models:
            command.append("--expect-models")
        smoke = _run(command)
        if smoke.returncode != 0:
            raise PackagingError(f"installed package: {_last(smoke.stdout + smoke.stderr)}")
        return _last(smoke.stdout)
    finally:
        removed = _run(["dpkg", "-r", PACKAGE])
        if removed.returncode != 0 and done.returncode == 0:
            raise PackagingError(f"dpkg -r {PACKAGE} failed: {_last(removed.stderr)}")
        if Path("/opt/agent-assist/agent-assist").exists() or Path("/usr/bin/agent-assist").exists():
            raise PackagingError("dpkg -r left /opt/agent-assist or /usr/bin/agent-assist behind")


def _last(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/build_deb.py", description="Debian package of the frozen app.")
    parser.add_argument("--app", default=str(ROOT / "dist" / "agent-assist"), help="the frozen one-folder build")
    parser.add_argument("--out", default=str(ROOT / "dist"), help="where the .deb goes (default: dist/)")
    parser.add_argument("--work", default=str(ROOT / "build" / "deb"), help="staging folder (default: build/deb)")
    parser.add_argument("--compression", choices=sorted(COMPRESSION), default="zstd", help="default: zstd")
    parser.add_argument("--test", action="store_true", help="then install it, smoke-test it and remove it (root)")
    parser.add_argument("--expect-models", action="store_true", help="the build bundles the speech model")
    args = parser.parse_args(argv)
    app = Path(args.app).expanduser().resolve()
    if not (app / PACKAGE).is_file():
        print(f"build_deb.py: no frozen build in {app}: run python packaging/build.py first", file=sys.stderr)
        return 2
    try:
        out, work = Path(args.out).expanduser().resolve(), Path(args.work).expanduser().resolve()
        summary = build_deb(app, out, work, args.compression)
        if args.test:
            summary["smoke_test"] = install_test(Path(str(summary["deb"])), expect_models=args.expect_models)
    except PackagingError as error:
        print(f"build_deb.py: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
