from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from desktop.core.consent.policy import DEFAULT_PACK, REASON_CODES, Policy, load_policy
from desktop.core.errors import InputError

# C. trav. L3133-1, written out by hand for two years: the `holidays` package must agree.
L3133_1 = {
    2026: ["01-01", "04-06", "05-01", "05-08", "05-14", "05-25", "07-14", "08-15", "11-01", "11-11", "12-25"],
    2027: ["01-01", "03-29", "05-01", "05-06", "05-08", "05-17", "07-14", "08-15", "11-01", "11-11", "12-25"],
}


@pytest.mark.parametrize("year", sorted(L3133_1))
def test_national_holidays_are_exactly_l3133_1(policy: Policy, year: int) -> None:
    days = [dt.date(year, 1, 1) + dt.timedelta(days=n) for n in range(366)]
    found = sorted(day.strftime("%m-%d") for day in days if day.year == year and policy.national_holiday(day))
    assert found == L3133_1[year]


@pytest.mark.parametrize(
    ("day", "zone", "department", "expected"),
    [
        (dt.date(2027, 3, 26), "Europe/Paris", "67", True),  # Good Friday, Alsace
        (dt.date(2027, 12, 26), "Europe/Paris", "57", True),  # Saint Stephen, Moselle
        (dt.date(2027, 3, 26), "Europe/Paris", None, True),  # unknown department: fail-closed
        (dt.date(2027, 3, 26), "Europe/Paris", "75", False),
        (dt.date(2027, 3, 26), "America/Martinique", None, False),  # Alsace days are metropolitan only
        (dt.date(2027, 4, 27), "Indian/Mayotte", None, True),
        (dt.date(2027, 5, 22), "America/Martinique", None, True),
        (dt.date(2027, 5, 27), "America/Guadeloupe", None, True),
        (dt.date(2027, 5, 28), "America/Marigot", None, True),
        (dt.date(2027, 6, 10), "America/Cayenne", None, True),
        (dt.date(2027, 10, 9), "America/St_Barthelemy", None, True),
        (dt.date(2027, 12, 20), "Indian/Reunion", None, True),
        (dt.date(2027, 12, 20), "Europe/Paris", "75", False),
        (dt.date(2027, 3, 4), "America/Guadeloupe", None, False),  # Mi-Carême: in the package, not in the rules
    ],
)
def test_local_holidays(policy: Policy, day: dt.date, zone: str, department: str | None, expected: bool) -> None:
    assert (policy.local_holiday(day, zone, department) is not None) is expected


def test_pack_has_a_rule_and_french_and_english_message_for_every_code(policy: Policy) -> None:
    for code in REASON_CODES:
        assert policy.rule(code)
        assert policy.message(code, "fr") and policy.message(code, "en")
    assert policy.stamp() == {"name": "fr", "version": "2026.1"}


def _broken_pack(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_PACK.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "pack.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'max_slot_width = "PT15M"',
            'max_slot_width = "15 minutes"',
            "parameters.max_slot_width: not an ISO 8601 duration",
        ),
        ("frequency_cap = 4", 'frequency_cap = "4"', "parameters.frequency_cap"),
        ("block_local_holidays = true", 'block_local_holidays = "yes"', "parameters.block_local_holidays"),
        ("frequency_cap = 4", "frequency_cap = 4\nfrequency_kap = 5", "parameters.frequency_kap: unknown key"),
        ("refusal_quiet_days = 60\n", "", "parameters.refusal_quiet_days: missing key"),
        ('default = "Europe/Paris"', 'default = "Europe/Pariss"', "timezones.default: unknown time zone"),
        ('"0162", ', '"162", ', "caller_id.canvassing_prefixes"),
        ('["10:00", "13:00"]', '["13:00", "10:00"]', "calling_hours.windows"),
        ('keep = ["Abolition of Slavery"]', 'keep = ["Abolition"]', "holidays.local.1.keep"),
        ('opt_in_from = "2026-08-11T00:00:00"', 'opt_in_from = "2026-08-11T00:00:00+02:00"', "regime.opt_in_from"),
        ('WEEKEND = "{weekday} chez', 'WEEKENDS = "{weekday} chez', "messages"),
        ("\n[pack]\n", "\n[pack\n", "not valid TOML"),
    ],
)
def test_bad_pack_names_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _broken_pack(tmp_path, old, new)
    with pytest.raises(InputError) as caught:
        load_policy(path)
    text = str(caught.value)
    assert str(path) in text and message in text
    assert "\n" not in text


def test_missing_pack(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the policy pack"):
        load_policy(tmp_path / "none.toml")


def test_overrides(policy: Policy) -> None:
    changed = policy.with_overrides({"frequency_cap": 3, "consent_max_age": "P6M"})
    assert changed.params.frequency_cap == 3 and policy.params.frequency_cap == 4
    assert changed.overrides == {"frequency_cap": 3, "consent_max_age": "P6M"}
    with pytest.raises(InputError, match="unknown policy parameter 'frequency'"):
        policy.with_overrides({"frequency": 3})
    with pytest.raises(InputError, match="policy parameter: max_sync_age: not an ISO 8601 duration"):
        policy.with_overrides({"max_sync_age": "24h"})
    with pytest.raises(InputError, match="frequency_cap"):
        policy.with_overrides({"frequency_cap": True})
