"""Logging: one logger per area under ``agent_assist.*``, a rotating JSON-lines file, a ring of recent lines.

:func:`setup_logging` wires the handlers once per process (calling it again replaces them):

- a rotating file ``agent-assist.log`` (5 × 2 MB) in the user log folder, one JSON object a line:
  ``{"ts", "level", "logger", "msg"}``, plus ``"stage"`` and ``"fields"`` for :func:`log_stage` records and
  ``"exc"`` when a traceback is attached;
- optionally the same JSON lines on stderr (the end-to-end tests read them), or plain lines for a person;
- an in-memory ring of the last :data:`RING_SIZE` lines, which the crash report includes;
- Qt's own messages (``qInstallMessageHandler``), routed to ``agent_assist.qt`` when PySide6 is importable.

Privacy: every record above DEBUG goes through :class:`PrivacyFilter`, which masks phone numbers (all digits
but the last two), card numbers and IBANs. It is the last line of defence, not a licence: callers still never
log transcript, suggestion or summary text above DEBUG.

Importing this module imports no Qt and creates no application.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import logging.handlers
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import platformdirs

ROOT = "agent_assist"
#: The areas of the application, each with its logger ``agent_assist.<area>``.
AREAS = ("app", "stage", "calls", "store", "consent", "telephony", "speech", "assist", "crm", "ui", "qt", "crash")
LOG_FILE = "agent-assist.log"
LOG_DIR_ENV = "AGENT_ASSIST_LOG_DIR"
MAX_BYTES = 2 * 1024 * 1024
BACKUP_COUNT = 5
RING_SIZE = 500

_STAGE_LOGGER = f"{ROOT}.stage"
_lock = threading.Lock()
_installed: list[logging.Handler] = []
_previous_root_level: int | None = None
_previous_qt_handler: Any = None
_qt_installed = False
_ring: RingHandler | None = None


def logger(area: str) -> logging.Logger:
    """The logger of one area of the application (``agent_assist.<area>``)."""
    return logging.getLogger(f"{ROOT}.{area}")


def default_log_dir() -> Path:
    """``$AGENT_ASSIST_LOG_DIR``, else the platform's user log folder."""
    explicit = os.environ.get(LOG_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_log_dir("agent-assist", appauthor=False))


# -- privacy -----------------------------------------------------------------------------------------------------

_EDGE_BEFORE = r"(?<![0-9A-Za-z+])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
_SENSITIVE = re.compile(
    _EDGE_BEFORE
    + r"(?:"
    # IBAN: country, check digits, then 11 to 30 letters or digits, optionally in groups of four.
    + r"(?P<iban>[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30})"
    # International numbers: +33 6 39 98 00 01, +212-6-61-00-00-00, 0033 639980001.
    + r"|(?P<intl>(?:\+|00)[1-9]\d{0,2}(?:[ .\-]?\(0\))?(?:[ .\-]?\d){6,13})"
    # French national numbers: 06 39 98 00 01, 06.39.98.00.01, 0639980001.
    + r"|(?P<national>0[1-9](?:[ .\-]?\d{2}){4})"
    # Card numbers and other long digit runs (13 to 19 digits, spaces or dashes allowed).
    + r"|(?P<card>\d(?:[ \-]?\d){12,18})"
    # Any other run of 9 or more digits could be a number written in an unusual way.
    + r"|(?P<digits>\d{9,})"
    + r")"
    + _EDGE_AFTER
)
_MASK = "•"


def _mask_digits(text: str, visible: int) -> str:
    positions = [index for index, ch in enumerate(text) if ch.isdigit()]
    hidden = set(positions[: max(len(positions) - visible, 0)])
    return "".join(_MASK if index in hidden else ch for index, ch in enumerate(text))


def _mask_match(match: re.Match[str]) -> str:
    text = match.group(0)
    kind = match.lastgroup
    if kind == "iban":
        compact = text.replace(" ", "")
        return compact[:2] + _MASK * (len(compact) - 6) + compact[-4:]
    if kind == "card":
        return _mask_digits(text, 4)
    return _mask_digits(text, 2)


def redact(text: str) -> str:
    """Text safe to keep in a log: phone numbers, card numbers and IBANs masked (phones keep 2 digits)."""
    if not any(ch.isdigit() for ch in text):
        return text
    return _SENSITIVE.sub(_mask_match, text)


