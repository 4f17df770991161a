"""The crash handler: nothing the agent said is lost, the error is written down, and reported at next start.

:func:`install_crash_handler` sets up, for the life of the process:

- ``faulthandler`` writing to ``crash.log`` in the log folder (a hard crash: segfault, abort);
- ``sys.excepthook`` and ``threading.excepthook``: the traceback goes to the log, a JSON crash report
  (``crash-<time>-<pid>.json``: time, version, exception, the last lines of the log ring) to the log folder,
  and, when a QApplication exists, a message box tells the agent (in French) that the call data is safe.

At the next start :func:`pending_crash_reports` lists the reports not yet shown (a non-empty ``crash.log`` left
by a hard crash becomes one), :func:`pending_crashes_dialog` builds the dialog that lists them and
:func:`acknowledge` files a report away once shown. Every path here copes with ``sys.stderr`` being None (a
windowed frozen build).
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import json
import logging
import os
import platform
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from desktop import __version__
from desktop.log import recent_lines, redact

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger("agent_assist.crash")

FAULT_LOG = "crash.log"
REPORT_GLOB = "crash-*"
ACKNOWLEDGED_DIR = "reported"


def _stamp() -> str:
    return dt.datetime.now().astimezone().strftime("%Y%m%dT%H%M%S%f")


def write_crash_report(
    log_dir: Path,
    exc_type: type[BaseException],
    exc: BaseException | None,
    tb: TracebackType | None,
    *,
    thread: str | None = None,
) -> Path:
    """Write one crash report (JSON, numbers masked) and return its path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    report = {
        "time": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "thread": thread or threading.current_thread().name,
        "exception": {
            "type": f"{exc_type.__module__}.{exc_type.__qualname__}",
            "message": redact(str(exc)) if exc is not None else "",
            "traceback": redact(text),
        },
        "log": recent_lines(),
    }
    path = log_dir / f"crash-{_stamp()}-{os.getpid()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def pending_crash_reports(log_dir: Path) -> list[Path]:
    """Crash reports (``crash-*.json``) and hard-crash logs (``crash-*.log``) not yet acknowledged, oldest first."""
    if not log_dir.is_dir():
        return []
    found = [path for path in log_dir.glob(REPORT_GLOB) if path.suffix in (".json", ".log") and path.is_file()]
    return sorted(found, key=lambda path: (path.stat().st_mtime, path.name))


def acknowledge(report: Path) -> Path:
    """Move a report shown to the agent into ``reported/`` (kept for IT); returns its new path."""
    folder = report.parent / ACKNOWLEDGED_DIR
    folder.mkdir(exist_ok=True)
    target = folder / report.name
    os.replace(report, target)
    return target


def describe_report(report: Path) -> str:
    """One line for the agent: when, and what failed (the exception type, no message: it may hold data)."""
    if report.suffix == ".log":
        return f"{report.name} : arrêt brutal (journal faulthandler)"
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        return f"{data.get('time', '?')} : {data.get('exception', {}).get('type', '?')}"
    except (OSError, ValueError, AttributeError):
        return f"{report.name} : rapport illisible"


