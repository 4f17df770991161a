"""Phone numbers: normalisation to E.164 (phonenumbers), canvassing ranges, time zone from the number."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from desktop.core.errors import InputError

# The common case (a French number already in E.164) skips phonenumbers' parser, which costs ~18 µs a call.
_FRENCH_E164 = re.compile(r"^\+33[1-9]\d{8}$")


@lru_cache(maxsize=65536)
def normalize(number: str, region: str = "FR") -> str:
    """The E.164 form of a number written in any usual way; InputError if it cannot be a phone number."""
    if _FRENCH_E164.match(number):
        return number
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        raise InputError(f"unparsable phone number {number!r}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InputError(f"impossible phone number {number!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_form(e164: str) -> str | None:
    """French national form ("0162000001") of a +33 number, None for numbers outside France metropolitan plan."""
    if e164.startswith("+33"):
        return "0" + e164[3:]
    return None


def in_canvassing_range(e164: str, prefixes: tuple[str, ...]) -> bool:
    national = national_form(e164)
    return national is not None and national.startswith(prefixes)


def mask(number: str | None, visible: int = 2) -> str:
    """A number safe to log or show at a glance: every digit but the last few replaced by a bullet."""
    if not number:
        return "?"
    digit_positions = [index for index, ch in enumerate(number) if ch.isdigit()]
    hidden = set(digit_positions[: max(len(digit_positions) - visible, 0)])
    return "".join("•" if index in hidden else ch for index, ch in enumerate(number))
