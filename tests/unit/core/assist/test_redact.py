"""Redaction at the source: cards written or spoken in French, IBANs, configured patterns; what must stay, stays."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from stdnum import luhn

from desktop.core.assist.redact import CARD_MASK, IBAN_MASK, ExtraPattern, RedactionSettings, redact
from desktop.core.consent.policy import DEFAULT_PACK, load_policy
from desktop.core.errors import InputError

WORDS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]


def _card(prefix: str) -> str:
    return prefix + luhn.calc_check_digit(prefix)


VISA = _card("497201234567890")  # 4972012345678909
AMEX = _card("37828224631000")  # 15 digits
SPOKEN = " ".join(WORDS[int(digit)] for digit in VISA)


@pytest.mark.parametrize(
    "said",
    [
        f"ma carte c'est le {VISA[:4]} {VISA[4:8]} {VISA[8:12]} {VISA[12:]} voilà",
        f"{VISA[:4]}-{VISA[4:8]}-{VISA[8:12]}-{VISA[12:]}",
        f"{VISA[:4]}.{VISA[4:8]}.{VISA[8:12]}.{VISA[12:]}",
        f"numéro {VISA}.",
        f"c'est {AMEX[:4]} {AMEX[4:10]} {AMEX[10:]}",
        f"alors {SPOKEN} voilà",
        "Quatre, neuf, sept, deux. Zéro, un, deux, trois. Quatre, cinq, six, sept. Huit, neuf, zéro, neuf.",
        "quarante-neuf soixante-douze zéro un vingt-trois quarante-cinq soixante-sept quatre-vingt-neuf zéro neuf",
        "quarante neuf soixante douze, zéro un, vingt trois, quarante cinq, soixante sept, quatre vingt neuf, zéro neuf",
        "quatre neuf 72 zéro un 2345 six sept huit neuf zéro neuf",
        "4972 zéro un deux trois 4567 quatre-vingt-neuf zéro neuf",
        "QUATRE NEUF SEPT DEUX zero un deux trois quatre cinq six sept huit neuf zero neuf",
        "quarante-neuf septante-deux zéro un vingt-trois quarante-cinq soixante-sept huitante-neuf zéro neuf",
        # Whisper writes pauses between spoken groups as ellipses, and may read a group as one number
        "Quatre neuf sept deux... zéro un deux trois... quatre cinq six sept… huit neuf zéro neuf",
        "4972; 0123; 4567; 8909",
        "quatre mille neuf cent soixante-douze, zéro un, deux mille trois cent quarante-cinq, six mille sept cent"
        " quatre-vingt-neuf, zéro neuf",
        "quatre mille neuf cent soixante-douze, zéro un, vingt-trois quarante-cinq, soixante-sept quatre-vingt-neuf,"
        " zéro neuf",
    ],
)
def test_card_numbers_written_or_spoken_are_masked(said: str) -> None:
    result = redact(said)
    assert result.kinds == ("card",)
    assert CARD_MASK in result.text
    assert not re.search(r"\d{4}", result.text.replace(" ", ""))
    for group in ("quatre neuf sept", "soixante-douze", "vingt-trois quarante", "4567", "2345"):
        assert group not in result.text.lower()


def test_thousands_and_pauses_do_not_mask_ordinary_amounts() -> None:
    for said in ("Il a pris un mille-feuille et deux mille euros.", "J'ai payé mille euros; puis 2000... et 300."):
        assert redact(said).text == said


def test_the_text_around_a_card_stays_readable() -> None:
    assert redact(f"Oui, c'est le {VISA}, expiration fin mars.").text == (
        f"Oui, c'est le {CARD_MASK}, expiration fin mars."
    )
    assert redact(f"alors {SPOKEN} voilà").text == f"alors {CARD_MASK} voilà"


def test_a_sixteen_digit_number_that_fails_luhn_is_left() -> None:
    wrong = VISA[:-1] + str((int(VISA[-1]) + 1) % 10)
    assert redact(f"référence {wrong[:8]} {wrong[8:]}").kinds == ()  # the digits alone hold no Luhn-valid card


@pytest.mark.parametrize(
    "said",
    [
        "appelez-moi au 06 12 34 56 78",
        "mon numéro c'est le zéro six douze trente-quatre cinquante-six soixante-dix-huit",
        "+33 6 12 34 56 78",
        "ça fait 1 250,50 euros, payable le 12/03/2026",
        "quatre-vingt-dix-neuf euros et vingt et un centimes",
        "le 14 juillet 2026 à 10 h 30",
        "deux cent trente kilowattheures, compteur 12345678",
        "votre dossier 2026-000123 du 03.04.2026",
        "un deux trois, c'est parti",
        "Il y a six mois, j'ai payé cinquante euros.",
    ],
)
def test_phone_numbers_amounts_and_dates_stay(said: str) -> None:
    assert redact(said) == redact(said).__class__(said, ())


@pytest.mark.parametrize(
    ("said", "rest"),
    [
        ("mon IBAN FR76 3000 6000 0112 3456 7890 189 merci", "mon IBAN {} merci"),
        ("FR7630006000011234567890189", "{}"),
        ("fr76 3000 6000 0112 3456 7890 189", "{}"),
        ("iban: DE89 3704 0044 0532 0130 00.", "iban: {}."),
        ("virement vers GB82WEST12345698765432 demain", "virement vers {} demain"),
    ],
)
def test_ibans_are_masked_in_any_case_and_spacing(said: str, rest: str) -> None:
    result = redact(said)
    assert result.text == rest.format(IBAN_MASK)
    assert result.kinds == ("iban",)


def test_an_invalid_iban_stays() -> None:
    assert redact("FR76 3000 6000 0112 3456 7890 188").kinds == ()


def test_configured_patterns_are_masked_and_named() -> None:
    patterns = (ExtraPattern(name="customer_ref", regex=r"\bCL-\d{6}\b", mask="[référence masquée]"),)
    result = redact(f"client cl-123456, carte {VISA}", patterns)
    assert result.text == f"client [référence masquée], carte {CARD_MASK}"
    assert result.kinds == ("card", "customer_ref")


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ({"name": "x", "regex": "("}, "not a valid regular expression"),
        ({"name": "x", "regex": "a*"}, "matches the empty text"),
        ({"name": "Bad Name", "regex": "a"}, "name"),
        ({"name": "x", "regex": "a", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_pattern_is_refused(pattern: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        RedactionSettings.model_validate({"patterns": [pattern]})


_SEPARATORS = st.sampled_from(["", " ", "-", ".", " - ", ". "])


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.text(alphabet="0123456789", min_size=15, max_size=15),
    separators=st.lists(_SEPARATORS, min_size=15, max_size=15),
    before=st.sampled_from(["", "ma carte: ", "c'est le ", "Oui "]),
    after=st.sampled_from(["", " merci", ", expiration 12/28", "."]),
)
def test_any_luhn_valid_16_digit_number_with_any_separators_is_masked(
    prefix: str, separators: list[str], before: str, after: str
) -> None:
    number = _card(prefix)
    written = number[0] + "".join(sep + digit for sep, digit in zip(separators, number[1:], strict=True))
    result = redact(before + written + after)
    assert "card" in result.kinds
    assert number not in re.sub(r"\D", "", result.text)
    assert result.text.startswith(before) and CARD_MASK in result.text


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(alphabet="0123456789", min_size=15, max_size=15), commas=st.booleans())
def test_any_luhn_valid_card_spoken_digit_by_digit_is_masked(prefix: str, commas: bool) -> None:
    number = _card(prefix)
    spoken = (", " if commas else " ").join(WORDS[int(digit)] for digit in number)
    result = redact(f"alors {spoken} voilà")
    assert result.text == f"alors {CARD_MASK} voilà"


def test_the_policy_pack_carries_the_extra_patterns(tmp_path: Path) -> None:
    pack = tmp_path / "pack.toml"
    pack.write_text(
        DEFAULT_PACK.read_text(encoding="utf-8")
        + '\n[redaction]\npatterns = [{ name = "customer_ref", regex = "\\\\bCL-\\\\d{6}\\\\b", mask = "[réf. masquée]" }]\n',
        encoding="utf-8",
    )
    patterns = load_policy(pack).data.redaction.patterns
    assert redact("dossier CL-004211", patterns).text == "dossier [réf. masquée]"
    assert load_policy().data.redaction.patterns == ()
    bad = tmp_path / "bad.toml"  # load_policy caches per path
    bad.write_text(pack.read_text(encoding="utf-8").replace("regex =", "regexp ="), encoding="utf-8")
    with pytest.raises(InputError, match=r"redaction\.patterns\.0"):
        load_policy(bad)
