"""The English translation covers every string of the interface, and the shipped ``.qm`` is built from the
``.ts``: a new French string without its English fails here (update with the commands in
``assets/translations/README.md``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from desktop.paths import assets_dir

ROOT = Path(__file__).resolve().parents[3]
TRANSLATIONS = assets_dir() / "translations"
SOURCES = sorted(
    str(path.relative_to(ROOT))
    for pattern in ("desktop/ui/*.py", "desktop/ui/widgets/*.py", "desktop/crash.py", "desktop/app.py")
    for path in ROOT.glob(pattern)
)


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} not found: it comes with PySide6-Essentials"
    return found


def test_every_string_has_its_english(tmp_path: Path) -> None:
    ts = tmp_path / "agent_assist_en.ts"
    shutil.copy(TRANSLATIONS / "agent_assist_en.ts", ts)
    subprocess.run([_tool("pyside6-lupdate"), *SOURCES, "-ts", str(ts), "-no-obsolete"], cwd=ROOT, check=True)
    untranslated = [
        f"{context.findtext('name')}: {message.findtext('source')!r}"
        for context in ET.parse(ts).getroot()
        for message in context.findall("message")
        if message.find("translation") is None
        or message.find("translation").get("type") in ("unfinished", "vanished", "obsolete")  # type: ignore[union-attr]
        or not (message.findtext("translation") or "").strip()
    ]
    assert not untranslated, "strings without English:\n" + "\n".join(untranslated)


def test_the_shipped_qm_is_built_from_the_ts(tmp_path: Path) -> None:
    qm = tmp_path / "agent_assist_en.qm"
    subprocess.run(
        [_tool("pyside6-lrelease"), str(TRANSLATIONS / "agent_assist_en.ts"), "-qm", str(qm)],
        check=True,
        capture_output=True,
    )
    assert qm.read_bytes() == (TRANSLATIONS / "agent_assist_en.qm").read_bytes(), "run lrelease again"
