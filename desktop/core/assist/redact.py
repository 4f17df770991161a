"""Redaction at the source: card numbers, IBANs and configured patterns are masked before a segment goes anywhere.

:func:`redact` is called by ``CallService.add_segment`` (the one door every transcript segment goes through: speech,
the event API, the demo), so the clear text is never stored, displayed, logged, given to a model or synced.

- Card numbers: 13 to 19 digits, Luhn-checked (python-stdnum), written with spaces, dashes or dots between groups,
  or spoken as French number words as a transcript writes them (« quatre neuf sept deux », « quarante-neuf
  soixante-douze », « zéro », « quatre mille neuf cent soixante-dix », Belgian/Swiss « septante », « nonante »),
  or a mixture of words and figures; groups may be separated as Whisper writes pauses (commas, « ... », « … »).
- IBANs: python-stdnum's check (country length and mod 97), spaces allowed, any case.
- Extra patterns: regular expressions from the policy pack's ``[redaction]`` table (see docs/models.md).

The result says which kinds were masked, never what was masked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator
from stdnum import iban, luhn

CARD_MASK = "[carte masquée]"
IBAN_MASK = "[IBAN masqué]"
CARD_MIN, CARD_MAX = 13, 19


class ExtraPattern(BaseModel):
    """A configured pattern: ``name`` is the kind reported, ``mask`` replaces each match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    regex: str = Field(min_length=1)
    mask: str = "[masqué]"
    ignore_case: bool = True

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as error:
            raise ValueError(f"not a valid regular expression ({error})") from None
        if compiled.match(""):
            raise ValueError("the expression matches the empty text")
        return value


class RedactionSettings(BaseModel):
    """The policy pack's optional ``[redaction]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patterns: tuple[ExtraPattern, ...] = ()


@dataclass(frozen=True)
class Redaction:
    """The masked text and the kinds masked (``card``, ``iban``, or a pattern's name), in order of first match."""

    text: str
    kinds: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


# -- French number words ------------------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
}  # fmt: skip
_TENS = {
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "septante": 70,
    "octante": 80, "huitante": 80, "nonante": 90,
}  # fmt: skip
_HUNDRED = {"cent", "cents"}
_THOUSAND = "mille"
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | _HUNDRED | {_THOUSAND, "et", "double", "triple"}

# A token: a run of figures, or a run of letters (hyphens split compound number words into their parts).
_TOKEN = re.compile(r"\d+|[^\W\d_]+", re.UNICODE)
# What may stand between the groups of a number: blanks, dashes, dots, a comma, a semicolon, an ellipsis (Whisper
# writes a pause between spoken groups as « , » or « ... »).
_JOINER = re.compile(r"[\s\-\u2010-\u2015./,;:\u2026]{0,5}")


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str  # figures or a folded word


def _tokens(text: str) -> list[_Token]:
    return [
        _Token(m.start(), m.end(), m.group() if m.group().isdigit() else _fold(m.group()))
        for m in _TOKEN.finditer(text)
    ]


