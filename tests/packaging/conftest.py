"""The Debian packages the packaging tests need, installed the way the baresip tests install theirs: as root
(CI), with apt; otherwise the test fails naming what to install. libxcb-icccm4 and libxcb-keysyms1 are what Qt's
X11 platform plugin links to (the package's Depends are computed from them); desktop-file-utils validates the
desktop entry."""

from __future__ import annotations

import os
import subprocess

import pytest

PACKAGES = ("libxcb-icccm4", "libxcb-keysyms1", "desktop-file-utils", "binutils")


def _missing() -> list[str]:
    missing = []
    for package in PACKAGES:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in done.stdout:
            missing.append(package)
    return missing


@pytest.fixture(scope="session", autouse=True)
def debian_packages() -> None:
    missing = _missing()
    if not missing:
        return
    if os.geteuid() != 0:
        pytest.fail(f"the packaging tests need: apt-get install -y {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *missing]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, env=env)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed: {(done.stdout + done.stderr)[-2000:]}")
    if _missing():
        pytest.fail(f"installed, but still missing: {' '.join(_missing())}")
