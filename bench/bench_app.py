"""How quick the desktop app feels: process start to window shown, call event to banner painted, event-loop stalls.

1. **Start**: ``agent-assist run --smoke-test`` as a subprocess, ``--starts`` times (default 10) on one data
   folder (the first run creates the store and is reported apart): wall time from ``Popen`` to the moment the
   ``window_shown`` JSON log line is read from its standard error, and to its exit. Yardsticks, run interleaved
   with it: ``python -c pass``, ``python -c "import PySide6.QtWidgets"`` (to exit), and a bare ``QApplication`` +
   ``QWidget`` shown (to its first show event).
2. **Banner**: in-process, offscreen, the real ``MainWindow`` over a store holding the demo data. For each of
   ``--calls`` calls (default 300) a ringing or dialling event goes into ``CallService.handle_event`` (the consent
   check, its decision and the call recorded in SQLite, the panel's slots), then the event loop runs until the
   banner's verdict label has painted the new verdict (an event filter on its ``QEvent.Paint`` paints it and
   stamps the time). The calls alternate between a forbidden outbound and an allowed inbound call (fresh numbers,
   so that each verdict differs from the last), and each ends before the next. Yardstick: ``setText`` on a plain
   ``QLabel`` in a shown window to its paint, timed the same way.
3. **Stalls**: the demo calls played in-process through the ``DemoPlayer`` at ``--speed`` (default 10; 1 is real
   time), each summary validated at its end as ``--demo --smoke-test`` does, with a 5 ms ``PreciseTimer`` whose
   tick-to-tick gaps are the event loop's stalls. Yardstick: the same timer over the same window idle.

    .venv/bin/python bench/bench_app.py [--starts 10] [--calls 300] [--speed 10] [--idle 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _machine import machine_markdown

ROOT = Path(__file__).resolve().parent.parent
TARGET_START_S = 2.5
TARGET_BANNER_P95_MS = 100.0
TARGET_STALL_MS = 50.0
TICK_MS = 5
PARIS = dt.timezone(dt.timedelta(hours=1))
# Inside the calling hours of a weekday, as the demo calls: the verdicts do not depend on the day it runs.
CALL_TIME = dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)

BARE_WINDOW = (
    "import sys, time\n"
    "from PySide6.QtCore import QEvent, QObject, QTimer\n"
    "from PySide6.QtWidgets import QApplication, QWidget\n"
    "app = QApplication(sys.argv[:1])\n"
    "w = QWidget(); w.resize(380, 720)\n"
    "class F(QObject):\n"
    "    def eventFilter(self, o, e):\n"
    "        if e.type() == QEvent.Type.Show:\n"
    "            print('shown', flush=True); QTimer.singleShot(0, app.quit)\n"
    "        return False\n"
    "f = F(); w.installEventFilter(f); w.show(); app.exec()\n"
)


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": float(len(ordered)),
        "min": ordered[0],
        "p50": percentile(ordered, 0.50),
        "p95": percentile(ordered, 0.95),
        "p99": percentile(ordered, 0.99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}


# -- 1. process start to window shown ------------------------------------------------------------------------------


def time_until_line(
    args: list[str], marker: Callable[[str], bool] | None, environment: dict[str, str]
) -> tuple[float, float]:
    """Seconds from Popen to the first output line ``marker`` accepts (None: to the exit), and to the exit."""
    start = time.perf_counter()
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment, cwd=ROOT, text=True
    )
    seen = math.nan
    assert process.stdout is not None
    for line in process.stdout:
        if math.isnan(seen) and marker is not None and marker(line):
            seen = time.perf_counter() - start
    rc = process.wait()
    ended = time.perf_counter() - start
    if marker is None:
        seen = ended
    if rc != 0 or math.isnan(seen):
        raise SystemExit(f"{' '.join(args)}: rc={rc}, marker line {'seen' if not math.isnan(seen) else 'missing'}")
    return seen, ended


def window_shown(line: str) -> bool:
    if '"window_shown"' not in line:
        return False
    return json.loads(line).get("stage") == "window_shown"


def bench_start(starts: int, folder: Path) -> dict[str, Any]:
    environment = {**env(), "AGENT_ASSIST_LOG_DIR": str(folder / "logs")}
    app = [sys.executable, "-m", "desktop.cli", "run", "--smoke-test", "--data-dir", str(folder / "data")]
    rows: dict[str, list[float]] = {"shown": [], "exit": [], "pass": [], "import": [], "bare": [], "bare_exit": []}
    first = time_until_line(app, window_shown, environment)
    progress(f"start: first run (creates the store) window shown after {first[0]:.3f} s")
    for index in range(starts):
        shown, ended = time_until_line(app, window_shown, environment)
        rows["shown"].append(shown)
        rows["exit"].append(ended)
        rows["pass"].append(time_until_line([sys.executable, "-c", "pass"], None, environment)[1])
        import_only = [sys.executable, "-c", "import PySide6.QtWidgets"]
        rows["import"].append(time_until_line(import_only, None, environment)[1])
        bare = time_until_line([sys.executable, "-c", BARE_WINDOW], lambda line: line.startswith("shown"), environment)
        rows["bare"].append(bare[0])
        rows["bare_exit"].append(bare[1])
        progress(f"start {index + 1}/{starts}: window shown {shown:.3f} s (bare Qt window {bare[0]:.3f} s)")
    return {"first": first, "rows": rows}


# -- 2. call event to banner painted -------------------------------------------------------------------------------


def build_window(folder: Path) -> tuple[Any, Any, Any, Any]:
    """The app's window over a store holding the demo data, shown offscreen (as ``run --demo`` builds it)."""
    from PySide6.QtWidgets import QApplication

    from desktop.app import DEMO_STATION, _load_demo_data
    from desktop.core.assist.playbook import load_playbook
    from desktop.core.consent.policy import load_policy
    from desktop.core.store.db import open_store
    from desktop.core.telephony.session import StationDefaults
    from desktop.services.calls import CallService
    from desktop.ui.i18n import install_translator
    from desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    install_translator(app, "fr")
    store = open_store(folder)
    _load_demo_data(store)
    service = CallService(
        store.conn, load_policy(), load_playbook(), StationDefaults(agent_id="agent-bench", **DEMO_STATION)
    )
    window = MainWindow(service)
    window.show()
    settle(app, 0.3)
    return app, store, service, window


