from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from desktop import __version__
from desktop.crash import (
    ACKNOWLEDGED_DIR,
    CrashHandler,
    acknowledge,
    crash_dialog,
    pending_crash_reports,
    pending_crashes_dialog,
    report_pending_crashes,
    write_crash_report,
)

ROOT = Path(__file__).parents[2]
NUMBER = "+33639980001"


def run_script(code: str, log_dir: Path) -> subprocess.CompletedProcess[str]:
    prelude = f"""
        import sys, threading
        from pathlib import Path
        from desktop.log import setup_logging, logger
        from desktop.crash import install_crash_handler
        log_dir = Path({str(log_dir)!r})
    """
    script = textwrap.dedent(prelude) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def test_uncaught_exception_writes_a_report_reported_at_next_start(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    result = run_script(
        f"""
        sys.stderr = None  # a windowed frozen build has no stderr
        setup_logging(log_dir, qt=False)
        install_crash_handler(log_dir)
        logger("calls").info("call abc started")
        raise RuntimeError("boom while calling {NUMBER}")
        """,
        log_dir,
    )
    assert result.returncode == 1, result.stderr
    reports = pending_crash_reports(log_dir)
    assert len(reports) == 1 and reports[0].suffix == ".json"
    report = json.loads(reports[0].read_text(encoding="utf-8"))
    assert report["version"] == __version__ and report["time"]
    assert report["exception"]["type"] == "builtins.RuntimeError"
    assert report["exception"]["message"] == "boom while calling +•••••••••01"
    assert (
        report["exception"]["traceback"].startswith("Traceback") and "in <module>" in report["exception"]["traceback"]
    )
    assert any("call abc started" in line for line in report["log"])
    assert NUMBER not in reports[0].read_text(encoding="utf-8")
    log_text = (log_dir / "agent-assist.log").read_text(encoding="utf-8")
    assert '"level": "CRITICAL"' in log_text and "uncaught exception" in log_text and NUMBER not in log_text
    # Next start: listed once, then acknowledged (kept for IT under reported/).
    moved = acknowledge(reports[0])
    assert moved.parent.name == ACKNOWLEDGED_DIR and moved.exists()
    assert pending_crash_reports(log_dir) == []


def test_exception_in_a_thread_is_reported(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    result = run_script(
        """
        setup_logging(log_dir, qt=False)
        install_crash_handler(log_dir)
        def work():
            raise KeyError("missing")
        thread = threading.Thread(target=work, name="sync-worker")
        thread.start()
        thread.join()
        print("main thread still running")
        """,
        log_dir,
    )
    assert result.returncode == 0 and "main thread still running" in result.stdout
    (report,) = pending_crash_reports(log_dir)
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["thread"] == "sync-worker" and data["exception"]["type"] == "builtins.KeyError"


def test_hard_crash_leaves_a_fault_log_reported_at_next_start(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    crashed = run_script(
        """
        import faulthandler, resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        install_crash_handler(log_dir)
        faulthandler._sigsegv()
        """,
        log_dir,
    )
    assert crashed.returncode != 0
    assert "Fatal Python error" in (log_dir / "crash.log").read_text(encoding="utf-8")
    restarted = run_script(
        """
        from desktop.crash import pending_crash_reports
        install_crash_handler(log_dir)
        print([path.name for path in pending_crash_reports(log_dir)])
        """,
        log_dir,
    )
    assert restarted.returncode == 0, restarted.stderr
    (report,) = pending_crash_reports(log_dir)
    assert report.name.endswith("-fatal.log") and "Fatal Python error" in report.read_text(encoding="utf-8")
    assert (log_dir / "crash.log").read_text(encoding="utf-8") == ""


def _report(log_dir: Path) -> Path:
    try:
        raise ValueError("x")
    except ValueError as error:
        return write_crash_report(log_dir, ValueError, error, error.__traceback__)


def test_crash_dialog_tells_the_agent_the_call_data_is_safe(qtbot: QtBot, tmp_path: Path) -> None:
    box = crash_dialog(_report(tmp_path))
    qtbot.addWidget(box)
    assert box.icon() == QMessageBox.Icon.Critical
    assert "erreur" in box.text()
    assert "Les données de l'appel sont enregistrées et en sécurité" in box.informativeText()
    assert "crash-" in box.detailedText()


def test_pending_reports_dialog_lists_them_and_acknowledges(qtbot: QtBot, tmp_path: Path) -> None:
    first, second = _report(tmp_path), _report(tmp_path)
    (tmp_path / "crash-20261124T103000000000-fatal.log").write_text("Fatal Python error: Segmentation fault\n")
    reports = pending_crash_reports(tmp_path)
    assert len(reports) == 3
    box = pending_crashes_dialog(reports)
    qtbot.addWidget(box)
    details = box.detailedText().splitlines()
    assert len(details) == 3 and sum("builtins.ValueError" in line for line in details) == 2
    assert any("arrêt brutal" in line for line in details)
    shown = report_pending_crashes(tmp_path)
    assert shown is not None
    qtbot.addWidget(shown)
    assert shown.isVisible() and "précédente" in shown.text()
    assert pending_crash_reports(tmp_path) == []
    assert (tmp_path / ACKNOWLEDGED_DIR / first.name).exists() and (tmp_path / ACKNOWLEDGED_DIR / second.name).exists()
    assert report_pending_crashes(tmp_path) is None


def _crash_boxes() -> list[QMessageBox]:
    return [
        widget
        for widget in QApplication.topLevelWidgets()
        if isinstance(widget, QMessageBox) and widget.isVisible() and "Agent Assist a rencontré" in widget.text()
    ]


@pytest.mark.parametrize("in_thread", [False, True], ids=["gui-thread", "worker-thread"])
def test_handler_shows_the_dialog_from_any_thread(qtbot: QtBot, tmp_path: Path, in_thread: bool) -> None:
    handler = CrashHandler(tmp_path)  # hooks not installed: called directly, as Python would
    try:
        raise RuntimeError("in a slot")
    except RuntimeError as error:
        exc_info = (RuntimeError, error, error.__traceback__)
    if in_thread:
        args = threading.ExceptHookArgs((*exc_info, threading.current_thread()))
        worker = threading.Thread(target=handler._on_thread_exception, args=(args,))
        worker.start()
        worker.join()
    else:
        handler._on_exception(*exc_info)
    qtbot.waitUntil(lambda: len(_crash_boxes()) == 1, timeout=2000)
    for box in _crash_boxes():
        box.close()
    assert len(handler.reports) == 1 and handler.reports[0].exists()
