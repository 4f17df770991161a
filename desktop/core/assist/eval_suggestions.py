"""``eval suggestions DIR``: the live suggestion path scored on labelled calls in the corpus format.

Each call is replayed as the app does it: every segment redacted first (the one door of the transcript), each
customer segment run through the policy pack's phrase detector (the withdrawal prompt) and the retriever. Scores:

- top-1 / top-3 category accuracy at each labelled ``suggestion_moments`` segment;
- withdrawal recall: each ``consent_events`` entry of kind ``withdrawal`` or ``objection`` must raise the withdrawal
  prompt (a ``withdrawal`` or ``objection`` phrase detection) at its segment or the next customer segment;
- redaction leaks: any card number or IBAN of the labels (``pii`` kinds ``card_number``/``iban``, and the
  ``must_not_appear_in_summary`` strings of 4 characters or more) found in a suggestion's text: must be 0.

Works on any directory of ``*.json`` calls in the format of corpus/README.md; a malformed call fails with one line
naming the file and the key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.assist.phrases import PhraseDetector
from desktop.core.assist.redact import ExtraPattern, redact
from desktop.core.assist.retrieval import Retriever
from desktop.core.errors import InputError

PROMPT_KINDS = ("withdrawal", "objection")
WITHDRAWAL_EVENTS = ("withdrawal", "objection")
_LEAK_KINDS = ("card_number", "iban")


@dataclass
class MomentResult:
    call: str
    segment: int
    expected: str
    got: list[str]

    def to_json(self) -> dict[str, object]:
        return {"call": self.call, "segment": self.segment, "expected": self.expected, "got": self.got}


@dataclass
class EventResult:
    call: str
    segment: int
    kind: str
    prompted_at: int | None

    def to_json(self) -> dict[str, object]:
        return {"call": self.call, "segment": self.segment, "kind": self.kind, "prompted_at": self.prompted_at}


@dataclass
class SuggestionReport:
    calls: int = 0
    moments: list[MomentResult] = field(default_factory=list)
    events: list[EventResult] = field(default_factory=list)
    leaks: list[dict[str, object]] = field(default_factory=list)

    @property
    def top1(self) -> float:
        return sum(m.got[:1] == [m.expected] for m in self.moments) / max(len(self.moments), 1)

    @property
    def top3(self) -> float:
        return sum(m.expected in m.got[:3] for m in self.moments) / max(len(self.moments), 1)

    @property
    def withdrawal_recall(self) -> float:
        return sum(e.prompted_at is not None for e in self.events) / len(self.events) if self.events else 1.0

    def to_json(self) -> dict[str, object]:
        return {
            "calls": self.calls,
            "moments": len(self.moments),
            "top1_accuracy": round(self.top1, 4),
            "top3_accuracy": round(self.top3, 4),
            "withdrawal_events": len(self.events),
            "withdrawal_recall": round(self.withdrawal_recall, 4),
            "redaction_leaks": len(self.leaks),
            "misses": [m.to_json() for m in self.moments if m.got[:1] != [m.expected]],
            "withdrawal": [e.to_json() for e in self.events],
            "leaks": self.leaks,
        }

    def to_text(self) -> str:
        lines = [
            f"calls: {self.calls}, suggestion moments: {len(self.moments)}",
            f"top-1 category accuracy: {self.top1:.3f}",
            f"top-3 category accuracy: {self.top3:.3f}",
            f"withdrawal prompt recall (same or next segment): {self.withdrawal_recall:.3f} ({len(self.events)} events)",
            f"redaction leaks in suggestions: {len(self.leaks)}",
        ]
        for m in self.moments:
            if m.got[:1] != [m.expected]:
                lines.append(f"  miss {m.call} #{m.segment}: expected {m.expected}, got {', '.join(m.got)}")
        return "\n".join(lines)


def load_calls(directory: Path) -> list[tuple[str, dict[str, Any]]]:
    """The ``*.json`` calls of ``directory``, sorted by name; :class:`InputError` for a bad folder or file."""
    if not directory.is_dir():
        raise InputError(f"{directory}: no such folder")
    calls = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"{path}: not a readable JSON call ({error})") from None
        _check_call(path, data)
        calls.append((path.name, data))
    if not calls:
        raise InputError(f"{directory}: no *.json call in the folder")
    return calls


def _check_call(path: Path, data: Any) -> None:
    if not isinstance(data, dict):
        raise InputError(f"{path}: a call is a JSON object")
    segments = data.get("segments")
    if not isinstance(segments, list) or not all(
        isinstance(s, dict) and s.get("speaker") in ("agent", "customer") and isinstance(s.get("text"), str)
        for s in segments
    ):
        raise InputError(f"{path}: segments: a list of {{speaker: agent|customer, text}} objects is required")
    labels = data.get("labels")
    if not isinstance(labels, dict):
        raise InputError(f"{path}: labels: missing")
    for key in ("suggestion_moments", "consent_events"):
        for item in labels.get(key, []):
            index = item.get("segment") if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < len(segments):
                raise InputError(f"{path}: labels.{key}: segment {index!r} is not an index into segments")


def evaluate(
    directory: Path,
    retriever: Retriever,
    detector: PhraseDetector,
    *,
    patterns: Sequence[ExtraPattern] = (),
    verdict: str | None = None,
) -> SuggestionReport:
    """Replay every call of ``directory`` through redaction, the phrase detector and ``retriever``."""
    report = SuggestionReport()
    for name, call in load_calls(directory):
        report.calls += 1
        sector = (call.get("call") or {}).get("sector")
        labels = call["labels"]
        segments = call["segments"]
        moments = {m["segment"]: m["category"] for m in labels.get("suggestion_moments", [])}
        secrets = _secrets(labels)
        prompted: set[int] = set()
        for index, segment in enumerate(segments):
            if segment["speaker"] != "customer":
                continue
            text = redact(segment["text"], patterns).text
            kinds = tuple(d.kind for d in detector.detect(text))
            if any(kind in PROMPT_KINDS for kind in kinds):
                prompted.add(index)
            if index not in moments:
                continue
            suggestions = retriever.suggest(text, verdict=verdict, sector=sector, detections=kinds, limit=3)
            report.moments.append(MomentResult(name, index, moments[index], [s.category for s in suggestions]))
            for suggestion in suggestions:
                for secret in secrets:
                    if secret in suggestion.text:
                        report.leaks.append({"call": name, "segment": index, "source": suggestion.source})
        customer = [i for i, s in enumerate(segments) if s["speaker"] == "customer"]
        for event in labels.get("consent_events", []):
            if event.get("kind") not in WITHDRAWAL_EVENTS:
                continue
            at = event["segment"]
            window = [at, *[i for i in customer if i > at][:1]]
            hit = next((i for i in window if i in prompted), None)
            report.events.append(EventResult(name, at, event["kind"], hit))
    return report


def _secrets(labels: dict[str, Any]) -> list[str]:
    values = [p["value"] for p in labels.get("pii", []) if isinstance(p, dict) and p.get("kind") in _LEAK_KINDS]
    values += [s for s in labels.get("must_not_appear_in_summary", []) if isinstance(s, str)]
    return [v for v in values if len(v.strip()) >= 4]
