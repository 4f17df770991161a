"""The line between plain Python and Qt: nothing under desktop/core imports Qt (the CLI and tests rely on it)."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).parents[2] / "desktop" / "core"
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6")


def test_core_never_imports_qt() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}:{node.lineno}" for name in names if name.split(".")[0] in QT]
    assert offenders == []
    assert len(list(CORE.rglob("*.py"))) > 5  # the scan did look at the package
