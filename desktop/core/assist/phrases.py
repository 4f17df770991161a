"""Matching spoken French against phrase lists: accents, case, punctuation and the dropped « ne » ignored.

Spoken French drops the « ne » of negations (« je veux plus être appelé »), transcripts vary in apostrophes
and punctuation, and customers insert words (« ne m'appelez surtout plus »). A phrase matches when its words
appear in order within a short window of the text's words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

_NEGATION = {"ne", "n"}
#: Extra words allowed between a phrase's words.
_SLACK = 2


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """Lower-case words without accents; apostrophes split (« m'appelez » → « m », « appelez »); « ne » dropped."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    tokens = re.findall(r"[a-z0-9]+", plain)
    return tuple(token for token in tokens if token not in _NEGATION)


def contains(text_words: tuple[str, ...], phrase_words: tuple[str, ...]) -> bool:
    """The phrase's words in order, each within ``_SLACK`` words of the previous one."""
    if not phrase_words:
        return False
    first = phrase_words[0]
    for start, token in enumerate(text_words):
        if token != first:
            continue
        position, ok = start, True
        for wanted in phrase_words[1:]:
            window = text_words[position + 1 : position + 2 + _SLACK]
            if wanted not in window:
                ok = False
                break
            position = position + 1 + window.index(wanted)
        if ok:
            return True
    return False


@dataclass(frozen=True)
class Detection:
    kind: str
    phrase: str


class PhraseDetector:
    """Finds which kinds of phrase (withdrawal, objection, …) a customer turn contains."""

    def __init__(self, phrases: Mapping[str, Iterable[str]]) -> None:
        self.phrases = {kind: [(phrase, words(phrase)) for phrase in items] for kind, items in phrases.items()}

    def detect(self, text: str) -> list[Detection]:
        text_words = words(text)
        found = []
        for kind, items in self.phrases.items():
            for phrase, phrase_words in items:
                if contains(text_words, phrase_words):
                    found.append(Detection(kind, phrase))
                    break
        return found
