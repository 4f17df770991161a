"""How long from a baresip call event reaching the app to the verdict painted on the agent panel's banner.

Two measurements, side by side:

- **real baresip**: two baresip 1.0.0 on 127.0.0.1 (the integration tests' recipe); the customer's softphone
  dials the agent's ``--calls`` times. For each call: from the moment the app's ``QTcpSocket`` hands it the bytes
  of ``CALL_INCOMING`` (``readyRead``) to the call service's ``verdict_changed``, and to the end of the first
  paint of the banner's verdict strip after it; also from the customer's ``dial`` command (includes SIP) to the
  paint. The app runs its ordinary idle event loop between calls.
- **adapter only**: the same source fed netstring frames in memory (``feed_bytes``), ``--adapter`` calls: frame
  in → ``verdict_changed`` (decode, parse, map, call desk, consent check in SQLite, signal), and → painted.

The panel is shown on Qt's offscreen platform. Between calls the banner is cleared (``show_session(None)``) so
that every call repaints it. The store is a fresh SQLite database with one consent (the calling number).

    .venv/bin/python bench/bench_baresip.py [--calls 200] [--adapter 2000] [--out bench/out/baresip.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _machine import machine_markdown  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.config import Telephony  # noqa: E402
from desktop.core.assist.playbook import load_playbook  # noqa: E402
from desktop.core.consent.policy import load_policy  # noqa: E402
from desktop.core.store.consents import ConsentRecord, record_consent  # noqa: E402
from desktop.core.store.db import open_store  # noqa: E402
from desktop.core.telephony.baresip import encode  # noqa: E402
from desktop.core.telephony.session import CallSession, StationDefaults  # noqa: E402
from desktop.services.calls import CallService  # noqa: E402
from desktop.services.softphone import BaresipSource  # noqa: E402
from desktop.ui.i18n import install_translator  # noqa: E402
from desktop.ui.panel import AgentPanel  # noqa: E402
from tests.integration.baresip_pair import Controller, ensure_baresip, running_pair  # noqa: E402

PARIS = dt.timezone(dt.timedelta(hours=1))
T0 = dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)
NUMBER = "+33639980001"
TARGET_P95_MS = 100.0
DEFAULTS = StationDefaults(professional="ACME Énergie SAS", product="electricity", caller_id="+33162000001")


class Probe(QObject):
    """Timestamps: bytes handed to the source, verdict signalled, banner strip painted (end of its paint)."""

    def __init__(self, panel: AgentPanel, service: CallService) -> None:
        super().__init__()
        self.fed_at = 0.0
        self.verdict_at = 0.0
        self.painted_at = 0.0
        self.armed = False
        self.loop: QEventLoop | None = None
        self.watched = (panel.banner.strip, panel.banner.verdict_label)
        for widget in self.watched:
            widget.installEventFilter(self)
        service.verdict_changed.connect(self._on_verdict)

    def arm(self) -> None:
        self.fed_at = self.verdict_at = self.painted_at = 0.0
        self.armed = True

    def _on_verdict(self, _session: CallSession) -> None:
        if self.armed and not self.verdict_at:
            self.verdict_at = time.perf_counter()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.armed and self.verdict_at and event.type() == QEvent.Type.Paint and watched in self.watched:
            watched.event(event)  # paint now, so that the time taken includes the painting itself
            self.painted_at = time.perf_counter()
            self.armed = False
            if self.loop is not None:
                self.loop.quit()
            return True
        return False


class TimedSource(BaresipSource):
    """The app's source, noting when each read's bytes are handed to it."""

    probe: Probe | None = None

    def feed_bytes(self, data: bytes) -> None:
        if self.probe is not None and self.probe.armed and not self.probe.fed_at and b"CALL_INCOMING" in data:
            self.probe.fed_at = time.perf_counter()
        super().feed_bytes(data)


def wait_for(probe: Probe, condition: object, timeout_ms: int) -> None:
    """Run the app's event loop until the banner is painted (or ``timeout_ms``)."""
    loop = QEventLoop()
    probe.loop = loop
    QTimer.singleShot(timeout_ms, loop.quit)
    if not condition():  # type: ignore[operator]
        loop.exec()
    probe.loop = None


def spin_until(condition: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.001)
    return True


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def row(name: str, values: list[float]) -> str:
    if not values:
        return f"| {name} | 0 | | | | | |"
    return (
        f"| {name} | {len(values)} | {statistics.median(values):.2f} | {pct(values, 95):.2f} | {pct(values, 99):.2f} |"
        f" {max(values):.2f} | {statistics.mean(values):.2f} |"
    )


def build(data_dir: Path) -> tuple[CallService, AgentPanel, Probe]:
    store = open_store(data_dir).__enter__()
    record = ConsentRecord(
        number=NUMBER,
        professional="ACME Énergie SAS",
        products=("electricity",),
        collected_at=dt.datetime(2026, 9, 1, 15, 2, tzinfo=PARIS),
        method="web_form",
        affirmative_act=True,
        pre_ticked=False,
        evidence_ref="wf-1",
        text_shown="J'accepte.",
    )
    record_consent(store.conn, record, source="bench")
    started = time.monotonic()

    def clock() -> dt.datetime:
        return T0 + dt.timedelta(seconds=time.monotonic() - started)

    service = CallService(store.conn, load_policy(), load_playbook(), DEFAULTS, clock=clock)
    panel = AgentPanel(service)
    panel.resize(380, 720)
    panel.show()
    spin_until(lambda: panel.isVisible(), 5)
    return service, panel, Probe(panel, service)


