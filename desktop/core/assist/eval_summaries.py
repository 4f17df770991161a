"""``eval summaries DIR``: the extractive summary engine scored on labelled calls in the corpus format.

Each call is drafted as ``agent-assist summarize`` does it (segments redacted, the policy pack's phrase detector
standing in for the agent's confirmations: no session). Scores, against each call's ``labels``:

- disposition accuracy and resolution accuracy (per call);
- entity F1 per kind (amounts in euros to the cent, dates, times, references exactly as written) and over all
  kinds, micro-averaged over the calls (each value counted once per call);
- next-step date F1: the set of due dates of the next steps (null dues left out), micro-averaged;
- consent-event recall (and precision): a labelled event is found when an event of the same kind points to the
  same segment or to the next customer segment;
- opening-disclosure accuracy: the four points of each labelled (outbound) call, and whole calls;
- redaction leaks: each ``must_not_appear_in_summary`` string found in the summary JSON: must be 0.

Runs on any directory of ``*.json`` calls in the format of corpus/README.md; a malformed call fails with one line
naming the file and the key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.assist.eval_suggestions import load_calls
from desktop.core.assist.phrases import PhraseDetector
from desktop.core.assist.redact import ExtraPattern
from desktop.core.assist.summarize import Classifier, draft_summary, read_corpus_call
from desktop.core.errors import InputError

ENTITY_KINDS = ("amounts_eur", "dates", "times", "references")
DISCLOSURE_POINTS = ("identity", "on_behalf_of", "commercial_nature", "recording_notice")


@dataclass
class Counts:
    """True positives, false positives, false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, got: set[Any], expected: set[Any]) -> None:
        self.tp += len(got & expected)
        self.fp += len(got - expected)
        self.fn += len(expected - got)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_json(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class SummaryReport:
    classifier: str
    calls: int = 0
    disposition_hits: int = 0
    resolution_hits: int = 0
    entities: dict[str, Counts] = field(default_factory=lambda: {kind: Counts() for kind in ENTITY_KINDS})
    next_step_dates: Counts = field(default_factory=Counts)
    events_expected: int = 0
    events_found: int = 0
    events_predicted: int = 0
    events_correct: int = 0
    disclosure_points: int = 0
    disclosure_hits: int = 0
    disclosure_calls: int = 0
    disclosure_calls_exact: int = 0
    leaks: list[dict[str, object]] = field(default_factory=list)
    misses: list[dict[str, object]] = field(default_factory=list)

    @property
    def disposition_accuracy(self) -> float:
        return self.disposition_hits / self.calls if self.calls else 0.0

    @property
    def resolution_accuracy(self) -> float:
        return self.resolution_hits / self.calls if self.calls else 0.0

    @property
    def entity_all(self) -> Counts:
        total = Counts()
        for counts in self.entities.values():
            total.tp, total.fp, total.fn = total.tp + counts.tp, total.fp + counts.fp, total.fn + counts.fn
        return total

    @property
    def event_recall(self) -> float:
        return self.events_found / self.events_expected if self.events_expected else 1.0

    @property
    def event_precision(self) -> float:
        return self.events_correct / self.events_predicted if self.events_predicted else 1.0

    @property
    def disclosure_accuracy(self) -> float:
        return self.disclosure_hits / self.disclosure_points if self.disclosure_points else 1.0

    def to_json(self) -> dict[str, object]:
        return {
            "calls": self.calls,
            "classifier": self.classifier,
            "disposition_accuracy": round(self.disposition_accuracy, 4),
            "resolution_accuracy": round(self.resolution_accuracy, 4),
            "entity_f1": round(self.entity_all.f1, 4),
            "entities": {kind: counts.to_json() for kind, counts in self.entities.items()},
            "next_step_date_f1": round(self.next_step_dates.f1, 4),
            "next_step_dates": self.next_step_dates.to_json(),
            "consent_events": self.events_expected,
            "consent_event_recall": round(self.event_recall, 4),
            "consent_event_precision": round(self.event_precision, 4),
            "opening_disclosure_accuracy": round(self.disclosure_accuracy, 4),
            "opening_disclosure_calls": self.disclosure_calls,
            "opening_disclosure_calls_exact": self.disclosure_calls_exact,
            "redaction_leaks": len(self.leaks),
            "leaks": self.leaks,
            "misses": self.misses,
        }

    def to_text(self) -> str:
        lines = [
            f"calls: {self.calls} (classifier: {self.classifier})",
            f"disposition accuracy: {self.disposition_accuracy:.3f}",
            f"resolution accuracy: {self.resolution_accuracy:.3f}",
            f"entity F1 (all kinds): {self.entity_all.f1:.3f}",
            *(
                f"  {kind}: F1 {c.f1:.3f} (precision {c.precision:.3f}, recall {c.recall:.3f})"
                for kind, c in self.entities.items()
            ),
            f"next-step date F1: {self.next_step_dates.f1:.3f} (precision {self.next_step_dates.precision:.3f},"
            f" recall {self.next_step_dates.recall:.3f})",
            f"consent-event recall: {self.event_recall:.3f} ({self.events_expected} events,"
            f" precision {self.event_precision:.3f})",
            f"opening-disclosure accuracy: {self.disclosure_accuracy:.3f} ({self.disclosure_points} points;"
            f" {self.disclosure_calls_exact}/{self.disclosure_calls} calls exact)",
            f"redaction leaks in summaries: {len(self.leaks)}",
        ]
        lines += [f"  miss {json.dumps(miss, ensure_ascii=False)}" for miss in self.misses]
        return "\n".join(lines)


def _entity_values(kind: str, values: Sequence[Any]) -> set[Any]:
    if kind == "amounts_eur":
        return {round(float(v), 2) for v in values}
    return {str(v) for v in values}


def _labels(path: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    labels: Mapping[str, Any] = data["labels"]
    for key in ("disposition", "resolution"):
        if not isinstance(labels.get(key), str):
            raise InputError(f"{path}: labels.{key}: a string is required")
    return labels


def evaluate(
    directory: Path,
    classifier: Classifier,
    detector: PhraseDetector,
    *,
    patterns: Sequence[ExtraPattern] = (),
) -> SummaryReport:
    """Draft every call of ``directory`` and score the drafts against their labels."""
    report = SummaryReport(classifier=classifier.name or "lexical")
    for name, data in load_calls(directory):
        call = read_corpus_call(data, name)
        labels = _labels(name, data)
        summary = draft_summary(
            call.call, call.segments, None, started_at=call.started_at, classifier=classifier, detector=detector,
            patterns=patterns,
        )  # fmt: skip
        body = summary.to_json()
        report.calls += 1
        for key in ("disposition", "resolution"):
            if body[key] == labels[key]:
                setattr(report, f"{key}_hits", getattr(report, f"{key}_hits") + 1)
            else:
                report.misses.append({"call": name, "field": key, "expected": labels[key], "got": body[key]})
        expected_entities = labels.get("entities") or {}
        for kind in ENTITY_KINDS:
            got = _entity_values(kind, body["entities"][kind])
            want = _entity_values(kind, expected_entities.get(kind, []))
            report.entities[kind].add(got, want)
            if got != want:
                report.misses.append(
                    {"call": name, "field": kind, "missing": sorted(map(str, want - got)),
                     "extra": sorted(map(str, got - want))}
                )  # fmt: skip
        got_dues = {step["due"] for step in body["next_steps"] if step["due"]}
        want_dues = {step.get("due") for step in labels.get("next_steps", []) if step.get("due")}
        report.next_step_dates.add(got_dues, want_dues)
        if got_dues != want_dues:
            report.misses.append(
                {"call": name, "field": "next_step_dates", "missing": sorted(want_dues - got_dues),
                 "extra": sorted(got_dues - got_dues.intersection(want_dues))}
            )  # fmt: skip
        _score_events(report, name, call.segments, body["consent_events"], labels.get("consent_events", []))
        _score_disclosure(report, name, body["opening_disclosure"], labels.get("opening_disclosure"))
        dumped = json.dumps(body, ensure_ascii=False)
        for secret in labels.get("must_not_appear_in_summary", []):
            if isinstance(secret, str) and secret and secret in dumped:
                report.leaks.append({"call": name, "length": len(secret)})
    return report


def _score_events(
    report: SummaryReport,
    name: str,
    segments: Sequence[Any],
    got: Sequence[Mapping[str, Any]],
    expected: Sequence[Mapping[str, Any]],
) -> None:
    customer = [k for k, s in enumerate(segments) if s.speaker == "customer"]

    def window(at: int) -> set[int]:
        return {at, *[k for k in customer if k > at][:1]}

    report.events_expected += len(expected)
    report.events_predicted += len(got)
    for event in expected:
        if any(e["kind"] == event.get("kind") and e["segment"] in window(int(event["segment"])) for e in got):
            report.events_found += 1
        else:
            report.misses.append({"call": name, "field": "consent_event", "missing": dict(event)})
    for e in got:
        if any(x.get("kind") == e["kind"] and e["segment"] in window(int(x["segment"])) for x in expected):
            report.events_correct += 1


def _score_disclosure(report: SummaryReport, name: str, got: Mapping[str, bool], expected: Any) -> None:
    if not isinstance(expected, dict):
        return
    report.disclosure_calls += 1
    hits = sum(bool(got.get(point)) == bool(expected.get(point)) for point in DISCLOSURE_POINTS)
    report.disclosure_points += len(DISCLOSURE_POINTS)
    report.disclosure_hits += hits
    if hits == len(DISCLOSURE_POINTS):
        report.disclosure_calls_exact += 1
    else:
        report.misses.append({"call": name, "field": "opening_disclosure", "expected": expected, "got": dict(got)})


def summarize_file(path: Path, classifier: Classifier, detector: PhraseDetector, **kwargs: Any) -> dict[str, Any]:
    """The Summary JSON of one call file in the corpus format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable JSON call ({error})") from None
    call = read_corpus_call(data, str(path))
    summary = draft_summary(
        call.call, call.segments, None, started_at=call.started_at, classifier=classifier, detector=detector, **kwargs
    )
    return summary.to_json()
