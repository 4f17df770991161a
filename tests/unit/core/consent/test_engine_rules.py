"""The consent engine against consent-rules.md, step by step, to the second.

Each case names its facts, the expected verdict and the deciding reason code (``reasons[0].code``), and where
the rules say so the reasons that must follow or be present. The expectations come from the rules document
(consent-rules.md, quoted in comments where it matters), never from the engine's behaviour. Where the document
is ambiguous the test takes the reading most protective of the consumer (fail-closed) and says so in a one-line
comment. The worked examples are read from tests/data/consent/ (a verbatim copy of the shared examples).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from desktop.core.consent.engine import evaluate
from desktop.core.consent.facts import parse_facts
from desktop.core.consent.policy import load_policy
from desktop.core.errors import InputError

POLICY = load_policy()
EXAMPLES = Path(__file__).parents[3] / "data" / "consent"
PARIS = ZoneInfo("Europe/Paris")
OPT_IN_FROM = dt.datetime(2026, 8, 11, tzinfo=PARIS)

#: Every reason code named in consent-rules.md.
RULE_CODES = (
    "OUT_OF_SCOPE_INBOUND",
    "OUT_OF_SCOPE_NON_COMMERCIAL",
    "OUT_OF_SCOPE_BUSINESS_LINE",
    "OUT_OF_SCOPE_INFO_REQUEST",
    "CALLER_ID_NOT_CANVASSING_RANGE",
    "CALLER_ID_UNKNOWN",
    "SECTOR_BAN",
    "CONTRACT_RELATED",
    "CONSENT_REVOKED",
    "MARKETING_OBJECTION",
    "WEEKEND",
    "PUBLIC_HOLIDAY",
    "LOCAL_HOLIDAY",
    "OUTSIDE_CALLING_HOURS",
    "OUT_OF_HOURS_CONSENT",
    "FREQUENCY_CAP",
    "REFUSAL_WITHIN_60_DAYS",
    "PRESS_EXEMPTION",
    "OPPOSITION_LIST_REGISTERED",
    "OPPOSITION_SCRUB_STALE",
    "OPPOSITION_LIST_CLEAR",
    "VALID_CONSENT",
    "NO_VALID_CONSENT",
    "CONSENT_MISSING",
    "CONSENT_OTHER_PROFESSIONAL",
    "CONSENT_OUT_OF_SCOPE",
    "CONSENT_PRE_TICKED",
    "CONSENT_NO_AFFIRMATIVE_ACT",
    "CONSENT_NO_PROOF",
    "CONSENT_EXPIRED",
    "CONSENT_FROM_UNLAWFUL_CALL",
    "CONSENT_BY_PHONE_INSURANCE",
    "INSURANCE_REFUSAL",
    "CONSENT_DATA_STALE",
)

# ---------------------------------------------------------------------------------------------------------------
# Fact builders (plain dicts in the JSON format of the rules document). DROP as a value removes the key.
# ---------------------------------------------------------------------------------------------------------------

PRO = "ACME Énergie SAS"
GROUP_COMPANY = "ACME Énergie Services SAS"  # another legal entity of the same group
MOBILE = "ACME Mobile SA"
ECO = "EcoHabitat SAS"
TUESDAY = "2026-11-24T10:30:00+01:00"  # opt-in regime, Paris winter time, morning window
OLD_MONDAY = "2026-08-10T10:30:00+02:00"  # Bloctel regime, Paris summer time, morning window
SATURDAY = "2026-11-28T11:05:00+01:00"
CALLER_ID = "+33162000001"
OFF_RANGE = "+33639989999"


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Any = _Drop()


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in changes.items():
        if value is DROP:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def consent(**changes: Any) -> dict[str, Any]:
    """A consent to ACME Énergie SAS for electricity and gas, collected 2026-09-01 15:02 (+02:00), web form."""
    base = {
        "professional": PRO,
        "products": ["electricity", "gas"],
        "collected_at": "2026-09-01T15:02:00+02:00",
        "method": "web_form",
        "affirmative_act": True,
        "pre_ticked": False,
        "evidence_ref": "webform-2026-09-01-8812",
        "text_shown": "J'accepte d'être appelé par ACME Énergie SAS pour ses offres d'électricité et de gaz.",
        "collected_during_unlawful_call": False,
        "out_of_hours_slots": [],
        "out_of_hours_any": False,
        "revoked_at": None,
    }
    return _merge(base, changes)


def call(**changes: Any) -> dict[str, Any]:
    """Outbound prospection by ACME Énergie SAS about electricity to a metropolitan mobile; zone inferred."""
    base = {
        "number": "+33639980001",
        "direction": "outbound",
        "at": TUESDAY,
        "purpose": "prospection",
        "product": "electricity",
        "sector": None,
        "professional": PRO,
        "caller_id": CALLER_ID,
        "line_type": "consumer",
    }
    return _merge(base, changes)


def contract(**changes: Any) -> dict[str, Any]:
    base = {
        "professional": PRO,
        "products": ["electricity"],
        "related_products": ["electricity_green_option"],
        "status": "active",
        "ended_at": None,
    }
    return _merge(base, changes)


def attempt(at: str, professional: str | None = PRO) -> dict[str, Any]:
    return {"at": at, "professional": professional}


def slot(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


def facts(at: str = TUESDAY, *, c: dict[str, Any] | None = None, **rest: Any) -> dict[str, Any]:
    """Facts for a call at ``at`` (``c``: changes to the call); ``consents`` defaults to one valid consent."""
    document: dict[str, Any] = {"call": call(at=at, **(c or {}))}
    rest.setdefault("consents", [consent()])
    return _merge(document, rest)


CLEAR = {"registered": False, "since": None, "last_scrub": "2026-07-28"}
#: A valid consent collected before the Bloctel-regime calls below.
OLD_CONSENT = consent(collected_at="2026-06-01T10:00:00+02:00", evidence_ref="webform-2026-06-01-0042")
OLD_ANY_HOURS = {**OLD_CONSENT, "out_of_hours_any": True}


def bloctel(at: str = OLD_MONDAY, **rest: Any) -> dict[str, Any]:
    """Bloctel-regime facts: not registered, file scrubbed 2026-07-28, no consent."""
    rest.setdefault("consents", [])
    rest.setdefault("opposition_list", dict(CLEAR))
    return facts(at, **rest)


# Three attempts inside the 30-day window of a call on 2026-11-24 (C26 minus one).
THREE_ATTEMPTS = [
    attempt("2026-11-05T14:10:00+01:00"),
    attempt("2026-11-12T11:45:00+01:00"),
    attempt("2026-11-19T16:20:00+01:00"),
]
FOUR_ATTEMPTS = [attempt("2026-11-02T10:30:00+01:00"), *THREE_ATTEMPTS]

C03_CALL = {"number": "+33639980003", "purpose": "contract", "product": "mobile_plan_100go", "professional": MOBILE}
C03_CONTRACT = contract(professional=MOBILE, products=["mobile_plan_20go"], related_products=["mobile_plan_100go"])


def c03(at: str = TUESDAY, c: dict[str, Any] | None = None, **rest: Any) -> dict[str, Any]:
    """Example C03: no consent, an ongoing related contract -> contract_only in the opt-in regime."""
    rest.setdefault("consents", [])
    rest.setdefault("contracts", [C03_CONTRACT])
    return facts(at, c={**C03_CALL, **(c or {})}, **rest)


ECO_CALL = {"professional": ECO, "product": "heat_pump", "sector": "energy_renovation", "caller_id": "+33377000030"}
ECO_CONSENT = consent(professional=ECO, products=["heat_pump"], collected_at="2026-10-12T19:05:00+02:00")
ECO_CONTRACT = contract(professional=ECO, products=["heat_pump"], related_products=["heat_pump_maintenance"])


def eco(at: str = TUESDAY, c: dict[str, Any] | None = None, **rest: Any) -> dict[str, Any]:
    """Energy-renovation call by EcoHabitat about heat pumps, with a valid consent (example C30)."""
    rest.setdefault("consents", [ECO_CONSENT])
    return facts(at, c={**ECO_CALL, **(c or {})}, **rest)


def eco_contract(at: str = TUESDAY, **rest: Any) -> dict[str, Any]:
    """Sector-banned call tied to an ongoing contract: heat-pump maintenance for a heat-pump customer."""
    rest.setdefault("contracts", [ECO_CONTRACT])
    return eco(at, c={"purpose": "contract", "product": "heat_pump_maintenance"}, **rest)


def info(request_at: str, call_at: str, products: Any = DROP, **rest: Any) -> dict[str, Any]:
    """Callback by EcoHabitat about attic insulation to the consumer's information request (example C32a)."""
    rest.setdefault("consents", [])
    request = {"at": request_at, "products": ["attic_insulation"] if products is DROP else products}
    c = {"product": "attic_insulation", **rest.pop("c", {})}
    return eco(call_at, c=c, info_requests=[request], **rest)


# ---------------------------------------------------------------------------------------------------------------
# The case type and the common checks
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    facts: dict[str, Any]
    verdict: str
    code: str  # the deciding reason: reasons[0].code
    follows: tuple[str, ...] = ()  # codes immediately after the deciding one, in this order
    present: tuple[str, ...] = ()  # codes somewhere after the deciding one
    absent: tuple[str, ...] = ()  # codes that must not appear at all
    last: str | None = None  # the last reason (a warning)
    policy: dict[str, Any] = field(default_factory=dict)
    scope: str = "canvassing"


def case(case_id: str, document: dict[str, Any], verdict: str, code: str, *follows: str, **options: Any) -> Any:
    return pytest.param(Case(case_id, document, verdict, code, tuple(follows), **options), id=case_id)


def expected_regime(document: dict[str, Any]) -> str:
    """Rules step 1: before 2026-08-11 00:00 Europe/Paris (not UTC) Bloctel, from that instant opt-in."""
    return "opt_in" if dt.datetime.fromisoformat(document["call"]["at"]) >= OPT_IN_FROM else "bloctel"


def decide(document: dict[str, Any], overrides: dict[str, Any] | None = None) -> Any:
    policy = POLICY.with_overrides(overrides) if overrides else POLICY
    return evaluate(parse_facts(document), policy)


def codes_of(decision: Any) -> list[str]:
    return [reason.code for reason in decision.reasons]


def assert_well_formed(decision: Any) -> None:
    """Every answer: known verdict/regime/scope, reasons with code, rule and a filled-in French message."""
    assert decision.verdict in ("allowed", "contract_only", "forbidden")
    assert decision.regime in ("bloctel", "opt_in")
    assert decision.scope in ("canvassing", "out_of_scope")
    if decision.scope == "out_of_scope":
        assert decision.verdict == "allowed"
    assert decision.reasons, "every decision says why"
    for reason in decision.reasons:
        assert reason.code in RULE_CODES
        assert isinstance(reason.rule, str) and reason.rule.strip()
        assert isinstance(reason.message, str) and reason.message.strip()
        assert not re.search(r"\{[a-z_]*\}", reason.message), f"unfilled placeholder in {reason.message!r}"


def check(c: Case) -> Any:
    decision = decide(c.facts, c.policy)
    assert_well_formed(decision)
    codes = codes_of(decision)
    assert (decision.verdict, codes[0]) == (c.verdict, c.code), codes
    assert decision.scope == c.scope
    assert decision.regime == expected_regime(c.facts)
    if c.follows:
        assert codes[1 : 1 + len(c.follows)] == list(c.follows), codes
    for code in c.present:
        assert code in codes[1:], codes
    for code in c.absent:
        assert code not in codes, codes
    if c.last is not None:
        assert codes[-1] == c.last, codes
        assert codes.count(c.last) == 1, codes
    return decision


ALL_CASES: list[Any] = []


def register(cases: list[Any]) -> list[Any]:
    ALL_CASES.extend(cases)
    return cases


# ---------------------------------------------------------------------------------------------------------------
# 1. The worked examples
# ---------------------------------------------------------------------------------------------------------------

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def test_the_examples_are_in_the_repository() -> None:
    assert (EXAMPLES / "README.md").is_file()
    assert len(EXAMPLE_FILES) >= 19


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_worked_example(path: Path) -> None:
    example = json.loads(path.read_text(encoding="utf-8"))
    assert example["id"] == path.stem
    overrides = example.get("policy") or {}
    policy = POLICY.with_overrides(overrides) if overrides else POLICY
    for key, value in overrides.items():  # the case's overrides are applied, as --set would apply them
        assert policy.overrides[key] == value
        if isinstance(value, bool | int):
            assert getattr(policy.params, key) == value
    decision = evaluate(parse_facts(example["facts"]), policy)
    assert_well_formed(decision)
    got = {"verdict": decision.verdict, "regime": decision.regime, "scope": decision.scope}
    assert got == example["expect"], codes_of(decision)


def test_example_policy_override_changes_the_answer() -> None:
    """C23b is C23a with block_local_holidays false: the override, not the facts, makes it allowed."""
    example = json.loads((EXAMPLES / "C23b.json").read_text(encoding="utf-8"))
    default = evaluate(parse_facts(example["facts"]), POLICY)
    assert (default.verdict, default.reasons[0].code) == ("forbidden", "LOCAL_HOLIDAY")
    overridden = evaluate(parse_facts(example["facts"]), POLICY.with_overrides(example["policy"]))
    assert (overridden.verdict, overridden.reasons[0].code) == ("allowed", "VALID_CONSENT")