def frames_for(call_id: str) -> tuple[bytes, bytes]:
    base = {
        "event": True,
        "class": "call",
        "accountaor": "sip:agent@127.0.0.1:5072",
        "direction": "incoming",
        "peeruri": f"sip:{NUMBER}@127.0.0.1:5062",
        "peerdisplayname": "Jean Dupont",
        "id": call_id,
    }
    ring = encode(json.dumps({**base, "type": "CALL_INCOMING", "param": base["peeruri"]}).encode())
    closed = encode(json.dumps({**base, "type": "CALL_CLOSED", "param": "Connection reset by peer"}).encode())
    return ring, closed


def bench_adapter(count: int, folder: Path) -> dict[str, list[float]]:
    service, panel, probe = build(folder / "adapter")
    source = TimedSource(service, Telephony(baresip_port=9), clock=service.clock)  # never started: fed by hand
    results: dict[str, list[float]] = {"verdict": [], "painted": []}
    for index in range(count):
        ring, closed = frames_for(f"bench-{index}")
        panel.banner.show_session(None)
        QApplication.processEvents()
        probe.arm()
        probe.fed_at = time.perf_counter()
        source.feed_bytes(ring)
        wait_for(probe, lambda: not probe.armed, 2000)
        if probe.verdict_at:
            results["verdict"].append((probe.verdict_at - probe.fed_at) * 1000)
        if probe.painted_at:
            results["painted"].append((probe.painted_at - probe.fed_at) * 1000)
        source.feed_bytes(closed)
    panel.close()
    return results


def bench_real(count: int, folder: Path) -> tuple[dict[str, list[float]], int]:
    ensure_baresip()
    service, panel, probe = build(folder / "real")
    results: dict[str, list[float]] = {"verdict": [], "painted": [], "dial": []}
    failures = 0
    with running_pair(folder / "phones", customer_user=NUMBER) as pair:
        source = TimedSource(
            service, Telephony(baresip_port=pair.agent.ctrl_port), clock=service.clock, initial_delay=0.05
        )
        source.probe = probe
        source.start()
        if not spin_until(lambda: source.status == "connected", 10):
            raise SystemExit("the app could not connect to the agent's baresip")
        customer = Controller(pair.customer.ctrl_port).connect()
        try:
            for index in range(count):
                panel.banner.show_session(None)
                QApplication.processEvents()
                probe.arm()
                dialled = time.perf_counter()
                customer.send("dial", f"sip:agent@127.0.0.1:{pair.agent.sip_port}")
                wait_for(probe, lambda: not probe.armed, 5000)
                if probe.painted_at and probe.fed_at:
                    results["verdict"].append((probe.verdict_at - probe.fed_at) * 1000)
                    results["painted"].append((probe.painted_at - probe.fed_at) * 1000)
                    results["dial"].append((probe.painted_at - dialled) * 1000)
                else:
                    failures += 1
                    probe.armed = False
                session = service.current
                customer.send("hangup")
                customer.event("CALL_CLOSED", timeout=10)
                spin_until(lambda s=session: s is None or not s.is_open, 10)
                if index % 50 == 49:
                    print(f"  {index + 1} calls", file=sys.stderr)
        finally:
            customer.close()
            source.stop()
    panel.close()
    return results, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200, help="calls through the real baresip pair (0: skip)")
    parser.add_argument("--adapter", type=int, default=2000, help="calls fed to the adapter in memory")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication([])
    install_translator(app, "fr")  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="bench-baresip-") as tmp:
        folder = Path(tmp)
        print(f"adapter only: {args.adapter} calls", file=sys.stderr)
        adapter = bench_adapter(args.adapter, folder)
        real: dict[str, list[float]] = {}
        failures = 0
        if args.calls:
            print(f"real baresip: {args.calls} calls", file=sys.stderr)
            real, failures = bench_real(args.calls, folder)

    lines = [
        "# baresip event → verdict on the banner",
        "",
        machine_markdown(),
        "",
        f"Qt platform: `{os.environ.get('QT_QPA_PLATFORM')}`; baresip: Debian 1.0.0 (`baresip-core`) when run.",
        "",
        "| path (ms) | calls | median | p95 | p99 | max | mean |",
        "|---|---|---|---|---|---|---|",
        row("adapter only: frame in → `verdict_changed`", adapter["verdict"]),
        row("adapter only: frame in → banner painted", adapter["painted"]),
    ]
    if real:
        lines += [
            row("real baresip: `CALL_INCOMING` read → `verdict_changed`", real["verdict"]),
            row("real baresip: `CALL_INCOMING` read → banner painted", real["painted"]),
            row("real baresip: customer `dial` sent → banner painted (incl. SIP)", real["dial"]),
        ]
    painted = real.get("painted") or adapter["painted"]
    p95 = pct(painted, 95) if painted else float("nan")
    verdict = "met" if painted and p95 < TARGET_P95_MS else "NOT met"
    lines += [
        "",
        f"Target: event received → verdict painted, p95 < {TARGET_P95_MS:.0f} ms: **{verdict}** (p95 {p95:.2f} ms"
        f"{' on the real baresip pair' if real else ', adapter only'}).",
    ]
    if failures:
        lines.append(f"Calls without a measured paint (timed out): {failures}.")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report, encoding="utf-8")
    return 0 if painted and p95 < TARGET_P95_MS and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
