"""The desktop app as a user starts it: a real process on the offscreen platform, its JSON log lines, its store.

- ``run --demo --smoke-test`` goes through every pipeline stage in order, logs no transcript text and no
  unmasked number above DEBUG, and stores the call with its validated summary;
- ``run --smoke-test`` alone starts and quits 0;
- ``kill -9`` during a call, or during wrap-up after the agent edited the summary, loses nothing committed: at
  the next start the call is marked interrupted (or still in wrap-up), and the panel shows its transcript and
  the summary draft as kept, which the agent completes and validates.

The killed runs are watched through a read-only SQLite connection; every wait has a deadline and says what it
waited for.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.app import DEMO_STATION, _load_demo_data
from desktop.core.assist.playbook import load_playbook
from desktop.core.consent.policy import load_policy
from desktop.core.store.db import DB_NAME, open_store
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import StationDefaults
from desktop.services.calls import CallService
from desktop.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
DEMO_CALL = ROOT / "assets" / "demo" / "calls" / "demo-01.json"
DEMO = json.loads(DEMO_CALL.read_text(encoding="utf-8"))
SEGMENTS: list[dict[str, Any]] = DEMO["segments"]
RUN_TIMEOUT_S = 60
WAIT_S = 40
# A French number, written any usual way (+33 6 39 98 01 01, 06.39.98.01.01, 0639980101).
PHONE = re.compile(r"(?:\+33|0033|\b0)\s?[1-9](?:[\s.-]?\d{2}){4}")

# -- the processes ------------------------------------------------------------------------------------------------


def app_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "AGENT_ASSIST_LOG_DIR": str(tmp_path / "logs"),
        "PYTHONUNBUFFERED": "1",
    }


def run_app(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", "run", *args],
        capture_output=True,
        text=True,
        env=app_env(tmp_path),
        cwd=ROOT,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def stages(lines: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(line["stage"], line.get("fields", {})) for line in lines if "stage" in line]


def assert_in_order(seen: list[tuple[str, dict[str, Any]]], expected: list[tuple[str, dict[str, Any]]]) -> None:
    """Each expected stage (with these fields) appears after the previous one; others may come in between."""
    position = 0
    for stage, fields in expected:
        while position < len(seen) and not (
            seen[position][0] == stage and all(seen[position][1].get(k) == v for k, v in fields.items())
        ):
            position += 1
        assert position < len(seen), f"stage {stage} {fields} missing or out of order in {[s for s, _ in seen]}"
        position += 1


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started by a test; any still running at its end is killed."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def spawn(
    processes: list[subprocess.Popen[bytes]], tmp_path: Path, args: list[str], name: str
) -> subprocess.Popen[bytes]:
    log = (tmp_path / f"{name}.out").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=app_env(tmp_path), cwd=ROOT)
    log.close()
    processes.append(process)
    return process


def wait_until(what: str, check: Callable[[], Any], process: subprocess.Popen[bytes], output: Path) -> Any:
    """Poll ``check`` until it returns something truthy; fail if the process ends first or time runs out."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if process.poll() is not None:
            pytest.fail(f"the app ended (rc={process.returncode}) before {what}:\n{output.read_text()[-3000:]}")
        time.sleep(0.05)
    pytest.fail(f"no {what} after {WAIT_S} s:\n{output.read_text()[-3000:]}")


def read_only(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]] | None:
    """Rows of a query on the store a running (or killed) app writes; None while it is not there yet."""
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError:  # schema not created yet, or busy
        return None


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL


def demo_store(data: Path) -> Path:
    return data / "demo" / DB_NAME


# -- the pipeline -------------------------------------------------------------------------------------------------


