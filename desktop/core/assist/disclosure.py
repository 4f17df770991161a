"""The opening-disclosure checklist (C. consom. L221-16): ticked from what the agent actually said.

Four points, judged on the agent's opening turn of an outbound call: their own name, the professional the call
is made for, the commercial nature of the call, and the recording notice. A checklist for the agent, not a
verdict input.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from desktop.core.assist.phrases import contains, words

_LEGAL_FORMS = {"sa", "sas", "sasu", "sarl", "eurl", "sca", "snc", "se", "gie", "le", "la", "les", "l"}
_NOT_NAMES = {"bonjour", "bonsoir", "allo", "oui", "alors", "monsieur", "madame", "mademoiselle", "voila", "bon"}
_NAME = r"[A-ZÀ-Ý][a-zà-ÿ'-]+"
_SELF_INTRODUCTION = re.compile(
    rf"\b(?i:je suis|je m'appelle|ici|c'est)\s+({_NAME})|(?:^|[.?!]\s+)({_NAME}(?:\s+{_NAME})?)\s*,\s"
)
_COMMERCIAL = [words(p) for p in ("appel commercial", "offre", "vous proposer", "vous présenter", "promotion")]
_RECORDING = re.compile(r"\benregistr", re.IGNORECASE)


@dataclass(frozen=True)
class Disclosure:
    identity: bool = False
    on_behalf_of: bool = False
    commercial_nature: bool = False
    recording_notice: bool = False

    def to_json(self) -> dict[str, bool]:
        return asdict(self)

    @property
    def complete(self) -> bool:
        return all(asdict(self).values())


def check_opening(agent_text: str, professional: str) -> Disclosure:
    """Which of the four points the agent's opening covers."""
    text_words = words(agent_text)
    return Disclosure(
        identity=_introduces_self(agent_text),
        on_behalf_of=_names_professional(text_words, professional),
        commercial_nature=any(contains(text_words, phrase) for phrase in _COMMERCIAL),
        recording_notice=bool(_RECORDING.search(agent_text)),
    )


def _introduces_self(text: str) -> bool:
    for match in _SELF_INTRODUCTION.finditer(text):
        name = (match.group(1) or match.group(2) or "").split()[0]
        if words(name) and words(name)[0] not in _NOT_NAMES:
            return True
    return False


def _names_professional(text_words: tuple[str, ...], professional: str) -> bool:
    """The professional's distinctive name (legal form and articles left out) is said."""
    name = tuple(word for word in words(professional) if word not in _LEGAL_FORMS)
    return bool(name) and name[0] in text_words
