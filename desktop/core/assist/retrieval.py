"""Retrieval of approved replies: the customer's last turn ranked against the playbook's situations.

- Each reply's situations are embedded once (e5 ``query:`` on both sides, as reference/models.md measured best)
  and cached on disk, keyed by the playbook's content and the installed model's fingerprint.
- A reply's score is the best cosine between the turn and any of its situations (max over situations); the best
  reply of each category is kept, categories ranked by that score.
- Filters: the live verdict and the call's sector (:meth:`Reply.shown_under`: no offer unless ``allowed``, only
  contract and service topics under ``contract_only``).
- Forced to the top, whatever the scores: ``payment_card_safety`` when card or bank details are being read (the
  redaction masked a card number or an IBAN, or a long run of digits / an IBAN start is heard), ``withdrawal_ack``
  when the policy pack's withdrawal or objection phrases fire, then the pack's proof and recording phrases.

Returns :class:`Suggestion`s (``{"category","text","source":"playbook:<id>","score"}``), best first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from desktop.core.assist.playbook import Playbook, Reply, Suggestion
from desktop.core.assist.redact import CARD_MASK, IBAN_MASK, redact

log = logging.getLogger("agent_assist.retrieval")

#: Detection kinds (the policy pack's phrase lists) and what they force, in this order after card safety.
FORCED_BY_DETECTION = (
    ("withdrawal", "withdrawal_ack"),
    ("objection", "withdrawal_ack"),
    ("proof_request", "proof_of_consent"),
    ("recording_refused", "recording_refused"),
)
FORCED_SCORE = 1.0
#: Bank details being read before redaction can mask them: an IBAN's start, or 12+ digits in groups (a phone number has 10).
_BANK_DETAILS = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?\d{4}){2}|(?:\d[\s.-]?){12,}", re.IGNORECASE)

Vectors = npt.NDArray[np.float32]
Embed = Callable[[Sequence[str]], Vectors]


def reading_bank_details(text: str) -> bool:
    """The turn carries card or bank details: already masked by the redaction, maskable, or being read."""
    if CARD_MASK in text or IBAN_MASK in text:
        return True
    if {"card", "iban"} & set(redact(text).kinds):
        return True
    return _BANK_DETAILS.search(text) is not None


@dataclass(frozen=True)
class _Index:
    replies: tuple[Reply, ...]
    owners: npt.NDArray[np.int64]  # situation row -> reply index
    vectors: Vectors  # one row per situation


class Retriever:
    """Ranks a playbook's replies for customer turns with an embedding function (normally :class:`Embedder`)."""

    def __init__(
        self, playbook: Playbook, embed: Embed, *, model_fingerprint: str, cache_dir: Path | None = None
    ) -> None:
        self.playbook = playbook
        self.embed = embed
        self.index = self._build(model_fingerprint, cache_dir)

    def _build(self, fingerprint: str, cache_dir: Path | None) -> _Index:
        replies = self.playbook.replies
        situations = [s for reply in replies for s in reply.situations]
        owners = np.array([i for i, reply in enumerate(replies) for _ in reply.situations], dtype=np.int64)
        content = json.dumps([self.playbook.version, [[r.id, r.situations] for r in replies]], ensure_ascii=False)
        key = hashlib.sha256(f"{content}\n{fingerprint}".encode()).hexdigest()[:24]
        cached = cache_dir / f"situations-{key}.npy" if cache_dir is not None else None
        vectors: Vectors | None = None
        if cached is not None and cached.is_file():
            try:
                loaded = np.load(cached, allow_pickle=False)
                if loaded.shape[0] == len(situations):
                    vectors = loaded.astype(np.float32)
            except (OSError, ValueError) as error:
                log.warning("situation cache %s unreadable, rebuilt (%s)", cached.name, error)
        if vectors is None:
            vectors = self.embed(situations)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                partial = cached.with_suffix(".tmp.npy")
                np.save(partial, vectors, allow_pickle=False)
                partial.replace(cached)
        log.debug("playbook %s: %d situations indexed (key %s)", self.playbook.version, len(situations), key)
        return _Index(replies, owners, vectors)

    def scores(self, text: str) -> dict[str, float]:
        """Each reply id's score for one customer turn: its best situation's cosine."""
        query = self.embed([text])[0]
        sims = self.index.vectors @ query
        best = np.full(len(self.index.replies), -1.0, dtype=np.float32)
        np.maximum.at(best, self.index.owners, sims)
        return {reply.id: float(best[i]) for i, reply in enumerate(self.index.replies)}

    def suggest(
        self,
        text: str,
        *,
        verdict: str | None = None,
        sector: str | None = None,
        detections: Sequence[str] = (),
        limit: int = 3,
    ) -> list[Suggestion]:
        """The best reply of each category for this (redacted) customer turn, forced ones first, at most ``limit``."""
        forced: list[str] = []
        if reading_bank_details(text):
            forced.append("payment_card_safety")
        for kind, category in FORCED_BY_DETECTION:
            if kind in detections and category not in forced:
                forced.append(category)
        scores = self.scores(text) if text.strip() else {}
        allowed = [r for r in self.index.replies if r.shown_under(verdict, sector)]
        best_of: dict[str, tuple[float, Reply]] = {}
        for reply in allowed:
            score = scores.get(reply.id, -1.0)
            if reply.category not in best_of or score > best_of[reply.category][0]:
                best_of[reply.category] = (score, reply)
        picked: list[Suggestion] = []
        for category in forced:
            if category in best_of:
                reply = best_of.pop(category)[1]
                picked.append(Suggestion(reply.category, reply.text, f"playbook:{reply.id}", FORCED_SCORE))
        ranked = sorted(best_of.values(), key=lambda pair: -pair[0])
        for score, reply in ranked:
            picked.append(Suggestion(reply.category, reply.text, f"playbook:{reply.id}", round(score, 4)))
        return picked[:limit]
