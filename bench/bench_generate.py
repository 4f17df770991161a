"""Generator overhead against a bare ``model.generate`` on the same prompt, tokens per second, time to first token,
load time and peak memory, for each dtype, side by side in one run.

One child process per dtype (so that its peak RSS, ``ru_maxrss``, is its own), each loading the installed
generator (``smollm2-135m`` by default: the CI fixture; ``--model NAME`` for a site model such as a Qwen2.5 folder)
and alternating, round after round on the same reply-adaptation prompt:

- ``bare``: ``model.generate(**kwargs)`` with the very arguments the app uses (greedy, repetition penalty 1.1),
  no streamer; its time to first token is a ``max_new_tokens=1`` call;
- ``stream``: :meth:`LocalGenerator.stream` (chat template, generate thread, per-token streamer, stop criterion),
  consumed to the end: what the panel's worker does;
- ``json``: :meth:`LocalGenerator.generate_json` on the summary prose schema (the JSON constraint's logits
  processor), its tokens per second next to the bare figure.

Overhead = median(stream) / median(bare) - 1 on the same number of tokens (target under 10 %). Both paths produce the
same tokens (greedy; checked), each generate on a fresh thread as the app runs it. ``--threads`` sets torch's intra-op
threads (default: torch's own choice, one per core).

    .venv/bin/python bench/bench_generate.py [--models DIR] [--rounds 5] [--tokens 64] [--dtypes bfloat16,float32]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _machine import machine_markdown

ROOT = Path(__file__).resolve().parents[1]
TARGET_OVERHEAD = 0.10
TURNS = [
    ("agent", "Bonjour, ACME Énergie, Julie à l'appareil. Cet appel est enregistré."),
    ("customer", "Oui bonjour. Ne m'appelez plus jamais, retirez mon numéro de vos fichiers."),
]
REPLY = "C'est noté : votre numéro est retiré de nos listes d'appel, vous ne serez plus sollicité."


def child(
    model: str, models: Path | None, dtype: str, rounds: int, tokens: int, threads: int | None
) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    import torch

    if threads:
        torch.set_num_threads(threads)
    from desktop.core.assist.generator import LocalGenerator, adaptation_messages, in_fresh_thread, prose_schema

    started = time.perf_counter()
    generator = LocalGenerator.installed(model, models, dtype=dtype)  # type: ignore[arg-type]
    load_s = time.perf_counter() - started
    messages = adaptation_messages(REPLY, "withdrawal_ack", TURNS)
    batch = generator.encode(messages)
    prompt = int(batch["input_ids"].shape[1])

    def generate(max_new: int) -> Any:
        with torch.inference_mode():
            return generator.model.generate(**generator.generate_kwargs(batch, max_new))

    def bare(max_new: int) -> tuple[float, int, str]:
        t0 = time.perf_counter()
        # On a thread of its own, as LocalGenerator runs every generate (see in_fresh_thread).
        out = in_fresh_thread(lambda: generate(max_new), "bare-generate")
        elapsed = time.perf_counter() - t0
        ids = out[0, prompt:]
        return elapsed, int(ids.shape[0]), generator.tokenizer.decode(ids, skip_special_tokens=True)

    def streamed() -> tuple[float, float, str]:
        t0 = time.perf_counter()
        first = None
        pieces = []
        for piece in generator.stream(messages, max_new_tokens=tokens, stop=threading.Event()):
            if first is None:
                first = time.perf_counter() - t0
            pieces.append(piece)
        return time.perf_counter() - t0, first or 0.0, "".join(pieces)

    bare(2)  # warm-up: first-call allocations and kernels
    streamed()
    bare_s, stream_s, bare_ttft, stream_ttft = [], [], [], []
    produced, same = 0, True
    for _ in range(rounds):
        elapsed, produced, bare_text = bare(tokens)
        bare_s.append(elapsed)
        bare_ttft.append(bare(1)[0])
        total, first, text = streamed()
        stream_s.append(total)
        stream_ttft.append(first)
        same = same and text == bare_text
    schema = prose_schema(1)
    json_messages = [{"role": "user", "content": "Résume l'appel : " + " ".join(t for _s, t in TURNS)}]
    vocab_t0 = time.perf_counter()
    generator._vocabulary()
    vocab_s = time.perf_counter() - vocab_t0
    json_runs = []
    for _ in range(max(1, rounds // 2)):
        t0 = time.perf_counter()
        written = generator.generate_json(json_messages, schema, stop=threading.Event(), max_new_tokens=tokens * 2)
        json_runs.append(time.perf_counter() - t0)
        assert written is not None
    json_tokens = len(generator.tokenizer.encode(written.model_dump_json(), add_special_tokens=False))
    bare_median = statistics.median(bare_s)
    stream_median = statistics.median(stream_s)
    return {
        "model": model,
        "dtype": dtype,
        "threads": torch.get_num_threads(),
        "load_s": round(load_s, 2),
        "prompt_tokens": prompt,
        "new_tokens": produced,
        "same_text": same,
        "bare_s": round(bare_median, 3),
        "stream_s": round(stream_median, 3),
        "overhead_pct": round((stream_median / bare_median - 1) * 100, 1),
        "bare_ttft_s": round(statistics.median(bare_ttft), 3),
        "stream_ttft_s": round(statistics.median(stream_ttft), 3),
        "bare_tok_s": round(produced / bare_median, 1),
        "stream_tok_s": round(produced / stream_median, 1),
        "json_s": round(statistics.median(json_runs), 2),
        "json_tokens_approx": json_tokens,
        "json_vocab_s": round(vocab_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--models", type=Path, help="models folder (default: $AGENT_ASSIST_MODELS or the app's)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--dtypes", default="bfloat16,float32")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        # Measured from a worker thread, as in the app (the service's worker).
        result: list[dict[str, object]] = []
        worker = threading.Thread(
            target=lambda: result.append(
                child(args.model, args.models, args.child, args.rounds, args.tokens, args.threads or None)
            )
        )
        worker.start()
        worker.join()
        if not result:
            return 1
        print(json.dumps(result[0]))
        return 0
    sys.path.insert(0, str(ROOT))
    from desktop.core.models import install
    from desktop.core.models.causal_lm import preferred_dtype
    from desktop.core.models.manifest import load_manifest

    if args.model in load_manifest().models:
        install(args.model, args.models, offline_only=True)  # kept when already installed and verified
    chosen, why = preferred_dtype()
    rows = []
    for dtype in args.dtypes.split(","):
        command = [sys.executable, __file__, "--child", dtype, "--model", args.model, "--rounds", str(args.rounds),
                   "--tokens", str(args.tokens), "--threads", str(args.threads)]  # fmt: skip
        if args.models:
            command += ["--models", str(args.models)]
        done = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ})
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            print(lines[-1] if lines else f"{dtype} failed", file=sys.stderr)
            return 1
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(machine_markdown())
    print()
    print(f"The app's choice on this CPU: {chosen} ({why}).")
    print()
    print(
        "| model | dtype | threads | load | prompt tok | new tok | bare generate | streamed (app) | overhead (target"
        " < 10 %) | TTFT bare | TTFT streamed | tok/s bare | tok/s streamed | JSON prose (constrained) | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['dtype']} | {r['threads']} | {r['load_s']} s | {r['prompt_tokens']} | {r['new_tokens']}"
            f" | {r['bare_s']} s | {r['stream_s']} s | {r['overhead_pct']} % | {r['bare_ttft_s']} s"
            f" | {r['stream_ttft_s']} s | {r['bare_tok_s']} | {r['stream_tok_s']}"
            f" | {r['json_s']} s (~{r['json_tokens_approx']} tok; masks {r['json_vocab_s']} s once) | {r['peak_rss_mb']} MB |"
        )
    if not all(r["same_text"] for r in rows):
        print("\nstreamed text differs from the bare generate's", file=sys.stderr)
        return 2
    ok = all(float(r["overhead_pct"]) < TARGET_OVERHEAD * 100 for r in rows)  # type: ignore[arg-type]
    return 0 if ok else 2


if __name__ == "__main__":
    raise SystemExit(main())