def settle(app: Any, seconds: float) -> None:
    """Run the event loop for a while (layouts, first paints)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


class PaintWatch:
    """Stamps the end of each paint of one widget: the filter paints it itself, then notes the time and text."""

    def __init__(self, widget: Any) -> None:
        from PySide6.QtCore import QEvent, QEventLoop, QObject

        self.widget = widget
        self.wanted: str | None = None
        self.painted_at: float | None = None
        self.loop = QEventLoop()
        watch = self

        class Filter(QObject):
            def eventFilter(self, watched: Any, event: Any) -> bool:
                if watched is widget and event.type() == QEvent.Type.Paint:
                    widget.paintEvent(event)  # painted here, so that the stamp is after the paint
                    watch.painted(widget.text())
                    return True
                return False

        self.filter = Filter()
        widget.installEventFilter(self.filter)

    def painted(self, text: str) -> None:
        if self.wanted is not None and text == self.wanted and self.painted_at is None:
            self.painted_at = time.perf_counter()
            self.loop.quit()

    def expect(self, text: str) -> None:
        self.wanted, self.painted_at = text, None

    def wait(self, timeout_ms: int = 5000) -> float | None:
        from PySide6.QtCore import QTimer

        if self.painted_at is None:
            guard = QTimer()
            guard.setSingleShot(True)
            guard.timeout.connect(self.loop.quit)
            guard.start(timeout_ms)
            self.loop.exec()
            guard.stop()
        return self.painted_at


def bench_banner(calls: int, folder: Path) -> dict[str, Any]:
    from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

    from desktop.core.telephony.events import CallEvent

    app, store, service, window = build_window(folder / "banner")
    banner = window.panel.banner
    watch = PaintWatch(banner.verdict_label)
    totals: list[float] = []
    handled: list[float] = []
    verdicts: dict[str, int] = {}
    missed = 0
    for index in range(calls + 10):  # the first 10 warm up (imports, caches, style sheet)
        inbound = index % 2 == 1
        number = "+3363999" + f"{index:04d}"
        event = CallEvent(
            kind="ringing" if inbound else "dialing",
            at=CALL_TIME,
            call_id=f"bench-{index}",
            number=number,
            direction="inbound" if inbound else "outbound",
        )
        expected = "AUTORISÉ" if inbound else "INTERDIT"
        watch.expect(expected)
        t0 = time.perf_counter()
        session = service.handle_event(event)
        t1 = time.perf_counter()
        painted = watch.wait()
        if session is None or session.decision is None:
            raise SystemExit(f"call {index}: no decision")
        verdicts[session.decision.verdict] = verdicts.get(session.decision.verdict, 0) + 1
        if painted is None:
            missed += 1
        elif index >= 10:
            totals.append((painted - t0) * 1000)
            handled.append((t1 - t0) * 1000)
        service.handle_event(CallEvent(kind="ended", at=CALL_TIME, call_id=f"bench-{index}"))
        settle(app, 0.005)
        if (index + 1) % 100 == 0:
            progress(f"banner: {index + 1}/{calls + 10} calls")
    window.close()
    store.close()

    # Yardstick: a plain label in a shown window, setText to painted.
    holder = QWidget()
    label = QLabel("—", holder)
    QVBoxLayout(holder).addWidget(label)
    holder.resize(380, 80)
    holder.show()
    settle(app, 0.2)
    bare_watch = PaintWatch(label)
    bare: list[float] = []
    for index in range(calls + 10):
        text = "AUTORISÉ" if index % 2 else "INTERDIT"
        bare_watch.expect(text)
        t0 = time.perf_counter()
        label.setText(text)
        painted = bare_watch.wait()
        if painted is not None and index >= 10:
            bare.append((painted - t0) * 1000)
        settle(app, 0.005)
    holder.close()
    return {"total": totals, "handled": handled, "bare": bare, "verdicts": verdicts, "missed": missed}


# -- 3. event-loop stalls while the demo runs ----------------------------------------------------------------------


class TickRecorder:
    """A 5 ms precise timer; the gaps between its ticks are what the event loop could not serve."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.stamps: list[float] = []
        self.marks: list[tuple[float, str]] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_timer_timeout)

    def _on_timer_timeout(self) -> None:
        self.stamps.append(time.perf_counter())

    def mark(self, what: str) -> None:
        self.marks.append((time.perf_counter(), what))

    def start(self) -> None:
        self.stamps.clear()
        self.marks.clear()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def gaps(self) -> list[tuple[float, float]]:
        """(gap in ms, end of the gap) for each pair of ticks."""
        return [((b - a) * 1000, b) for a, b in zip(self.stamps, self.stamps[1:], strict=False)]

    def during(self, instant: float) -> str:
        """The last thing marked before an instant: at the end of a gap, what kept the loop busy."""
        what = "start"
        for stamp, name in self.marks:
            if stamp > instant:
                break
            what = name
        return what


