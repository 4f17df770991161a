"""Customer segment to suggestions shown, embedder load time, and peak memory with the embedder (and with speech).

Each measurement runs in a child process so its peak RSS (``ru_maxrss``) is its own:

1. ``embedder``: load e5-small (CTranslate2 int8), build the retriever over the playbook, then rank every customer
   turn of tests/data/calls (redaction + phrase detection + retrieval, what the panel's worker does) 5 times after
   one warm-up pass: p50/p95 per turn (target p95 under 150 ms);
2. ``with-speech``: the same plus faster-whisper base (int8) loaded and run on 5 s of audio, for the memory budget
   of a call without a generator (target: the whole app under 1.2 GB; this process holds both models).

    AGENT_ASSIST_MODELS=DIR .venv/bin/python bench/bench_suggest.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from _machine import machine_markdown

ROOT = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 150.0
TARGET_RSS_MB = 1200.0


def child(mode: str, rounds: int) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from desktop.core.assist.embedder import Embedder
    from desktop.core.assist.phrases import PhraseDetector
    from desktop.core.assist.playbook import load_playbook
    from desktop.core.assist.redact import redact
    from desktop.core.assist.retrieval import Retriever
    from desktop.core.consent.policy import load_policy

    started = time.perf_counter()
    embedder = Embedder.installed()
    load_s = time.perf_counter() - started
    retriever = Retriever(load_playbook(), embedder.embed, model_fingerprint=embedder.fingerprint)
    phrases = load_policy(None).data.phrases
    detector = PhraseDetector({k: getattr(phrases, k) for k in ("withdrawal", "objection", "proof_request")})
    turns = [
        s["text"]
        for p in sorted((ROOT / "tests" / "data" / "calls").glob("*.json"))
        for s in json.loads(p.read_text(encoding="utf-8"))["segments"]
        if s["speaker"] == "customer"
    ]
    if mode == "with-speech":
        from faster_whisper import WhisperModel

        from desktop.core.models import model_dir

        whisper = WhisperModel(str(model_dir("whisper-base")), device="cpu", compute_type="int8", cpu_threads=2)
        audio = (np.random.default_rng(1).standard_normal(16000 * 5) * 0.01).astype(np.float32)
        list(whisper.transcribe(audio, language="fr", beam_size=5)[0])
    times = []
    for round_ in range(rounds + 1):
        for text in turns:
            t0 = time.perf_counter()
            clean = redact(text).text
            kinds = tuple(d.kind for d in detector.detect(clean))
            retriever.suggest(clean, detections=kinds)
            if round_:
                times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "mode": mode,
        "turns": len(times),
        "load_s": round(load_s, 3),
        "p50_ms": round(times[len(times) // 2], 1),
        "p95_ms": round(times[int(len(times) * 0.95)], 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", choices=("embedder", "with-speech"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rounds)))
        return 0
    rows = []
    for mode in ("embedder", "with-speech"):
        done = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--rounds", str(args.rounds)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            print(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"{mode} failed", file=sys.stderr)
            return 1
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(machine_markdown())
    print()
    print("| process | turns | embedder load | p50 segment→suggestions | p95 (target < 150 ms) | peak RSS |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mode']} | {r['turns']} | {r['load_s']} s | {r['p50_ms']} ms | {r['p95_ms']} ms"
            f" | {r['peak_rss_mb']} MB |"
        )
    ok = all(float(r["p95_ms"]) < TARGET_P95_MS for r in rows)  # type: ignore[arg-type]
    return 0 if ok else 2


if __name__ == "__main__":
    raise SystemExit(main())