class PrivacyFilter(logging.Filter):
    """Masks numbers in every record above DEBUG: message, arguments, traceback and stage fields.

    Attached to each handler; it rewrites the record in place (masking is idempotent), so every handler after
    the first sees the masked record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG or getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what was given, masked
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {key: _redact_value(value) for key, value in fields.items()}
        record._redacted = True
        return True


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**8:
        return redact(str(value))
    return value


# -- formats -----------------------------------------------------------------------------------------------------


def _timestamp(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``ts``, ``level``, ``logger``, ``msg``; ``stage``/``fields``/``exc`` if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        stage = getattr(record, "stage", None)
        if stage is not None:
            line["stage"] = stage
            line["fields"] = getattr(record, "fields", {})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-11-24T10:30:00.123+01:00 INFO agent_assist.calls: message`` (the ring and the console)."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        return text


class RingHandler(logging.Handler):
    """Keeps the last ``capacity`` formatted lines in memory, for crash reports."""

    def __init__(self, capacity: int | None = None) -> None:
        super().__init__()
        self.lines: collections.deque[str] = collections.deque(maxlen=capacity or RING_SIZE)
        self.setFormatter(TextFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:
            self.handleError(record)


def recent_lines() -> list[str]:
    """The last lines logged (masked), oldest first; empty before :func:`setup_logging`."""
    ring = _ring
    return list(ring.lines) if ring is not None else []


# -- setup -------------------------------------------------------------------------------------------------------


def setup_logging(
    log_dir: Path | None = None,
    level: int = logging.INFO,
    json_console: bool = False,
    console: bool = False,
    *,
    qt: bool = True,
) -> Path:
    """Install the handlers on the root logger and return the log folder (created if needed).

    ``json_console``: also write the JSON lines to stderr; ``console``: plain lines to stderr instead. Both
    are ignored when there is no stderr (a windowed frozen build). ``qt``: route Qt's messages into logging.
    """
    global _previous_root_level, _ring
    folder = log_dir if log_dir is not None else default_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    teardown_logging()
    privacy = PrivacyFilter()
    file_handler = logging.handlers.RotatingFileHandler(
        folder / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    file_handler.setFormatter(JsonFormatter())
    handlers: list[logging.Handler] = [file_handler]
    ring = RingHandler()
    handlers.append(ring)
    stream = sys.stderr
    if stream is not None and (json_console or console):
        stream_handler = logging.StreamHandler(stream)
        stream_handler.setFormatter(JsonFormatter() if json_console else TextFormatter())
        handlers.append(stream_handler)
    root = logging.getLogger()
    with _lock:
        for handler in handlers:
            handler.setLevel(level)
            handler.addFilter(privacy)
            root.addHandler(handler)
        _installed.extend(handlers)
        _previous_root_level = root.level
        root.setLevel(level)
        _ring = ring
    logging.captureWarnings(True)
    if qt:
        install_qt_message_handler()
    return folder


def teardown_logging() -> None:
    """Remove and close what :func:`setup_logging` installed (tests; a second setup)."""
    global _previous_root_level, _ring
    root = logging.getLogger()
    with _lock:
        for handler in _installed:
            root.removeHandler(handler)
            handler.close()
        _installed.clear()
        if _previous_root_level is not None:
            root.setLevel(_previous_root_level)
            _previous_root_level = None
        _ring = None
    logging.captureWarnings(False)
    uninstall_qt_message_handler()


def log_stage(stage: str, /, **fields: Any) -> None:
    """One INFO record marking a pipeline stage (``"stage": stage`` in the JSON line). No text, no numbers.

    ``stage`` is positional-only, so any field name (``name=``, ``version=``) can be given.
    """
    suffix = "".join(f" {key}={value}" for key, value in fields.items())
    logging.getLogger(_STAGE_LOGGER).info("stage %s%s", stage, suffix, extra={"stage": stage, "fields": fields})


# -- Qt messages -------------------------------------------------------------------------------------------------


def install_qt_message_handler() -> bool:
    """Route qDebug/qWarning/… into ``agent_assist.qt``; False when PySide6 cannot be imported."""
    global _previous_qt_handler, _qt_installed
    try:
        from PySide6.QtCore import qInstallMessageHandler
    except ImportError:
        return False
    if not _qt_installed:
        _previous_qt_handler = qInstallMessageHandler(_qt_message)
        _qt_installed = True
    return True


def uninstall_qt_message_handler() -> None:
    global _previous_qt_handler, _qt_installed
    if not _qt_installed:
        return
    from PySide6.QtCore import qInstallMessageHandler

    qInstallMessageHandler(_previous_qt_handler)
    _previous_qt_handler, _qt_installed = None, False


def _qt_levels() -> dict[Any, int]:
    from PySide6.QtCore import QtMsgType

    return {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }


#: Qt warnings that say nothing is wrong (the offscreen and minimal platform plugins): logged at DEBUG.
QT_NOISE = ("This plugin does not support ",)


def _qt_message(kind: Any, context: Any, message: str) -> None:
    level = _qt_levels().get(kind, logging.WARNING)
    if level == logging.WARNING and message.startswith(QT_NOISE):
        level = logging.DEBUG
    category = getattr(context, "category", None) or "default"
    name = f"{ROOT}.qt" if category == "default" else f"{ROOT}.qt.{category}"
    logging.getLogger(name).log(level, "%s", message)