def bench_stalls(speed: float, idle_s: float, folder: Path) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop, QTimer

    from desktop.paths import assets_dir
    from desktop.services.demo import DemoPlayer, demo_calls, load_demo_call

    app, store, service, window = build_window(folder / "stalls")
    recorder = TickRecorder()
    recorder.start()
    settle(app, idle_s)
    recorder.stop()
    idle = recorder.gaps()

    paths = demo_calls(assets_dir() / "demo" / "calls")
    service.call_started.connect(lambda s: recorder.mark("call started (verdict)"))
    service.segment_added.connect(lambda s, seg: recorder.mark(f"segment {seg.idx}"))
    service.call_state_changed.connect(lambda s: recorder.mark(f"state {s.state}"))
    service.phrase_detected.connect(lambda s, kind, idx: recorder.mark(f"{kind} detected"))
    service.summary_saved.connect(lambda s, ok: recorder.mark("summary saved"))
    recorder.start()
    played = 0.0
    segments = 0
    for path in paths:
        demo = load_demo_call(path)
        player = DemoPlayer(service, demo, speed=speed)
        service.clock = player.scenario_now
        loop = QEventLoop()

        def finished(session: Any, player: DemoPlayer = player, loop: QEventLoop = loop) -> None:
            service.save_summary(session, service.draft(session), validated_by="agent-bench")
            QTimer.singleShot(50, loop.quit)  # the panel closes the editor and repaints

        player.finished.connect(finished)
        QTimer.singleShot(0, player.start)
        started = time.perf_counter()
        loop.exec()
        played += time.perf_counter() - started
        segments += sum(1 for step in demo.steps if step.kind == "segment")
        progress(f"stalls: {path.name} played in {time.perf_counter() - started:.1f} s")
    recorder.stop()
    busy = recorder.gaps()
    worst = sorted(busy, reverse=True)[:5]
    window.close()
    store.close()
    return {
        "idle": [gap for gap, _ in idle],
        "busy": [gap for gap, _ in busy],
        "worst": [(gap, recorder.during(at)) for gap, at in worst],
        "calls": len(paths),
        "segments": segments,
        "played_s": played,
    }


# -- report --------------------------------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def row(name: str, values: list[float], scale: float = 1.0) -> str:
    s = stats([v * scale for v in values])
    return f"| {name} | {len(values)} | {ms(s['p50'])} | {ms(s['p95'])} | {ms(s['p99'])} | {ms(s['max'])} |"


