"""Facts read from a spoken French transcript: amounts, dates, times, references, and the commitments made.

Everything here is extractive and deterministic: a value is returned only when the words that say it are in the
text. Transcripts write numbers as figures or as words (« quatre-vingt-sept euros quarante » → 87.4,
« trente-neuf quatre-vingt-dix-neuf par mois » → 39.99), dates as they are spoken (« jeudi prochain »,
« demain », « le 3 décembre », « le cinq et le six novembre »), resolved against the call's start in
Europe/Paris, and times as « quatorze heures trente » or « 20 h 12 ». References (customer, contract, ticket,
proof numbers) are kept exactly as written.

The text given here is the redacted one (cards and IBANs already masked, :mod:`desktop.core.assist.redact`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_T = TypeVar("_T")
Owner = Literal["agent", "company", "customer"]

# -- tokens ---------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)?|[^\W\d_]+|€", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without accents."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    word: str  # folded letters, figures as written, or "€"

    @property
    def is_figure(self) -> bool:
        return self.word[0] in "0123456789"


def tokenize(text: str) -> list[Token]:
    """Figures (with a decimal comma or point), folded words (apostrophes and hyphens split them), and « € »."""
    return [Token(m.start(), m.end(), fold(m.group())) for m in _TOKEN.finditer(text)]


def _tight(text: str, left: Token, right: Token, *, hyphen: bool = True) -> bool:
    """Only blanks (and hyphens) between two tokens: no comma, no full stop, no ellipsis."""
    gap = text[left.end : right.start]
    return not gap.strip(" \u00a0-" if hyphen else " \u00a0")


# -- French number words ----------------------------------------------------------------------------------------

UNITS = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
}  # fmt: skip
TENS = {
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "septante": 70,
    "octante": 80, "huitante": 80, "nonante": 90,
}  # fmt: skip
_HUNDRED = ("cent", "cents")
NUMBER_WORDS = frozenset(UNITS) | frozenset(TENS) | frozenset(_HUNDRED) | {"mille", "et"}


def _below_hundred(w: Sequence[str], i: int) -> tuple[int, int] | None:
    """(words consumed, value) for a number from 0 to 99 starting at ``w[i]``."""
    n = len(w)
    if i >= n:
        return None
    word = w[i]
    nxt = w[i + 1] if i + 1 < n else ""
    if word == "quatre" and nxt in ("vingt", "vingts"):
        tens, j = 80, i + 2
    elif word == "dix" and nxt in ("sept", "huit", "neuf"):
        return 2, 10 + UNITS[nxt]
    elif word in TENS:
        tens, j = TENS[word], i + 1
    elif word in UNITS:
        return 1, UNITS[word]
    else:
        return None
    after = w[j] if j < n else ""
    after2 = w[j + 1] if j + 1 < n else ""
    if after == "et" and after2 in ("un", "une", "onze"):
        return j + 2 - i, tens + UNITS[after2]
    if tens in (60, 80) and after == "dix" and after2 in ("sept", "huit", "neuf"):
        return j + 2 - i, tens + 10 + UNITS[after2]
    if tens in (60, 80) and after in UNITS and 10 <= UNITS[after] <= 16:
        return j + 1 - i, tens + UNITS[after]
    if after in UNITS and 1 <= UNITS[after] <= 9:
        return j + 1 - i, tens + UNITS[after]
    return j - i, tens


def _below_thousand(w: Sequence[str], i: int) -> tuple[int, int] | None:
    n = len(w)
    if i >= n:
        return None
    start, hundreds = i, None
    if w[i] in UNITS and 2 <= UNITS[w[i]] <= 9 and i + 1 < n and w[i + 1] in _HUNDRED:
        hundreds, i = UNITS[w[i]] * 100, i + 2
    elif w[i] in _HUNDRED:
        hundreds, i = 100, i + 1
    rest = _below_hundred(w, i)
    if hundreds is None:
        return rest
    if rest is None:
        return i - start, hundreds
    return i - start + rest[0], hundreds + rest[1]


def parse_number_words(w: Sequence[str], i: int) -> tuple[int, int] | None:
    """(words consumed, value) of the number spoken from ``w[i]`` (folded words, hyphens split), up to 999,999.

    One number only: « trente-neuf quatre-vingt-dix-neuf » is 39, then 99 from the next position.
    """
    n = len(w)
    if i >= n:
        return None
    if w[i] == "mille":
        head: tuple[int, int] | None = (0, 1)
    else:
        head = _below_thousand(w, i)
    if head is None:
        return None
    consumed, value = head
    j = i + consumed
    if j < n and w[j] == "mille" and (consumed == 0 or value >= 1):
        value *= 1000
        j += 1
        tail = _below_thousand(w, j)
        if tail is not None:
            j += tail[0]
            value += tail[1]
    elif consumed == 0:
        return None
    return j - i, value


@dataclass(frozen=True)
class Number:
    first: int  # token indices [first, last]
    last: int
    value: float
    spoken: bool


def _numbers(text: str, tokens: Sequence[Token]) -> list[Number]:
    """Every number of the text in reading order: figures, and spoken numbers (words joined by blanks or hyphens)."""
    out: list[Number] = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok.is_figure:
            out.append(Number(i, i, float(tok.word.replace(",", ".")), False))
            i += 1
            continue
        if tok.word not in NUMBER_WORDS or tok.word == "et":
            i += 1
            continue
        j = i + 1
        while j < n and tokens[j].word in NUMBER_WORDS and _tight(text, tokens[j - 1], tokens[j]):
            j += 1
        run = [t.word for t in tokens[i:j]]
        k = 0
        while k < len(run):
            parsed = parse_number_words(run, k)
            if parsed is None or parsed[0] == 0:
                k += 1
                continue
            out.append(Number(i + k, i + k + parsed[0] - 1, float(parsed[1]), True))
            k += parsed[0]
        i = j
    return out


# -- amounts ----------------------------------------------------------------------------------------------------

_EURO = ("euro", "euros", "€")
#: Words after a number that make it a quantity of something else (« trois euros de plus » is fine).
_COUNTED = {
    "mois", "an", "ans", "annee", "annees", "jour", "jours", "semaine", "semaines", "heure", "heures", "h",
    "minute", "minutes", "seconde", "secondes", "fois", "go", "mo", "g", "metres", "metre", "kwh", "pour",
    "cent", "%", "euro", "euros",
}  # fmt: skip
#: A bare pair of spoken numbers (« trente-neuf quatre-vingt-dix-neuf ») is a price only near one of these.
_PRICE_CUES = ("par mois", "euro", "€", "prix", "tarif", "paie", "paye", "payer", "coute", "offre", "propose")


def amounts(text: str) -> list[float]:
    """Amounts in euros, in order of mention, each once: « 87,40 euros », « quatre-vingt-sept euros quarante »,
    « 29,99 € », and a spoken pair « trente-neuf quatre-vingt-dix-neuf » when the turn speaks of a price."""
    tokens = tokenize(text)
    numbers = _numbers(text, tokens)
    folded = fold(text)
    priced = any(cue in folded for cue in _PRICE_CUES)
    found: list[float] = []
    used: set[int] = set()
    for index, number in enumerate(numbers):
        if index in used:
            continue
        after = number.last + 1
        nxt = numbers[index + 1] if index + 1 < len(numbers) else None
        if after < len(tokens) and tokens[after].word in _EURO and _tight(text, tokens[number.last], tokens[after]):
            value = number.value
            # cents spoken after the currency: « quatre-vingt-sept euros quarante »
            if (
                nxt is not None
                and nxt.first == after + 1
                and _tight(text, tokens[after], tokens[nxt.first])
                and float(nxt.value).is_integer()
                and 1 <= nxt.value <= 99
                and not _counted(tokens, nxt.last + 1)
                and float(value).is_integer()
            ):
                value += nxt.value / 100
                used.add(index + 1)
            found.append(round(value, 2))
            continue
        if (
            priced
            and number.spoken
            and nxt is not None
            and nxt.spoken
            and nxt.first == number.last + 1
            and _tight(text, tokens[number.last], tokens[nxt.first], hyphen=False)
            and 1 <= number.value <= 999
            and 10 <= nxt.value <= 99
            and not _counted(tokens, nxt.last + 1)
        ):
            found.append(round(number.value + nxt.value / 100, 2))
            used.add(index + 1)
    return _unique(found)


def _counted(tokens: Sequence[Token], i: int) -> bool:
    return i < len(tokens) and tokens[i].word in _COUNTED


# -- dates ----------------------------------------------------------------------------------------------------

MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}  # fmt: skip
WEEKDAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6}
_RELATIVE = {"hier": -1, "demain": 1}
_TODAY_PAIRS = {("ce", "soir"), ("ce", "matin"), ("cet", "apres"), ("aujourd", "hui"), ("ce", "midi")}
_DAY_LINKS = {"le", "et", "un", "ou", "au", "du", "entre"}


@dataclass(frozen=True)
class DateMention:
    date: dt.date
    first: int  # token span
    last: int


def local_day(started_at: dt.datetime) -> dt.date:
    """The call's day for the consumer (Europe/Paris)."""
    if started_at.tzinfo is None:
        return started_at.date()
    return started_at.astimezone(PARIS).date()


