"""The extractive summary engine: a call's transcript and consent events in, the Summary JSON of architecture.md out.

Deterministic and always available. Every date, amount, time and reference comes from the transcript
(:mod:`desktop.core.assist.extract`); prose fields quote the transcript's own (redacted) sentences; sentences
holding sensitive words, e-mail addresses, phone numbers or street addresses are never quoted.

- reason: the customer's sentence that best states a service request (inbound), or the agent's sentence that
  presents the offer (outbound), after a short frame (« Appel entrant (facturation) : « … » »);
- actions: what the agent did in the call (« je lance le remboursement… », « je note votre opposition… ») and
  the consent events recorded;
- next_steps: commitments (future tense, « je vous envoie », a third party that « sera », a visit booked), with
  their owner and due date (a date said in the sentence, « maintenant »/« ce soir » → the call's day);
- disposition: rules first (a withdrawal → do_not_call; an objection or a refused recording → not_interested;
  a callback agreed at a precise time → callback_scheduled; a visit booked and accepted → appointment_set), then
  embedding classification of the call's sentences against the prototype phrases of assets/summaries/fr.toml;
- resolution: not_applicable for offer calls unless the customer raises a service request (classified per
  sentence); partial when a visit, callback or escalation follows; else resolved/unresolved by classification;
- consent_events: the session's confirmed withdrawals/objections, and what the policy pack's phrase lists detect
  (proof requested, recording refused; withdrawals and objections too when no session confirmed them);
  consent_given when the customer agrees to a callback the agent proposed at a precise date and time;
- opening_disclosure: :func:`desktop.core.assist.disclosure.check_opening` on the agent's first turn (outbound).

Seam for a generator: :class:`ProseWriter` writes the prose fields from the transcript and this draft; every
date, amount, time and reference its prose contains is checked against the transcript (:func:`facts_supported`),
and a field with an unsupported fact is dropped (the extractive text stays) and reported.

Incremental: :class:`SummaryDraft` takes segments as they come (extraction per segment, embeddings on demand
through :meth:`SummaryDraft.embed_pending`), so that :meth:`SummaryDraft.finish` at hang-up only aggregates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as _with
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from desktop.core.assist import extract
from desktop.core.assist.disclosure import check_opening
from desktop.core.assist.extract import Commitment, Entities, Sentence, Turn, TurnLike, fold
from desktop.core.assist.phrases import PhraseDetector
from desktop.core.assist.redact import CARD_MASK, IBAN_MASK, ExtraPattern, redact
from desktop.core.assist.summary import (
    ConsentEvent,
    Disposition,
    GeneratedBy,
    NextStep,
    OpeningDisclosure,
    Summary,
)
from desktop.core.assist.summary import Entities as SummaryEntities
from desktop.core.consent.policy import format_validation_error
from desktop.core.errors import InputError
from desktop.paths import assets_dir

log = logging.getLogger("agent_assist.summarize")

DEFAULT_PROTOTYPES = assets_dir() / "summaries" / "fr.toml"
Vectors = npt.NDArray[np.float32]
Embed = Callable[[Sequence[str]], Vectors]
#: The policy pack's phrase lists read by the engine, and the consent event kind each one gives.
DETECTION_KINDS = {
    "withdrawal": "withdrawal",
    "objection": "objection",
    "proof_request": "proof_requested",
    "recording_refused": "recording_refused",
}
INTENTS = ("technical", "billing", "cancellation", "information", "offer", "other")
SERVICE_INTENTS = ("technical", "billing", "cancellation", "information")
OFFER_DISPOSITIONS: tuple[Disposition, ...] = ("sale", "not_interested", "information_given")
SERVICE_DISPOSITIONS: tuple[Disposition, ...] = ("resolved", "escalated", "information_given", "cancelled", "retained")
MAX_ACTIONS = 6
_BATCH = 32
MAX_NEXT_STEPS = 8
_INTENT_LABELS = {
    "technical": "problème technique",
    "billing": "facturation",
    "cancellation": "demande de résiliation",
    "information": "demande d'information",
}
_PURPOSE_LABELS = {"prospection": "prospection", "contract": "offre à un client", "survey": "enquête"}


# -- prototypes -------------------------------------------------------------------------------------------------


class Prototypes(BaseModel):
    """assets/summaries/fr.toml: prototype phrases per class, and the words that keep a sentence from quotes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    disposition: dict[str, tuple[str, ...]]
    intent: dict[str, tuple[str, ...]]
    resolution: dict[str, tuple[str, ...]]
    sensitive: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("disposition")
    @classmethod
    def _dispositions(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return _classes(value, set(OFFER_DISPOSITIONS) | set(SERVICE_DISPOSITIONS), "disposition")

    @field_validator("intent")
    @classmethod
    def _intents(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return _classes(value, set(INTENTS), "intent")

    @field_validator("resolution")
    @classmethod
    def _resolutions(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return _classes(value, {"resolved", "unresolved"}, "resolution")

    @property
    def sensitive_words(self) -> tuple[str, ...]:
        return tuple(fold(word) for word in self.sensitive.get("words", ()))

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


def _classes(value: dict[str, tuple[str, ...]], wanted: set[str], table: str) -> dict[str, tuple[str, ...]]:
    unknown = sorted(set(value) - wanted)
    if unknown:
        raise ValueError(f"unknown {table} class {unknown[0]!r} (known: {', '.join(sorted(wanted))})")
    missing = sorted(wanted - set(value))
    if missing:
        raise ValueError(f"class {missing[0]!r} is missing")
    empty = [name for name, phrases in value.items() if not any(p.strip() for p in phrases)]
    if empty:
        raise ValueError(f"class {empty[0]!r} has no phrase")
    return value


@lru_cache(maxsize=4)
def load_prototypes(path: Path | None = None) -> Prototypes:
    """The prototype phrases (the shipped file by default); :class:`InputError` naming the file and the key."""
    path = path or DEFAULT_PROTOTYPES
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{path}: not a readable TOML file ({error})") from None
    try:
        return Prototypes.model_validate(data)
    except ValidationError as error:
        raise InputError(format_validation_error(error, str(path))) from None


# -- classification ---------------------------------------------------------------------------------------------

_STOP = frozenset(
    [
        "le",
        "la",
        "les",
        "l",
        "un",
        "une",
        "des",
        "de",
        "du",
        "d",
        "a",
        "au",
        "aux",
        "et",
        "ou",
        "en",
        "je",
        "j",
        "tu",
        "il",
        "elle",
        "on",
        "nous",
        "vous",
        "ils",
        "elles",
        "me",
        "m",
        "te",
        "t",
        "se",
        "s",
        "ce",
        "c",
        "ca",
        "cet",
        "cette",
        "ces",
        "mon",
        "ma",
        "mes",
        "ton",
        "ta",
        "tes",
        "son",
        "sa",
        "ses",
        "notre",
        "votre",
        "nos",
        "vos",
        "leur",
        "leurs",
        "que",
        "qu",
        "qui",
        "quoi",
        "pour",
        "par",
        "sur",
        "dans",
        "avec",
        "est",
        "sont",
        "suis",
        "es",
        "etre",
        "ai",
        "as",
        "avons",
        "avez",
        "ont",
        "y",
        "euh",
        "hein",
        "bon",
        "bah",
        "ben",
        "alors",
        "voila",
        "oui",
        "non",
    ]
)


def lexical_embed(texts: Sequence[str]) -> Vectors:
    """A deterministic stand-in for the embedder: hashed bag of word stems (5 letters), L2-normalised."""
    out = np.zeros((len(texts), 1024), dtype=np.float32)
    for row, text in enumerate(texts):
        for token in extract.tokenize(text):
            word = token.word
            if word in _STOP or token.is_figure or len(word) < 3:
                continue
            digest = hashlib.blake2b(word[:5].encode(), digest_size=4).digest()
            out[row, int.from_bytes(digest, "little") % 1024] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    result: Vectors = out / np.maximum(norms, 1e-9)
    return result


class Classifier:
    """Sentences compared with the prototype phrases of each class (max cosine), by an embedding function.

    ``embed`` is e5-small's (:meth:`desktop.core.assist.embedder.Embedder.embed`) where installed, else
    :func:`lexical_embed`. Thread-safe once built (read-only).
    """

    def __init__(self, prototypes: Prototypes, embed: Embed | None = None, *, name: str | None = None) -> None:
        self.prototypes = prototypes
        self.embed: Embed = embed or lexical_embed
        self.name = name if embed is not None else "lexical"
        self._tables: dict[str, dict[str, Vectors]] = {}
        for table in ("disposition", "intent", "resolution"):
            classes: Mapping[str, Sequence[str]] = getattr(prototypes, table)
            self._tables[table] = {name: self.embed(list(phrases)) for name, phrases in classes.items()}

    def scores(self, table: str, vectors: Vectors, classes: Sequence[str] | None = None) -> dict[str, float]:
        """Each class's best cosine between any of ``vectors`` (rows) and any of its phrases (-1 without rows)."""
        out: dict[str, float] = {}
        for name, matrix in self._tables[table].items():
            if classes is not None and name not in classes:
                continue
            out[name] = float((vectors @ matrix.T).max()) if len(vectors) else -1.0
        return out

    def argmax_rows(self, table: str, vectors: Vectors) -> list[tuple[str, float]]:
        """For each row: its best class and that class's cosine."""
        if not len(vectors):
            return []
        names = list(self._tables[table])
        best = np.stack([(vectors @ self._tables[table][name].T).max(axis=1) for name in names], axis=1)
        picks = best.argmax(axis=1)
        return [(names[int(k)], float(best[row, int(k)])) for row, k in enumerate(picks)]


# -- the generator seam ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prose:
    """What a generator writes: each field None to keep the extractive text.

    ``next_step_actions`` follows the extractive ``next_steps`` (same order, same length; None keeps one)."""

    reason: str | None = None
    actions: list[str] | None = None
    next_step_actions: list[str | None] | None = None


class ProseWriter(Protocol):
    """A local generator that writes the summary's prose fields (implemented where a model is installed).

    ``write`` gets the redacted transcript and the extractive draft (its facts are the only ones it may use) and
    returns :class:`Prose`; it may raise to fall back to the extractive text. ``name`` goes into
    ``generated_by.model``."""

    @property
    def name(self) -> str: ...

    def write(self, transcript: Sequence[Turn], draft: Summary) -> Prose: ...


@dataclass(frozen=True)
class Rejected:
    """A prose field left out because it holds facts the transcript does not."""

    field: str
    unsupported: tuple[str, ...]


@dataclass
class TranscriptFacts:
    """The transcript's entities and compact digit string, what prose is checked against."""

    entities: Entities
    digits: str
    compact: str

    @classmethod
    def of(cls, transcript: Sequence[TurnLike] | str, started_at: dt.datetime) -> TranscriptFacts:
        turns = [Turn("customer", transcript)] if isinstance(transcript, str) else list(transcript)
        entities, previous = Entities(), ""
        for turn in turns:
            entities.add(extract.turn_entities(turn.text, started_at, previous))
            previous = turn.text
        whole = " ".join(turn.text for turn in turns)
        return cls(entities, re.sub(r"\D", "", whole), re.sub(r"[\s.\-]", "", whole).upper())


def facts_supported(
    text: str, transcript: Sequence[TurnLike] | str | TranscriptFacts, *, started_at: dt.datetime
) -> list[str]:
    """The facts of ``text`` (amounts, dates, times, references, long numbers) that the transcript does not hold,
    as found in ``text``; empty when everything is supported. Relative dates are resolved against ``started_at``."""
    facts = transcript if isinstance(transcript, TranscriptFacts) else TranscriptFacts.of(transcript, started_at)
    known = facts.entities
    unsupported: list[str] = []
    for amount in extract.amounts(text):
        if not any(abs(amount - value) < 0.005 for value in known.amounts_eur):
            unsupported.append(f"{amount:g} €")
    for mention in extract.date_mentions(text, started_at):
        if mention.date not in known.dates:
            unsupported.append(mention.date.isoformat())
    for time in extract.times(text):
        if time not in known.times:
            unsupported.append(time)
    references = extract.references(text, context="référence")
    for reference in references:
        if re.sub(r"[\s.\-]", "", reference).upper() not in facts.compact:
            unsupported.append(reference)
    dated = " ".join(m.group() for m in re.finditer(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}", text))
    for m in re.finditer(r"\d+(?:[ \u00a0]\d+)*", text):
        digits = re.sub(r"\D", "", m.group())
        supported = digits in facts.digits or m.group() in dated or any(m.group() in r for r in references)
        if len(digits) >= 5 and not supported:
            unsupported.append(m.group())
    return list(dict.fromkeys(unsupported))


def apply_prose(
    draft: Summary,
    prose: Prose,
    transcript: Sequence[TurnLike],
    *,
    started_at: dt.datetime,
    model: str,
    patterns: Sequence[ExtraPattern] = (),
) -> tuple[Summary, list[Rejected]]:
    """``draft`` with the prose fields whose facts are all in the transcript (redacted again, belt and braces);
    the others stay extractive and are returned as :class:`Rejected`."""
    facts = TranscriptFacts.of(transcript, started_at)
    rejected: list[Rejected] = []
    used = False

    def check(name: str, text: str) -> str | None:
        clean = redact(text.strip(), patterns).text
        if not clean:
            return None
        missing = facts_supported(clean, facts, started_at=started_at)
        if missing:
            rejected.append(Rejected(name, tuple(missing)))
            return None
        return clean

    update: dict[str, Any] = {}
    if prose.reason is not None and (reason := check("reason", prose.reason)) is not None:
        update["reason"], used = reason, True
    if prose.actions is not None:
        checked = [check(f"actions[{k}]", action) for k, action in enumerate(prose.actions)]
        if all(item is not None for item in checked) and checked:
            update["actions"], used = [item for item in checked if item is not None], True
    if prose.next_step_actions is not None:
        steps = list(draft.next_steps)
        for k, (step, action) in enumerate(zip(steps, prose.next_step_actions, strict=False)):
            if action is not None and (text := check(f"next_steps[{k}].action", action)) is not None:
                steps[k] = step.model_copy(update={"action": text})
                used = True
        update["next_steps"] = steps
    if used:
        update["generated_by"] = GeneratedBy(method="model", model=model)
    return draft.model_copy(update=update), rejected


# -- the call ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallInfo:
    """What the engine needs to know about the call besides its transcript."""

    direction: str
    purpose: str
    professional: str
    sector: str | None = None

    @property
    def offer_call(self) -> bool:
        return self.direction == "outbound" and self.purpose in ("prospection", "contract")


@dataclass
class _Turn:
    index: int
    speaker: str
    text: str  # redacted
    start: float | None
    sentences: list[Sentence]
    detections: tuple[str, ...]
    entities: Entities = field(default_factory=Entities)  # read with the turn before as context
    commitments: list[Commitment] = field(default_factory=list)
    masked: bool = False  # a card number, an IBAN or a configured pattern was masked in it


_ACTION = re.compile(
    r"\b(?:je|j) (?:vous |le |la |les |lui )?(?:lance|note|mets|inscris|enregistre|reserve|transmets|active|annule"
    r"|ouvre|cree|corrige|rembourse|envoie|ai (?:lance|note|enregistre|transmis|annule|corrige|envoye|mis))\b"
    r"|\bc est (?:note|enregistre|parti)\b"
)
_AGREEMENT = re.compile(r"\b(?:oui|d accord|ok|entendu|parfait|ca me va|ca marche|tres bien|va pour|c est bon)\b")
_CALLBACK = re.compile(r"\b(?:rappel|rappelle|rappeler|rappellerai|rappellerons|recontacte)\b")
_APPOINTMENT = re.compile(r"\b(?:technicien|rendez vous|rdv|visite|creneau|intervention|conseiller en agence|visio)\b")
_EMAIL = re.compile(r"@|\barobase\b|\b[\w.-]+ point (?:com|fr|net|org)\b", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+33|\b0)\s?\d(?:[\s.-]?\d{2}){4}\b|\bzero (?:six|sept|un|deux|trois|quatre|cinq|neuf)\b")
_ADDRESS = re.compile(r"\b\d+\s*(?:bis |ter )?(?:rue|allee|avenue|boulevard|bd|chemin|impasse|place|route|quai)\b")
_FILLER = re.compile(r"^(?:(?:euh|alors|donc|bon|bien|et|tres bien|parfait|voila|d accord|oui|merci)[\s,.:;!]+)+", re.I)


def _common_prefix(a: Sequence[Sentence], b: Sequence[Sentence]) -> int:
    """How many sentences ``a`` and ``b`` share from their start (same turn, speaker and text: same embedding)."""
    return next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _flat(text: str) -> str:
    return " ".join(token.word for token in extract.tokenize(text))


class SummaryDraft:
    """The summary of one call, kept up to date as segments arrive; :meth:`finish` drafts the Summary.

    Thread-safe: :meth:`add` and :meth:`replace` (the GUI thread, cheap: regular expressions),
    :meth:`embed_pending` (a worker: the model) and :meth:`finish` may run on different threads.
    """

    def __init__(
        self,
        call: CallInfo,
        *,
        started_at: dt.datetime,
        classifier: Classifier | None = None,
        detector: PhraseDetector | None = None,
        patterns: Sequence[ExtraPattern] = (),
    ) -> None:
        self.call = call
        self.started_at = started_at
        self.classifier = classifier or Classifier(load_prototypes())
        self.detector = detector
        self.patterns = tuple(patterns)
        self.sensitive = self.classifier.prototypes.sensitive_words
        self.turns: list[_Turn] = []
        self.entities = Entities()
        self.commitments: list[Commitment] = []
        self.masked = False
        self._vectors: list[Vectors] = []  # one row per sentence, in order, for the sentences embedded so far
        self._sentences: list[Sentence] = []
        self._lock = threading.Lock()
        self._embedding = threading.Lock()
        self._input = threading.Lock()  # add() and replace() one at a time: each reads the turn before
        self._generation = 0  # bumped by replace(): rows embedded meanwhile may belong to a replaced text
        self.rejected: list[Rejected] = []
        self._active = self.classifier  # the classifier of the finish() in progress

    # -- incremental input --------------------------------------------------------------------------------------

    def add(self, segment: TurnLike, *, start: float | None = None) -> None:
        """Read one transcript segment (redacted here again: the engine never holds a card number or an IBAN).

        Its index is the number of segments added before it (the call's segment index)."""
        if start is None:
            start = getattr(segment, "start", None)
        with self._input:
            with self._lock:
                index = len(self.turns)
                previous = self.turns[-1].text if self.turns else ""
            turn = self._read(index, segment, start, previous)
            with self._lock:
                self.turns.append(turn)
                self.entities.add(turn.entities)
                self.commitments.extend(turn.commitments)
                self._sentences.extend(turn.sentences)
                self.masked = self.masked or turn.masked

    def replace(self, index: int, segment: TurnLike, *, start: float | None = None) -> None:
        """The segment added ``index``-th now says ``segment``'s text (a provisional transcription refined): the
        draft becomes what adding the segments with this text in the first place gives. ``start``: else
        ``segment.start``, else the turn's own. Sentences before the turn (and its first ones, when unchanged) keep
        their embeddings; from the first changed sentence on, :meth:`embed_pending` embeds again. Redacted as in
        :meth:`add`; the turn after is read again (its entities depend on this one). :class:`IndexError` when no
        segment was added at ``index``."""
        if start is None:
            start = getattr(segment, "start", None)
        with self._input:
            with self._lock:
                count = len(self.turns)
                if not 0 <= index < count:
                    raise IndexError(f"segment {index} is not in the summary draft ({count} segment(s) added)")
                old = self.turns[index]
                previous = self.turns[index - 1].text if index else ""
                following = self.turns[index + 1] if index + 1 < count else None
            turn = self._read(index, segment, old.start if start is None else start, previous)
            if turn == old:
                return  # the refined text is the provisional one: nothing to read or embed again
            if following is not None and turn.text != old.text:  # its entities were read with this turn as context
                following = _with(following, entities=extract.turn_entities(following.text, self.started_at, turn.text))
            with self._lock:
                self.turns[index] = turn
                if following is not None:
                    self.turns[index + 1] = following
                before = self._sentences
                self._rebuild()
                if self._sentences == before:
                    return  # same sentences (a new start, a reference read differently): the rows hold
                # rows are kept up to the first sentence that changed: the turns before and its unchanged beginning
                keep = _common_prefix(before, self._sentences)
                if self._rows() > keep:
                    rows = np.concatenate(self._vectors)[:keep]
                    self._vectors = [rows] if keep else []
                self._generation += 1

    def _read(self, index: int, segment: TurnLike, start: float | None, previous: str) -> _Turn:
        """One segment, redacted, as the draft holds it (``previous``: the redacted text of the turn before)."""
        redaction = redact(segment.text, self.patterns)
        text = redaction.text
        parts = extract.sentences(index, segment.speaker, text)
        detections: tuple[str, ...] = ()
        if self.detector is not None and segment.speaker == "customer":
            detections = tuple(d.kind for d in self.detector.detect(text))
        return _Turn(
            index,
            segment.speaker,
            text,
            start,
            parts,
            detections,
            entities=extract.turn_entities(text, self.started_at, previous),
            commitments=[c for c in (extract.commitment(s, self.started_at) for s in parts) if c is not None],
            masked=CARD_MASK in text or IBAN_MASK in text or bool(redaction.kinds),
        )

    def _rebuild(self) -> None:
        """The call's aggregates from its turns (``Entities`` only accumulates). Under ``_lock``."""
        self.entities = Entities()
        for turn in self.turns:
            self.entities.add(turn.entities)
        self.commitments = [c for turn in self.turns for c in turn.commitments]
        self._sentences = [s for turn in self.turns for s in turn.sentences]
        self.masked = any(turn.masked for turn in self.turns)

    def _rows(self) -> int:
        """How many sentences are embedded (under ``_lock``)."""
        return sum(len(v) for v in self._vectors)

    def embed_pending(self) -> int:
        """Embed the sentences added (or replaced) since the last call (on a worker: this is the model's work);
        how many rows were kept. Rows of a text replaced while the model ran are dropped and embedded again."""
        embedded = 0
        with self._embedding:
            while True:
                with self._lock:
                    classifier = self.classifier
                    generation = self._generation
                    done = self._rows()
                    todo = self._sentences[done:]
                if not todo:
                    return embedded
                texts = [s.text for s in todo]
                # in batches: one forward over a whole call's sentences would hold all their activations at once
                vectors = np.concatenate(
                    [classifier.embed(texts[k : k + _BATCH]) for k in range(0, len(texts), _BATCH)]
                )
                with self._lock:
                    if classifier is not self.classifier:
                        return embedded  # switched meanwhile: these rows belong to the old model
                    if generation == self._generation:
                        self._vectors.append(vectors)
                        return embedded + len(vectors)
                    # a turn was replaced meanwhile: keep the rows of the sentences still there unchanged, redo the rest
                    if self._rows() == done:
                        kept = _common_prefix(todo, self._sentences[done:])
                        if kept:
                            self._vectors.append(vectors[:kept])
                            embedded += kept

    def use_classifier(self, classifier: Classifier) -> None:
        """Classify with ``classifier`` from now on (the model finished loading): sentences are embedded again."""
        with self._lock:
            if classifier is self.classifier:
                return
            self.classifier = classifier
            self.sensitive = classifier.prototypes.sensitive_words
            self._vectors = []

    # -- the draft ----------------------------------------------------------------------------------------------

    def finish(
        self,
        events: Sequence[Mapping[str, Any]] | None = None,
        *,
        disclosure: Mapping[str, bool] | None = None,
        prose: ProseWriter | None = None,
        embed: bool = True,
    ) -> Summary:
        """The Summary now. ``events``: the session's confirmed consent events (None: no session, the phrase
        detector's withdrawals and objections count); ``disclosure``: the checklist ticked live (outbound);
        ``embed=False``: do not run the model here (the GUI thread), classify the sentences embedded so far."""
        if embed:
            self.embed_pending()
        with self._lock:
            turns = list(self.turns)
            vectors = np.concatenate(self._vectors) if self._vectors else np.zeros((0, 1), dtype=np.float32)
            sentences = list(self._sentences)
            classifier = self.classifier
            entities = Entities(
                list(self.entities.amounts_eur),
                list(self.entities.dates),
                list(self.entities.times),
                list(self.entities.references),
            )
            commitments = list(self.commitments)
        if len(vectors) < len(sentences):  # the model has not caught up: the lexical stand-in, whole and at once
            classifier = Classifier(classifier.prototypes)
            vectors = classifier.embed([s.text for s in sentences])
        self._active = classifier
        consent = self._consent_events(turns, events)
        kinds: set[str] = {event.kind for event in consent}
        customer_rows = [k for k, s in enumerate(sentences) if s.speaker == "customer"]
        intents = classifier.argmax_rows("intent", vectors[customer_rows]) if customer_rows else []
        disposition = self._disposition(turns, sentences, vectors, kinds)
        resolution = self._resolution(turns, intents, vectors, customer_rows, disposition, kinds)
        summary = Summary(
            reason=self._reason(sentences, vectors, customer_rows, intents),
            actions=self._actions(turns, consent),
            resolution=resolution,
            next_steps=self._next_steps(commitments),
            disposition=disposition,
            consent_events=consent,
            entities=SummaryEntities(
                amounts_eur=entities.amounts_eur,
                dates=entities.dates,
                times=entities.times,
                references=entities.references,
            ),
            opening_disclosure=self._disclosure(turns, disclosure),
            generated_by=GeneratedBy(method="extractive", model=None),
        )
        if prose is not None:
            transcript = [Turn(t.speaker, t.text, t.start) for t in turns]
            try:
                written = prose.write(transcript, summary)
            except Exception as error:  # the extractive draft stands whatever the generator does
                log.warning("summary generator %s failed, extractive draft kept (%s)", prose.name, type(error).__name__)
                return summary
            summary, self.rejected = apply_prose(
                summary, written, transcript, started_at=self.started_at, model=prose.name, patterns=self.patterns
            )
            if self.rejected:
                log.info("summary generator: %d prose field(s) left out (unsupported facts)", len(self.rejected))
        return summary

    # -- fields -------------------------------------------------------------------------------------------------

    def quotable(self, text: str) -> bool:
        """A sentence the summary may quote: no sensitive word, e-mail, phone number, street address or mask."""
        flat = _flat(text)
        if any(re.search(rf"\b{re.escape(word)}", flat) for word in self.sensitive):
            return False
        if CARD_MASK in text or IBAN_MASK in text or "[masqu" in text:
            return False
        return not (_EMAIL.search(text) or _PHONE.search(text) or _PHONE.search(flat) or _ADDRESS.search(flat))

    def _at(self, turn: _Turn | None) -> dt.datetime:
        offset = turn.start if turn is not None and turn.start is not None else 0.0
        return self.started_at + dt.timedelta(seconds=offset)

    def _consent_events(self, turns: list[_Turn], events: Sequence[Mapping[str, Any]] | None) -> list[ConsentEvent]:
        out: list[ConsentEvent] = []
        confirmed = [ConsentEvent.model_validate(dict(event)) for event in events or ()]
        session = events is not None
        out.extend(confirmed)
        seen: set[tuple[str, int | None]] = {(e.kind, e.segment) for e in confirmed}
        confirmed_kinds = {e.kind for e in confirmed}
        for turn in turns:
            for detection in turn.detections:
                kind = DETECTION_KINDS.get(detection)
                if kind is None:
                    continue
                if kind in ("withdrawal", "objection") and (session or kind in confirmed_kinds):
                    continue  # the agent decides on these live; the session's record is the truth
                if (kind, turn.index) in seen or any(e.kind == kind for e in out):
                    continue
                out.append(ConsentEvent(kind=kind, at=self._at(turn), segment=turn.index))
                seen.add((kind, turn.index))
        agreed = self._callback_agreed(turns)
        if agreed is not None and not any(e.kind == "consent_given" for e in out):
            out.append(ConsentEvent(kind="consent_given", at=self._at(agreed), segment=agreed.index))
        return sorted(out, key=lambda e: (e.segment if e.segment is not None else 10**9, e.at))

    def _callback_agreed(self, turns: list[_Turn]) -> _Turn | None:
        """The customer turn agreeing to a callback the agent just proposed with a precise day and time."""
        for k, turn in enumerate(turns[:-1]):
            if turn.speaker != "agent":
                continue
            flat = _flat(turn.text)
            if not _CALLBACK.search(flat) or not extract.times(turn.text):
                continue
            if not [d for d in extract.dates(turn.text, self.started_at) if d >= extract.local_day(self.started_at)]:
                continue
            reply = next((t for t in turns[k + 1 : k + 3] if t.speaker == "customer"), None)
            if reply is not None and _AGREEMENT.search(_flat(reply.text)) and not reply.text.rstrip().endswith("?"):
                return reply
        return None

    def _appointment_booked(self, turns: list[_Turn]) -> bool:
        """The agent offered a visit or meeting on a day to come, and the customer accepted within 3 of their turns."""
        today = extract.local_day(self.started_at)
        for k, turn in enumerate(turns):
            if turn.speaker != "agent" or not _APPOINTMENT.search(_flat(turn.text)):
                continue
            if not [d for d in extract.dates(turn.text, self.started_at) if d >= today]:
                continue
            replies = [t for t in turns[k + 1 :] if t.speaker == "customer"][:3]
            if any(_AGREEMENT.search(_flat(r.text)) for r in replies):
                return True
        return False

    def _disposition(
        self, turns: list[_Turn], sentences: list[Sentence], vectors: Vectors, kinds: set[str]
    ) -> Disposition:
        if "withdrawal" in kinds:
            return "do_not_call"
        if "objection" in kinds or ("recording_refused" in kinds and self.call.offer_call):
            return "not_interested"
        if "consent_given" in kinds:
            return "callback_scheduled"
        if self._appointment_booked(turns):
            return "appointment_set"
        candidates = OFFER_DISPOSITIONS if self.call.offer_call else SERVICE_DISPOSITIONS
        scores = self._active.scores("disposition", vectors, candidates)
        best = max(candidates, key=lambda name: scores.get(name, -1.0))
        return best if scores.get(best, -1.0) > 0 else "information_given"

    def _resolution(
        self,
        turns: list[_Turn],
        intents: list[tuple[str, float]],
        vectors: Vectors,
        customer_rows: list[int],
        disposition: Disposition,
        kinds: set[str],
    ) -> Any:
        service_asked = any(intent in SERVICE_INTENTS for intent, _ in intents)
        if self.call.direction == "outbound" and self.call.purpose == "prospection":
            requested = False  # a prospect has no service relation: questions about the offer are the offer
        elif self.call.offer_call:
            requested = service_asked
        else:
            requested = service_asked or not kinds
        if not requested:
            return "not_applicable"
        if disposition in ("appointment_set", "callback_scheduled", "escalated"):
            return "partial"
        scores = self._active.scores("resolution", vectors[customer_rows[-6:]] if customer_rows else vectors)
        return "unresolved" if scores.get("unresolved", -1.0) > scores.get("resolved", -1.0) else "resolved"

    def _reason(
        self, sentences: list[Sentence], vectors: Vectors, customer_rows: list[int], intents: list[tuple[str, float]]
    ) -> str:
        if self.call.direction == "outbound":
            frame = f"Appel sortant ({_PURPOSE_LABELS.get(self.call.purpose, self.call.purpose)})"
            frame += f" pour le compte de {self.call.professional}"
            agent_turns = sorted({s.segment for s in sentences if s.speaker == "agent"})[:3]
            rows = [k for k, s in enumerate(sentences) if s.segment in agent_turns and self.quotable(s.text)]
            if rows:
                best = self._active.argmax_rows("intent", vectors[rows])
                pick = max(range(len(rows)), key=lambda i: best[i][1] if best[i][0] == "offer" else -1.0 + best[i][1])
                return f"{frame} : « {_clean(sentences[rows[pick]].text)} »"
            return f"{frame}."
        # the customer says why they call early: their first turns' sentences, then the whole call
        early = sorted({sentences[r].segment for r in customer_rows})[:3]
        for allowed in (set(early), None):
            options = [
                (score, row)
                for (intent, score), row in zip(intents, customer_rows, strict=True)
                if intent in SERVICE_INTENTS
                and (allowed is None or sentences[row].segment in allowed)
                and self.quotable(sentences[row].text)
                and len(sentences[row].text.split()) >= 4
            ]
            if options:
                _, row = max(options)
                label = _INTENT_LABELS[intents[customer_rows.index(row)][0]]
                return f"Appel entrant ({label}) : « {_clean(sentences[row].text)} »"
        first = next(
            (
                sentences[r].text
                for r in customer_rows
                if self.quotable(sentences[r].text) and len(sentences[r].text) > 12
            ),
            None,
        )
        return f"Appel entrant : « {_clean(first)} »" if first else "Appel entrant."

    def _actions(self, turns: list[_Turn], consent: list[ConsentEvent]) -> list[str]:
        found: list[str] = []
        for turn in turns:
            if turn.speaker != "agent":
                continue
            for sentence in turn.sentences:
                if _ACTION.search(_flat(sentence.text)) and self.quotable(sentence.text):
                    found.append(_clean(sentence.text))
        kinds = {event.kind for event in consent}
        if "withdrawal" in kinds:
            found.append("Retrait du consentement à la prospection enregistré pendant l'appel.")
        if "objection" in kinds:
            found.append("Opposition à la prospection commerciale enregistrée pendant l'appel.")
        if self.masked:
            found.append("Lecture de coordonnées bancaires interrompue : elles sont masquées dans la transcription.")
        return list(dict.fromkeys(found))[:MAX_ACTIONS]

    def _next_steps(self, commitments: list[Commitment]) -> list[NextStep]:
        steps: list[NextStep] = []
        seen: set[str] = set()
        for item in commitments:
            if not self.quotable(item.action):
                continue
            action = _clean(item.action)
            if action in seen:
                continue
            seen.add(action)
            steps.append(NextStep(owner=item.owner, action=action, due=item.due))
        return steps[:MAX_NEXT_STEPS]

    def _disclosure(self, turns: list[_Turn], disclosure: Mapping[str, bool] | None) -> OpeningDisclosure:
        if disclosure is not None:
            return OpeningDisclosure.model_validate(dict(disclosure))
        if self.call.direction != "outbound":
            return OpeningDisclosure()
        opening = next((t.text for t in turns if t.speaker == "agent"), None)
        if opening is None:
            return OpeningDisclosure()
        return OpeningDisclosure.model_validate(check_opening(opening, self.call.professional).to_json())


_SHARED: dict[Path, Any] = {}
_SHARED_LOCK = threading.Lock()


def shared_embedder(models_root: Path | None = None) -> Any:
    """The installed e5-small, loaded once per process and shared (it is thread-safe): about 160 MB saved for
    each user after the first (the suggestion ranker can use it too)."""
    from desktop.core.assist.embedder import Embedder
    from desktop.core.models import model_dir

    folder = model_dir("e5-small", models_root)
    with _SHARED_LOCK:
        if folder not in _SHARED:
            _SHARED[folder] = Embedder(folder)
        return _SHARED[folder]


def installed_classifier(models_root: Path | None = None, prototypes: Path | None = None) -> Callable[[], Classifier]:
    """A factory (run by :class:`SummaryWorker` in its thread) for the classifier over the installed e5-small."""

    def build() -> Classifier:
        embedder = shared_embedder(models_root)
        return Classifier(load_prototypes(prototypes), embedder.embed, name="e5-small")

    return build


class SummaryWorker:
    """One background thread for the summary model: loads the classifier (``factory``, e5-small) once, and embeds
    the new sentences of a call's :class:`SummaryDraft` as segments arrive, so that the draft is ready at hang-up.

    Plain Python (a single-thread executor): the Qt service calls :meth:`feed` after each segment and
    :meth:`flush` at hang-up. Until the model is loaded (or when it is missing) drafts keep the lexical classifier.
    """

    def __init__(self, factory: Callable[[], Classifier]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        # a single thread: the model is used by one request at a time, in order
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="summaries")
        self._loaded = self._executor.submit(factory)
        self.failure: str | None = None

    @property
    def classifier(self) -> Classifier | None:
        """The loaded classifier, or None while loading or when it could not be loaded (:attr:`failure` says why)."""
        if not self._loaded.done():
            return None
        error = self._loaded.exception()
        if error is not None:
            if self.failure is None:
                self.failure = str(error)
                log.warning("summary classifier unavailable, lexical one kept: %s", error)
            return None
        return self._loaded.result()

    def feed(self, draft: SummaryDraft) -> None:
        """Embed ``draft``'s new sentences in the worker (switching it to the model once loaded)."""
        self._executor.submit(self._embed, draft)

    def flush(self, draft: SummaryDraft, timeout: float = 1.5) -> bool:
        """Wait (at most ``timeout`` s) until ``draft``'s sentences are embedded; False when it took longer or the
        model is not loaded yet (a first start installs it: hang-ups must not wait for that)."""
        from concurrent.futures import TimeoutError as FutureTimeout

        if not self._loaded.done():  # the model is still loading (or being installed): nothing worth waiting for
            return False
        future = self._executor.submit(self._embed, draft)
        try:
            future.result(timeout=timeout)
        except FutureTimeout:
            return False
        return True

    def _embed(self, draft: SummaryDraft) -> None:
        classifier = self.classifier
        if classifier is not None:
            draft.use_classifier(classifier)
        draft.embed_pending()

    def stop(self) -> None:
        """Finish the work queued and stop the thread."""
        self._executor.shutdown(wait=True, cancel_futures=True)


def _clean(text: str) -> str:
    """A sentence as quoted: leading fillers (« Alors, », « Bon, ») dropped, first letter capitalised."""
    stripped = _FILLER.sub("", text.strip()).strip()
    stripped = stripped or text.strip()
    return stripped[:1].upper() + stripped[1:]


def draft_summary(
    call: CallInfo,
    segments: Sequence[TurnLike],
    events: Sequence[Mapping[str, Any]] | None,
    *,
    started_at: dt.datetime,
    prose: ProseWriter | None = None,
    classifier: Classifier | None = None,
    detector: PhraseDetector | None = None,
    disclosure: Mapping[str, bool] | None = None,
    patterns: Sequence[ExtraPattern] = (),
) -> Summary:
    """The summary of a whole call at once (what :class:`SummaryDraft` gives when fed segment by segment)."""
    draft = SummaryDraft(call, started_at=started_at, classifier=classifier, detector=detector, patterns=patterns)
    for segment in segments:
        draft.add(segment)
    return draft.finish(events, disclosure=disclosure, prose=prose)


@dataclass
class CorpusCall:
    """A call in the corpus format (corpus/README.md), as the engine reads it."""

    id: str
    call: CallInfo
    started_at: dt.datetime
    segments: list[Turn] = field(default_factory=list)


def read_corpus_call(data: Any, where: str) -> CorpusCall:
    """A call of the corpus format; :class:`InputError` naming ``where`` and the key for a malformed one."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: a call is a JSON object")
    info = data.get("call")
    if not isinstance(info, dict):
        raise InputError(f"{where}: call: missing")
    for key in ("direction", "purpose", "professional", "started_at"):
        if not isinstance(info.get(key), str):
            raise InputError(f"{where}: call.{key}: a string is required")
    try:
        started = dt.datetime.fromisoformat(info["started_at"])
    except ValueError:
        raise InputError(f"{where}: call.started_at: not an ISO 8601 timestamp ({info['started_at']!r})") from None
    if started.tzinfo is None:
        raise InputError(f"{where}: call.started_at: the UTC offset is missing ({info['started_at']!r})")
    segments = data.get("segments")
    if not isinstance(segments, list):
        raise InputError(f"{where}: segments: a list is required")
    turns = []
    for k, segment in enumerate(segments):
        if (
            not isinstance(segment, dict)
            or segment.get("speaker") not in ("agent", "customer")
            or not isinstance(segment.get("text"), str)
        ):
            raise InputError(f"{where}: segments[{k}]: {{speaker: agent|customer, text}} is required")
        start = segment.get("start")
        turns.append(
            Turn(segment["speaker"], segment["text"], float(start) if isinstance(start, int | float) else None)
        )
    return CorpusCall(
        id=str(data.get("id") or where),
        call=CallInfo(info["direction"], info["purpose"], info["professional"], info.get("sector")),
        started_at=started,
        segments=turns,
    )
