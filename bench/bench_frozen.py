"""The packaged build: its size, how fast it starts, and how fast it handles the first call, next to the source app.

1. **Size** of the one-folder builds made by ``packaging/build.py``: ``dist/agent-assist`` (no models) and
   ``dist/with-models/agent-assist`` (``--with-models``), and of the Debian packages in ``dist/`` if built.
   ``--build`` (re)builds both first and reports the build times.
2. **Start**: ``agent-assist run --smoke-test`` as a subprocess, headless (offscreen), ``--starts`` times (default
   7) on one data folder after a first run that creates the store (reported apart): wall time from ``Popen`` to
   the ``window_shown`` JSON log line on its standard error. For each frozen build found, and for the source app
   (``python -m desktop.cli``) in the same run, interleaved. Target: median under 4 s for the frozen build.
3. **First call**: the app started for real (no ``--smoke-test``) on a fresh data folder; once its local event
   API listens (``source_api``), the build's own hook command ``agent-assist event ring --number ...`` hands it a
   call; timed until the app logs ``verdict_shown``. Reported: process start to verdict, and hook start to
   verdict. ``--calls`` runs (default 5), each a fresh process and folder.

    .venv/bin/python bench/bench_frozen.py [--build] [--starts 7] [--calls 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _machine import machine_markdown

ROOT = Path(__file__).resolve().parent.parent
TARGET_START_S = 4.0
BUILDS = {
    "frozen": ROOT / "dist" / "agent-assist" / "agent-assist",
    "frozen, with models": ROOT / "dist" / "with-models" / "agent-assist" / "agent-assist",
}
SOURCE = [sys.executable, "-m", "desktop.cli"]
STAGE = re.compile(r'"stage": "(\w+)"|agent_assist\.stage: stage (\w+)')


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def folder_size(folder: Path) -> int:
    return sum(path.lstat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def environment(base: Path) -> dict[str, str]:
    """Headless, and every folder the app writes to under ``base`` (models too: no machine-wide folder touched)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AGENT_ASSIST_")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        PYTHONUNBUFFERED="1",
        AGENT_ASSIST_LOG_DIR=str(base / "logs"),
        AGENT_ASSIST_MODELS=str(base / "models"),
        XDG_RUNTIME_DIR=str(base / "runtime"),
    )
    (base / "runtime").mkdir(parents=True, exist_ok=True, mode=0o700)
    return env


