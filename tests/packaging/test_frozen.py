"""The frozen one-folder build, its smoke test and its Debian package, end to end.

The build is made once per session with ``packaging/build.py`` into ``build/test-dist`` (PyInstaller's work folder
is kept between runs, so a rebuild is quicker), or reused: ``AGENT_ASSIST_FROZEN_BUILD=DIR`` names a folder holding
the ``agent-assist`` executable made earlier in the same CI run. The Debian package test installs the package
(root and dpkg needed: it fails, never skips, without them) and always removes it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
REUSE_ENV = "AGENT_ASSIST_FROZEN_BUILD"

pytestmark = pytest.mark.slow


def _load(name: str) -> ModuleType:
    """A script of packaging/ as a module (not through sys.path: packaging/build.py would shadow PyPA's build)."""
    spec = importlib.util.spec_from_file_location(f"packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


build_deb = _load("build_deb")
smoke_test = _load("smoke_test")


@pytest.fixture(scope="session")
def frozen_app() -> Path:
    """The folder of a frozen build of the current tree (built once per session, or reused from the CI run)."""
    reused = os.environ.get(REUSE_ENV)
    if reused:
        folder = Path(reused)
        if not (folder / "agent-assist").is_file():
            pytest.fail(f"{REUSE_ENV}={reused}: no agent-assist executable there (run python packaging/build.py)")
        return folder
    dist = ROOT / "build" / "test-dist"
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "build.py"), "--dist", str(dist), "--work", str(ROOT / "build" / "test-work")],
        capture_output=True,
        text=True,
        check=False,
        timeout=1500,
    )
    if done.returncode != 0:
        pytest.fail(f"packaging/build.py failed (exit {done.returncode}): {(done.stdout + done.stderr)[-3000:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return Path(summary["path"])


def test_smoke_test_passes_on_the_frozen_build(frozen_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke_test.main([str(frozen_app / "agent-assist")]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("smoke test passed:"), line


def test_build_carries_what_the_app_needs_and_not_what_it_does_not(frozen_app: Path) -> None:
    internal = frozen_app / "_internal"
    plugins = internal / "PySide6" / "Qt" / "plugins"
    for needed in (
        plugins / "platforms" / "libqoffscreen.so",
        plugins / "platforms" / "libqxcb.so",
        plugins / "imageformats" / "libqsvg.so",
        plugins / "imageformats" / "libqjpeg.so",
        internal / "assets" / "policies" / "fr.toml",
        internal / "assets" / "playbooks" / "fr.toml",
        internal / "assets" / "styles" / "panel.qss",
        internal / "assets" / "translations" / "agent_assist_en.qm",
        internal / "assets" / "demo" / "calls.json",
        internal / "models" / "manifest.toml",
        internal / "build_info.json",
    ):
        assert needed.is_file(), f"missing from the build: {needed.relative_to(frozen_app)}"
    names = [path.relative_to(internal).as_posix() for path in internal.rglob("*")]
    unwanted = (
        "torch",
        "tkinter",
        "_tkinter",
        "libtk",
        "libtcl",
        "QtQml",
        "QtQuick",
        "Qt6Qml",
        "Qt6Quick",
        "QtWebEngine",
    )
    offenders = [name for name in names if any(part in name for part in unwanted)]
    assert offenders == []
    assert not list(internal.glob("assets/translations/*.ts"))  # sources stay in the repository
    assert not (internal / "models" / "whisper-base").exists()  # models only with --with-models


def test_smoke_test_fails_on_a_build_missing_the_qt_platform_plugin(frozen_app: Path, tmp_path: Path) -> None:
    broken = tmp_path / "agent-assist"
    shutil.copytree(frozen_app, broken, symlinks=True, copy_function=os.link)  # hard links: quick, no extra space
    (broken / "_internal" / "PySide6" / "Qt" / "plugins" / "platforms" / "libqoffscreen.so").unlink()
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "smoke_test.py"), str(broken / "agent-assist")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("smoke test failed: run --smoke-test"), done.stdout
    assert "Qt platform plugin" in lines[0] or "offscreen" in lines[0], lines[0]


def test_smoke_test_fails_on_a_build_missing_a_data_file(frozen_app: Path, tmp_path: Path) -> None:
    broken = tmp_path / "agent-assist"
    shutil.copytree(frozen_app, broken, symlinks=True, copy_function=os.link)
    (broken / "_internal" / "assets" / "playbooks" / "fr.toml").unlink()
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "smoke_test.py"), str(broken / "agent-assist")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1
    assert done.stdout.startswith("smoke test failed:") and "fr.toml" in done.stdout, done.stdout


def test_debian_package_installs_passes_the_smoke_test_and_removes(frozen_app: Path, tmp_path: Path) -> None:
    if shutil.which("dpkg-deb") is None or shutil.which("readelf") is None:
        pytest.fail("dpkg-deb and readelf are needed: apt-get install dpkg binutils")
    if shutil.which("desktop-file-validate") is None:
        pytest.fail("desktop-file-validate is needed: apt-get install desktop-file-utils")
    if os.geteuid() != 0:
        pytest.fail("the package test installs a .deb: run it as root (CI containers run as root)")
    summary = build_deb.build_deb(frozen_app, tmp_path / "out", tmp_path / "work")
    deb = Path(str(summary["deb"]))
    fields = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "Package: agent-assist" in fields
    depends = next(line for line in fields.splitlines() if line.startswith("Depends:"))
    assert "libc6" in depends and "libxcb1" in depends  # what the xcb platform needs and the build does not carry
    assert "libgtk" not in depends  # an optional plugin's needs never become Depends
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "./usr/bin/agent-assist -> /opt/agent-assist/agent-assist" in contents
    assert "./etc/agent-assist/policy.toml.example" in contents
    assert "./etc/agent-assist/policy.toml\n" not in contents  # the machine policy itself is IT's file

    line = build_deb.install_test(deb)
    assert line.startswith("smoke test passed: /usr/bin/agent-assist"), line
    assert not Path("/opt/agent-assist").exists() and not Path("/usr/bin/agent-assist").exists()
