"""Facts from spoken French: amounts (figures and words), dates resolved against the call's day in Europe/Paris,
times, references exactly as written, and commitments with their owner and due date."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.core.assist.extract import (
    Sentence,
    amounts,
    commitment,
    dates,
    parse_number_words,
    references,
    times,
    tokenize,
)

# Monday 23 November 2026, 09:14 in Paris.
MONDAY = dt.datetime(2026, 11, 23, 9, 14, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def _words(text: str) -> list[str]:
    return [t.word for t in tokenize(text)]


@pytest.mark.parametrize(
    ("spoken", "value"),
    [
        ("quatre-vingt-sept", 87),
        ("quatre-vingt-dix-neuf", 99),
        ("soixante et onze", 71),
        ("soixante-dix-neuf", 79),
        ("dix-sept", 17),
        ("vingt et un", 21),
        ("cent cinquante", 150),
        ("deux cent trente-quatre", 234),
        ("mille deux cents", 1200),
        ("trois mille", 3000),
        ("septante-cinq", 75),
        ("quatre-vingts", 80),
    ],
)
def test_french_number_words(spoken: str, value: int) -> None:
    words = _words(spoken)
    assert parse_number_words(words, 0) == (len(words), value)


def test_two_numbers_in_a_row_are_two_numbers() -> None:
    words = _words("trente-neuf quatre-vingt-dix-neuf")
    assert parse_number_words(words, 0) == (2, 39)
    assert parse_number_words(words, 2) == (4, 99)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deux fois quatre-vingt-sept euros quarante", [87.4]),
        ("je vois deux prélèvements de 87,40 euros", [87.4]),
        ("ça coûte 29,99 € par mois", [29.99]),
        ("je paie trente-neuf quatre-vingt-dix-neuf par mois", [39.99]),
        ("dix-neuf euros les trois mois, au lieu de soixante-sept euros", [19.0, 67.0]),
        ("trois euros de plus, donc quinze euros quatre-vingt-dix-neuf par mois", [3.0, 15.99]),
        ("cent cinquante euros, à peu près", [150.0]),
        ("huit euros, je crois. Huit euros de frais.", [8.0]),
    ],
)
def test_amounts(text: str, expected: list[float]) -> None:
    assert amounts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "zéro six, trente-neuf, quatre-vingt-dix-huit, zéro zéro, quarante-deux",  # a phone number
        "une maison de cent dix mètres carrés",
        "vous avez quatorze jours pour vous rétracter",
        "20 Go pour 100 Go en 5G",
        "à quatorze heures trente",
    ],
)
def test_not_amounts(text: str) -> None:
    assert amounts(text) == []


def test_a_bare_spoken_pair_is_a_price_only_when_prices_are_spoken_of() -> None:
    assert amounts("on se voit vingt-neuf quatre-vingt-dix-neuf") == []
    assert amounts("l'offre à vingt-neuf quatre-vingt-dix-neuf") == [29.99]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("j'ai plus internet depuis hier soir", ["2026-11-22"]),
        ("demain et mercredi tout est complet", ["2026-11-24", "2026-11-25"]),
        ("c'est jeudi, jeudi 26 novembre", ["2026-11-26"]),
        ("jeudi prochain", ["2026-11-26"]),
        ("lundi prochain", ["2026-11-30"]),  # the call's own weekday: the next one
        ("après-demain", ["2026-11-25"]),
        ("je regarde ça ce soir", ["2026-11-23"]),
        ("aujourd'hui", ["2026-11-23"]),
        ("c'est dans trois jours", ["2026-11-26"]),
        ("le cinq et le six novembre", ["2026-11-05", "2026-11-06"]),
        ("un le 5 et un le 6 novembre", ["2026-11-05", "2026-11-06"]),
        ("au plus tard le premier décembre", ["2026-12-01"]),
        ("au plus tard le 1er décembre", ["2026-12-01"]),  # « 1er » is tokenised as « 1 » + « er »
        ("le 1ᵉʳ décembre ou le 11 décembre", ["2026-12-01", "2026-12-11"]),
        ("le 1 er décembre", []),  # not one word: « er » alone is not an ordinal
        ("le 3 décembre", ["2026-12-03"]),
        ("le 10 janvier", ["2027-01-10"]),  # the nearest 10 January is next year's
        ("le 12 octobre", ["2026-10-12"]),  # and the nearest 12 October last month's
        ("le 14 septembre 2025", ["2025-09-14"]),
        ("le 26/11/2026 ou le 2026-12-02", ["2026-11-26", "2026-12-02"]),
    ],
)
def test_dates_resolved_against_the_call_day(text: str, expected: list[str]) -> None:
    assert [d.isoformat() for d in dates(text, MONDAY)] == expected


def test_the_call_day_is_the_consumers_in_paris() -> None:
    late_utc = dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC)  # already Tuesday in Paris
    assert dates("demain", late_utc) == [dt.date(2026, 11, 25)]


@pytest.mark.parametrize(
    "text", ["le 10 de chaque mois", "en septembre", "il y a huit mois", "trois jours après", "le 31 février"]
)
def test_not_day_precise(text: str) -> None:
    assert dates(text, MONDAY) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entre quatorze heures et dix-huit heures", ["14:00", "18:00"]),
        ("à quatorze heures trente", ["14:30"]),
        ("à 20 h 12", ["20:12"]),
        ("vers 9h", ["09:00"]),
        ("à 14:30", ["14:30"]),
        ("à dix heures et demie", ["10:30"]),
        ("à onze heures moins le quart", ["10:45"]),
        ("avant sept heures", ["07:00"]),
        ("à une heure", ["01:00"]),
        ("à midi", ["12:00"]),
    ],
)
def test_times(text: str, expected: list[str]) -> None:
    assert times(text) == expected


@pytest.mark.parametrize(
    "text",
    ["le lien reste valable quarante-huit heures", "ça prend deux heures", "il me faut un jour et une heure précis"],
)
def test_durations_are_not_times(text: str) -> None:
    assert times(text) == []


def test_references_exactly_as_written() -> None:
    assert references("voilà, c'est FT 30 58 21 47.") == ["FT 30 58 21 47"]
    assert references("votre réclamation porte le numéro RCL-110583.") == ["RCL-110583"]
    assert references("la référence de la preuve, c'est WF 2271.") == ["WF 2271"]
    assert references("INC 784 512.") == ["INC 784 512"]


def test_bare_digits_are_a_reference_only_when_one_was_asked_for() -> None:
    assert references("Oui, c'est le... 51 04 47 29.", context="votre numéro client, s'il vous plaît ?") == [
        "51 04 47 29"
    ]
    assert references("Oui, c'est le... 51 04 47 29.") == []
    assert references("mon numéro client ? 06 39 98 00 42") == []  # a phone number


def test_echoes_and_years_are_not_references() -> None:
    assert references("R, C, L... 110583. INC... 784... 512") == []
    assert references("le 14 septembre 2026") == []


def _step(speaker: str, text: str) -> tuple[str, str | None] | None:
    found = commitment(Sentence(0, speaker, text), MONDAY)
    return None if found is None else (found.owner, found.due.isoformat() if found.due else None)


@pytest.mark.parametrize(
    ("speaker", "text", "expected"),
    [
        ("agent", "Je vous envoie aussi un e-mail de confirmation.", ("agent", "2026-11-23")),
        ("agent", "Le virement sera sur votre compte au plus tard mardi prochain.", ("company", "2026-11-24")),
        ("agent", "Je vous enverrai un rappel par SMS avant la fin de l'offre.", ("agent", None)),
        ("agent", "Je vous propose un rappel samedi 28 novembre, à dix heures.", ("agent", "2026-11-28")),
        ("agent", "La livraison commence le jeudi 3 décembre.", ("company", "2026-12-03")),
        ("agent", "Vous recevrez un SMS de confirmation.", ("agent", "2026-11-23")),
        ("agent", "Envoyez-nous simplement le justificatif.", ("customer", None)),
        ("customer", "Bon, je regarde ça ce soir et je signe.", ("customer", "2026-11-23")),
        ("customer", "Faut que j'en parle avec mon conjoint.", ("customer", None)),
        ("agent", "Il peut venir quand, le technicien ?", None),
        ("customer", "Là, je peux pas vous répondre tout de suite.", None),
        ("agent", "Je vais raccrocher.", None),
        ("agent", "Le test me remonte une perte de signal optique.", None),
    ],
)
def test_commitments(speaker: str, text: str, expected: tuple[str, str | None] | None) -> None:
    assert _step(speaker, text) == expected


@given(st.text(max_size=200))
def test_extraction_never_fails_on_any_text(text: str) -> None:
    amounts(text)
    dates(text, MONDAY)
    times(text)
    references(text, context=text)
    commitment(Sentence(0, "agent", text), MONDAY)