class Watched:
    """A running app whose standard error is read by a thread; :meth:`wait_stage` waits for a log stage."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True
        )
        self.stages: queue.Queue[tuple[str, float]] = queue.Queue()
        self.tail: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            now = time.perf_counter()
            self.tail = [*self.tail[-20:], line.rstrip()]
            match = STAGE.search(line)
            if match:
                self.stages.put((match.group(1) or match.group(2), now))

    def wait_stage(self, stage: str, timeout: float = 120.0) -> float:
        """The perf_counter instant the stage was logged (fails with the output's tail if it never is)."""
        deadline = time.perf_counter() + timeout
        while True:
            try:
                name, when = self.stages.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                self.stop()
                raise SystemExit(f"stage {stage} never logged; last lines:\n" + "\n".join(self.tail)) from None
            if name == stage:
                return when

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def time_to_window(command: list[str], data: Path, env: dict[str, str]) -> float:
    app = Watched([*command, "run", "--smoke-test", "--data-dir", str(data)], env)
    shown = app.wait_stage("window_shown") - app.started
    rc = app.process.wait(timeout=120)
    if rc != 0:
        raise SystemExit(f"{command[0]} run --smoke-test exited {rc}:\n" + "\n".join(app.tail))
    return shown


def bench_start(commands: dict[str, list[str]], starts: int, base: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {name: {"first": None, "runs": []} for name in commands}
    for number, (name, command) in enumerate(commands.items()):
        folder = base / f"start-{number}"
        rows[name]["folder"] = folder
        rows[name]["env"] = environment(folder)
        rows[name]["first"] = time_to_window(command, folder / "data", rows[name]["env"])
        progress(f"start {name}: first run (creates the store) window shown after {rows[name]['first']:.2f} s")
    for index in range(starts):
        for name, command in commands.items():  # interleaved: the machine's load falls on every variant alike
            seconds = time_to_window(command, rows[name]["folder"] / "data", rows[name]["env"])
            rows[name]["runs"].append(seconds)
            progress(f"start {index + 1}/{starts} {name}: window shown {seconds:.2f} s")
    return rows


def first_call(command: list[str], base: Path) -> tuple[float, float]:
    """(process start → verdict shown, hook start → verdict shown) for one fresh app and data folder."""
    env = environment(base)
    data = base / "data"
    app = Watched([*command, "run", "--data-dir", str(data)], env)
    try:
        app.wait_stage("source_api")
        hook_started = time.perf_counter()
        hook = subprocess.run(
            [*command, "event", "ring", "--number", "+33639980101", "--data-dir", str(data), "--timeout", "2"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if hook.returncode != 0:
            raise SystemExit(f"event ring exited {hook.returncode}: {hook.stderr.strip()}")
        verdict = app.wait_stage("verdict_shown")
    finally:
        app.stop()
    return verdict - app.started, verdict - hook_started


def summary(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def build(with_models: bool) -> float:
    started = time.perf_counter()
    command = [sys.executable, str(ROOT / "packaging" / "build.py"), *(["--with-models"] if with_models else [])]
    done = subprocess.run(command, cwd=ROOT, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"build failed: {(done.stdout + done.stderr)[-2000:]}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--build", action="store_true", help="(re)build both frozen folders first, timed")
    parser.add_argument("--starts", type=int, default=7, help="timed starts per variant (default 7)")
    parser.add_argument("--calls", type=int, default=5, help="first-call runs per variant (default 5)")
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args()

    build_times = {}
    if args.build:
        for with_models in (False, True):
            name = "frozen, with models" if with_models else "frozen"
            progress(f"building {name}...")
            build_times[name] = build(with_models)
    commands = {name: [str(path)] for name, path in BUILDS.items() if path.is_file()}
    if not commands:
        raise SystemExit("no frozen build in dist/: run python packaging/build.py (or pass --build)")
    commands["source (python -m desktop.cli)"] = SOURCE

    lines = ["# Packaged build: size, start, first call", "", machine_markdown(), ""]
    lines += ["## Size", "", "| build | size | build time |", "|---|---|---|"]
    for name, path in BUILDS.items():
        size = f"{folder_size(path.parent) / 1e6:.0f} MB" if path.is_file() else "not built"
        lines.append(f"| {name} (`{path.parent.relative_to(ROOT)}`) | {size} | {_seconds(build_times.get(name))} |")
    for deb in sorted((ROOT / "dist").rglob("*.deb")):
        lines.append(f"| Debian package `{deb.name}` | {deb.stat().st_size / 1e6:.0f} MB | |")

    with tempfile.TemporaryDirectory(prefix="bench-frozen-") as temp:
        base = Path(temp)
        starts = bench_start(commands, args.starts, base)
        calls: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for index in range(args.calls):
            for number, (name, command) in enumerate(commands.items()):
                result = first_call(command, base / f"call-{index}-{number}")
                calls[name].append(result)
                progress(f"first call {index + 1}/{args.calls} {name}: verdict {result[0]:.2f} s after start")

    lines += ["", f"## Start to window shown (offscreen, seconds; target < {TARGET_START_S:.0f} s frozen)", ""]
    lines += ["| variant | first run (new store) | median of runs (min, max) | runs |", "|---|---|---|---|"]
    for name, row in starts.items():
        lines.append(f"| {name} | {row['first']:.2f} | {summary(row['runs'])} | {len(row['runs'])} |")
    lines += ["", "## First call after start (event API up, then `agent-assist event ring`; seconds)", ""]
    lines += ["| variant | process start → verdict shown | hook start → verdict shown | runs |", "|---|---|---|---|"]
    for name, results in calls.items():
        lines.append(
            f"| {name} | {summary([r[0] for r in results])} | {summary([r[1] for r in results])} | {len(results)} |"
        )
    frozen_medians = [statistics.median(row["runs"]) for name, row in starts.items() if name.startswith("frozen")]
    verdict = "met" if frozen_medians and max(frozen_medians) < TARGET_START_S else "missed"
    lines += ["", f"Target (frozen start median < {TARGET_START_S:.0f} s): **{verdict}**."]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")
    print(json.dumps({"starts": {k: v["runs"] for k, v in starts.items()}, "calls": calls}), file=sys.stderr)
    return 0


def _seconds(value: float | None) -> str:
    return f"{value:.0f} s" if value is not None else ""


if __name__ == "__main__":
    sys.exit(main())
