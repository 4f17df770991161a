"""The local event API: hook command round trip, call event to verdict, transcript segment throughput.

A child process plays the app's side (this script with ``--serve DIR``): a Qt event loop, a real store, a
CallService and the EventApi on a free port, as ``agent-assist run`` wires them, without the window. This
process measures, as a softphone, a dialler and a transcription platform would see it:

- ``agent-assist event ring …`` (the installed console script) spawned per event until it exits 0, next to a
  bare ``python -c pass`` and to the same command when no app runs (exit 5);
- ``POST /v1/call-events`` answered once the GUI thread has opened the call and evaluated consent (200 with the
  verdict), over one keep-alive connection;
- ``POST /v1/transcript-segments`` answered once the segment is committed to SQLite, one keep-alive client,
  then several in parallel (one call each); the rows are counted in the store afterwards.

    .venv/bin/python bench/bench_event_api.py [--hooks 50] [--events 500] [--segments 5000] [--clients 4]
                                              [--out bench/out/event-api.md]

Exit status 1 when the hook round trip misses its target (p99 < 200 ms).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _machine import machine_markdown

ROOT = Path(__file__).resolve().parent.parent
HOOK_TARGET_MS = 200.0
SCRIPT = Path(sys.executable).with_name("agent-assist")


# -- the app's side (child process) -------------------------------------------------------------------------------


def serve(folder: Path) -> int:
    """A headless app: store, call service, event API; runs until standard input closes."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QTimer

    import desktop.services  # noqa: F401  (applies the PySide6 6.12 workaround, as in the app)
    from desktop.config import Telephony
    from desktop.core.assist.playbook import load_playbook
    from desktop.core.consent.policy import load_policy
    from desktop.core.store.db import open_store
    from desktop.core.telephony.session import StationDefaults
    from desktop.services.calls import CallService
    from desktop.services.event_api import EventApi

    app = QCoreApplication([])
    store = open_store(folder)
    defaults = StationDefaults(professional="ACME Énergie SAS", product="electricity", caller_id="+33162000001")
    service = CallService(store.conn, load_policy(), load_playbook(), defaults)
    api = EventApi(service, folder, Telephony())
    if not api.start():
        return 1
    closed = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
    poll = QTimer()
    poll.timeout.connect(lambda: app.quit() if closed.is_set() else None)
    poll.start(50)
    print(api.port, flush=True)
    app.exec()
    api.stop()
    store.close()
    return 0


# -- measurements --------------------------------------------------------------------------------------------