# ---------------------------------------------------------------------------------------------------------------
# 2. Step 1: regime, switching at Paris midnight
# ---------------------------------------------------------------------------------------------------------------

GUADELOUPE = "+590690001122"
REUNION = "+262692001122"

STEP1 = register(
    [
        case("bloctel-at-23:59:59-paris", bloctel("2026-08-10T23:59:59+02:00"), "forbidden", "OUTSIDE_CALLING_HOURS"),
        case("opt-in-at-00:00:00-paris", bloctel("2026-08-11T00:00:00+02:00"), "forbidden", "OUTSIDE_CALLING_HOURS"),
        case(
            "22:00Z-is-already-the-11th-in-paris", bloctel("2026-08-10T22:00:00Z"), "forbidden", "OUTSIDE_CALLING_HOURS"
        ),
        case(
            "21:59:59Z-is-still-the-10th-in-paris",
            bloctel("2026-08-10T21:59:59Z"),
            "forbidden",
            "OUTSIDE_CALLING_HOURS",
        ),
        case("bloctel-last-window-minute", bloctel("2026-08-10T19:59:59+02:00"), "allowed", "OPPOSITION_LIST_CLEAR"),
        case(
            "opt-in-first-window-no-consent",
            bloctel("2026-08-11T10:00:00+02:00"),
            "forbidden",
            "NO_VALID_CONSENT",
            "CONSENT_MISSING",
        ),
        # Guadeloupe consumer at 17:59:59 local on Monday 10 Aug = 23:59:59 Paris: still Bloctel, inside hours.
        case(
            "guadeloupe-17:59:59-local-still-bloctel",
            bloctel("2026-08-10T17:59:59-04:00", c={"number": GUADELOUPE}),
            "allowed",
            "OPPOSITION_LIST_CLEAR",
        ),
        # ... and at 18:00 local it is 00:00 on the 11th in Paris: opt-in, no consent.
        case(
            "guadeloupe-18:00-local-is-paris-midnight",
            bloctel("2026-08-10T18:00:00-04:00", c={"number": GUADELOUPE}),
            "forbidden",
            "NO_VALID_CONSENT",
            "CONSENT_MISSING",
        ),
        # Réunion consumer already on the 11th locally (01:30) while Paris is on the 10th (23:30): Bloctel.
        case(
            "reunion-local-11th-paris-10th-is-bloctel",
            bloctel("2026-08-11T01:30:00+04:00", c={"number": REUNION}),
            "forbidden",
            "OUTSIDE_CALLING_HOURS",
        ),
        case(
            "inbound-carries-its-regime",
            bloctel("2026-08-09T11:00:00+02:00", c={"direction": "inbound", "caller_id": DROP}),
            "allowed",
            "OUT_OF_SCOPE_INBOUND",
            scope="out_of_scope",
        ),
    ]
)


@pytest.mark.parametrize("c", STEP1)
def test_step1_regime(c: Case) -> None:
    check(c)


# ---------------------------------------------------------------------------------------------------------------
# Step 2: scope exits, and their priority over everything else
# ---------------------------------------------------------------------------------------------------------------


def hostile(at: str = "2026-11-29T23:00:00+01:00", **call_changes: Any) -> dict[str, Any]:
    """Facts that every later step forbids: Sunday night, off-range caller, sector ban, revoked consent..."""
    return facts(
        at,
        c={"caller_id": OFF_RANGE, "sector": "energy_renovation", **call_changes},
        consents=[consent(revoked_at="2026-10-01T10:00:00+02:00", pre_ticked=True)],
        objections=[{"at": "2026-10-02T11:00:00+02:00", "scope": "all"}],
        refusals=[{"at": "2026-11-20T10:00:00+01:00"}],
        attempts=[*FOUR_ATTEMPTS, attempt("2026-11-23T10:00:00+01:00")],
        opposition_list={"registered": True, "since": "2020-01-01", "last_scrub": None},
        sync={"last_consent_pull": None},
    )


STEP2 = register(
    [
        case("inbound", hostile(direction="inbound"), "allowed", "OUT_OF_SCOPE_INBOUND", scope="out_of_scope"),
        case("service", hostile(purpose="service"), "allowed", "OUT_OF_SCOPE_NON_COMMERCIAL", scope="out_of_scope"),
        case("survey", hostile(purpose="survey"), "allowed", "OUT_OF_SCOPE_NON_COMMERCIAL", scope="out_of_scope"),
        case(
            "business-line",
            hostile(line_type="business"),
            "allowed",
            "OUT_OF_SCOPE_BUSINESS_LINE",
            scope="out_of_scope",
        ),
        case(
            "inbound-bloctel-registered",
            hostile("2026-08-09T23:00:00+02:00", direction="inbound"),
            "allowed",
            "OUT_OF_SCOPE_INBOUND",
            scope="out_of_scope",
        ),
        case(
            "business-line-bloctel-registered",
            hostile("2026-08-09T23:00:00+02:00", line_type="business"),
            "allowed",
            "OUT_OF_SCOPE_BUSINESS_LINE",
            scope="out_of_scope",
        ),
        # The document lists the exits in this order: inbound, non-commercial, business line.
        case(
            "inbound-survey-business-inbound-first",
            hostile(direction="inbound", purpose="survey", line_type="business"),
            "allowed",
            "OUT_OF_SCOPE_INBOUND",
            scope="out_of_scope",
        ),
        # Step 2 ends the evaluation: step 3 never runs, so no caller-ID warning on an inbound call.
        case(
            "inbound-no-caller-id-no-warning",
            facts(c={"direction": "inbound", "caller_id": DROP}, consents=[]),
            "allowed",
            "OUT_OF_SCOPE_INBOUND",
            absent=("CALLER_ID_UNKNOWN",),
            scope="out_of_scope",
        ),
        # "a verified attribute, never guessed": an unknown line type is a consumer line (fail-closed).
        case(
            "line-type-unknown-is-consumer", facts(c={"line_type": None}, consents=[]), "forbidden", "NO_VALID_CONSENT"
        ),
        # Fail-closed: an unknown purpose is not a non-commercial purpose.
        case("purpose-unknown-is-canvassing", facts(c={"purpose": None}, consents=[]), "forbidden", "NO_VALID_CONSENT"),
        # Fail-closed: an unknown direction is not an inbound call.
        case(
            "direction-unknown-is-outbound", facts(c={"direction": None}, consents=[]), "forbidden", "NO_VALID_CONSENT"
        ),
    ]
)


@pytest.mark.parametrize("c", STEP2)
def test_step2_scope(c: Case) -> None:
    check(c)


# ---------------------------------------------------------------------------------------------------------------
# Step 3: caller ID in the ARCEP canvassing ranges
# ---------------------------------------------------------------------------------------------------------------

IN_RANGE = [
    "+33162000001",
    "+33163000001",
    "+33270000001",
    "+33271000001",
    "+33377000001",
    "+33378000001",
    "+33424000001",
    "+33425000001",
    "+33568000001",
    "+33569000001",
    "+33948000001",
    "+33949000001",
    "+33947500001",
    "+33947600001",
    "+33947700001",
    "+33947800001",
    "+33947900001",
    "0162000001",  # national form, normalised
    "+33 1 62 00 00 01",  # spaces, normalised
]
NOT_IN_RANGE = [
    "+33639989999",  # a mobile
    "+33146000001",  # a Paris landline
    "+33161000001",
    "+33164000001",
    "+33272000001",
    "+33947400001",  # 09474: just below the overseas range
    "+33947000001",
    "+33950000001",
    "+212522000000",  # a Moroccan number
]

STEP3 = register(
    [
        *[
            case(f"in-range-{n.replace(' ', '')}", facts(c={"caller_id": n}), "allowed", "VALID_CONSENT")
            for n in IN_RANGE
        ],
        *[
            case(f"not-in-range-{n}", facts(c={"caller_id": n}), "forbidden", "CALLER_ID_NOT_CANVASSING_RANGE")
            for n in NOT_IN_RANGE
        ],
        case(
            "contract-purpose-checked-too",
            c03(c={"caller_id": OFF_RANGE}),
            "forbidden",
            "CALLER_ID_NOT_CANVASSING_RANGE",
        ),
        case(
            "caller-id-before-sector-ban",
            eco(c={"caller_id": OFF_RANGE}),
            "forbidden",
            "CALLER_ID_NOT_CANVASSING_RANGE",
        ),
        case(
            "caller-id-bloctel-regime",
            bloctel(c={"caller_id": OFF_RANGE}),
            "forbidden",
            "CALLER_ID_NOT_CANVASSING_RANGE",
        ),
        case(
            "caller-id-absent-warning-last",
            facts(c={"caller_id": DROP}),
            "allowed",
            "VALID_CONSENT",
            last="CALLER_ID_UNKNOWN",
        ),
        case(
            "caller-id-null-warning-last",
            facts(c={"caller_id": None}),
            "allowed",
            "VALID_CONSENT",
            last="CALLER_ID_UNKNOWN",
        ),
        case(
            "caller-id-absent-no-consent",
            facts(c={"caller_id": DROP}, consents=[]),
            "forbidden",
            "NO_VALID_CONSENT",
            "CONSENT_MISSING",
            last="CALLER_ID_UNKNOWN",
        ),
        case(
            "caller-id-absent-bloctel",
            bloctel(c={"caller_id": DROP}),
            "allowed",
            "OPPOSITION_LIST_CLEAR",
            last="CALLER_ID_UNKNOWN",
        ),
        case(
            "caller-id-absent-weekend",
            facts(SATURDAY, c={"caller_id": DROP}),
            "forbidden",
            "WEEKEND",
            last="CALLER_ID_UNKNOWN",
        ),
        case(
            "caller-id-present-no-warning",
            facts(),
            "allowed",
            "VALID_CONSENT",
            absent=("CALLER_ID_UNKNOWN",),
        ),
    ]
)


@pytest.mark.parametrize("c", STEP3)
def test_step3_caller_id(c: Case) -> None:
    check(c)


# ---------------------------------------------------------------------------------------------------------------
# Step 4: sector bans, the contract exception, the information-request exception
# ---------------------------------------------------------------------------------------------------------------

SECTOR_CALLS = {
    "energy_renovation": ("heat_pump", "heat_pump_maintenance"),
    "housing_adaptation": ("walk_in_shower", "stairlift_service"),
    "cpf_training": ("excel_training", "excel_training_advanced"),
}


def sector_facts(sector: str, *, with_contract: bool, **rest: Any) -> dict[str, Any]:
    product, related = SECTOR_CALLS[sector]
    call_product = related if with_contract else product
    rest.setdefault("consents", [consent(professional=ECO, products=[product, related])])
    if with_contract:
        rest.setdefault("contracts", [contract(professional=ECO, products=[product], related_products=[related])])
    purpose = "contract" if with_contract else "prospection"
    return facts(
        rest.pop("at", TUESDAY),
        c={**ECO_CALL, "sector": sector, "product": call_product, "purpose": purpose},
        **rest,
    )