def _nearest(day: int, month: int, today: dt.date) -> dt.date | None:
    """The day-month closest to ``today`` (last year, this year or next year)."""
    best: dt.date | None = None
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((candidate - today).days) < abs((best - today).days):
            best = candidate
    return best


def _day_value(tokens: Sequence[Token], numbers: dict[int, Number], i: int) -> tuple[int, int] | None:
    """(first token, day) of a day of the month ending at token ``i``."""
    if tokens[i].word in ("premier", "1er"):
        return i, 1
    if tokens[i].word in ("er", "ᵉʳ") and i > 0 and tokens[i - 1].word == "1" and tokens[i - 1].end == tokens[i].start:
        return i - 1, 1  # « 1er » is tokenised as « 1 » + « er »
    number = numbers.get(i)
    if number is not None and float(number.value).is_integer() and 1 <= number.value <= 31:
        return number.first, int(number.value)
    return None


def date_mentions(text: str, started_at: dt.datetime) -> list[DateMention]:
    """Day-precise dates said in ``text``, resolved against the call's day in Europe/Paris.

    « le 26 novembre » (the nearest such day, or the year said), « le cinq et le six novembre », « jeudi » and
    « mardi prochain » (the next such day after the call's day), « hier », « demain », « après-demain »,
    « aujourd'hui », « ce soir », « dans trois jours », 26/11/2026 and 2026-11-26.
    """
    today = local_day(started_at)
    tokens = tokenize(text)
    numbers = {n.last: n for n in _numbers(text, tokens)}
    found: list[DateMention] = []
    covered: set[int] = set()
    for m in re.finditer(r"\b(\d{4})-(\d{2})-(\d{2})\b|\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b", text):
        try:
            if m.group(1):
                date = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            elif m.group(6):
                year = int(m.group(6))
                date = dt.date(year + 2000 if year < 100 else year, int(m.group(5)), int(m.group(4)))
            else:
                near = _nearest(int(m.group(4)), int(m.group(5)), today)
                if near is None:
                    continue
                date = near
        except ValueError:
            continue
        span = [k for k, t in enumerate(tokens) if m.start() <= t.start < m.end()]
        if span:
            covered.update(span)
            found.append(DateMention(date, span[0], span[-1]))
    for i, tok in enumerate(tokens):
        if i in covered:
            continue
        word = tok.word
        if word in MONTHS:
            month = MONTHS[word]
            said_year: int | None = None
            if i + 1 < len(tokens) and re.fullmatch(r"(19|20)\d\d", tokens[i + 1].word):
                said_year = int(tokens[i + 1].word)
            # walk back over « le cinq et le six » to every day that shares this month
            days: list[tuple[int, int]] = []
            k = i - 1
            while k >= 0:
                day = _day_value(tokens, numbers, k)
                if day is None:
                    break
                days.append(day)
                k, joined, steps = day[0] - 1, False, 0
                while k >= 0 and tokens[k].word in _DAY_LINKS and steps < 3:
                    joined = joined or tokens[k].word in ("et", "ou", "au")
                    k, steps = k - 1, steps + 1
                if not joined:
                    break
            for first, day_of_month in days:
                resolved: dt.date | None
                try:
                    resolved = (
                        dt.date(said_year, month, day_of_month)
                        if said_year is not None
                        else _nearest(day_of_month, month, today)
                    )
                except ValueError:
                    resolved = None
                if resolved is not None:
                    found.append(DateMention(resolved, first, i + (1 if said_year is not None else 0)))
                    covered.update(range(first, i + 1))
            continue
        if word in WEEKDAYS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and any(t.word in MONTHS for t in tokens[i + 1 : i + 5]):
                continue  # « jeudi 26 novembre »: the date itself is read at its month
            ahead = (WEEKDAYS[word] - today.weekday()) % 7 or 7
            found.append(DateMention(today + dt.timedelta(days=ahead), i, i))
            continue
        if word in _RELATIVE:
            before = tokens[i - 1].word if i else ""
            if word == "demain" and before == "apres":
                found.append(DateMention(today + dt.timedelta(days=2), i - 1, i))
            elif word == "hier" and before == "avant":
                found.append(DateMention(today - dt.timedelta(days=2), i - 1, i))
            else:
                found.append(DateMention(today + dt.timedelta(days=_RELATIVE[word]), i, i))
            continue
        if i + 1 < len(tokens) and (word, tokens[i + 1].word) in _TODAY_PAIRS:
            found.append(DateMention(today, i, i + 1))
            continue
        if word == "dans":
            number = next((n for n in numbers.values() if n.first == i + 1), None)
            unit = tokens[number.last + 1].word if number is not None and number.last + 1 < len(tokens) else ""
            if number is not None and float(number.value).is_integer() and unit in ("jour", "jours"):
                found.append(DateMention(today + dt.timedelta(days=int(number.value)), i, number.last + 1))
    found.sort(key=lambda mention: mention.first)
    return found


