from __future__ import annotations

import io
import json
import logging
import logging.handlers
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import log as logmod
from desktop.log import LOG_FILE, log_stage, logger, recent_lines, redact, setup_logging, teardown_logging

NUMBER = "+33639980001"
CARD = "4970 1012 3456 7893"


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "logs"
    yield folder
    teardown_logging()


def lines(folder: Path) -> list[dict]:  # type: ignore[type-arg]
    for handler in logging.getLogger().handlers:
        handler.flush()
    return [json.loads(line) for line in (folder / LOG_FILE).read_text(encoding="utf-8").splitlines()]


def test_numbers_and_cards_never_reach_the_file_in_clear(log_dir: Path) -> None:
    setup_logging(log_dir)
    calls = logger("calls")
    calls.info("call to %s, card %s", NUMBER, CARD)
    calls.warning("rappel au 06 39 98 00 01 ou 06.39.98.00.02, IBAN FR76 3000 6000 0112 3456 7890 189")
    calls.info(f"f-string {NUMBER} and {CARD.replace(' ', '')}")
    log_stage("call_started", number=NUMBER, card=CARD)
    try:
        raise ValueError(f"bad number {NUMBER}")
    except ValueError:
        calls.exception("failed for %s", NUMBER)
    text = (log_dir / LOG_FILE).read_text(encoding="utf-8")
    for secret in (NUMBER, "639980001", CARD, "4970101234567893", "06 39 98 00 01", "06.39.98.00", "3000 6000"):
        assert secret not in text
    records = lines(log_dir)
    assert records[0]["msg"] == "call to +•••••••••01, card •••• •••• •••• 7893"
    assert "•• •• •• •• 01" in records[1]["msg"] and "FR" in records[1]["msg"]
    assert records[3]["fields"] == {"number": "+•••••••••01", "card": "•••• •••• •••• 7893"}
    assert "+•••••••••01" in records[4]["exc"] and "ValueError" in records[4]["exc"]
    assert all(NUMBER not in line for line in recent_lines())


def test_transcript_text_at_debug_stays_out_of_the_file(log_dir: Path) -> None:
    setup_logging(log_dir)
    logger("calls").debug("segment 3 (customer): je retire mon consentement")
    logger("calls").info("call abc: withdrawal detected in segment 3")
    assert [record["msg"] for record in lines(log_dir)] == ["call abc: withdrawal detected in segment 3"]


def test_json_lines_have_the_documented_keys_and_stages(log_dir: Path) -> None:
    folder = setup_logging(log_dir)
    assert folder == log_dir and folder.is_dir()
    log_stage("store_opened", schema=3)
    logger("app").warning("plain")
    log_stage("policy_loaded", name="fr", version="2026.1", stage="x")  # any field name
    first, second, third = lines(log_dir)
    assert first["stage"] == "store_opened" and first["fields"] == {"schema": 3}
    assert third["stage"] == "policy_loaded" and third["fields"] == {"name": "fr", "version": "2026.1", "stage": "x"}
    assert (first["level"], first["logger"], first["msg"]) == (
        "INFO",
        "agent_assist.stage",
        "stage store_opened schema=3",
    )
    assert "T" in first["ts"] and first["ts"][-6] in "+-"
    assert set(second) == {"ts", "level", "logger", "msg"}


def test_the_file_rotates(log_dir: Path) -> None:
    setup_logging(log_dir)
    rotating = [handler for handler in logmod._installed if isinstance(handler, logging.handlers.RotatingFileHandler)]
    assert len(rotating) == 1
    assert (rotating[0].maxBytes, rotating[0].backupCount) == (2 * 1024 * 1024, 5)


def test_json_console_and_a_missing_stderr(log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    setup_logging(log_dir, json_console=True, qt=False)
    log_stage("window_shown")
    assert json.loads(stream.getvalue().splitlines()[-1])["stage"] == "window_shown"
    monkeypatch.setattr(sys, "stderr", None)  # a windowed frozen build
    setup_logging(log_dir, json_console=True, console=True, qt=False)
    log_stage("policy_loaded")
    assert lines(log_dir)[-1]["stage"] == "policy_loaded"


def test_setup_twice_replaces_the_handlers(log_dir: Path) -> None:
    before = list(logging.getLogger().handlers)
    setup_logging(log_dir)
    setup_logging(log_dir)
    added = [handler for handler in logging.getLogger().handlers if handler not in before]
    assert len(added) == 2  # the file and the ring
    teardown_logging()
    assert logging.getLogger().handlers == before


def test_ring_keeps_the_last_lines(log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logmod, "RING_SIZE", 5)
    setup_logging(log_dir)
    for index in range(12):
        logger("app").info("line %d", index)
    assert [line.rsplit(" ", 1)[-1] for line in recent_lines()] == ["7", "8", "9", "10", "11"]
    teardown_logging()
    assert recent_lines() == []


def test_qt_messages_are_routed_into_logging(log_dir: Path) -> None:
    from PySide6.QtCore import qWarning

    setup_logging(log_dir)
    qWarning(f"something odd for {NUMBER}")
    qWarning("This plugin does not support propagateSizeHints()")  # offscreen plugin noise: DEBUG
    record = lines(log_dir)[-1]
    assert (record["logger"], record["level"]) == ("agent_assist.qt", "WARNING")
    assert record["msg"] == "something odd for +•••••••••01"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+33 6 39 98 00 01", "+•• • •• •• •• 01"),
        ("0033639980001", "•••••••••••01"),
        ("+212661000000", "+••••••••••00"),
        ("4970-1012-3456-7893", "••••-••••-••••-7893"),
        ("FR7630006000011234567890189", "FR•••••••••••••••••••••0189"),
        ("2026-11-24T10:31:35.123456+01:00", "2026-11-24T10:31:35.123456+01:00"),
        ("call 3f2a1b4c, seq 42, 1234567 ms", "call 3f2a1b4c, seq 42, 1234567 ms"),
        ("hash a3f9123456789b", "hash a3f9123456789b"),
        ("+•••••••••01", "+•••••••••01"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_default_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENT_ASSIST_LOG_DIR", str(tmp_path / "x"))
    assert logmod.default_log_dir() == tmp_path / "x"
    monkeypatch.delenv("AGENT_ASSIST_LOG_DIR")
    assert "agent-assist" in str(logmod.default_log_dir())


def test_importing_the_module_does_not_import_qt() -> None:
    code = "import sys, desktop.log; sys.exit('PySide6' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=30).returncode == 0