def test_demo_smoke_test_goes_through_every_stage(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = run_app(tmp_path, "--demo", "--smoke-test", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr[-3000:]
    console = json_lines(done.stderr + done.stdout)
    seen = stages(console)
    assert_in_order(
        seen,
        [
            ("starting", {"demo": True, "smoke_test": True}),
            ("store_opened", {}),
            ("policy_loaded", {"name": "fr"}),
            ("playbook_loaded", {}),
            ("demo_data_loaded", {}),
            ("window_shown", {}),
            ("call_started", {"direction": "outbound"}),
            ("verdict_shown", {"verdict": "allowed", "code": "VALID_CONSENT"}),
            ("call_state", {"state": "active"}),
            *[("segment_added", {"idx": index, "speaker": s["speaker"]}) for index, s in enumerate(SEGMENTS)],
            ("call_state", {"state": "wrap_up"}),
            ("summary_saved", {"validated": True}),
            ("call_state", {"state": "saved"}),
            ("stopped", {"rc": 0}),
        ],
    )
    assert [s for s, _ in seen].count("segment_added") == len(SEGMENTS)
    assert seen[-1] == ("stopped", {"rc": 0})

    # The log file holds the same stages; no line above DEBUG holds what was said or a whole number.
    logged = json_lines((tmp_path / "logs" / "agent-assist.log").read_text(encoding="utf-8"))
    assert stages(logged) == seen
    said = [s["text"] for s in SEGMENTS if len(s["text"]) >= 8]
    said += [s["text"][:25] for s in SEGMENTS if len(s["text"]) >= 40]
    for line in console + logged:
        if line["level"] == "DEBUG":
            continue
        shown = json.dumps({key: line.get(key) for key in ("msg", "fields", "exc")}, ensure_ascii=False)
        assert not [text for text in said if text in shown], f"transcript text in the log: {line}"
        assert not PHONE.search(shown), f"unmasked number in the log: {line}"
        assert DEMO["call"]["number"][-9:] not in shown.replace(" ", "")
    assert any("•" in line["msg"] for line in logged), "the calls' log lines show no masked number at all"

    db = demo_store(data)
    calls = read_only(db, "SELECT id, state, number, direction FROM interactions")
    assert calls is not None and len(calls) == 1
    interaction, state, number, direction = calls[0]
    assert (state, number, direction) == ("saved", DEMO["call"]["number"], "outbound")
    texts = read_only(db, "SELECT text FROM transcript_segments WHERE interaction_id = ? ORDER BY idx", (interaction,))
    assert texts == [(s["text"],) for s in SEGMENTS]
    summary = read_only(db, "SELECT body, validated_by FROM summaries WHERE interaction_id = ?", (interaction,))
    assert summary is not None and len(summary) == 1
    assert summary[0][1] == "agent-demo"
    body = json.loads(summary[0][0])
    # demo-01 ends with the customer accepting the offer and the contract sent: the extractive engine drafts a
    # sale (lexical classifier in a smoke test), with the amounts said in the call
    assert body["disposition"] == "sale", body
    assert body["generated_by"]["method"] == "extractive", body
    assert {82, 76} <= set(body["entities"]["amounts_eur"]), body


def test_smoke_test_without_demo_starts_and_quits(tmp_path: Path) -> None:
    done = run_app(tmp_path, "--smoke-test", "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 0, done.stderr[-3000:]
    seen = stages(json_lines(done.stderr + done.stdout))
    assert_in_order(
        seen,
        [
            ("starting", {"demo": False, "smoke_test": True}),
            ("store_opened", {}),
            ("policy_loaded", {}),
            ("playbook_loaded", {}),
            ("window_shown", {}),
            ("stopped", {"rc": 0}),
        ],
    )
    names = {stage for stage, _ in seen}
    assert not names & {"demo_data_loaded", "call_started", "call_recovered"}
    assert (tmp_path / "data" / DB_NAME).is_file()


# -- kill -9 and start again --------------------------------------------------------------------------------------


def restart_and_find_recovered(tmp_path: Path, folder: Path) -> dict[str, Any]:
    """Start the app again on the killed app's store (``run --smoke-test``): it reopens the call and quits 0."""
    done = run_app(tmp_path, "--smoke-test", "--data-dir", str(folder))
    assert done.returncode == 0, done.stderr[-3000:]
    seen = stages(json_lines(done.stderr + done.stdout))
    recovered = [fields for stage, fields in seen if stage == "call_recovered"]
    assert len(recovered) == 1, f"expected one reopened call, got {seen}"
    assert_in_order(seen, [("store_opened", {}), ("call_recovered", {}), ("window_shown", {}), ("stopped", {"rc": 0})])
    return recovered[0]


def open_window(qtbot: QtBot, folder: Path) -> tuple[MainWindow, CallService, Any]:
    """The agent's window on that store, built as ``agent-assist run --demo`` builds it."""
    store = open_store(folder)
    defaults = StationDefaults(agent_id="agent-demo", **DEMO_STATION)
    service = CallService(store.conn, load_policy(), load_playbook(), defaults)
    window = MainWindow(service)
    qtbot.addWidget(window)
    with qtbot.waitActive(window, timeout=5000):
        window.show()
        window.activateWindow()
    return window, service, store


def test_kill_during_a_call_keeps_its_transcript_and_reopens_it(
    tmp_path: Path, qtbot: QtBot, spawned: list[subprocess.Popen[bytes]]
) -> None:
    data = tmp_path / "data"
    db = demo_store(data)
    args = [sys.executable, "-m", "desktop.cli", "run", "--demo", "--speed", "5", "--data-dir", str(data)]
    process = spawn(spawned, tmp_path, args, "killed")

    def three_lines() -> bool:
        rows = read_only(db, "SELECT count(*) FROM transcript_segments")
        return bool(rows) and rows[0][0] >= 3  # type: ignore[index]

    wait_until("three transcript segments committed", three_lines, process, tmp_path / "killed.out")
    kill(process)

    before = read_only(db, "SELECT i.uid, i.state FROM interactions i")
    assert before is not None and len(before) == 1
    uid, state = before[0]
    assert state == "active", "the call was to be killed while on the line"
    kept = read_only(db, "SELECT speaker, text FROM transcript_segments ORDER BY idx")
    assert kept is not None and 3 <= len(kept) < len(SEGMENTS)
    assert kept == [(s["speaker"], s["text"]) for s in SEGMENTS[: len(kept)]]

    recovered = restart_and_find_recovered(tmp_path, data / "demo")
    assert recovered == {
        "call": uid[:8],
        "state": "interrupted",
        "segments": len(kept),
        "on_screen": True,
        "transcript_lines": len(kept),
        "summary_tab": True,
    }
    assert read_only(db, "SELECT state FROM interactions") == [("interrupted",)]
    assert read_only(db, "SELECT speaker, text FROM transcript_segments ORDER BY idx") == kept

    # What the agent sees at the next start: the call, its transcript, its summary to complete and validate.
    window, service, store = open_window(qtbot, data / "demo")
    try:
        panel = window.panel
        assert [session.uid for session in service.recovered] == [uid]
        assert panel.session is service.recovered[0]
        assert panel.call_info.state_label.full_text() == "Sortant · Interrompu"
        assert panel.banner.verdict_label.text() == "AUTORISÉ"
        assert panel.transcript.lines() == list(kept)
        editor = panel.current_editor
        assert editor is not None and editor is panel.editors[uid]
        assert editor.reason_edit.text() == ""
        assert all(box.isChecked() for box in editor.disclosure_boxes.values())  # the agent's opening, line 2
        assert editor.validate() is None, "an empty reason must not validate"
        qtbot.mouseClick(editor.reason_edit, Qt.MouseButton.LeftButton)  # the agent clicks into the field
        qtbot.keyClicks(editor.reason_edit, "Offre electricite, appel coupe")  # QTest types ASCII only
        with qtbot.waitSignal(service.summary_saved, timeout=5000, check_params_cb=lambda s, ok: ok):
            qtbot.keyClick(editor.reason_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert uid not in panel.editors
    finally:
        store.close()
    saved = read_only(
        db, "SELECT i.state, s.validated_by, s.body FROM interactions i JOIN summaries s ON s.interaction_id = i.id"
    )
    assert saved is not None and len(saved) == 1
    assert saved[0][:2] == ("interrupted", "agent-demo")  # validated, and still marked as cut short
    assert json.loads(saved[0][2])["reason"] == "Offre electricite, appel coupe"


# The agent's side of a demo call in a real app process: attended (the demo waits at wrap-up), the summary
# edited with the keyboard like an agent would, then left for the test to kill.
EDIT_IN_WRAP_UP = r"""
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import desktop.app
from desktop.ui.main_window import MainWindow

desktop.app.headless = lambda: False  # offscreen, yet attended: the summary is left to the agent
qapp = QApplication(sys.argv[:1])


def edit() -> None:
    windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow)]
    editor = windows[0].panel.current_editor if windows else None
    if editor is None:
        QTimer.singleShot(20, edit)
        return
    # the engine's draft is there: the agent replaces it with their own words
    editor.reason_edit.clear()
    QTest.keyClicks(editor.reason_edit, sys.argv[2])
    editor.actions_edit.clear()
    QTest.keyClicks(editor.actions_edit, sys.argv[3])
    for _owner, _action, _due, remove in list(editor.steps.rows):
        remove.click()
    editor.steps.add_button.click()
    owner, action, due, _remove = editor.steps.rows[-1]
    QTest.keyClicks(action, sys.argv[4])
    QTest.keyClicks(due, "01/12/2026")
    print("edited", flush=True)


QTimer.singleShot(0, edit)
options = desktop.app.RunOptions(data_dir=Path(sys.argv[1]), demo=True, speed=100.0)
sys.exit(desktop.app.run(options))
"""
# QTest types ASCII only.
REASON = "Offre electricite a prix fixe"
ACTION = "Offre presentee, devis envoye"
NEXT_STEP = "Envoyer le contrat par e-mail"


def test_kill_during_wrap_up_keeps_the_agents_edits(
    tmp_path: Path, qtbot: QtBot, spawned: list[subprocess.Popen[bytes]]
) -> None:
    data = tmp_path / "data"
    db = demo_store(data)
    args = [sys.executable, "-c", EDIT_IN_WRAP_UP, str(data), REASON, ACTION, NEXT_STEP]
    process = spawn(spawned, tmp_path, args, "killed")

    def draft_kept() -> list[tuple[Any, ...]] | None:
        rows = read_only(db, "SELECT body FROM summaries WHERE validated_by IS NULL")
        if rows and NEXT_STEP in rows[0][0] and "2026-12-01" in rows[0][0]:
            return rows
        return None

    body = json.loads(wait_until("the edited draft kept", draft_kept, process, tmp_path / "killed.out")[0][0])
    kill(process)
    assert body["reason"] == REASON and body["actions"] == [ACTION]
    assert body["next_steps"] == [{"owner": "agent", "action": NEXT_STEP, "due": "2026-12-01"}]
    calls = read_only(db, "SELECT uid, state FROM interactions")
    assert calls is not None and len(calls) == 1 and calls[0][1] == "wrap_up"
    uid = calls[0][0]

    recovered = restart_and_find_recovered(tmp_path, data / "demo")
    assert recovered == {
        "call": uid[:8],
        "state": "wrap_up",
        "segments": len(SEGMENTS),
        "on_screen": True,
        "transcript_lines": len(SEGMENTS),
        "summary_tab": True,
    }

    window, service, store = open_window(qtbot, data / "demo")
    try:
        panel = window.panel
        editor = panel.current_editor
        assert editor is not None and editor is panel.editors[uid]
        assert panel.transcript.lines() == [(s["speaker"], s["text"]) for s in SEGMENTS]
        assert editor.reason_edit.text() == REASON
        assert editor.actions_edit.toPlainText() == ACTION
        assert [(row[1].text(), row[2].text()) for row in editor.steps.rows] == [(NEXT_STEP, "2026-12-01")]
        with qtbot.waitSignal(service.summary_saved, timeout=5000, check_params_cb=lambda s, ok: ok):
            editor.validate_button.click()
        assert not panel.editors
    finally:
        store.close()
    saved = read_only(
        db, "SELECT i.state, s.validated_by, s.body FROM interactions i JOIN summaries s ON s.interaction_id = i.id"
    )
    assert saved is not None and saved[0][:2] == ("saved", "agent-demo")
    assert json.loads(saved[0][2])["next_steps"] == body["next_steps"]


def test_a_withdrawal_and_a_partial_draft_come_back_after_a_stop(tmp_path: Path, qtbot: QtBot) -> None:
    """What a demo call does not do, in-process: a withdrawal confirmed during the call, and a kept draft that
    holds only some fields (as an older version wrote it). The store is left as a kill leaves it."""
    folder = tmp_path / "store"
    at = dt.datetime(2026, 11, 24, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    with open_store(folder) as store:
        _load_demo_data(store)
        defaults = StationDefaults(agent_id="agent-demo", **DEMO_STATION)
        service = CallService(store.conn, load_policy(), load_playbook(), defaults, clock=lambda: at)
        session = service.handle_event(
            CallEvent(kind="dialing", at=at, call_id="c1", number=DEMO["call"]["number"], direction="outbound")
        )
        assert session is not None and session.decision is not None and session.decision.verdict == "allowed"
        service.handle_event(CallEvent(kind="answered", at=at, call_id="c1"))
        service.add_segment(session, "agent", "Bonjour, Nadia pour ACME Energie.", 0.5, 2.0)
        service.add_segment(session, "customer", "Ne m'appelez plus jamais.", 2.5, 4.0)
        service.confirm_withdrawal(session, segment=1)
        service.desk.save_summary(session, {"reason": "Retrait au telephone"}, validated_by=None)

    window, service, store = open_window(qtbot, folder)
    try:
        panel = window.panel
        assert panel.banner.verdict_label.text() == "INTERDIT"
        assert panel.transcript.lines() == [
            ("agent", "Bonjour, Nadia pour ACME Energie."),
            ("customer", "Ne m'appelez plus jamais."),
        ]
        editor = panel.current_editor
        assert editor is not None
        assert editor.reason_edit.text() == "Retrait au telephone"
        assert editor.disposition_combo.currentData() == "do_not_call"  # implied by the withdrawal
        assert editor.events_list.item(0).text().startswith("Retrait du consentement · 10:30:00 · réplique 2")
        with qtbot.waitSignal(service.summary_saved, timeout=5000, check_params_cb=lambda s, ok: ok):
            editor.validate_button.click()
    finally:
        store.close()
    body = read_only(folder / DB_NAME, "SELECT body FROM summaries WHERE validated_by = 'agent-demo'")
    assert body is not None and len(body) == 1
    assert json.loads(body[0][0])["consent_events"] == [
        {"kind": "withdrawal", "at": "2026-11-24T10:30:00+01:00", "segment": 1}
    ]