def dates(text: str, started_at: dt.datetime) -> list[dt.date]:
    """The dates of :func:`date_mentions`, each once, in order of mention."""
    return _unique(mention.date for mention in date_mentions(text, started_at))


# -- times ----------------------------------------------------------------------------------------------------

#: A spoken « N heures » is a time of day after one of these (« à dix heures », « samedi dix heures »)...
_TIME_BEFORE = {
    "a", "vers", "avant", "apres", "jusqu", "des", "entre", "de", "partir", "pour", "demain", "hier", "soir",
    "matin", "midi", "aujourd", "hui", "ou",
}  # fmt: skip
#: ... or before one of these (« dix heures précises »).
_TIME_AFTER = {"precises", "precise", "pile", "du", "ce", "demain"}
#: Before « N heures », these make it a duration, not a time of day.
_DURATION = {"pendant", "dans", "en", "durant", "valable", "sous", "depuis", "toutes", "les"}


def times(text: str) -> list[str]:
    """Times of day as HH:MM, each once: « quatorze heures trente », « à dix heures », « 20 h 12 », « 14h »,
    « 14:30 », « dix heures et demie », « midi »."""
    tokens = tokenize(text)
    numbers = _numbers(text, tokens)
    by_first = {n.first: n for n in numbers}
    found: list[str] = []
    for m in re.finditer(r"\b([01]?\d|2[0-3]):([0-5]\d)\b", text):
        found.append(f"{int(m.group(1)):02d}:{m.group(2)}")
    for number in numbers:
        i = number.last + 1
        if i >= len(tokens) or not float(number.value).is_integer() or not 0 <= number.value <= 23:
            continue
        marker = tokens[i].word
        if marker not in ("heure", "heures") and not (marker == "h" and not number.spoken):
            continue
        before = tokens[number.first - 1].word if number.first else ""
        if before in _DURATION:
            continue
        after_marker = tokens[i + 1].word if i + 1 < len(tokens) else ""
        between = before == "et" and any(t.word == "entre" for t in tokens[max(0, number.first - 8) : number.first])
        anchored = (
            between or before in _TIME_BEFORE or before in WEEKDAYS or before in MONTHS or after_marker in _TIME_AFTER
        )
        if number.spoken and not anchored:
            continue  # « ça prend deux heures », « un jour et une heure précis »: durations, not times of day
        hour, minute = int(number.value), 0
        j = i + 1
        after = by_first.get(j)
        if after is not None and _tight(text, tokens[i], tokens[j]) and float(after.value).is_integer():
            if 0 < after.value < 60 and not _counted(tokens, after.last + 1):
                minute = int(after.value)
        elif j + 1 < len(tokens) and tokens[j].word == "et" and tokens[j + 1].word in ("demie", "demi", "quart"):
            minute = 30 if tokens[j + 1].word != "quart" else 15
        elif j + 2 < len(tokens) and tokens[j].word == "moins" and tokens[j + 2].word == "quart":
            hour, minute = (hour - 1) % 24, 45
        found.append(f"{hour:02d}:{minute:02d}")
    for i, tok in enumerate(tokens):
        if tok.word in ("midi", "minuit") and i and tokens[i - 1].word in ("a", "vers", "avant", "apres", "jusqu"):
            found.append("12:00" if tok.word == "midi" else "00:00")
    return _unique(found)