def report(args: argparse.Namespace, start: dict[str, Any], banner: dict[str, Any], stalls: dict[str, Any]) -> str:
    rows = start["rows"]
    shown = stats(rows["shown"])
    total = stats(banner["total"])
    busy = stats(stalls["busy"])
    idle = stats(stalls["idle"])
    over = sum(1 for gap in stalls["busy"] if gap > TARGET_STALL_MS)
    verdict = lambda ok: "**met**" if ok else "**missed**"  # noqa: E731
    lines = [
        "# Desktop app: start, banner, event loop",
        "",
        machine_markdown(),
        "",
        f"- Qt platform: `offscreen` (software raster, no compositor); PySide6 {pyside_version()}.",
        "",
        f"## 1. Process start to window shown (target < {TARGET_START_S} s)",
        "",
        f"`agent-assist run --smoke-test` as a subprocess, {args.starts} runs after a first one that created the "
        f"store ({start['first'][0]:.3f} s to window shown); yardsticks interleaved with each run. Wall time "
        "from `Popen` to the line read from the child's output (ms).",
        "",
        "| what | runs | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
        row("`run --smoke-test`: spawn → `window_shown` log line", rows["shown"], 1000),
        row("`run --smoke-test`: spawn → exit", rows["exit"], 1000),
        row('yardstick: `python -c "import PySide6.QtWidgets"` → exit', rows["import"], 1000),
        row("yardstick: bare `QApplication` + `QWidget` → shown", rows["bare"], 1000),
        row("yardstick: `python -c pass` → exit", rows["pass"], 1000),
        "",
        f"Window shown p95 {shown['p95']:.3f} s: target {verdict(shown['p95'] < TARGET_START_S)} "
        f"({shown['p50'] / statistics.median(rows['import']):.1f}× the bare PySide6 import, "
        f"{shown['p50'] / statistics.median(rows['bare']):.1f}× a bare Qt window, at p50).",
        "",
        f"## 2. Call event to banner painted (target p95 < {TARGET_BANNER_P95_MS:.0f} ms)",
        "",
        f"In-process, offscreen, the app's `MainWindow` over a store with the demo data; {len(banner['total'])} "
        "calls timed after 10 warm-up calls, alternating a forbidden outbound call (dialling) and an allowed "
        f"inbound one (ringing), fresh numbers (verdicts seen: {banner['verdicts']}; not painted within 5 s: "
        f"{banner['missed']}). From `CallService.handle_event` to the end of the verdict label's paint with the "
        "new verdict (ms).",
        "",
        "| what | calls | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
        row("event → banner painted", banner["total"]),
        row("of which `handle_event` (consent check, SQLite writes, panel slots)", banner["handled"]),
        row("yardstick: `QLabel.setText` → painted, bare window", banner["bare"]),
        "",
        f"p95 {total['p95']:.1f} ms: target {verdict(total['p95'] < TARGET_BANNER_P95_MS)}.",
        "",
        f"## 3. Event-loop stalls while the demo runs (target: none > {TARGET_STALL_MS:.0f} ms)",
        "",
        f"The {stalls['calls']} demo calls ({stalls['segments']} transcript segments) played in-process at speed "
        f"{args.speed:g} ({stalls['played_s']:.1f} s), each summary validated at its end; a {TICK_MS} ms "
        "`PreciseTimer` records its ticks. Gap = time between two ticks (ms); the ideal is "
        f"{TICK_MS} ms. Yardstick: the same window idle for {args.idle:g} s.",
        "",
        "| what | gaps | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
        row("demo playing", stalls["busy"]),
        row("yardstick: window idle", stalls["idle"]),
        "",
        f"Gaps over {TARGET_STALL_MS:.0f} ms while the demo ran: {over} (max {busy['max']:.1f} ms, p99 "
        f"{busy['p99']:.1f} ms; idle max {idle['max']:.1f} ms): target {verdict(over == 0)}.",
        "",
        "Longest gaps and what the loop was doing (the last call event marked before the gap ended):",
        "",
        *[f"- {gap:.1f} ms after: {what}" for gap, what in stalls["worst"]],
    ]
    return "\n".join(lines) + "\n"


def pyside_version() -> str:
    import PySide6

    return str(PySide6.__version__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--starts", type=int, default=10, help="timed process starts (default 10)")
    parser.add_argument("--calls", type=int, default=300, help="timed calls for the banner (default 300)")
    parser.add_argument("--speed", type=float, default=10.0, help="demo speed for the stalls (1 = real time)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle window for the yardstick")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="bench-app-") as temp:
        folder = Path(temp)
        os.environ["AGENT_ASSIST_LOG_DIR"] = str(folder / "logs")
        start = bench_start(args.starts, folder / "start")
        banner = bench_banner(args.calls, folder)
        stalls = bench_stalls(args.speed, args.idle, folder)
    text = report(args, start, banner, stalls)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