def stats(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    return {
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def row(what: str, values: Sequence[float], how: str) -> str:
    s = stats(values)
    return (
        f"| {what} | {s['n']:,} | {s['p50']:.2f} | {s['p95']:.2f} | {s['p99']:.2f} | {s['max']:.2f} | {s['mean']:.2f}"
        f" | {how} |"
    )


def spawn_ms(command: list[str], expect: int, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, cwd=ROOT, check=False)
        times.append((time.perf_counter() - start) * 1000)
        if done.returncode != expect:
            raise SystemExit(f"{command[:3]}… exited {done.returncode}, expected {expect}: {done.stderr!r}")
    return times


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
        data = json.dumps(body).encode()
        start = time.perf_counter()
        self.connection.request("POST", path, body=data, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        return response.status, json.loads(payload), elapsed


def open_call(client: Client, call_id: str, number: str) -> None:
    for event in ("ring", "answer"):
        status, body, _ = client.post("/v1/call-events", {"event": event, "number": number, "call_id": call_id})
        if status != 200 or body.get("status") != "applied":
            raise SystemExit(f"{event} {call_id}: {status} {body}")


def segments(client: Client, call_id: str, count: int, latencies: list[float]) -> None:
    for index in range(count):
        body = {"call_id": call_id, "speaker": "customer" if index % 2 else "agent", "text": f"phrase {index} " * 6}
        body |= {"start": index * 2.0, "end": index * 2.0 + 1.5, "seq": index}
        status, answer, elapsed = client.post("/v1/transcript-segments", body)
        if status != 200 or answer.get("status") != "stored":
            raise SystemExit(f"segment {index} of {call_id}: {status} {answer}")
        latencies.append(elapsed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--hooks", type=int, default=50, help="hook commands spawned per kind (default 50)")
    parser.add_argument("--events", type=int, default=500, help="call events over the API (default 500)")
    parser.add_argument("--segments", type=int, default=5000, help="segments for the single client (default 5000)")
    parser.add_argument("--clients", type=int, default=4, help="parallel clients for the second run (default 4)")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if args.serve is not None:
        return serve(args.serve)
    if not SCRIPT.exists():
        raise SystemExit(f"{SCRIPT} not found: install the project (pip install -e .)")

    scratch = Path(tempfile.mkdtemp(prefix="bench-event-api-"))
    folder, nobody = scratch / "app", scratch / "not-running"
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "AGENT_ASSIST_LOG_DIR": str(scratch / "logs")},
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        token = (folder / "event-api.token").read_text().strip()
        print(f"app side listening on 127.0.0.1:{port}", file=sys.stderr)

        python_ms = spawn_ms([sys.executable, "-c", "pass"], 0, args.hooks)
        absent_ms = spawn_ms(
            [str(SCRIPT), "event", "ring", "--number", "0639980000", "--data-dir", str(nobody)], 5, args.hooks
        )
        ring_ms = []
        for index in range(args.hooks):
            command = [str(SCRIPT), "event", "ring", "--number", f"+336391{index:05d}", "--call-id", f"hook-{index}"]
            ring_ms += spawn_ms([*command, "--data-dir", str(folder)], 0, 1)
        hangup_ms = spawn_ms([str(SCRIPT), "event", "hangup", "--data-dir", str(folder)], 0, args.hooks)
        print("hooks done", file=sys.stderr)

        client = Client(port, token)
        event_ms = []
        for index in range(args.events):
            body = {"event": "dial", "number": f"+336392{index:05d}", "call_id": f"api-{index}"}
            status, answer, elapsed = client.post("/v1/call-events", body)
            if status != 200 or answer.get("verdict") is None:
                raise SystemExit(f"dial {index}: {status} {answer}")
            event_ms.append(elapsed)
            client.post("/v1/call-events", {"event": "hangup", "call_id": f"api-{index}"})
        print("call events done", file=sys.stderr)

        open_call(client, "seg-single", "+33639300000")
        single_ms: list[float] = []
        start = time.perf_counter()
        segments(client, "seg-single", args.segments, single_ms)
        single_s = time.perf_counter() - start
        print("single client done", file=sys.stderr)

        per_client = max(args.segments // args.clients, 1)
        clients = [Client(port, token) for _ in range(args.clients)]
        for index, each in enumerate(clients):
            open_call(each, f"seg-par-{index}", f"+3363930{index + 1:04d}")
        parallel_ms: list[list[float]] = [[] for _ in clients]
        threads = [
            threading.Thread(target=segments, args=(each, f"seg-par-{index}", per_client, parallel_ms[index]))
            for index, each in enumerate(clients)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        parallel_s = time.perf_counter() - start
        print("parallel clients done", file=sys.stderr)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)

    db = sqlite3.connect(f"file:{folder / 'agent-assist.sqlite3'}?mode=ro", uri=True)
    stored = dict(
        db.execute(
            "SELECT i.call_id, count(*) FROM transcript_segments s JOIN interactions i ON i.id = s.interaction_id"
            " GROUP BY i.call_id"
        ).fetchall()
    )
    hook_calls = db.execute("SELECT count(*) FROM interactions WHERE call_id LIKE 'hook-%'").fetchone()[0]
    db.close()
    shutil.rmtree(scratch, ignore_errors=True)
    parallel_all = [value for values in parallel_ms for value in values]
    parallel_stored = sum(stored.get(f"seg-par-{index}", 0) for index in range(args.clients))
    ring = stats(ring_ms)

    lines = [
        "# Local event API",
        "",
        machine_markdown(),
        "",
        "The app side is a child process: Qt event loop (QCoreApplication, no window), a fresh store (WAL,"
        " synchronous=NORMAL), CallService and EventApi on 127.0.0.1 as the app wires them. Times are wall-clock,"
        " in milliseconds, measured by this process.",
        "",
        "| what | n | p50 | p95 | p99 | max | mean | how |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        row("bare `python -c pass`", python_ms, "interpreter start-up alone"),
        row(
            "`agent-assist event ring` → app running",
            ring_ms,
            "console script spawned, exits 0 on the API's 202 (event validated, queued to the GUI thread)",
        ),
        row("`agent-assist event hangup` (no number, no call id)", hangup_ms, "same; ends the latest open call"),
        row("`agent-assist event ring` → no app", absent_ms, "no runtime file in the data folder: exit 5"),
        row(
            "`POST /v1/call-events` dial → 200 with verdict",
            event_ms,
            "keep-alive; the GUI thread opens the call, evaluates consent, commits; then a hangup (untimed)",
        ),
        row("`POST /v1/transcript-segments`, 1 client", single_ms, "keep-alive; 200 once committed to SQLite"),
        row(
            f"`POST /v1/transcript-segments`, {args.clients} clients",
            parallel_all,
            f"{args.clients} keep-alive connections in parallel, one call each",
        ),
        "",
        f"- Hook round trip target < {HOOK_TARGET_MS:.0f} ms: **{'met' if ring['p99'] < HOOK_TARGET_MS else 'NOT MET'}**"
        f" (p99 {ring['p99']:.1f} ms, max {ring['max']:.1f} ms; `python -c pass` alone p50"
        f" {stats(python_ms)['p50']:.1f} ms). {hook_calls} of {args.hooks} hook calls found in the store.",
        f"- Segment throughput, 1 client: **{args.segments / single_s:,.0f} segments/s** ({args.segments:,} in"
        f" {single_s:.2f} s; {stored.get('seg-single', 0):,} rows stored).",
        f"- Segment throughput, {args.clients} clients: **{per_client * args.clients / parallel_s:,.0f} segments/s**"
        f" ({per_client * args.clients:,} in {parallel_s:.2f} s; {parallel_stored:,} rows stored). One GUI thread"
        " applies every segment (SQLite commit, phrase detector, suggestions), so parallel clients queue behind it.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if ring["p99"] < HOOK_TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