# -- references -----------------------------------------------------------------------------------------------

_PREFIXED_REF = re.compile(r"\b[A-Z]{2,5}(?:[ -]?\d{2,})(?:[ -]\d{2,})*\b")
_DIGIT_REF = re.compile(r"(?<![\d,.])\d{2,}(?:[ .-]\d{2,})+(?![\d,])|(?<![\d,.])\d{6,}(?![\d,])")
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
#: Words that announce a customer, contract, ticket or proof number (in the turn or the agent's question before).
REFERENCE_CUES = (
    "numero client", "numero de client", "reference", "dossier", "contrat", "commande", "ticket", "reclamation",
    "numero de facture", "identifiant", "numero d abonne", "numero de preuve",
)  # fmt: skip


def references(text: str, context: str = "") -> list[str]:
    """Customer, contract, ticket and proof numbers exactly as written: « FT 30 58 21 47 », « RCL-110583 »,
    « WF 2271 », and bare digit groups (« 51 04 47 29 ») when ``text`` or ``context`` (the question just asked)
    speaks of a customer, contract or ticket number. Phone numbers, years and amounts are not references."""
    found: list[str] = []
    for m in _PREFIXED_REF.finditer(text):
        value = m.group().strip(" -")
        if sum(ch.isdigit() for ch in value) >= 4 and not re.match(r"[A-Z]{2}\d{2}", value):
            found.append(value)
    cued = any(cue in fold(f"{context} {text}").replace("'", " ") for cue in REFERENCE_CUES)
    if cued:
        for m in _DIGIT_REF.finditer(text):
            value = m.group()
            digits = re.sub(r"\D", "", value)
            if len(digits) < 6 or _phone_like(digits) or _inside(m, found, text) or _DATE_LIKE.fullmatch(value):
                continue
            found.append(value)
    return _unique(found)