class CrashHandler:
    """What :func:`install_crash_handler` installed; :meth:`uninstall` puts the previous hooks back."""

    def __init__(self, log_dir: Path, *, dialogs: bool = True) -> None:
        self.log_dir = log_dir
        self.dialogs = dialogs
        self.reports: list[Path] = []
        self._fault_file: IO[str] | None = None
        self._previous_excepthook = sys.excepthook
        self._previous_threading_hook = threading.excepthook
        self._relay: Any = None
        self._dialogs: list[Any] = []
        self._handling = False

    # -- installing --------------------------------------------------------------------------------------------

    def install(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._keep_previous_fault_log()
        self._fault_file = open(self.log_dir / FAULT_LOG, "w", encoding="utf-8")  # noqa: SIM115 (open for life)
        faulthandler.enable(file=self._fault_file, all_threads=True)
        sys.excepthook = self._on_exception
        threading.excepthook = self._on_thread_exception

    def uninstall(self) -> None:
        sys.excepthook = self._previous_excepthook
        threading.excepthook = self._previous_threading_hook
        if self._fault_file is not None:
            faulthandler.disable()
            self._fault_file.close()
            self._fault_file = None

    def _keep_previous_fault_log(self) -> None:
        """A non-empty crash.log means the last run died hard: keep it as a pending report."""
        path = self.log_dir / FAULT_LOG
        try:
            if path.stat().st_size > 0:
                os.replace(path, self.log_dir / f"crash-{_stamp()}-fatal.log")
        except OSError:
            pass

    # -- hooks -------------------------------------------------------------------------------------------------

    def _on_exception(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            if sys.stderr is not None:
                self._previous_excepthook(exc_type, exc, tb)
            return
        if _interactive_stderr():  # a developer at a terminal sees the traceback too
            self._previous_excepthook(exc_type, exc, tb)
        report = self._handle(exc_type, exc, tb, thread=None)
        if report is not None and self.dialogs:
            self._show_dialog(report)

    def _on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        thread = args.thread.name if args.thread is not None else None
        report = self._handle(args.exc_type, args.exc_value, args.exc_traceback, thread=thread)
        if report is not None and self.dialogs:
            self._show_dialog(report)

    def _handle(
        self,
        exc_type: type[BaseException],
        exc: BaseException | None,
        tb: TracebackType | None,
        *,
        thread: str | None,
    ) -> Path | None:
        if self._handling:  # an error while handling an error: do not loop
            return None
        self._handling = True
        try:
            where = f" in thread {thread}" if thread else ""
            if exc is not None:
                log.critical("uncaught exception%s", where, exc_info=(exc_type, exc, tb))
            else:  # threading.excepthook may give a type without an instance
                log.critical("uncaught exception%s: %s", where, exc_type.__name__)
            try:
                report = write_crash_report(self.log_dir, exc_type, exc, tb, thread=thread)
            except OSError as error:
                log.error("could not write the crash report: %s", error)
                return None
            self.reports.append(report)
            log.error("crash report written: %s", report.name)
            return report
        finally:
            self._handling = False

    def _show_dialog(self, report: Path) -> None:
        """Tell the agent, from the GUI thread, and only when there is a QApplication."""
        if "PySide6.QtWidgets" not in sys.modules:
            return
        try:
            from PySide6.QtCore import QThread
            from PySide6.QtWidgets import QApplication

            app = QApplication.instance()
            if not isinstance(app, QApplication):
                return
            if QThread.currentThread() is app.thread():
                self._keep_shown(crash_dialog(report))
            else:
                self._relay_for(app).report_written.emit(str(report))
        except Exception:  # the dialog is a courtesy; the report is already on disk
            log.exception("could not show the crash dialog")

    def _keep_shown(self, box: QMessageBox) -> None:
        """Show a parentless box, holding a reference until it is closed (else Python would delete it)."""
        self._dialogs.append(box)
        box.finished.connect(lambda _result: self._dialogs.remove(box) if box in self._dialogs else None)
        box.show()

    def _relay_for(self, app: Any) -> Any:
        if self._relay is None:
            from PySide6.QtCore import QObject, Signal, Slot

            handler = self

            class _Relay(QObject):
                """Lives in the GUI thread so a worker thread's crash reaches the dialog queued."""

                report_written = Signal(str)

                @Slot(str)
                def show_dialog(self, path: str) -> None:
                    handler._keep_shown(crash_dialog(Path(path)))

            relay = _Relay()
            relay.moveToThread(app.thread())
            relay.report_written.connect(relay.show_dialog)
            self._relay = relay
        return self._relay


def _interactive_stderr() -> bool:
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


_handler: CrashHandler | None = None


def install_crash_handler(log_dir: Path, *, dialogs: bool = True) -> CrashHandler:
    """Install the hooks (replacing a previous install) and return the handler."""
    global _handler
    if _handler is not None:
        _handler.uninstall()
    _handler = CrashHandler(log_dir, dialogs=dialogs)
    _handler.install()
    return _handler


# -- dialogs (Qt imported only here) -----------------------------------------------------------------------------


def crash_dialog(report: Path, parent: QWidget | None = None) -> QMessageBox:
    """The message box shown when the app hits an error; not yet shown (the caller calls show() or exec())."""
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(QCoreApplication.translate("CrashDialog", "Agent Assist : erreur"))
    box.setText(QCoreApplication.translate("CrashDialog", "Agent Assist a rencontré une erreur."))
    box.setInformativeText(
        QCoreApplication.translate(
            "CrashDialog",
            "Les données de l'appel sont enregistrées et en sécurité. Vous pouvez continuer ; si le problème "
            "se répète, redémarrez l'application et prévenez le support.",
        )
    )
    box.setDetailedText(QCoreApplication.translate("CrashDialog", "Rapport d'erreur : {path}").format(path=report))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    return box


def pending_crashes_dialog(reports: list[Path], parent: QWidget | None = None) -> QMessageBox:
    """The message box listing the reports of earlier crashes (at start); not yet shown."""
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(QCoreApplication.translate("CrashDialog", "Agent Assist : erreur précédente"))
    box.setText(
        QCoreApplication.translate(
            "CrashDialog", "Agent Assist a rencontré une erreur lors d'une utilisation précédente."
        )
    )
    box.setInformativeText(
        QCoreApplication.translate(
            "CrashDialog",
            "Les appels en cours ont été conservés. Transmettez ces rapports au support : ils sont dans {folder}",
        ).format(folder=reports[0].parent if reports else "?")
    )
    box.setDetailedText("\n".join(describe_report(report) for report in reports))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    return box


def report_pending_crashes(log_dir: Path, parent: QWidget | None = None) -> QMessageBox | None:
    """At start: show the dialog listing earlier crash reports (non-blocking) and acknowledge them."""
    reports = pending_crash_reports(log_dir)
    if not reports:
        return None
    box = pending_crashes_dialog(reports, parent)
    for report in reports:
        try:
            acknowledge(report)
        except OSError as error:
            log.warning("could not file crash report %s away: %s", report.name, error)
    log.info("%d earlier crash report(s) shown", len(reports))
    box.show()
    return box
