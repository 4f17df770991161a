"""Peak memory of the whole app during a live call, without a generator: Whisper base and e5-small loaded.

One child process per configuration builds the app as ``agent-assist run`` does (offscreen): the main window over a
store holding the demo data, the call service, the suggestion engine (e5-small on its worker), the transcription
service (Whisper base, faster-whisper int8, following baresip-style recordings) and the summary engine (e5-small on
the summary worker). Then a live call: a ring and an answer through ``CallService.handle_event``, the two sides'
recordings (``dump-…-dec.wav`` customer, ``dump-…-enc.wav`` agent: French turns of a corpus call spoken by espeak-ng,
16 kHz) appear in the recordings folder and are transcribed, each segment committed (redaction, suggestions, the
summary draft), then the hang-up, the draft, and the summary validated. The process's peak RSS (``VmHWM``) is read
at the end, with RSS sampled every 100 ms along the way.

Configurations: ``shared`` (one e5-small for suggestions and summaries: :func:`shared_embedder`) and ``separate``
(each worker loads its own, as the suggestion engine does by itself today). Target: under 1.2 GB.

    AGENT_ASSIST_MODELS=DIR .venv/bin/python bench/bench_memory.py [--call call-02] [--turns 14] [--configs shared,separate]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

from _machine import machine_markdown

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 1200.0
RATE = 16000


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def speak(text: str, folder: Path) -> Any:
    """``text`` spoken by espeak-ng (French), as 16 kHz mono int16 samples."""
    import numpy as np

    raw = folder / "utterance.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-s", "160", "-w", str(raw), text], check=True, timeout=60)
    with wave.open(str(raw), "rb") as handle:
        rate = handle.getframerate()
        samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16).astype(np.float32)
    positions = np.arange(0, len(samples), rate / RATE)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.int16)


def recordings(call: dict[str, Any], turns: int, folder: Path) -> tuple[Any, Any, float]:
    """The customer's and the agent's tracks of the call's first ``turns`` turns, one after the other."""
    import numpy as np

    from desktop.core.assist.redact import redact

    customer: list[Any] = []
    agent: list[Any] = []
    for segment in call["segments"][:turns]:
        speech = speak(redact(segment["text"]).text, folder)
        gap = np.zeros(int(0.6 * RATE), dtype=np.int16)
        silence = np.zeros(len(speech), dtype=np.int16)
        mine, other = (customer, agent) if segment["speaker"] == "customer" else (agent, customer)
        mine += [speech, gap]
        other += [silence, gap]
    dec, enc = np.concatenate(customer), np.concatenate(agent)
    return dec, enc, len(dec) / RATE


def write_wav(path: Path, samples: Any) -> None:
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(samples.tobytes())