def _phone_like(digits: str) -> bool:
    return (len(digits) == 10 and digits.startswith("0")) or (digits.startswith("33") and len(digits) == 11)


def _inside(m: re.Match[str], found: Sequence[str], text: str) -> bool:
    return any(value in text and text.find(value) <= m.start() < text.find(value) + len(value) for value in found)


def digits_of(reference: str) -> str:
    return re.sub(r"\D", "", reference)


# -- sentences and commitments ---------------------------------------------------------------------------------


class TurnLike(Protocol):
    """A transcript segment: the session's ``Segment`` and the corpus's segments (as :class:`Turn`) both fit."""

    @property
    def speaker(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class Sentence:
    segment: int
    speaker: str
    text: str


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[^\s])")


def sentences(segment: int, speaker: str, text: str) -> list[Sentence]:
    """The sentences of one turn (split after . ! ? …), blanks trimmed."""
    return [Sentence(segment, speaker, part.strip()) for part in _SENTENCE_END.split(text) if part.strip()]


#: First-group futures and a few irregular ones: « appellera », « sera », « recevrez », « pourra ».
_FUTURE_IRREGULAR = {
    "sera", "seront", "serez", "serai", "pourra", "pourrez", "pourrons", "pourront", "recevrez", "recevra",
    "recevras", "recevront", "enverrai", "enverra", "enverrons", "enverrez", "ferai", "fera", "ferons", "viendra",
    "viendrai", "prendra", "prendrai", "aura", "aurez", "interviendra", "mettra", "mettrai", "reviendra",
}  # fmt: skip
_FUTURE_SUFFIX = re.compile(r"^[a-z]{3,}(?:erai|eras|era|erons|erez|eront)$")
_NEAR = {"vais", "va", "allons", "allez", "vont"}
_CLITICS = {"vous", "le", "la", "les", "l", "lui", "leur", "me", "m", "te", "t", "nous", "en", "y", "se", "s"}
_TRIVIAL = {"raccrocher", "regarder", "verifier", "voir", "couper", "ecouter", "arreter", "etre", "devoir", "avoir"}
#: Present-tense verbs of sending: « je vous envoie » is done after the call, the same day.
_SEND = {"envoie", "envoyer", "enverrai", "enverra", "enverrons", "recevoir", "recevrez", "recevra", "transmets"}
_NOW = (
    "maintenant", "tout de suite", "immediatement", "des que possible", "dans les minutes", "juste apres",
    "dans la journee", "aujourd hui", "ce soir", "dans l heure",
)  # fmt: skip
#: A later anchor without a date: the step has no due date (« avant la fin de l'offre »).
_LATER = ("avant la fin", "plus tard", "a la fin", "a l echeance", "le moment venu", "prochainement")
_COMPANY_SUBJECTS = (
    "le technicien", "la livraison", "le virement", "le remboursement", "la fourniture", "une compensation",
    "la resiliation", "votre dossier", "la mensualite", "le service", "nous", "on ",
)  # fmt: skip
_IMPERATIVE_SKIP = {"excusez", "ecoutez", "attendez", "allez", "dites", "voyez", "patientez", "notez", "rassurez"}
_APPOINTMENT = (
    "technicien",
    "rendez vous",
    "rdv",
    "creneau",
    "visite",
    "intervention",
    "passage",
    "rappel",
    "rappelle",
)


