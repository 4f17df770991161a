"""Hang-up to summary draft for a 30-minute call: the extractive engine fed segment by segment, as during a call.

The call is made by concatenating the turns of tests/data/calls (each call's times shifted after the previous one)
until it lasts ``--minutes`` (default 30); it is one inbound service call (call-01's details). For each of
``--runs`` runs (default 3), in one process:

1. **During the call**: every segment goes through :meth:`SummaryDraft.add` (what the GUI thread does: redaction,
   sentences, entities, commitments, phrase detection) and then :meth:`SummaryDraft.embed_pending` (what the summary
   worker does: the model on the new sentences). Both are timed per segment.
2. **Hang-up → draft**: :meth:`SummaryDraft.finish` with the session's events and the live checklist, timed
   ``--finishes`` times (default 20) per run: p50/p95 over all of them (target: under 2 s).
3. **Without incremental work** (reference, once): :func:`draft_summary` on the whole call at once, the model
   embedding every sentence at hang-up.

With e5-small installed (``AGENT_ASSIST_MODELS=DIR``, or the data folder's models) it classifies with e5-small,
else with the lexical stand-in (``--classifier`` forces one); the report says which. Peak RSS is the process's.

    .venv/bin/python bench/bench_summary.py [--minutes 30] [--runs 3] [--finishes 20] [--classifier auto]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _machine import machine_markdown

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_S = 2.0


def long_call(minutes: float) -> tuple[Any, list[Any]]:
    """call-01's details, and the corpus's turns repeated until the call lasts ``minutes``."""
    from desktop.core.assist.summarize import read_corpus_call

    calls = [
        read_corpus_call(json.loads(p.read_text(encoding="utf-8")), p.name)
        for p in sorted((ROOT / "tests" / "data" / "calls").glob("*.json"))
    ]
    from desktop.core.assist.extract import Turn

    turns: list[Turn] = []
    offset = 0.0
    while offset < minutes * 60:
        for call in calls:
            last = 0.0
            for segment in call.segments:
                start = (segment.start or 0.0) + offset
                turns.append(Turn(segment.speaker, segment.text, start))
                last = max(last, start)
            offset = last + 5.0
            if offset >= minutes * 60:
                break
    return calls[0], turns


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    from desktop.core.assist.phrases import PhraseDetector
    from desktop.core.assist.summarize import (
        DETECTION_KINDS,
        Classifier,
        SummaryDraft,
        draft_summary,
        installed_classifier,
        load_prototypes,
    )
    from desktop.core.consent.policy import load_policy
    from desktop.core.errors import NotFoundError

    classifier: Classifier
    load_s = 0.0
    if args.classifier == "lexical":
        classifier = Classifier(load_prototypes())
    else:
        started = time.perf_counter()
        try:
            classifier = installed_classifier()()
        except NotFoundError:
            if args.classifier == "e5-small":
                raise
            classifier = Classifier(load_prototypes())
        load_s = time.perf_counter() - started
    phrases = load_policy(None).data.phrases
    detector = PhraseDetector({kind: getattr(phrases, kind) for kind in DETECTION_KINDS})
    base, turns = long_call(args.minutes)
    events = [{"kind": "withdrawal", "at": base.started_at.isoformat(), "segment": 9}]
    checklist = {"identity": True, "on_behalf_of": True, "commercial_nature": False, "recording_notice": True}
    add_ms: list[float] = []
    embed_ms: list[float] = []
    finish_s: list[float] = []
    sentences = 0
    summary: Any = None
    for _ in range(args.runs):
        draft = SummaryDraft(base.call, started_at=base.started_at, classifier=classifier, detector=detector)
        for turn in turns:
            t0 = time.perf_counter()
            draft.add(turn)
            t1 = time.perf_counter()
            sentences += draft.embed_pending()
            t2 = time.perf_counter()
            add_ms.append((t1 - t0) * 1000)
            embed_ms.append((t2 - t1) * 1000)
        for _ in range(args.finishes):
            t0 = time.perf_counter()
            summary = draft.finish(events, disclosure=checklist, embed=False)
            finish_s.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    draft_summary(base.call, turns, events, started_at=base.started_at, classifier=classifier, detector=detector)
    whole_s = time.perf_counter() - t0
    body = summary.to_json()
    return {
        "classifier": classifier.name or "lexical",
        "load_s": round(load_s, 2),
        "segments": len(turns),
        "sentences": sentences // max(args.runs, 1),
        "call_minutes": round((turns[-1].start or 0.0) / 60, 1),
        "runs": args.runs,
        "finishes": len(finish_s),
        "add_ms": {"p50": percentile(add_ms, 0.5), "p95": percentile(add_ms, 0.95), "max": max(add_ms)},
        "embed_ms": {"p50": percentile(embed_ms, 0.5), "p95": percentile(embed_ms, 0.95), "max": max(embed_ms)},
        "finish_s": {
            "p50": percentile(finish_s, 0.5),
            "p95": percentile(finish_s, 0.95),
            "mean": statistics.fmean(finish_s),
        },
        "whole_at_hangup_s": whole_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "draft": {
            "disposition": body["disposition"],
            "next_steps": len(body["next_steps"]),
            "amounts": len(body["entities"]["amounts_eur"]),
            "dates": len(body["entities"]["dates"]),
        },
    }


def report(result: dict[str, Any]) -> str:
    f, a, e = result["finish_s"], result["add_ms"], result["embed_ms"]
    verdict = "meets" if f["p95"] < TARGET_S else "MISSES"
    return "\n".join(
        [
            "# Summary draft at hang-up (bench_summary.py)",
            "",
            machine_markdown(),
            "",
            f"A {result['call_minutes']}-minute call ({result['segments']} segments, {result['sentences']} sentences)"
            f" made of the corpus's turns; classifier **{result['classifier']}** (load {result['load_s']} s);"
            f" {result['runs']} runs, {result['finishes']} timed hang-ups.",
            "",
            "| step | p50 | p95 | max / mean |",
            "|---|---|---|---|",
            f"| per segment, GUI thread (`add`) | {a['p50']:.2f} ms | {a['p95']:.2f} ms | {a['max']:.1f} ms |",
            f"| per segment, worker (`embed_pending`) | {e['p50']:.2f} ms | {e['p95']:.2f} ms | {e['max']:.1f} ms |",
            f"| **hang-up → draft (`finish`)** | **{f['p50'] * 1000:.0f} ms** | **{f['p95'] * 1000:.0f} ms** |"
            f" {f['mean'] * 1000:.0f} ms |",
            f"| whole call at hang-up, not incremental (reference) | {result['whole_at_hangup_s']:.2f} s | | |",
            "",
            f"Target: hang-up → draft under {TARGET_S:.0f} s for a 30-minute call: p95 {f['p95']:.3f} s ({verdict})."
            f" Peak RSS {result['peak_rss_mb']:.0f} MB. Draft: {json.dumps(result['draft'])}.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the call (default 30)")
    parser.add_argument("--runs", type=int, default=3, help="calls fed segment by segment (default 3)")
    parser.add_argument("--finishes", type=int, default=20, help="timed hang-ups per run (default 20)")
    parser.add_argument("--classifier", choices=("auto", "e5-small", "lexical"), default="auto")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    args = parser.parse_args(argv)
    result = run(args)
    print(report(result))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