def child(config: str, call_name: str, turns: int) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import datetime as dt

    from bench_app import build_window, settle
    from PySide6.QtCore import QTimer

    from desktop.core.assist.playbook import load_playbook
    from desktop.core.assist.retrieval import Retriever
    from desktop.core.assist.summarize import SummaryWorker, installed_classifier, shared_embedder
    from desktop.core.models import model_dir
    from desktop.core.telephony.events import CallEvent
    from desktop.services.suggestions import SuggestionEngine, installed_retriever
    from desktop.services.transcription import TranscriptionService

    call = json.loads((ROOT / "tests" / "data" / "calls" / f"{call_name}.json").read_text(encoding="utf-8"))
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    dec, enc, audio_s = recordings(call, turns, work)
    rss_start = _status_kb("VmRSS")
    app, store, service, window = build_window(work / "data")
    playbook = load_playbook()
    if config == "shared":

        def factory() -> Retriever:
            embedder = shared_embedder(None)
            return Retriever(playbook, embedder.embed, model_fingerprint=embedder.fingerprint, cache_dir=work)

        suggester = SuggestionEngine(playbook, factory, parent=service)
    else:
        suggester = SuggestionEngine(playbook, installed_retriever(playbook, None, work), parent=service)
    service.use_suggester(suggester)
    suggester.preload()
    folder = work / "recordings"
    folder.mkdir()
    speech = TranscriptionService(service, model_dir("whisper-base"), folder, parent=service)
    speech.preload()
    worker = SummaryWorker(installed_classifier(None))
    service.use_summary_engine(worker)
    samples: list[int] = []
    sampler = QTimer()
    sampler.timeout.connect(lambda: samples.append(_status_kb("VmRSS")))
    sampler.start(100)
    deadline = time.monotonic() + 120
    while worker.classifier is None and worker.failure is None and time.monotonic() < deadline:
        settle(app, 0.2)
    settle(app, 3.0)  # the suggestion worker and Whisper load meanwhile
    rss_loaded = _status_kb("VmRSS")

    committed: list[Any] = []
    done: list[Any] = []
    speech.segment_committed.connect(lambda s, seg, timing: committed.append(seg))
    speech.call_transcribed.connect(lambda s: done.append(s))
    at = dt.datetime.now().astimezone()
    session = service.handle_event(CallEvent(kind="ringing", at=at, number="+33639980042", call_id="bench"))
    service.handle_event(CallEvent(kind="answered", at=at + dt.timedelta(seconds=2), call_id="bench"))
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S")
    write_wav(folder / f"dump-{stamp}-dec.wav", dec)
    write_wav(folder / f"dump-{stamp}-enc.wav", enc)
    started = time.monotonic()
    expected = min(turns, len(call["segments"]))
    while len(committed) < expected and time.monotonic() - started < audio_s * 3 + 60:
        settle(app, 0.2)
    service.handle_event(CallEvent(kind="ended", at=at + dt.timedelta(seconds=audio_s), call_id="bench"))
    while not done and time.monotonic() - started < audio_s * 3 + 90:
        settle(app, 0.2)
    transcribe_s = time.monotonic() - started
    t0 = time.perf_counter()
    summary = service.draft(session)
    draft_ms = (time.perf_counter() - t0) * 1000
    service.save_summary(session, summary, validated_by="agent-bench")
    settle(app, 0.5)
    sampler.stop()
    result = {
        "config": config,
        "call": call_name,
        "turns": expected,
        "audio_s": round(audio_s, 1),
        "segments": len(committed),
        "transcribe_s": round(transcribe_s, 1),
        "draft_ms": round(draft_ms, 1),
        "disposition": summary.disposition,
        "rss_start_mb": round(rss_start / 1024, 1),
        "rss_models_loaded_mb": round(rss_loaded / 1024, 1),
        "rss_max_sampled_mb": round(max(samples or [0]) / 1024, 1),
        "peak_rss_mb": round(_status_kb("VmHWM") / 1024, 1),
    }
    speech.stop()
    suggester.stop()
    worker.stop()
    window.close()
    store.close()
    return result


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "# Whole-app memory during a live call, no generator (bench_memory.py)",
        "",
        machine_markdown(),
        "",
        "One process per row, built as `agent-assist run` builds the app (offscreen): window, call service, suggestion"
        " engine (e5-small), transcription (Whisper base int8, following the call's two recordings), summary engine"
        " (e5-small on its worker). A live inbound call of the corpus spoken by espeak-ng, transcribed, summarised,"
        " validated.",
        "",
        "| e5-small | call (turns, audio) | segments committed | transcription | draft at hang-up | RSS at start |"
        " RSS models loaded | **peak RSS (VmHWM)** |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['config']} | {r['call']} ({r['turns']}, {r['audio_s']} s) | {r['segments']} |"
            f" {r['transcribe_s']} s | {r['draft_ms']} ms | {r['rss_start_mb']} MB | {r['rss_models_loaded_mb']} MB |"
            f" **{r['peak_rss_mb']} MB** |"
        )
    worst = max(r["peak_rss_mb"] for r in results)
    verdict = "meets" if worst < TARGET_MB else "MISSES"
    lines += ["", f"Target: the whole app under {TARGET_MB:.0f} MB during a call: worst {worst} MB ({verdict})."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--call", default="call-02", help="the corpus call spoken (default call-02)")
    parser.add_argument("--turns", type=int, default=14, help="its first N turns (default 14)")
    parser.add_argument("--configs", default="shared,separate", help="shared,separate (default both)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.call, args.turns)), flush=True)
        return 0
    results = []
    for config in args.configs.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--child", config, "--call", args.call, "--turns", str(args.turns)],
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            print(done.stdout[-2000:], done.stderr[-4000:], file=sys.stderr)
            return 1
        results.append(json.loads(line[len("RESULT ") :]))
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