STEP4 = register(
    [
        *[
            case(f"ban-{s}-despite-consent", sector_facts(s, with_contract=False), "forbidden", "SECTOR_BAN")
            for s in SECTOR_CALLS
        ],
        *[
            case(f"ban-{s}-contract-related", sector_facts(s, with_contract=True), "contract_only", "CONTRACT_RELATED")
            for s in SECTOR_CALLS
        ],
        case("ban-no-consent-no-contract", eco(consents=[]), "forbidden", "SECTOR_BAN"),
        case("ban-in-bloctel-regime", eco(OLD_MONDAY, consents=[], opposition_list=CLEAR), "forbidden", "SECTOR_BAN"),
        case(
            "ban-contract-product-in-products",
            eco(c={"purpose": "contract"}, contracts=[ECO_CONTRACT]),
            "contract_only",
            "CONTRACT_RELATED",
        ),
        case(
            "ban-contract-of-other-professional",
            eco_contract(contracts=[{**ECO_CONTRACT, "professional": "Autre Habitat SARL"}]),
            "forbidden",
            "SECTOR_BAN",
        ),
        case(
            "ban-contract-ended",
            eco_contract(contracts=[{**ECO_CONTRACT, "status": "ended", "ended_at": "2026-10-01T00:00:00+02:00"}]),
            "forbidden",
            "SECTOR_BAN",
        ),
        case(
            "ban-contract-unrelated-product",
            eco_contract(contracts=[{**ECO_CONTRACT, "products": ["solar_panel"], "related_products": []}]),
            "forbidden",
            "SECTOR_BAN",
        ),
        # contract_only from step 4 goes on through steps 5 to 7
        case(
            "ban-contract-then-weekend",
            eco_contract("2026-11-28T10:30:00+01:00"),
            "forbidden",
            "WEEKEND",
            present=("CONTRACT_RELATED",),
        ),
        case(
            "ban-contract-then-outside-hours",
            eco_contract("2026-11-24T13:30:00+01:00"),
            "forbidden",
            "OUTSIDE_CALLING_HOURS",
            present=("CONTRACT_RELATED",),
        ),
        case(
            "ban-contract-then-frequency",
            eco_contract(attempts=[attempt(a["at"], ECO) for a in FOUR_ATTEMPTS]),
            "forbidden",
            "FREQUENCY_CAP",
            present=("CONTRACT_RELATED",),
        ),
        case(
            "ban-contract-then-withdrawal",
            eco_contract(consents=[{**ECO_CONSENT, "revoked_at": "2026-11-01T10:00:00+01:00"}]),
            "forbidden",
            "CONSENT_REVOKED",
        ),
        case(
            "ban-contract-then-objection",
            eco_contract(objections=[{"at": "2026-11-01T10:00:00+01:00", "scope": "marketing"}]),
            "forbidden",
            "MARKETING_OBJECTION",
        ),
        case(
            "ban-contract-three-attempts-ok",
            eco_contract(attempts=[attempt(a["at"], ECO) for a in THREE_ATTEMPTS]),
            "contract_only",
            "CONTRACT_RELATED",
        ),
        case(
            "ban-contract-stale-data",
            eco_contract(sync={"last_consent_pull": "2026-11-20T09:00:00+01:00"}),
            "forbidden",
            "CONSENT_DATA_STALE",
        ),
        # Step 4's contract_only goes through steps 5 to 7 only; step 8 would give contract_only anyway.
        case(
            "ban-contract-bloctel-registered",
            eco_contract(
                OLD_MONDAY, opposition_list={"registered": True, "since": "2020-01-01", "last_scrub": "2026-07-28"}
            ),
            "contract_only",
            "CONTRACT_RELATED",
        ),
        # --- information request (R223-4): 5 jours ouvrables, Mon-Sat but public holidays, from the next day
        case(
            "info-request-C32a-fri-after-mon",
            info("2026-11-16T09:00:00+01:00", "2026-11-20T10:30:00+01:00"),
            "allowed",
            "OUT_OF_SCOPE_INFO_REQUEST",
            scope="out_of_scope",
        ),
        # request Wed 18: Thu 19 (1), Fri 20 (2), Sat 21 (3: Saturday counts), Mon 23 (4), Tue 24 (5)
        case(
            "info-request-day-5-after-saturday",
            info("2026-11-18T09:00:00+01:00", "2026-11-24T19:59:59+01:00"),
            "allowed",
            "OUT_OF_SCOPE_INFO_REQUEST",
            scope="out_of_scope",
        ),
        case(
            "info-request-day-6",
            info("2026-11-18T09:00:00+01:00", "2026-11-25T10:00:00+01:00"),
            "forbidden",
            "SECTOR_BAN",
        ),
        # request Mon 9: Tue 10 (1), Wed 11 Armistice skipped, Thu 12 (2), Fri 13 (3), Sat 14 (4), Mon 16 (5)
        case(
            "info-request-holiday-skipped-day-5",
            info("2026-11-09T09:00:00+01:00", "2026-11-16T10:30:00+01:00"),
            "allowed",
            "OUT_OF_SCOPE_INFO_REQUEST",
            scope="out_of_scope",
        ),
        case(
            "info-request-holiday-skipped-day-6",
            info("2026-11-09T09:00:00+01:00", "2026-11-17T10:30:00+01:00"),
            "forbidden",
            "SECTOR_BAN",
        ),
        # 2026-11-18 23:30 UTC is Thu 19 00:30 in Paris: count from Fri 20, so Wed 25 is day 5.
        case(
            "info-request-days-in-consumer-zone",
            info("2026-11-18T23:30:00Z", "2026-11-25T10:30:00+01:00"),
            "allowed",
            "OUT_OF_SCOPE_INFO_REQUEST",
            scope="out_of_scope",
        ),
        case(
            "info-request-same-day",
            info("2026-11-24T09:00:00+01:00", "2026-11-24T10:30:00+01:00"),
            "allowed",
            "OUT_OF_SCOPE_INFO_REQUEST",
            scope="out_of_scope",
        ),
        case(
            "info-request-other-product",
            info("2026-11-16T09:00:00+01:00", "2026-11-20T10:30:00+01:00", c={"product": "heat_pump"}),
            "forbidden",
            "SECTOR_BAN",
        ),
        case(
            "info-request-exception-off",
            info("2026-11-16T09:00:00+01:00", "2026-11-20T10:30:00+01:00"),
            "forbidden",
            "SECTOR_BAN",
            policy={"info_request_exception": False},
        ),
        case(
            "info-request-3-working-days",
            info("2026-11-16T09:00:00+01:00", "2026-11-20T10:30:00+01:00"),
            "forbidden",
            "SECTOR_BAN",
            policy={"info_request_working_days": 3},
        ),
        # Fail-closed: a request recorded after the call started is not the request this call answers.
        case(
            "info-request-after-call-start",
            info("2026-11-20T11:00:00+01:00", "2026-11-20T10:30:00+01:00"),
            "forbidden",
            "SECTOR_BAN",
        ),
        # Fail-closed: unknown requested products cannot show the call is limited to them.
        case(
            "info-request-products-unknown",
            info("2026-11-16T09:00:00+01:00", "2026-11-20T10:30:00+01:00", products=None),
            "forbidden",
            "SECTOR_BAN",
        ),
        case(
            "info-request-caller-id-first",
            info("2026-11-16T09:00:00+01:00", "2026-11-20T10:30:00+01:00", c={"caller_id": OFF_RANGE}),
            "forbidden",
            "CALLER_ID_NOT_CANVASSING_RANGE",
        ),
        case(
            "info-request-stale-data-left-alone",
            info("2026-11-16T09:00:00+01:00", "2026-11-20T10:30:00+01:00", sync={"last_consent_pull": None}),
            "allowed",
            "OUT_OF_SCOPE_INFO_REQUEST",
            scope="out_of_scope",
        ),
    ]
)


@pytest.mark.parametrize("c", STEP4)
def test_step4_sector_bans(c: Case) -> None:
    check(c)


# ---------------------------------------------------------------------------------------------------------------
# Step 5: withdrawal and objection (at or before evaluated_at)
# ---------------------------------------------------------------------------------------------------------------

REVOKED = consent(revoked_at="2026-11-10T10:42:00+01:00")
OBJECTION = {"at": "2026-10-02T11:00:00+02:00", "scope": "marketing"}

STEP5 = register(
    [
        case("revoked-C12", facts(consents=[REVOKED]), "forbidden", "CONSENT_REVOKED"),
        case(
            "revoked-then-new-consent",
            facts(consents=[REVOKED, consent(collected_at="2026-11-15T09:00:00+01:00", evidence_ref="wf-2")]),
            "allowed",
            "VALID_CONSENT",
        ),
        case(
            "revoked-during-call-before-question",
            facts(consents=[consent(revoked_at="2026-11-24T10:32:00+01:00")], evaluated_at="2026-11-24T10:34:20+01:00"),
            "forbidden",
            "CONSENT_REVOKED",
        ),
        case(
            "revoked-at-the-question-instant",
            facts(consents=[consent(revoked_at="2026-11-24T10:32:00+01:00")], evaluated_at="2026-11-24T10:32:00+01:00"),
            "forbidden",
            "CONSENT_REVOKED",
        ),
        case(
            "revoked-after-the-question",
            facts(consents=[consent(revoked_at="2026-11-24T10:32:00+01:00")], evaluated_at="2026-11-24T10:31:59+01:00"),
            "allowed",
            "VALID_CONSENT",
        ),
        case(
            "revoked-contract-related-too",
            c03(
                consents=[
                    consent(professional=MOBILE, products=["mobile_plan_100go"], revoked_at="2026-11-10T10:00:00+01:00")
                ]
            ),
            "forbidden",
            "CONSENT_REVOKED",
        ),
        case(
            "revoked-other-professional-irrelevant",
            facts(consents=[consent(), consent(professional=MOBILE, revoked_at="2026-11-10T10:00:00+01:00")]),
            "allowed",
            "VALID_CONSENT",
        ),
        case("revoked-before-weekend-step", facts(SATURDAY, consents=[REVOKED]), "forbidden", "CONSENT_REVOKED"),
        case(
            "revoked-bloctel-regime",
            bloctel(consents=[{**OLD_CONSENT, "revoked_at": "2026-07-01T10:00:00+02:00"}]),
            "forbidden",
            "CONSENT_REVOKED",
        ),
        # "the latest consent event wins": a later withdrawal beats an older consent that was never withdrawn
        case(
            "older-consent-then-later-withdrawal",
            facts(
                consents=[
                    consent(),
                    consent(
                        collected_at="2026-10-01T10:00:00+02:00",
                        evidence_ref="wf-2",
                        revoked_at="2026-11-10T10:42:00+01:00",
                    ),
                ]
            ),
            "forbidden",
            "CONSENT_REVOKED",
        ),
        # a consent collected after the question does not "follow" the withdrawal yet
        case(
            "consent-after-the-question-does-not-undo-withdrawal",
            facts(consents=[REVOKED, consent(collected_at="2026-11-24T10:35:00+01:00", evidence_ref="wf-3")]),
            "forbidden",
            "CONSENT_REVOKED",
        ),
        case("objection-marketing", facts(objections=[OBJECTION]), "forbidden", "MARKETING_OBJECTION"),
        case("objection-all", facts(objections=[{**OBJECTION, "scope": "all"}]), "forbidden", "MARKETING_OBJECTION"),
        case(
            "objection-unspecified",
            facts(objections=[{**OBJECTION, "scope": None}]),
            "forbidden",
            "MARKETING_OBJECTION",
        ),
        case("objection-contract-related-too", c03(objections=[OBJECTION]), "forbidden", "MARKETING_OBJECTION"),
        case(
            "objection-bloctel-regime",
            bloctel(objections=[OBJECTION | {"at": "2026-07-01T10:00:00+02:00"}]),
            "forbidden",
            "MARKETING_OBJECTION",
        ),
        case(
            "objection-during-call",
            facts(
                objections=[{**OBJECTION, "at": "2026-11-24T10:33:00+01:00"}], evaluated_at="2026-11-24T10:33:00+01:00"
            ),
            "forbidden",
            "MARKETING_OBJECTION",
        ),
        case(
            "objection-after-the-question",
            facts(
                objections=[{**OBJECTION, "at": "2026-11-24T10:33:00+01:00"}], evaluated_at="2026-11-24T10:32:59+01:00"
            ),
            "allowed",
            "VALID_CONSENT",
        ),
        # Fail-closed: "an objection ... on record" blocks; only a withdrawal is undone by a later consent.
        case(
            "objection-then-later-consent",
            facts(objections=[OBJECTION], consents=[consent(collected_at="2026-11-01T10:00:00+01:00")]),
            "forbidden",
            "MARKETING_OBJECTION",
        ),
    ]
)


@pytest.mark.parametrize("c", STEP5)
def test_step5_withdrawal_and_objection(c: Case) -> None:
    check(c)


# ---------------------------------------------------------------------------------------------------------------
# Step 6: calling hours in the consumer's time zone, holidays, out-of-hours consent
# ---------------------------------------------------------------------------------------------------------------


def at_paris(clock: str, day: str = "2026-11-24") -> str:
    return f"{day}T{clock}+01:00"


WINDOW_EDGES = [
    ("00:00:00", "forbidden"),
    ("09:59:59", "forbidden"),
    ("10:00:00", "allowed"),
    ("12:59:59", "allowed"),
    ("13:00:00", "forbidden"),
    ("13:59:59", "forbidden"),
    ("14:00:00", "allowed"),
    ("19:59:59", "allowed"),
    ("20:00:00", "forbidden"),
    ("23:59:59", "forbidden"),
]


def window_case(case_id: str, document: dict[str, Any], verdict: str, ok: str = "VALID_CONSENT") -> Any:
    return case(case_id, document, verdict, ok if verdict == "allowed" else "OUTSIDE_CALLING_HOURS")


LATER_CONSENT = {
    "2027": consent(collected_at="2027-10-01T10:00:00+02:00"),
    "2028": consent(collected_at="2028-04-03T10:00:00+02:00"),
    "2028b": consent(collected_at="2028-07-03T10:00:00+02:00"),
    "2028c": consent(collected_at="2028-11-02T10:00:00+01:00"),
}