def _spoken_groups(words: Sequence[str]) -> list[tuple[int, str]]:
    """Read number words as spoken in digit groups: (words consumed, digits) per group, as far as they read.

    « quatre neuf » → 4, 9; « quarante-neuf soixante-douze » → 49, 72; « quatre-vingt-dix-sept » → 97;
    « deux cent trente » → 230; « double zéro » → 00; « quatre mille neuf cent soixante-dix » → 4970;
    « mille douze » → 1012.
    """
    groups: list[tuple[int, str]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("double", "triple") and i + 1 < len(words) and words[i + 1] in _UNITS and _UNITS[words[i + 1]] < 10:
            groups.append((2, str(_UNITS[words[i + 1]]) * (2 if word == "double" else 3)))
            i += 2
            continue
        start = i
        value: int | None = None
        below = _below_thousand(words, i)
        if below is not None:
            value, i = below[1], i + below[0]
        if i < len(words) and words[i] == _THOUSAND and (value is None or value > 1):  # [n] mille [below 1000]
            thousands, i = value or 1, i + 1
            rest = _below_thousand(words, i)
            value = thousands * 1000 + (rest[1] if rest else 0)
            i += rest[0] if rest else 0
        if value is None:
            break
        groups.append((i - start, str(value)))
    return groups


def _below_thousand(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """A number from 0 to 999 starting at ``words[i]`` ([unit] cent [0–99], or 0–99): (words consumed, value)."""
    j, value = i, None
    if j + 1 < len(words) and words[j] in _UNITS and _UNITS[words[j]] < 10 and words[j + 1] in _HUNDRED:
        value, j = _UNITS[words[j]] * 100, j + 2
    if value is None and j < len(words) and words[j] in _HUNDRED:
        value, j = 100, j + 1
    below = _below_hundred(words, j)
    if below is not None:
        value, j = (value or 0) + below[1], j + below[0]
    return None if value is None else (j - i, value)


def _below_hundred(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """A number from 0 to 99 starting at ``words[i]``: (words consumed, value)."""
    if i >= len(words):
        return None
    word = words[i]
    if word == "quatre" and i + 1 < len(words) and words[i + 1] in ("vingt", "vingts"):
        tens, j = 80, i + 2
    elif word in _TENS:
        tens, j = _TENS[word], i + 1
    elif word in _UNITS:
        return 1, _UNITS[word]
    else:
        return None
    if j < len(words) and words[j] == "et" and j + 1 < len(words) and words[j + 1] in ("un", "une", "onze"):
        return j + 2 - i, tens + _UNITS[words[j + 1]]
    if j < len(words) and words[j] in _UNITS and words[j] not in ("zero",):
        unit = _UNITS[words[j]]
        if tens in (60, 80) or unit < 10:  # soixante-douze, quatre-vingt-dix-sept; trente-quatre
            if tens in (60, 80) and unit == 10 and j + 1 < len(words) and words[j + 1] in _UNITS:
                tail = _UNITS[words[j + 1]]
                if 1 <= tail <= 9:  # quatre-vingt-dix-neuf
                    return j + 2 - i, tens + 10 + tail
            return j + 1 - i, tens + unit
    return j - i, tens


@dataclass(frozen=True)
class _Piece:
    start: int  # character span in the text
    end: int
    digits: str


def _number_runs(text: str, tokens: list[_Token]) -> list[list[_Piece]]:
    """Runs of numeric pieces (figures or number words) joined only by blanks, dashes, dots or commas."""
    runs: list[list[_Piece]] = []
    run: list[_Piece] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if run and not _JOINER.fullmatch(text[run[-1].end : token.start]):
            runs.append(run)
            run = []
        if token.text.isdigit():
            run.append(_Piece(token.start, token.end, token.text))
            i += 1
            continue
        j = i
        while (
            j < len(tokens)
            and tokens[j].text in _NUMBER_WORDS
            and (j == i or _JOINER.fullmatch(text[tokens[j - 1].end : tokens[j].start]))
        ):
            j += 1
        groups = _spoken_groups([t.text for t in tokens[i:j]])
        if not groups:
            if run:
                runs.append(run)
                run = []
            i += 1
            continue
        k = i
        for consumed, digits in groups:
            run.append(_Piece(tokens[k].start, tokens[k + consumed - 1].end, digits))
            k += consumed
        i = k
    if run:
        runs.append(run)
    return runs


def _card_spans(text: str, tokens: list[_Token]) -> list[tuple[int, int]]:
    """Character spans of Luhn-valid 13–19 digit numbers, aligned on the pieces they are made of (longest first)."""
    spans = []
    for run in _number_runs(text, tokens):
        if sum(len(piece.digits) for piece in run) <= CARD_MAX:
            total = "".join(piece.digits for piece in run)
            if any(luhn.is_valid(total[i:j]) for i in range(len(total)) for j in range(i + CARD_MIN, len(total) + 1)):
                spans.append((run[0].start, run[-1].end))  # a short run holding a card: mask it whole
            continue
        start = 0
        while start < len(run):
            best = None
            digits = ""
            for end in range(start, len(run)):
                digits += run[end].digits
                if len(digits) > CARD_MAX:
                    break
                if len(digits) >= CARD_MIN and luhn.is_valid(digits):
                    best = end
            if best is None:
                start += 1
                continue
            spans.append((run[start].start, run[best].end))
            start = best + 1
    return spans


def _iban_spans(text: str, tokens: list[_Token]) -> list[tuple[int, int]]:
    raw = [m for m in re.finditer(r"[A-Za-z0-9]+", text)]
    spans = []
    i = 0
    while i < len(raw):
        first = raw[i].group()
        if not re.match(r"^[A-Za-z]{2}\d{2}", first):
            i += 1
            continue
        compact, best = "", None
        for j in range(i, len(raw)):
            if j > i and not re.fullmatch(r"[ \u00a0\-]?", text[raw[j - 1].end() : raw[j].start()]):
                break
            compact += raw[j].group()
            if len(compact) > 34:
                break
            if len(compact) >= 15 and iban.is_valid(compact.upper()):
                best = j
        if best is None:
            i += 1
            continue
        spans.append((raw[i].start(), raw[best].end()))
        i = best + 1
    return spans


def _replace(text: str, spans: Iterable[tuple[int, int]], mask: str) -> tuple[str, bool]:
    ordered = sorted(spans)
    if not ordered:
        return text, False
    out, last = [], 0
    for start, end in ordered:
        if start < last:
            continue
        out += [text[last:start], mask]
        last = end
    out.append(text[last:])
    return "".join(out), True


def redact(text: str, patterns: Sequence[ExtraPattern] = ()) -> Redaction:
    """Mask card numbers, IBANs and the ``patterns`` in ``text``; say which kinds were masked."""
    kinds: list[str] = []
    text, found = _replace(text, _iban_spans(text, _tokens(text)), IBAN_MASK)
    if found:
        kinds.append("iban")
    text, found = _replace(text, _card_spans(text, _tokens(text)), CARD_MASK)
    if found:
        kinds.append("card")
    for pattern in patterns:
        flags = re.IGNORECASE if pattern.ignore_case else 0
        text, count = re.subn(pattern.regex, pattern.mask.replace("\\", "\\\\"), text, flags=flags)
        if count and pattern.name not in kinds:
            kinds.append(pattern.name)
    return Redaction(text, tuple(kinds))