@dataclass(frozen=True)
class Commitment:
    """Something someone said will be done after (or right at the end of) the call."""

    owner: Owner
    action: str
    due: dt.date | None
    segment: int


def _words(text: str) -> list[str]:
    return [t.word for t in tokenize(text)]


def is_future(words: Sequence[str]) -> bool:
    """A future tense or « aller + infinitive » (a non-trivial one) somewhere in the words."""
    for k, word in enumerate(words):
        if word in _FUTURE_IRREGULAR or _FUTURE_SUFFIX.match(word):
            return True
        if word in _NEAR:
            rest = [w for w in words[k + 1 : k + 4] if w not in _CLITICS]
            if rest and re.fullmatch(r"[a-z]+(?:er|ir|re|oir)", rest[0]) and rest[0] not in _TRIVIAL:
                return True
    return False


def commitment(sentence: Sentence, started_at: dt.datetime) -> Commitment | None:
    """The next step a sentence commits to, with its owner and due date, or None (questions, offers, facts)."""
    text = sentence.text
    if text.rstrip().endswith("?"):
        return None
    words = _words(text)
    if not words:
        return None
    flat = " ".join(words) + " "
    today = local_day(started_at)
    mentions = [m.date for m in date_mentions(text, started_at)]
    upcoming = [d for d in mentions if d >= today]
    future = is_future(words)
    sending = any(w in _SEND for w in words)
    owner: Owner | None = None
    if sentence.speaker == "customer":
        first_person = re.search(r"\b(je|j|faut que j|il faut que je)\b", flat) is not None
        negative = re.search(r"\b(pas|plus|jamais|rien)\b", flat) is not None
        if (
            first_person
            and not negative
            and (future or upcoming or any(cue in flat for cue in _NOW) or "faut que" in flat)
        ):
            owner = "customer"
    else:
        lead = next((w for w in words if w not in ("alors", "donc", "et", "bon", "bien", "tres", "simplement")), "")
        if lead.endswith("ez") and lead not in _IMPERATIVE_SKIP and not flat.startswith("vous "):
            owner = "customer"
        elif re.search(r"\bje (vous |le |la |les |lui )?(vais |)(vous )?(envoie|envoyer|enverrai|rappelle|rappeler"
                       r"|rappellerai|expliquerai|transmets|transmettre)\b", flat) or re.search(r"\bvous (allez recevoir|recevrez)\b", flat):  # fmt: skip
            owner = "agent"
        elif future or (upcoming and any(word in flat for word in _APPOINTMENT)):
            if re.search(r"\bje\b", flat) and not any(subject in flat for subject in _COMPANY_SUBJECTS):
                owner = "agent"
            else:
                owner = "company"
        elif (upcoming and any(subject in flat for subject in _COMPANY_SUBJECTS[:6])) or (
            re.search(r"\b(j|je) (enregistre|note|lance)\b", flat) and any(cue in flat for cue in _NOW)
        ):
            owner = "company"
    if owner is None:
        return None
    if upcoming:
        due: dt.date | None = upcoming[0]
    elif any(cue in flat for cue in _NOW) or (sending and not any(cue in flat for cue in _LATER) and owner == "agent"):
        due = today
    else:
        due = None
    return Commitment(owner, text, due, sentence.segment)


# -- helpers ----------------------------------------------------------------------------------------------------


def _unique(items: Iterable[_T]) -> list[_T]:
    seen: set[_T] = set()
    out: list[_T] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


@dataclass
class Entities:
    """Every entity of a transcript, deduplicated, in order of first mention."""

    amounts_eur: list[float] = field(default_factory=list)
    dates: list[dt.date] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    def add(self, other: Entities) -> None:
        self.amounts_eur = _unique([*self.amounts_eur, *other.amounts_eur])
        self.dates = _unique([*self.dates, *other.dates])
        self.times = _unique([*self.times, *other.times])
        refs = list(self.references)
        for ref in other.references:
            digits = digits_of(ref)
            if not any(digits and digits in digits_of(kept) for kept in refs):
                refs.append(ref)
        self.references = refs


def turn_entities(text: str, started_at: dt.datetime, context: str = "") -> Entities:
    """The entities of one turn (``context``: the turn before, for « votre numéro client ? » → « 51 04 47 29 »)."""
    return Entities(amounts(text), dates(text, started_at), times(text), references(text, context))