TIME_WINDOW = [
    *[window_case(f"paris-{clock}", facts(at_paris(clock)), verdict) for clock, verdict in WINDOW_EDGES],
    case("saturday", facts("2026-11-28T10:30:00+01:00"), "forbidden", "WEEKEND"),
    case("saturday-00:00:00", facts("2026-11-28T00:00:00+01:00"), "forbidden", "WEEKEND"),
    case("sunday", facts("2026-11-29T15:00:00+01:00"), "forbidden", "WEEKEND"),
    window_case("friday-19:59:59", facts("2026-11-27T19:59:59+01:00"), "allowed"),
    window_case("friday-20:00:00", facts("2026-11-27T20:00:00+01:00"), "forbidden"),
    window_case("monday-09:59:59", facts("2026-11-30T09:59:59+01:00"), "forbidden"),
    window_case("monday-10:00:00", facts("2026-11-30T10:00:00+01:00"), "allowed"),
    # evaluated_at does not move the window: calling hours use call.at
    case(
        "hours-use-call-start",
        facts(at_paris("12:59:00"), evaluated_at=at_paris("13:20:00")),
        "allowed",
        "VALID_CONSENT",
    ),
    # DST, spring 2026 (Sunday 29 March; Bloctel regime, file scrubbed mid-March)
    case(
        "dst-spring-sunday",
        bloctel("2026-03-29T10:30:00+02:00", opposition_list={**CLEAR, "last_scrub": "2026-03-15"}),
        "forbidden",
        "WEEKEND",
    ),
    window_case(
        "dst-spring-friday-08:59:59Z-is-09:59:59",
        bloctel("2026-03-27T08:59:59Z", opposition_list={**CLEAR, "last_scrub": "2026-03-15"}),
        "forbidden",
    ),
    window_case(
        "dst-spring-friday-09:00Z-is-10:00",
        bloctel("2026-03-27T09:00:00Z", opposition_list={**CLEAR, "last_scrub": "2026-03-15"}),
        "allowed",
        "OPPOSITION_LIST_CLEAR",
    ),
    window_case(
        "dst-spring-monday-07:59:59Z-is-09:59:59",
        bloctel("2026-03-30T07:59:59Z", opposition_list={**CLEAR, "last_scrub": "2026-03-15"}),
        "forbidden",
    ),
    window_case(
        "dst-spring-monday-08:00Z-is-10:00",
        bloctel("2026-03-30T08:00:00Z", opposition_list={**CLEAR, "last_scrub": "2026-03-15"}),
        "allowed",
        "OPPOSITION_LIST_CLEAR",
    ),
    window_case(
        "dst-spring-monday-17:59:59Z-is-19:59:59",
        bloctel("2026-03-30T17:59:59Z", opposition_list={**CLEAR, "last_scrub": "2026-03-15"}),
        "allowed",
        "OPPOSITION_LIST_CLEAR",
    ),
    window_case(
        "dst-spring-monday-18:00Z-is-20:00",
        bloctel("2026-03-30T18:00:00Z", opposition_list={**CLEAR, "last_scrub": "2026-03-15"}),
        "forbidden",
    ),
    # DST, autumn 2026 (Sunday 25 October; opt-in regime)
    case("dst-autumn-sunday", facts("2026-10-25T11:00:00+01:00"), "forbidden", "WEEKEND"),
    window_case("dst-autumn-friday-08:00Z-is-10:00", facts("2026-10-23T08:00:00Z"), "allowed"),
    window_case("dst-autumn-friday-18:00Z-is-20:00", facts("2026-10-23T18:00:00Z"), "forbidden"),
    window_case("dst-autumn-monday-08:59:59Z-is-09:59:59", facts("2026-10-26T08:59:59Z"), "forbidden"),
    window_case("dst-autumn-monday-09:00Z-is-10:00", facts("2026-10-26T09:00:00Z"), "allowed"),
    window_case("dst-autumn-monday-18:59:59Z-is-19:59:59", facts("2026-10-26T18:59:59Z"), "allowed"),
    window_case("dst-autumn-monday-19:00Z-is-20:00", facts("2026-10-26T19:00:00Z"), "forbidden"),
    window_case("dst-autumn-monday-11:59:59Z-is-12:59:59", facts("2026-10-26T11:59:59Z"), "allowed"),
    window_case("dst-autumn-monday-12:00Z-is-13:00", facts("2026-10-26T12:00:00Z"), "forbidden"),
    # Agent in Casablanca (+01:00) while Paris is on summer time: one hour later for the consumer
    window_case("casablanca-12:30-is-13:30-paris", facts("2026-09-17T12:30:00+01:00"), "forbidden"),
    window_case("casablanca-08:59:59-is-09:59:59-paris", facts("2026-09-17T08:59:59+01:00"), "forbidden"),
    window_case("casablanca-09:00-is-10:00-paris", facts("2026-09-17T09:00:00+01:00"), "allowed"),
    window_case("casablanca-11:59:59-is-12:59:59-paris", facts("2026-09-17T11:59:59+01:00"), "allowed"),
    window_case("casablanca-12:00-is-13:00-paris", facts("2026-09-17T12:00:00+01:00"), "forbidden"),
    window_case("casablanca-12:59:59-is-13:59:59-paris", facts("2026-09-17T12:59:59+01:00"), "forbidden"),
    window_case("casablanca-13:00-is-14:00-paris", facts("2026-09-17T13:00:00+01:00"), "allowed"),
    window_case("casablanca-18:59:59-is-19:59:59-paris", facts("2026-09-17T18:59:59+01:00"), "allowed"),
    window_case("casablanca-19:00-is-20:00-paris", facts("2026-09-17T19:00:00+01:00"), "forbidden"),
    # ... and after the autumn switch, Casablanca and Paris agree again (Monday 26 October)
    window_case("casablanca-after-dst-09:59:59", facts("2026-10-26T09:59:59+01:00"), "forbidden"),
    window_case("casablanca-after-dst-10:00", facts("2026-10-26T10:00:00+01:00"), "allowed"),
]

# Consumer time zones inferred from the number (no consumer_timezone stored). Tue 2026-11-24.
# (number, Paris clock of local 09:59:59, Paris clock of local 10:00:00)
ZONE_NUMBERS = [
    ("reunion-landline", "+262262001122", "06:59:59", "07:00:00"),  # +04:00
    ("reunion-mobile", "+262692001122", "06:59:59", "07:00:00"),
    ("mayotte-269", "+262269001122", "07:59:59", "08:00:00"),  # +03:00
    ("mayotte-639", "+262639001122", "07:59:59", "08:00:00"),
    ("guadeloupe", "+590690001122", "14:59:59", "15:00:00"),  # -04:00
    ("martinique", "+596696001122", "14:59:59", "15:00:00"),  # -04:00
    ("guyane", "+594694001122", "13:59:59", "14:00:00"),  # -03:00
    ("saint-pierre-et-miquelon", "+508412233", "13:59:59", "14:00:00"),  # -03:00 in winter
    ("metropolitan", "+33639980001", "09:59:59", "10:00:00"),
    ("foreign-number-is-metropolitan", "+3225551234", "09:59:59", "10:00:00"),
]

TIME_ZONES = [
    *[
        window_case(f"{name}-local-09:59:59", facts(at_paris(before), c={"number": number}), "forbidden")
        for name, number, before, _ in ZONE_NUMBERS
    ],
    *[
        window_case(f"{name}-local-10:00", facts(at_paris(opening), c={"number": number}), "allowed")
        for name, number, _, opening in ZONE_NUMBERS
    ],
    # Mayotte and Réunion share +262: at 07:30 Paris it is 10:30 in Réunion but 09:30 in Mayotte.
    window_case("reunion-07:30-paris", facts(at_paris("07:30:00"), c={"number": "+262262001122"}), "allowed"),
    window_case("mayotte-07:30-paris", facts(at_paris("07:30:00"), c={"number": "+262269001122"}), "forbidden"),
    # Summer: Miquelon is -02:00, Guyane -03:00; 14:00 Paris (+02:00) is 10:00 and 09:00.
    window_case("miquelon-summer-10:00", facts("2027-06-15T14:00:00+02:00", c={"number": "+508412233"}), "allowed"),
    window_case("guyane-summer-09:00", facts("2027-06-15T14:00:00+02:00", c={"number": "+594694001122"}), "forbidden"),
    # A stored consumer_timezone wins over the number.
    window_case(
        "stored-zone-wins",
        facts(at_paris("07:00:00"), c={"number": "+33639980001", "consumer_timezone": "Indian/Reunion"}),
        "allowed",
    ),
    window_case(
        "stored-paris-wins-over-reunion-number",
        facts(at_paris("07:00:00"), c={"number": "+262692001122", "consumer_timezone": "Europe/Paris"}),
        "forbidden",
    ),
    # The weekday is the consumer's: Friday 21:30 Paris is Saturday 00:30 in Réunion...
    case(
        "reunion-saturday-while-paris-friday",
        facts("2026-11-27T21:30:00+01:00", c={"number": REUNION}),
        "forbidden",
        "WEEKEND",
    ),
    # ... and Saturday 00:30 Paris is still Friday 19:30 in Guadeloupe.
    case(
        "guadeloupe-friday-while-paris-saturday",
        facts("2026-11-28T00:30:00+01:00", c={"number": GUADELOUPE}),
        "allowed",
        "VALID_CONSENT",
    ),
]

PUBLIC_HOLIDAYS = [
    case("holiday-11-nov", facts("2026-11-11T10:30:00+01:00"), "forbidden", "PUBLIC_HOLIDAY"),
    case("holiday-25-dec", facts("2026-12-25T10:30:00+01:00"), "forbidden", "PUBLIC_HOLIDAY"),
    case("holiday-1-jan", facts("2027-01-01T10:30:00+01:00"), "forbidden", "PUBLIC_HOLIDAY"),
    case("holiday-easter-monday", facts("2027-03-29T10:30:00+02:00"), "forbidden", "PUBLIC_HOLIDAY"),
    case("holiday-ascension", facts("2027-05-06T10:30:00+02:00"), "forbidden", "PUBLIC_HOLIDAY"),
    case("holiday-whit-monday", facts("2027-05-17T10:30:00+02:00"), "forbidden", "PUBLIC_HOLIDAY"),
    case("holiday-14-jul", facts("2027-07-14T10:30:00+02:00"), "forbidden", "PUBLIC_HOLIDAY"),
    case(
        "holiday-1-nov",
        facts("2027-11-01T10:30:00+01:00", consents=[LATER_CONSENT["2027"]]),
        "forbidden",
        "PUBLIC_HOLIDAY",
    ),
    case(
        "holiday-11-nov-2027",
        facts("2027-11-11T10:30:00+01:00", consents=[LATER_CONSENT["2027"]]),
        "forbidden",
        "PUBLIC_HOLIDAY",
    ),
    case(
        "holiday-1-may",
        facts("2028-05-01T10:30:00+02:00", consents=[LATER_CONSENT["2028"]]),
        "forbidden",
        "PUBLIC_HOLIDAY",
    ),
    case(
        "holiday-8-may",
        facts("2028-05-08T10:30:00+02:00", consents=[LATER_CONSENT["2028"]]),
        "forbidden",
        "PUBLIC_HOLIDAY",
    ),
    case(
        "holiday-15-aug",
        facts("2028-08-15T10:30:00+02:00", consents=[LATER_CONSENT["2028b"]]),
        "forbidden",
        "PUBLIC_HOLIDAY",
    ),
    case("holiday-bloctel-regime", bloctel("2026-07-14T10:30:00+02:00"), "forbidden", "PUBLIC_HOLIDAY"),
    case("not-a-holiday-12-nov", facts("2026-11-12T10:30:00+01:00"), "allowed", "VALID_CONSENT"),
    case("not-a-holiday-24-dec", facts("2026-12-24T10:30:00+01:00"), "allowed", "VALID_CONSENT"),
    # The holiday is the consumer's date: Tue 10 Nov 19:30 in Guadeloupe is already 11 Nov 00:30 in Paris...
    case(
        "holiday-not-yet-in-guadeloupe",
        facts("2026-11-10T19:30:00-04:00", c={"number": GUADELOUPE}),
        "allowed",
        "VALID_CONSENT",
    ),
    # ... and Wed 11 Nov 19:30 in Guadeloupe (12 Nov 00:30 in Paris) is still the holiday there.
    case(
        "holiday-still-in-guadeloupe",
        facts("2026-11-11T19:30:00-04:00", c={"number": GUADELOUPE}),
        "forbidden",
        "PUBLIC_HOLIDAY",
    ),
]

GOOD_FRIDAY = "2027-03-26T10:30:00+01:00"
ST_STEPHEN = "2028-12-26T10:30:00+01:00"

