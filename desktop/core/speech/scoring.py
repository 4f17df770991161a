"""Word error rate, for tests and benchmarks of the transcriber against a known text.

Normalisation: lower case, punctuation and apostrophes/hyphens become spaces, accents are kept (Whisper writes
them, and "a"/"à" are different words in French). Levenshtein distance over words / words in the reference.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_NOT_WORD = re.compile(r"[^\w]+")


def normalise(text: str) -> list[str]:
    """The words of ``text``: lower case, no punctuation, accents kept."""
    return _NOT_WORD.sub(" ", text.lower()).split()


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    row = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        previous, row[0] = row[:], i
        for j, other in enumerate(hypothesis, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (word != other))
    return row[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words; 0.0 for two empty texts."""
    words = normalise(reference)
    if not words:
        return 0.0 if not normalise(hypothesis) else 1.0
    return edit_distance(words, normalise(hypothesis)) / len(words)