LOCAL_HOLIDAYS = [
    *[
        case(f"good-friday-dept-{d}", facts(GOOD_FRIDAY, c={"consumer_department": d}), "forbidden", "LOCAL_HOLIDAY")
        for d in ("57", "67", "68")
    ],
    # fail-closed per the rules: unknown department of a metropolitan consumer gets the Alsace-Moselle days
    case("good-friday-dept-unknown", facts(GOOD_FRIDAY), "forbidden", "LOCAL_HOLIDAY"),
    case("good-friday-dept-null", facts(GOOD_FRIDAY, c={"consumer_department": None}), "forbidden", "LOCAL_HOLIDAY"),
    case("good-friday-dept-75", facts(GOOD_FRIDAY, c={"consumer_department": "75"}), "allowed", "VALID_CONSENT"),
    case("good-friday-dept-2A", facts(GOOD_FRIDAY, c={"consumer_department": "2A"}), "allowed", "VALID_CONSENT"),
    case(
        "good-friday-dept-67-not-blocked",
        facts(GOOD_FRIDAY, c={"consumer_department": "67"}),
        "allowed",
        "VALID_CONSENT",
        policy={"block_local_holidays": False},
    ),
    case(
        "good-friday-unknown-not-blocked",
        facts(GOOD_FRIDAY),
        "allowed",
        "VALID_CONSENT",
        policy={"block_local_holidays": False},
    ),
    # Overseas consumers are not metropolitan: an unknown department does not give them Alsace-Moselle days.
    case("good-friday-reunion", facts("2027-03-26T10:30:00+04:00", c={"number": REUNION}), "allowed", "VALID_CONSENT"),
    case(
        "good-friday-martinique",
        facts("2027-03-26T10:30:00-04:00", c={"number": "+596696001122"}),
        "allowed",
        "VALID_CONSENT",
    ),
    *[
        case(
            f"st-stephen-dept-{d}",
            facts(ST_STEPHEN, c={"consumer_department": d}, consents=[LATER_CONSENT["2028c"]]),
            "forbidden",
            "LOCAL_HOLIDAY",
        )
        for d in ("57", "67", "68")
    ],
    case("st-stephen-dept-unknown", facts(ST_STEPHEN, consents=[LATER_CONSENT["2028c"]]), "forbidden", "LOCAL_HOLIDAY"),
    case(
        "st-stephen-dept-75",
        facts(ST_STEPHEN, c={"consumer_department": "75"}, consents=[LATER_CONSENT["2028c"]]),
        "allowed",
        "VALID_CONSENT",
    ),
    # Overseas abolition-of-slavery days, by the consumer's time zone
    case(
        "abolition-mayotte-27-apr",
        facts("2027-04-27T10:30:00+03:00", c={"number": "+262639001122"}),
        "forbidden",
        "LOCAL_HOLIDAY",
    ),
    case(
        "abolition-mayotte-not-reunion",
        facts("2027-04-27T10:30:00+04:00", c={"number": REUNION}),
        "allowed",
        "VALID_CONSENT",
    ),
    case(
        "abolition-martinique-22-may",
        facts("2028-05-22T10:30:00-04:00", c={"number": "+596696001122"}, consents=[LATER_CONSENT["2028"]]),
        "forbidden",
        "LOCAL_HOLIDAY",
    ),
    case(
        "abolition-guadeloupe-27-may",
        facts("2027-05-27T10:30:00-04:00", c={"number": GUADELOUPE}),
        "forbidden",
        "LOCAL_HOLIDAY",
    ),
    case(
        "abolition-guadeloupe-not-28-may",
        facts("2027-05-28T10:30:00-04:00", c={"number": GUADELOUPE}),
        "allowed",
        "VALID_CONSENT",
    ),
    case(
        "abolition-saint-martin-28-may",
        facts("2027-05-28T10:30:00-04:00", c={"number": GUADELOUPE, "consumer_timezone": "America/Marigot"}),
        "forbidden",
        "LOCAL_HOLIDAY",
    ),
    case(
        "abolition-saint-martin-not-27-may",
        facts("2027-05-27T10:30:00-04:00", c={"number": GUADELOUPE, "consumer_timezone": "America/Marigot"}),
        "allowed",
        "VALID_CONSENT",
    ),
    case(
        "abolition-guyane-10-jun",
        facts("2027-06-10T10:30:00-03:00", c={"number": "+594694001122"}),
        "forbidden",
        "LOCAL_HOLIDAY",
    ),
    case(
        "abolition-saint-barthelemy-9-oct",
        facts("2026-10-09T10:30:00-04:00", c={"number": GUADELOUPE, "consumer_timezone": "America/St_Barthelemy"}),
        "forbidden",
        "LOCAL_HOLIDAY",
    ),
    case(
        "abolition-guadeloupe-not-9-oct",
        facts("2026-10-09T10:30:00-04:00", c={"number": GUADELOUPE}),
        "allowed",
        "VALID_CONSENT",
    ),
    case(
        "abolition-reunion-20-dec",
        facts("2027-12-20T10:30:00+04:00", c={"number": REUNION}, consents=[LATER_CONSENT["2027"]]),
        "forbidden",
        "LOCAL_HOLIDAY",
    ),
    case(
        "abolition-reunion-not-paris",
        facts("2027-12-20T10:30:00+01:00", c={"consumer_department": "75"}, consents=[LATER_CONSENT["2027"]]),
        "allowed",
        "VALID_CONSENT",
    ),
    case(
        "abolition-guadeloupe-not-blocked",
        facts("2027-05-27T10:30:00-04:00", c={"number": GUADELOUPE}),
        "allowed",
        "VALID_CONSENT",
        policy={"block_local_holidays": False},
    ),
    case(
        "abolition-paris-27-may",
        facts("2027-05-27T10:30:00+02:00", c={"consumer_department": "75"}),
        "allowed",
        "VALID_CONSENT",
    ),
]


def slot_consent(start: str, end: str, **changes: Any) -> dict[str, Any]:
    return consent(out_of_hours_slots=[slot(start, end)], **changes)


SAT_SLOT = slot_consent("2026-11-28T11:00:00+01:00", "2026-11-28T11:15:00+01:00")
OLD_SATURDAY = "2026-08-08T11:05:00+02:00"
ANY_HOURS = consent(out_of_hours_any=True)

OUT_OF_HOURS = [
    case(
        "slot-15-min-C24a",
        facts(SATURDAY, consents=[SAT_SLOT]),
        "allowed",
        "VALID_CONSENT",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    case(
        "slot-start-included",
        facts("2026-11-28T11:00:00+01:00", consents=[SAT_SLOT]),
        "allowed",
        "VALID_CONSENT",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    case(
        "slot-last-second",
        facts("2026-11-28T11:14:59+01:00", consents=[SAT_SLOT]),
        "allowed",
        "VALID_CONSENT",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    case(
        "slot-end-excluded",
        facts("2026-11-28T11:15:00+01:00", consents=[SAT_SLOT]),
        "forbidden",
        "WEEKEND",
        absent=("OUT_OF_HOURS_CONSENT",),
    ),
    case("slot-before-start", facts("2026-11-28T10:59:59+01:00", consents=[SAT_SLOT]), "forbidden", "WEEKEND"),
    case(
        "slot-16-min-too-wide",
        facts(SATURDAY, consents=[slot_consent("2026-11-28T11:00:00+01:00", "2026-11-28T11:16:00+01:00")]),
        "forbidden",
        "WEEKEND",
    ),
    case(
        "slot-16-min-with-wider-policy",
        facts(SATURDAY, consents=[slot_consent("2026-11-28T11:00:00+01:00", "2026-11-28T11:16:00+01:00")]),
        "allowed",
        "VALID_CONSENT",
        present=("OUT_OF_HOURS_CONSENT",),
        policy={"max_slot_width": "PT16M"},
    ),
    case(
        "slot-written-in-utc",
        facts(SATURDAY, consents=[slot_consent("2026-11-28T10:00:00Z", "2026-11-28T10:15:00Z")]),
        "allowed",
        "VALID_CONSENT",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    case(
        "slot-weekday-evening",
        facts(
            "2026-11-24T20:05:00+01:00",
            consents=[slot_consent("2026-11-24T20:00:00+01:00", "2026-11-24T20:15:00+01:00")],
        ),
        "allowed",
        "VALID_CONSENT",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    case(
        "slot-lunch-gap",
        facts(
            "2026-11-24T13:10:00+01:00",
            consents=[slot_consent("2026-11-24T13:00:00+01:00", "2026-11-24T13:15:00+01:00")],
        ),
        "allowed",
        "VALID_CONSENT",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    case(
        "slot-public-holiday",
        facts(
            "2026-11-11T11:05:00+01:00",
            consents=[slot_consent("2026-11-11T11:00:00+01:00", "2026-11-11T11:15:00+01:00")],
        ),
        "allowed",
        "VALID_CONSENT",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    case(
        "slot-of-another-professional",
        facts(SATURDAY, consents=[consent(), {**SAT_SLOT, "professional": MOBILE}]),
        "forbidden",
        "WEEKEND",
    ),
    case("opt-in-any-hours-not-enough", facts(SATURDAY, consents=[ANY_HOURS]), "forbidden", "WEEKEND"),
    case(
        "opt-in-any-hours-evening-not-enough",
        facts("2026-11-24T20:30:00+01:00", consents=[ANY_HOURS]),
        "forbidden",
        "OUTSIDE_CALLING_HOURS",
    ),
    case(
        "slot-then-frequency",
        facts(SATURDAY, consents=[SAT_SLOT], attempts=FOUR_ATTEMPTS),
        "forbidden",
        "FREQUENCY_CAP",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    # Bloctel regime: a provable express consent to out-of-hours calls in general also counts
    case(
        "bloctel-any-hours-saturday",
        bloctel(OLD_SATURDAY, consents=[OLD_ANY_HOURS]),
        "allowed",
        "OPPOSITION_LIST_CLEAR",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    case(
        "bloctel-any-hours-evening",
        bloctel("2026-08-10T21:00:00+02:00", consents=[OLD_ANY_HOURS]),
        "allowed",
        "OPPOSITION_LIST_CLEAR",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    case(
        "bloctel-slot",
        bloctel(
            OLD_SATURDAY,
            consents=[
                slot_consent(
                    "2026-08-08T11:00:00+02:00", "2026-08-08T11:15:00+02:00", collected_at="2026-06-01T10:00:00+02:00"
                )
            ],
        ),
        "allowed",
        "OPPOSITION_LIST_CLEAR",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
    # "provable": no evidence reference, no proof, no out-of-hours consent
    case(
        "bloctel-any-hours-no-proof",
        bloctel(OLD_SATURDAY, consents=[{**OLD_ANY_HOURS, "evidence_ref": None}]),
        "forbidden",
        "WEEKEND",
    ),
    # "express": fail-closed, a pre-ticked box is not an express consent
    case(
        "bloctel-any-hours-pre-ticked",
        bloctel(OLD_SATURDAY, consents=[{**OLD_ANY_HOURS, "pre_ticked": True}]),
        "forbidden",
        "WEEKEND",
    ),
    case(
        "bloctel-any-hours-other-professional",
        bloctel(OLD_SATURDAY, consents=[{**OLD_ANY_HOURS, "professional": MOBILE}]),
        "forbidden",
        "WEEKEND",
    ),
    case("bloctel-no-out-of-hours-consent", bloctel(OLD_SATURDAY, consents=[OLD_CONSENT]), "forbidden", "WEEKEND"),
    case(
        "bloctel-any-hours-still-registered",
        bloctel(OLD_SATURDAY, consents=[OLD_ANY_HOURS], opposition_list={**CLEAR, "registered": True}),
        "forbidden",
        "OPPOSITION_LIST_REGISTERED",
        present=("OUT_OF_HOURS_CONSENT",),
    ),
]

STEP6 = register(TIME_WINDOW + TIME_ZONES + PUBLIC_HOLIDAYS + LOCAL_HOLIDAYS + OUT_OF_HOURS)


@pytest.mark.parametrize("c", TIME_WINDOW)
def test_step6_calling_hours(c: Case) -> None:
    check(c)


@pytest.mark.parametrize("c", TIME_ZONES)
def test_step6_consumer_time_zone(c: Case) -> None:
    check(c)


@pytest.mark.parametrize("c", PUBLIC_HOLIDAYS)
def test_step6_public_holidays(c: Case) -> None:
    check(c)


@pytest.mark.parametrize("c", LOCAL_HOLIDAYS)
def test_step6_local_holidays(c: Case) -> None:
    check(c)


@pytest.mark.parametrize("c", OUT_OF_HOURS)
def test_step6_out_of_hours_consent(c: Case) -> None:
    check(c)


# ---------------------------------------------------------------------------------------------------------------
# Step 7: frequency (4 per 30 calendar days ending on the call date, consumer's zone)
# ---------------------------------------------------------------------------------------------------------------

STEP7 = register(
    [
        case("fifth-attempt-C26", facts(attempts=FOUR_ATTEMPTS), "forbidden", "FREQUENCY_CAP"),
        case("fourth-attempt", facts(attempts=THREE_ATTEMPTS), "allowed", "VALID_CONSENT"),
        # window of a call on 2026-11-24: 2026-10-26 .. 2026-11-24 (30 calendar days)
        case(
            "day-30-counted",
            facts(attempts=[*THREE_ATTEMPTS, attempt("2026-10-26T00:00:00+01:00")]),
            "forbidden",
            "FREQUENCY_CAP",
        ),
        case(
            "day-31-not-counted",
            facts(attempts=[*THREE_ATTEMPTS, attempt("2026-10-25T23:59:59+01:00")]),
            "allowed",
            "VALID_CONSENT",
        ),
        # 2026-10-25 23:30 UTC is already 26 October 00:30 in Paris
        case(
            "window-in-consumer-zone",
            facts(attempts=[*THREE_ATTEMPTS, attempt("2026-10-25T23:30:00Z")]),
            "forbidden",
            "FREQUENCY_CAP",
        ),
        # Réunion consumer: 2026-10-25 20:30 UTC is 26 October 00:30 there (and still the 25th in Paris)
        case(
            "window-in-reunion-zone",
            facts(
                "2026-11-24T10:30:00+04:00",
                c={"number": REUNION},
                attempts=[*THREE_ATTEMPTS, attempt("2026-10-25T20:30:00Z")],
            ),
            "forbidden",
            "FREQUENCY_CAP",
        ),
        case(
            "window-in-reunion-zone-day-31",
            facts(
                "2026-11-24T10:30:00+04:00",
                c={"number": REUNION},
                attempts=[*THREE_ATTEMPTS, attempt("2026-10-25T19:59:59Z")],
            ),
            "allowed",
            "VALID_CONSENT",
        ),
        case(
            "other-professional-not-counted",
            facts(attempts=[*THREE_ATTEMPTS, attempt("2026-11-20T10:00:00+01:00", "Autre Énergie SA")]),
            "allowed",
            "VALID_CONSENT",
        ),
        # Fail-closed: an attempt whose professional is unknown may be this professional's.
        case(
            "unknown-professional-counted",
            facts(attempts=[*THREE_ATTEMPTS, attempt("2026-11-20T10:00:00+01:00", None)]),
            "forbidden",
            "FREQUENCY_CAP",
        ),
        case(
            "attempt-at-call-start-not-counted",
            facts(attempts=[*THREE_ATTEMPTS, attempt(TUESDAY)]),
            "allowed",
            "VALID_CONSENT",
        ),
        case(
            "attempt-after-call-start-not-counted",
            facts(attempts=[*THREE_ATTEMPTS, attempt("2026-11-24T15:00:00+01:00")]),
            "allowed",
            "VALID_CONSENT",
        ),
        case(
            "attempt-one-second-before-counted",
            facts(attempts=[*THREE_ATTEMPTS, attempt("2026-11-24T10:29:59+01:00")]),
            "forbidden",
            "FREQUENCY_CAP",
        ),
        # frequency uses call.at: attempts between the call start and the question are not counted
        case(
            "frequency-uses-call-start",
            facts(
                attempts=[*THREE_ATTEMPTS, attempt("2026-11-24T10:31:00+01:00")],
                evaluated_at="2026-11-24T10:33:00+01:00",
            ),
            "allowed",
            "VALID_CONSENT",
        ),
        case("cap-5-by-policy", facts(attempts=FOUR_ATTEMPTS), "allowed", "VALID_CONSENT", policy={"frequency_cap": 5}),
        # 20-day window: 2026-11-05 .. 2026-11-24 holds 3 of the 4 attempts
        case(
            "window-20-days-by-policy",
            facts(attempts=FOUR_ATTEMPTS),
            "allowed",
            "VALID_CONSENT",
            policy={"frequency_window_days": 20},
        ),
        case(
            "contract-related-capped-too",
            c03(attempts=[attempt(a["at"], MOBILE) for a in FOUR_ATTEMPTS]),
            "forbidden",
            "FREQUENCY_CAP",
        ),
        case(
            "bloctel-capped-too",
            bloctel(
                attempts=[
                    attempt(a)
                    for a in (
                        "2026-07-20T10:00:00+02:00",
                        "2026-07-27T10:00:00+02:00",
                        "2026-08-03T10:00:00+02:00",
                        "2026-08-07T10:00:00+02:00",
                    )
                ]
            ),
            "forbidden",
            "FREQUENCY_CAP",
        ),
        case(
            "frequency-before-consent-check", facts(consents=[], attempts=FOUR_ATTEMPTS), "forbidden", "FREQUENCY_CAP"
        ),
    ]
)


@pytest.mark.parametrize("c", STEP7)
def test_step7_frequency(c: Case) -> None:
    check(c)


# ---------------------------------------------------------------------------------------------------------------
# Step 8: Bloctel regime only
# ---------------------------------------------------------------------------------------------------------------

REGISTERED = {"registered": True, "since": "2026-05-02", "last_scrub": "2026-07-28"}
OLD_CONTRACT = contract()
PRESS_CALL = {"sector": "press", "product": "newspaper_subscription", "professional": "Le Quotidien du Matin SA"}

STEP8 = register(
    [
        case("clear-C43", bloctel(), "allowed", "OPPOSITION_LIST_CLEAR"),
        # Refusal within 60 days, day 60 included: fail-closed reading, day 60 = the 60th day after the refusal date.
        case(
            "refusal-day-60",
            bloctel(refusals=[{"at": "2026-06-11T10:00:00+02:00"}]),
            "forbidden",
            "REFUSAL_WITHIN_60_DAYS",
        ),
        case(
            "refusal-day-61",
            bloctel(refusals=[{"at": "2026-06-10T10:00:00+02:00"}]),
            "allowed",
            "OPPOSITION_LIST_CLEAR",
        ),
        case(
            "refusal-same-day",
            bloctel(refusals=[{"at": "2026-08-10T09:00:00+02:00"}]),
            "forbidden",
            "REFUSAL_WITHIN_60_DAYS",
        ),
        case(
            "refusal-30-days-by-policy",
            bloctel(refusals=[{"at": "2026-06-11T10:00:00+02:00"}]),
            "allowed",
            "OPPOSITION_LIST_CLEAR",
            policy={"refusal_quiet_days": 30},
        ),
        case(
            "refusal-before-press",
            bloctel(c=PRESS_CALL, refusals=[{"at": "2026-07-01T10:00:00+02:00"}]),
            "forbidden",
            "REFUSAL_WITHIN_60_DAYS",
        ),
        case("press-registered", bloctel(c=PRESS_CALL, opposition_list=REGISTERED), "allowed", "PRESS_EXEMPTION"),
        case(
            "press-never-scrubbed",
            bloctel(c=PRESS_CALL, opposition_list={"registered": None}),
            "allowed",
            "PRESS_EXEMPTION",
        ),
        case("registered-C44", bloctel(opposition_list=REGISTERED), "forbidden", "OPPOSITION_LIST_REGISTERED"),
        case(
            "registered-despite-consent",
            bloctel(opposition_list=REGISTERED, consents=[consent(collected_at="2026-06-01T10:00:00+02:00")]),
            "forbidden",
            "OPPOSITION_LIST_REGISTERED",
        ),
        case(
            "registered-since-after-call",
            bloctel(opposition_list={**REGISTERED, "since": "2026-08-11"}),
            "allowed",
            "OPPOSITION_LIST_CLEAR",
        ),
        # Fail-closed: "since" on the call date is not "after the call".
        case(
            "registered-since-call-date",
            bloctel(opposition_list={**REGISTERED, "since": "2026-08-10"}),
            "forbidden",
            "OPPOSITION_LIST_REGISTERED",
        ),
        case(
            "registered-since-unknown",
            bloctel(opposition_list={**REGISTERED, "since": None}),
            "forbidden",
            "OPPOSITION_LIST_REGISTERED",
        ),
        case(
            "registered-null-fail-closed",
            bloctel(opposition_list={**CLEAR, "registered": None}),
            "forbidden",
            "OPPOSITION_LIST_REGISTERED",
        ),
        case(
            "registered-null-stale-C48",
            bloctel(opposition_list={"registered": None, "since": None, "last_scrub": "2026-06-15"}),
            "forbidden",
            "OPPOSITION_LIST_REGISTERED",
        ),
        case(
            "registered-contract-related",
            bloctel(opposition_list=REGISTERED, contracts=[OLD_CONTRACT]),
            "contract_only",
            "CONTRACT_RELATED",
        ),
        case(
            "registered-contract-related-product",
            bloctel(c={"product": "electricity_green_option"}, opposition_list=REGISTERED, contracts=[OLD_CONTRACT]),
            "contract_only",
            "CONTRACT_RELATED",
        ),
        case(
            "registered-null-contract-related",
            bloctel(opposition_list={**CLEAR, "registered": None}, contracts=[OLD_CONTRACT]),
            "contract_only",
            "CONTRACT_RELATED",
        ),
        case(
            "registered-contract-unrelated",
            bloctel(c={"product": "gas"}, opposition_list=REGISTERED, contracts=[OLD_CONTRACT]),
            "forbidden",
            "OPPOSITION_LIST_REGISTERED",
        ),
        case(
            "registered-contract-other-pro",
            bloctel(opposition_list=REGISTERED, contracts=[contract(professional=MOBILE)]),
            "forbidden",
            "OPPOSITION_LIST_REGISTERED",
        ),
        case(
            "registered-contract-ended",
            bloctel(
                opposition_list=REGISTERED, contracts=[contract(status="ended", ended_at="2026-06-01T00:00:00+02:00")]
            ),
            "forbidden",
            "OPPOSITION_LIST_REGISTERED",
        ),
        # call on 2026-08-10: one month before is 2026-07-10
        case(
            "scrub-exactly-one-month",
            bloctel(opposition_list={**CLEAR, "last_scrub": "2026-07-10"}),
            "allowed",
            "OPPOSITION_LIST_CLEAR",
        ),
        case(
            "scrub-one-month-and-a-day",
            bloctel(opposition_list={**CLEAR, "last_scrub": "2026-07-09"}),
            "forbidden",
            "OPPOSITION_SCRUB_STALE",
        ),
        case(
            "scrub-never-null",
            bloctel(opposition_list={**CLEAR, "last_scrub": None}),
            "forbidden",
            "OPPOSITION_SCRUB_STALE",
        ),
        case(
            "scrub-never-omitted", bloctel(opposition_list={"registered": False}), "forbidden", "OPPOSITION_SCRUB_STALE"
        ),
        case(
            "scrub-two-months-by-policy",
            bloctel(opposition_list={**CLEAR, "last_scrub": "2026-07-09"}),
            "allowed",
            "OPPOSITION_LIST_CLEAR",
            policy={"scrub_max_age": "P2M"},
        ),
        case(
            "consent-irrelevant-in-bloctel",
            bloctel(consents=[consent(pre_ticked=True, collected_at="2026-06-01T10:00:00+02:00")]),
            "allowed",
            "OPPOSITION_LIST_CLEAR",
        ),
        # Step 9 is opt-in only: an insurance refusal older than 60 days does not forbid a Bloctel-regime call.
        case(
            "insurance-refusal-61-days-bloctel",
            bloctel(
                c={"sector": "insurance", "product": "home_insurance"}, refusals=[{"at": "2026-06-10T10:00:00+02:00"}]
            ),
            "allowed",
            "OPPOSITION_LIST_CLEAR",
        ),
        case(
            "insurance-refusal-within-60-bloctel",
            bloctel(
                c={"sector": "insurance", "product": "home_insurance"}, refusals=[{"at": "2026-07-10T10:00:00+02:00"}]
            ),
            "forbidden",
            "REFUSAL_WITHIN_60_DAYS",
        ),
    ]
)


@pytest.mark.parametrize("c", STEP8)
def test_step8_bloctel(c: Case) -> None:
    check(c)


def test_step8_opposition_list_omitted_is_fail_closed() -> None:
    """No opposition-list record at all in the Bloctel regime: neither 'not registered' nor 'scrubbed'."""
    document = bloctel()
    del document["opposition_list"]
    decision = decide(document)
    assert_well_formed(decision)
    assert decision.verdict == "forbidden"
    assert decision.reasons[0].code in ("OPPOSITION_LIST_REGISTERED", "OPPOSITION_SCRUB_STALE")


# ---------------------------------------------------------------------------------------------------------------
# Step 9: opt-in regime, valid consent
# ---------------------------------------------------------------------------------------------------------------


def no_valid(case_id: str, document: dict[str, Any], sub: str, **options: Any) -> Any:
    return case(case_id, document, "forbidden", "NO_VALID_CONSENT", sub, **options)


INSURANCE_CALL = {"sector": "insurance", "product": "home_insurance", "professional": "ACME Assurances SA"}


def insurance(method: str = "web_form", **rest: Any) -> dict[str, Any]:
    given = consent(professional="ACME Assurances SA", products=["home_insurance"], method=method)
    rest.setdefault("consents", [given])
    return facts(c=INSURANCE_CALL, **rest)


STEP9 = register(
    [
        case("valid-C01", facts(), "allowed", "VALID_CONSENT"),
        case(
            "valid-collected-at-call-start", facts(consents=[consent(collected_at=TUESDAY)]), "allowed", "VALID_CONSENT"
        ),
        # a consent obtained during the call does not make that call lawful
        case(
            "collected-during-the-call",
            facts(
                consents=[consent(collected_at="2026-11-24T10:30:01+01:00")], evaluated_at="2026-11-24T10:34:00+01:00"
            ),
            "forbidden",
            "NO_VALID_CONSENT",
        ),
        case(
            "valid-among-invalid",
            facts(consents=[consent(professional=GROUP_COMPANY), consent(pre_ticked=True), consent()]),
            "allowed",
            "VALID_CONSENT",
        ),
        no_valid("missing", facts(consents=[]), "CONSENT_MISSING"),
        no_valid("missing-records-omitted", facts(consents=DROP), "CONSENT_MISSING"),
        no_valid(
            "other-professional-group",
            facts(consents=[consent(professional=GROUP_COMPANY)]),
            "CONSENT_OTHER_PROFESSIONAL",
        ),
        no_valid(
            "other-professional-partners",
            facts(consents=[consent(professional="nos partenaires")]),
            "CONSENT_OTHER_PROFESSIONAL",
        ),
        no_valid("product-out-of-scope", facts(consents=[consent(products=["gas"])]), "CONSENT_OUT_OF_SCOPE"),
        no_valid("pre-ticked", facts(consents=[consent(pre_ticked=True)]), "CONSENT_PRE_TICKED"),
        no_valid("no-affirmative-act", facts(consents=[consent(affirmative_act=False)]), "CONSENT_NO_AFFIRMATIVE_ACT"),
        no_valid(
            "affirmative-act-unknown", facts(consents=[consent(affirmative_act=None)]), "CONSENT_NO_AFFIRMATIVE_ACT"
        ),
        no_valid("no-evidence-ref", facts(consents=[consent(evidence_ref=None)]), "CONSENT_NO_PROOF"),
        no_valid("no-text-shown", facts(consents=[consent(text_shown=None)]), "CONSENT_NO_PROOF"),
        no_valid("text-shown-omitted", facts(consents=[consent(text_shown=DROP)]), "CONSENT_NO_PROOF"),
        no_valid("collected-at-unknown", facts(consents=[consent(collected_at=None)]), "CONSENT_NO_PROOF"),
        # valid while call.at < collected_at + 1 year (calendar arithmetic on the local date-time as written)
        no_valid(
            "expired-exactly-one-year",
            facts(consents=[consent(collected_at="2025-11-24T10:30:00+01:00")]),
            "CONSENT_EXPIRED",
        ),
        case(
            "valid-one-second-before-a-year",
            facts("2026-11-24T10:29:59+01:00", consents=[consent(collected_at="2025-11-24T10:30:00+01:00")]),
            "allowed",
            "VALID_CONSENT",
        ),
        no_valid("expired-C10", facts(consents=[consent(collected_at="2025-11-20T15:02:00+01:00")]), "CONSENT_EXPIRED"),
        no_valid(
            "expired-summer-offset",
            facts("2026-09-01T15:02:00+02:00", consents=[consent(collected_at="2025-09-01T15:02:00+02:00")]),
            "CONSENT_EXPIRED",
        ),
        case(
            "valid-summer-offset-last-second",
            facts("2026-09-01T15:01:59+02:00", consents=[consent(collected_at="2025-09-01T15:02:00+02:00")]),
            "allowed",
            "VALID_CONSENT",
        ),
        # the same instants written in UTC for the call
        no_valid(
            "expired-call-written-in-utc",
            facts("2026-11-24T09:30:00Z", consents=[consent(collected_at="2025-11-24T10:30:00+01:00")]),
            "CONSENT_EXPIRED",
        ),
        case(
            "valid-call-written-in-utc",
            facts("2026-11-24T09:29:59Z", consents=[consent(collected_at="2025-11-24T10:30:00+01:00")]),
            "allowed",
            "VALID_CONSENT",
        ),
        # 29 February + 1 year = 28 February
        no_valid(
            "expired-leap-day",
            facts("2029-02-28T11:00:00+01:00", consents=[consent(collected_at="2028-02-29T11:00:00+01:00")]),
            "CONSENT_EXPIRED",
        ),
        case(
            "valid-leap-day-last-second",
            facts("2029-02-28T10:59:59+01:00", consents=[consent(collected_at="2028-02-29T11:00:00+01:00")]),
            "allowed",
            "VALID_CONSENT",
        ),
        # consent age is judged at call.at, not at evaluated_at
        case(
            "age-judged-at-call-start",
            facts(
                "2026-11-24T10:29:59+01:00",
                consents=[consent(collected_at="2025-11-24T10:30:00+01:00")],
                evaluated_at="2026-11-24T10:45:00+01:00",
            ),
            "allowed",
            "VALID_CONSENT",
        ),
        case(
            "two-years-by-policy",
            facts(consents=[consent(collected_at="2025-11-20T15:02:00+01:00")]),
            "allowed",
            "VALID_CONSENT",
            policy={"consent_max_age": "P2Y"},
        ),
        no_valid(
            "from-unlawful-call",
            facts(consents=[consent(collected_during_unlawful_call=True, method="phone_call")]),
            "CONSENT_FROM_UNLAWFUL_CALL",
        ),
        case(
            "from-unlawful-call-switch-off",
            facts(consents=[consent(collected_during_unlawful_call=True, method="phone_call")]),
            "allowed",
            "VALID_CONSENT",
            policy={"reject_consent_from_unlawful_call": False},
        ),
        # Fail-closed: explicitly unknown whether the collecting call was lawful.
        no_valid(
            "from-unlawful-call-unknown",
            facts(consents=[consent(collected_during_unlawful_call=None, method="phone_call")]),
            "CONSENT_FROM_UNLAWFUL_CALL",
        ),
        no_valid("insurance-phone-call", insurance("phone_call"), "CONSENT_BY_PHONE_INSURANCE"),
        no_valid("insurance-recorded-call", insurance("recorded_call"), "CONSENT_BY_PHONE_INSURANCE"),
        case(
            "insurance-phone-switch-off",
            insurance("phone_call"),
            "allowed",
            "VALID_CONSENT",
            policy={"insurance_rejects_phone_consent": False},
        ),
        case("insurance-web-form", insurance("web_form"), "allowed", "VALID_CONSENT"),
        case(
            "phone-consent-outside-insurance",
            facts(consents=[consent(method="recorded_call")]),
            "allowed",
            "VALID_CONSENT",
        ),
        # Withdrawn consent for electricity, then a later consent for gas only: step 5 passes (a later consent
        # follows the withdrawal), and the closest consent for electricity is the withdrawn one.
        no_valid(
            "revoked-closest",
            facts(
                consents=[
                    consent(products=["electricity"], revoked_at="2026-10-01T10:00:00+02:00"),
                    consent(products=["gas"], collected_at="2026-10-15T10:00:00+02:00", evidence_ref="wf-gas"),
                ]
            ),
            "CONSENT_REVOKED",
        ),
        # "closest consent": the one of this professional for this product, not another company's.
        no_valid(
            "closest-is-own-expired",
            facts(consents=[consent(professional=GROUP_COMPANY), consent(collected_at="2025-11-01T10:00:00+01:00")]),
            "CONSENT_EXPIRED",
        ),
        case("press-C35a", facts(c=PRESS_CALL, consents=[]), "allowed", "PRESS_EXEMPTION"),
        case(
            "press-with-valid-consent",
            facts(
                c=PRESS_CALL,
                consents=[consent(professional=PRESS_CALL["professional"], products=["newspaper_subscription"])],
            ),
            "allowed",
            "VALID_CONSENT",
        ),
        case("contract-C03", c03(), "contract_only", "CONTRACT_RELATED"),
        case(
            "contract-product-itself",
            c03(c={**C03_CALL, "product": "mobile_plan_20go"}),
            "contract_only",
            "CONTRACT_RELATED",
        ),
        case(
            "contract-prospection-related-product",
            facts(c={"product": "electricity_green_option"}, consents=[], contracts=[contract()]),
            "contract_only",
            "CONTRACT_RELATED",
        ),
        case(
            "contract-ends-later",
            c03(contracts=[{**C03_CONTRACT, "ended_at": "2026-12-31T23:59:59+01:00"}]),
            "contract_only",
            "CONTRACT_RELATED",
        ),
        no_valid(
            "contract-ended-before",
            c03(contracts=[{**C03_CONTRACT, "ended_at": "2026-11-01T00:00:00+01:00"}]),
            "CONSENT_MISSING",
        ),
        # Fail-closed: a contract ended at the call start is not "not ended at call.at".
        no_valid(
            "contract-ended-at-call-start", c03(contracts=[{**C03_CONTRACT, "ended_at": TUESDAY}]), "CONSENT_MISSING"
        ),
        no_valid("contract-not-active", c03(contracts=[{**C03_CONTRACT, "status": "terminated"}]), "CONSENT_MISSING"),
        no_valid("contract-status-unknown", c03(contracts=[{**C03_CONTRACT, "status": None}]), "CONSENT_MISSING"),
        no_valid(
            "contract-other-professional",
            c03(contracts=[{**C03_CONTRACT, "professional": "Autre Mobile SA"}]),
            "CONSENT_MISSING",
        ),
        no_valid("contract-unrelated-product", c03(c={**C03_CALL, "product": "fibre"}), "CONSENT_MISSING"),
        case(
            "valid-consent-before-contract",
            c03(consents=[consent(professional=MOBILE, products=["mobile_plan_100go"])]),
            "allowed",
            "VALID_CONSENT",
        ),
        # refusals: no effect by themselves in this regime, except for insurance
        case("refusal-no-effect", facts(refusals=[{"at": "2026-11-20T10:00:00+01:00"}]), "allowed", "VALID_CONSENT"),
        case(
            "insurance-refusal",
            insurance(refusals=[{"at": "2026-10-15T10:00:00+02:00"}]),
            "forbidden",
            "INSURANCE_REFUSAL",
        ),
        # Fail-closed: a refusal recorded during the call ("pas intéressé") applies from its instant, like a withdrawal.
        case(
            "insurance-refusal-during-call",
            insurance(refusals=[{"at": "2026-11-24T10:32:00+01:00"}], evaluated_at="2026-11-24T10:35:00+01:00"),
            "forbidden",
            "INSURANCE_REFUSAL",
        ),
        # Fail-closed: "a refusal on record forbids further calls", even one followed by a consent.
        case(
            "insurance-old-refusal-still-forbids",
            insurance(
                refusals=[{"at": "2026-01-15T10:00:00+01:00"}],
                consents=[
                    consent(
                        professional="ACME Assurances SA",
                        products=["home_insurance"],
                        collected_at="2026-02-01T10:00:00+01:00",
                    )
                ],
            ),
            "forbidden",
            "INSURANCE_REFUSAL",
        ),
    ]
)


@pytest.mark.parametrize("c", STEP9)
def test_step9_opt_in_consent(c: Case) -> None:
    check(c)


# ---------------------------------------------------------------------------------------------------------------
# Step 10: stale consent data (max_sync_age at evaluated_at)
# ---------------------------------------------------------------------------------------------------------------


def pulled(at: str | None) -> dict[str, Any]:
    return {"last_consent_pull": at}


STEP10 = register(
    [
        case("sync-exactly-24h-fresh", facts(sync=pulled("2026-11-23T10:30:00+01:00")), "allowed", "VALID_CONSENT"),
        case(
            "sync-24h-and-1s-stale",
            facts(sync=pulled("2026-11-23T10:29:59+01:00")),
            "forbidden",
            "CONSENT_DATA_STALE",
            present=("VALID_CONSENT",),
        ),
        case("sync-in-utc-fresh", facts(sync=pulled("2026-11-23T09:30:00Z")), "allowed", "VALID_CONSENT"),
        case("sync-never", facts(sync=pulled(None)), "forbidden", "CONSENT_DATA_STALE"),
        case("sync-omitted-is-fresh", facts(), "allowed", "VALID_CONSENT"),
        case("sync-C50a", facts(sync=pulled("2026-11-20T09:00:00+01:00")), "forbidden", "CONSENT_DATA_STALE"),
        # judged at evaluated_at
        case(
            "sync-fresh-at-question",
            facts(sync=pulled("2026-11-23T10:31:00+01:00"), evaluated_at="2026-11-24T10:31:00+01:00"),
            "allowed",
            "VALID_CONSENT",
        ),
        case(
            "sync-stale-at-question",
            facts(sync=pulled("2026-11-23T10:31:00+01:00"), evaluated_at="2026-11-24T10:31:01+01:00"),
            "forbidden",
            "CONSENT_DATA_STALE",
        ),
        case(
            "sync-48h-by-policy",
            facts(sync=pulled("2026-11-23T04:30:00+01:00")),
            "allowed",
            "VALID_CONSENT",
            policy={"max_sync_age": "PT48H"},
        ),
        case(
            "sync-contract-only-becomes-forbidden",
            c03(sync=pulled(None)),
            "forbidden",
            "CONSENT_DATA_STALE",
            present=("CONTRACT_RELATED",),
        ),
        case(
            "sync-press-becomes-forbidden",
            facts(c=PRESS_CALL, consents=[], sync=pulled(None)),
            "forbidden",
            "CONSENT_DATA_STALE",
        ),
        case(
            "sync-bloctel-clear-becomes-forbidden",
            bloctel(sync=pulled("2026-08-01T10:00:00+02:00")),
            "forbidden",
            "CONSENT_DATA_STALE",
        ),
        case(
            "sync-bloctel-contract-only-becomes-forbidden",
            bloctel(opposition_list=REGISTERED, contracts=[OLD_CONTRACT], sync=pulled(None)),
            "forbidden",
            "CONSENT_DATA_STALE",
        ),
        case(
            "sync-out-of-hours-consent-becomes-forbidden",
            facts(SATURDAY, consents=[SAT_SLOT], sync=pulled(None)),
            "forbidden",
            "CONSENT_DATA_STALE",
        ),
        case(
            "sync-already-forbidden-keeps-its-reason",
            facts(consents=[], sync=pulled(None)),
            "forbidden",
            "NO_VALID_CONSENT",
            "CONSENT_MISSING",
        ),
        case("sync-weekend-keeps-its-reason", facts(SATURDAY, sync=pulled(None)), "forbidden", "WEEKEND"),
        case(
            "sync-inbound-left-alone",
            facts(c={"direction": "inbound"}, consents=[], sync=pulled(None)),
            "allowed",
            "OUT_OF_SCOPE_INBOUND",
            scope="out_of_scope",
        ),
        case(
            "sync-service-left-alone",
            facts(c={"purpose": "service"}, consents=[], sync=pulled(None)),
            "allowed",
            "OUT_OF_SCOPE_NON_COMMERCIAL",
            scope="out_of_scope",
        ),
        case(
            "sync-business-left-alone",
            facts(c={"line_type": "business"}, consents=[], sync=pulled(None)),
            "allowed",
            "OUT_OF_SCOPE_BUSINESS_LINE",
            scope="out_of_scope",
        ),
    ]
)


@pytest.mark.parametrize("c", STEP10)
def test_step10_stale_data(c: Case) -> None:
    check(c)


# ---------------------------------------------------------------------------------------------------------------
# Decision order across steps: the first failing step decides
# ---------------------------------------------------------------------------------------------------------------

ORDER = register(
    [
        case(
            "scope-before-caller-id",
            facts(c={"direction": "inbound", "caller_id": OFF_RANGE}),
            "allowed",
            "OUT_OF_SCOPE_INBOUND",
            scope="out_of_scope",
        ),
        case(
            "caller-id-before-withdrawal",
            facts(c={"caller_id": OFF_RANGE}, consents=[REVOKED]),
            "forbidden",
            "CALLER_ID_NOT_CANVASSING_RANGE",
        ),
        case(
            "sector-ban-before-withdrawal",
            eco(consents=[{**ECO_CONSENT, "revoked_at": "2026-11-01T10:00:00+01:00"}]),
            "forbidden",
            "SECTOR_BAN",
        ),
        case("sector-ban-before-weekend", eco(SATURDAY), "forbidden", "SECTOR_BAN"),
        case(
            "withdrawal-before-frequency",
            facts(consents=[REVOKED], attempts=FOUR_ATTEMPTS),
            "forbidden",
            "CONSENT_REVOKED",
        ),
        case(
            "objection-before-hours",
            facts("2026-11-24T21:00:00+01:00", objections=[OBJECTION]),
            "forbidden",
            "MARKETING_OBJECTION",
        ),
        case("weekend-before-frequency", facts(SATURDAY, attempts=FOUR_ATTEMPTS), "forbidden", "WEEKEND"),
        case(
            "hours-before-consent",
            facts("2026-11-24T21:00:00+01:00", consents=[]),
            "forbidden",
            "OUTSIDE_CALLING_HOURS",
        ),
        case(
            "frequency-before-bloctel-list",
            bloctel(
                opposition_list=REGISTERED, attempts=[attempt(f"2026-08-0{d}T10:00:00+02:00") for d in (3, 4, 5, 6)]
            ),
            "forbidden",
            "FREQUENCY_CAP",
        ),
        case(
            "refusal-before-registered",
            bloctel(opposition_list=REGISTERED, refusals=[{"at": "2026-07-01T10:00:00+02:00"}]),
            "forbidden",
            "REFUSAL_WITHIN_60_DAYS",
        ),
        case(
            "registered-before-stale-scrub",
            bloctel(opposition_list={**REGISTERED, "last_scrub": None}),
            "forbidden",
            "OPPOSITION_LIST_REGISTERED",
        ),
        case(
            "press-before-stale-scrub",
            bloctel(c=PRESS_CALL, opposition_list={"registered": False, "last_scrub": None}),
            "allowed",
            "PRESS_EXEMPTION",
        ),
    ]
)


@pytest.mark.parametrize("c", ORDER)
def test_decision_order(c: Case) -> None:
    check(c)


def test_every_reason_code_of_the_rules_is_exercised() -> None:
    seen: set[str] = set()
    for param in ALL_CASES:
        (c,) = param.values
        seen |= {c.code, *c.follows, *c.present}
        if c.last:
            seen.add(c.last)
    assert sorted(set(RULE_CODES) - seen) == []


# ---------------------------------------------------------------------------------------------------------------
# 3. valid_until: the earliest instant at which a call would get a different verdict
# ---------------------------------------------------------------------------------------------------------------


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


VALID_UNTIL = [
    pytest.param(facts(), "2026-11-24T13:00:00+01:00", id="allowed-morning-until-13:00"),
    pytest.param(facts("2026-11-24T14:30:00+01:00"), "2026-11-24T20:00:00+01:00", id="allowed-afternoon-until-20:00"),
    pytest.param(facts("2026-11-24T13:30:00+01:00"), "2026-11-24T14:00:00+01:00", id="lunch-gap-until-14:00"),
    pytest.param(facts("2026-11-24T09:00:00+01:00"), "2026-11-24T10:00:00+01:00", id="early-until-10:00"),
    pytest.param(facts("2026-11-27T20:30:00+01:00"), "2026-11-30T10:00:00+01:00", id="friday-evening-until-monday"),
    pytest.param(facts("2026-11-28T10:30:00+01:00"), "2026-11-30T10:00:00+01:00", id="saturday-until-monday"),
    pytest.param(facts("2026-11-11T10:30:00+01:00"), "2026-11-12T10:00:00+01:00", id="holiday-until-next-day"),
    pytest.param(
        facts(consents=[consent(collected_at="2025-11-24T11:00:00+01:00")]),
        "2026-11-24T11:00:00+01:00",
        id="consent-expires-before-window-end",
    ),
    pytest.param(facts(SATURDAY, consents=[SAT_SLOT]), "2026-11-28T11:15:00+01:00", id="out-of-hours-slot-end"),
    pytest.param(
        c03(contracts=[{**C03_CONTRACT, "ended_at": "2026-11-24T11:00:00+01:00"}]),
        "2026-11-24T11:00:00+01:00",
        id="contract-ends",
    ),
    # The oldest attempt (2 Nov) leaves the window on 2 Dec; the first lawful instant then is 10:00.
    pytest.param(facts(attempts=FOUR_ATTEMPTS), "2026-12-02T10:00:00+01:00", id="frequency-cap-lifts"),
    pytest.param(bloctel("2026-08-10T19:30:00+02:00"), "2026-08-10T20:00:00+02:00", id="bloctel-window-end"),
    # Bloctel night call covered by a general out-of-hours consent: that consent stops counting at the switch.
    pytest.param(
        bloctel("2026-08-10T23:30:00+02:00", consents=[OLD_ANY_HOURS]),
        "2026-08-11T00:00:00+02:00",
        id="regime-switch-ends-general-out-of-hours-consent",
    ),
    # The info-request answer is out of scope through day 5 (Sat 21 Nov); from Sun 22 00:00 it is SECTOR_BAN.
    pytest.param(
        info("2026-11-16T09:00:00+01:00", "2026-11-20T10:30:00+01:00"),
        "2026-11-22T00:00:00+01:00",
        id="info-request-window-end",
    ),
]


@pytest.mark.parametrize(("document", "until"), VALID_UNTIL)
def test_valid_until(document: dict[str, Any], until: str) -> None:
    decision = decide(document)
    assert decision.valid_until is not None, decision.reasons
    assert decision.valid_until.utcoffset() is not None
    assert decision.valid_until == instant(until)


def test_valid_until_sync_staleness() -> None:
    """Pulled 2026-11-23 11:15: fresh up to 24 h (11:15:00 on the 24th), stale just after."""
    decision = decide(facts(sync=pulled("2026-11-23T11:15:00+01:00")))
    assert decision.verdict == "allowed"
    assert decision.valid_until is not None
    stale_from = instant("2026-11-24T11:15:00+01:00")
    assert stale_from <= decision.valid_until <= stale_from + dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(facts(consents=[]), id="no-consent"),
        pytest.param(facts(consents=[consent(professional=GROUP_COMPANY)]), id="other-professional"),
        pytest.param(facts(consents=[consent(pre_ticked=True)]), id="pre-ticked"),
        pytest.param(facts(consents=[REVOKED]), id="revoked"),
        pytest.param(eco(), id="sector-ban"),
        pytest.param(facts(c={"caller_id": OFF_RANGE}), id="caller-id"),
    ],
)
def test_valid_until_none_when_nothing_changes_by_itself(document: dict[str, Any]) -> None:
    decision = decide(document)
    assert decision.verdict == "forbidden"
    assert decision.valid_until is None


def test_valid_until_is_consistent_with_a_later_call() -> None:
    """A call one second before valid_until gets the same verdict; a call at valid_until a different one."""
    document = facts(consents=[consent(collected_at="2025-11-24T11:00:00+01:00")])
    decision = decide(document)
    assert decision.valid_until is not None
    before = (decision.valid_until - dt.timedelta(seconds=1)).isoformat()
    at = decision.valid_until.isoformat()
    assert decide({**document, "call": {**document["call"], "at": before}}).verdict == decision.verdict
    assert decide({**document, "call": {**document["call"], "at": at}}).verdict != decision.verdict


# ---------------------------------------------------------------------------------------------------------------
# The JSON of the decision
# ---------------------------------------------------------------------------------------------------------------


def test_to_json_shape() -> None:
    document = json.loads((EXAMPLES / "C01.json").read_text(encoding="utf-8"))["facts"]
    out = decide(document).to_json()
    assert set(out) == {"verdict", "regime", "scope", "reasons", "consumer_local_time", "policy", "valid_until"}
    assert (out["verdict"], out["regime"], out["scope"]) == ("allowed", "opt_in", "canvassing")
    assert out["reasons"][0]["code"] == "VALID_CONSENT"
    assert all(set(reason) == {"code", "rule", "message"} for reason in out["reasons"])
    assert out["consumer_local_time"] == "2026-11-24T10:30:00+01:00"
    assert out["valid_until"] == "2026-11-24T13:00:00+01:00"
    assert out["policy"] == {"name": POLICY.name, "version": POLICY.version}
    assert json.loads(json.dumps(out, ensure_ascii=False)) == out


def test_to_json_local_time_is_the_consumers() -> None:
    """Agent in Casablanca at 12:30 (+01:00): 13:30 for a Paris consumer; until 14:00 Paris time."""
    out = decide(facts("2026-09-17T12:30:00+01:00")).to_json()
    assert out["consumer_local_time"] == "2026-09-17T13:30:00+02:00"
    assert out["valid_until"] == "2026-09-17T14:00:00+02:00"
    assert out["reasons"][0]["code"] == "OUTSIDE_CALLING_HOURS"


def test_to_json_overseas_local_time() -> None:
    out = decide(facts("2026-11-24T07:30:00+01:00", c={"number": REUNION})).to_json()
    assert out["verdict"] == "allowed"
    assert out["consumer_local_time"] == "2026-11-24T10:30:00+04:00"
    assert out["valid_until"] == "2026-11-24T13:00:00+04:00"


def test_to_json_valid_until_null() -> None:
    out = decide(facts(consents=[])).to_json()
    assert out["valid_until"] is None
    assert [r["code"] for r in out["reasons"]][:2] == ["NO_VALID_CONSENT", "CONSENT_MISSING"]


# ---------------------------------------------------------------------------------------------------------------
# 4. Messages: French by default, filled in; every reason has a rule
# ---------------------------------------------------------------------------------------------------------------


def test_messages_are_french_by_default() -> None:
    decision = decide(facts(consents=[]))
    message = decision.reasons[0].message
    assert message.startswith("Aucun consentement valable")
    assert PRO in message and "electricity" in message
    weekend = decide(facts("2026-11-28T10:30:00+01:00"))
    assert weekend.reasons[0].code == "WEEKEND"
    assert "samedi" in weekend.reasons[0].message.lower()
    assert "saturday" not in weekend.reasons[0].message.lower()


# ---------------------------------------------------------------------------------------------------------------
# 5. Bad facts are InputError
# ---------------------------------------------------------------------------------------------------------------


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    document = json.loads(json.dumps(facts(objections=[OBJECTION], opposition_list=dict(CLEAR), sync=pulled(None))))
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


BAD_FACTS = [
    pytest.param(_with(("surprise",), 1), id="unknown-top-level-key"),
    pytest.param(_with(("call", "surprise"), 1), id="unknown-call-key"),
    pytest.param(_with(("consents", 0, "surprise"), 1), id="unknown-consent-key"),
    pytest.param(_with(("opposition_list", "surprise"), 1), id="unknown-opposition-key"),
    pytest.param(_with(("sync", "surprise"), 1), id="unknown-sync-key"),
    pytest.param(_with(("objections", 0, "surprise"), 1), id="unknown-objection-key"),
    pytest.param(
        _with(("consents", 0, "out_of_hours_slots"), [{"start": TUESDAY, "end": TUESDAY, "x": 1}]),
        id="unknown-slot-key",
    ),
    pytest.param(_with(("call", "at"), DROP), id="missing-call-at"),
    pytest.param(_with(("call",), DROP), id="missing-call"),
    pytest.param(_with(("call", "number"), DROP), id="missing-required-call-key"),
    pytest.param(_with(("consents", 0, "evidence_ref"), DROP), id="missing-required-consent-key"),
    pytest.param(_with(("call", "at"), "2026-11-24T10:30:00"), id="call-at-without-offset"),
    pytest.param(_with(("consents", 0, "collected_at"), "2026-09-01T15:02:00"), id="collected-at-without-offset"),
    pytest.param(_with(("call", "at"), "2026-02-30T10:30:00+01:00"), id="impossible-date"),
    pytest.param(_with(("call", "at"), "yesterday"), id="not-a-date"),
    pytest.param(_with(("opposition_list", "last_scrub"), "2026-02-30"), id="impossible-scrub-date"),
    pytest.param(_with(("call", "number"), "+33abc"), id="unparsable-number"),
    pytest.param(_with(("call", "number"), "hello"), id="unparsable-number-word"),
    pytest.param(_with(("call", "caller_id"), "12"), id="impossible-caller-id"),
    pytest.param(_with(("call", "direction"), "sideways"), id="unknown-direction"),
    pytest.param(_with(("call", "purpose"), "upsell"), id="unknown-purpose"),
    pytest.param(_with(("consents", 0, "method"), "telepathy"), id="unknown-method"),
    pytest.param(_with(("evaluated_at",), "2026-11-24T10:29:59+01:00"), id="evaluated-before-call"),
]


@pytest.mark.parametrize("document", BAD_FACTS)
def test_bad_facts_are_input_errors(document: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        parse_facts(document)


def test_bad_facts_not_an_object() -> None:
    with pytest.raises(InputError):
        parse_facts([])


def test_input_error_names_the_key() -> None:
    with pytest.raises(InputError, match=r"call\.at"):
        parse_facts(_with(("call", "at"), "2026-11-24T10:30:00"))
    with pytest.raises(InputError, match="surprise"):
        parse_facts(_with(("call", "surprise"), 1))


def test_good_facts_parse() -> None:
    """The fixture used above is itself valid, so each bad case fails for its own reason."""
    parse_facts(_with(("call", "at"), TUESDAY))
