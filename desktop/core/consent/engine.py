"""The consent rules engine: ``evaluate(facts, policy) -> Decision``, pure and deterministic.

Each step of the decision order of consent-rules.md is one function below, in order. The engine reads no
clock, no file and no database: everything comes from the facts and the policy pack, so that any decision can
be replayed by an auditor with ``agent-assist consent evaluate``.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from zoneinfo import ZoneInfo

from desktop.core.consent import phone
from desktop.core.consent.facts import Consent, Contract, Facts
from desktop.core.consent.policy import Policy, add_duration, add_duration_to_date
from desktop.core.consent.professionals import professional_key

Verdict = Literal["allowed", "contract_only", "forbidden"]
Regime = Literal["bloctel", "opt_in"]
Scope = Literal["canvassing", "out_of_scope"]

_WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_TINY = dt.timedelta(microseconds=1)
#: Re-evaluations allowed when looking for valid_until; each is one pass of the decision order.
_MAX_PROBES = 8


@dataclass(frozen=True)
class Reason:
    code: str
    rule: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    regime: Regime
    scope: Scope
    reasons: tuple[Reason, ...]
    consumer_local_time: dt.datetime
    policy: dict[str, str]
    valid_until: dt.datetime | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "regime": self.regime,
            "scope": self.scope,
            "reasons": [reason.to_json() for reason in self.reasons],
            "consumer_local_time": self.consumer_local_time.isoformat(),
            "policy": dict(self.policy),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }


@dataclass(order=True, frozen=True)
class _Candidate:
    """An instant at which some condition of this evaluation flips; ``probe`` is when to look (≥ instant)."""

    probe: dt.datetime
    instant: dt.datetime = field(compare=False)


@dataclass
class _Outcome:
    decision: Decision
    favorable: list[_Candidate]  # conditions that could lift a forbidding one
    unfavorable: list[_Candidate]  # conditions that could end a permissive one


class _Run:
    """One pass of the decision order over one set of facts."""

    def __init__(self, facts: Facts, policy: Policy, language: str) -> None:
        self.facts = facts
        self.policy = policy
        self.params = policy.params
        self.language = language
        call = facts.call
        self.call = call
        self.at = call.at
        self.asked = facts.asked_at
        self.zone = consumer_zone(facts, policy)
        self.zone_key = self.zone.key
        self.local = self.at.astimezone(self.zone)
        self.day = self.local.date()
        self.regime: Regime = "opt_in" if self.at >= policy.opt_in_from else "bloctel"
        self.pro = professional_key(call.professional) if call.professional is not None else None
        self.trail: list[Reason] = []
        self.warnings: list[Reason] = []
        self.favorable: list[_Candidate] = []
        self.unfavorable: list[_Candidate] = []

    # -- helpers -------------------------------------------------------------------------------------------

    def reason(self, code: str, message_id: str | None = None, **values: Any) -> Reason:
        context = {
            "professional": self.call.professional or "?",
            "product": self.call.product or "?",
            "purpose": self.call.purpose or "?",
            "sector": self.call.sector or "?",
            **values,
        }
        template = self.policy.message(message_id or code, self.language)
        return Reason(code, self.policy.rule(code), template.format_map(context))

    def when(self, instant: dt.datetime, *, favorable: bool | None, probe: dt.datetime | None = None) -> None:
        """Note an instant at which a condition flips: favorable lifts a ban, unfavorable ends a permission."""
        if instant <= self.asked:
            return
        candidate = _Candidate(probe or instant, instant)
        if favorable is not False:
            self.favorable.append(candidate)
        if favorable is not True:
            self.unfavorable.append(candidate)

    def local_midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.zone)

    def date_text(self, instant: dt.datetime | dt.date) -> str:
        if isinstance(instant, dt.datetime):
            local = instant.astimezone(self.zone)
            return local.strftime("%d/%m/%Y %H:%M" if self.language == "fr" else "%Y-%m-%d %H:%M")
        return instant.strftime("%d/%m/%Y" if self.language == "fr" else "%Y-%m-%d")

    def same_professional(self, name: str | None) -> bool:
        return self.pro is not None and name is not None and professional_key(name) == self.pro

    def finish(self, verdict: Verdict, scope: Scope, deciding: Reason) -> _Outcome:
        others = [reason for reason in self.trail if reason is not deciding]
        decision = Decision(
            verdict=verdict,
            regime=self.regime,
            scope=scope,
            reasons=(deciding, *others, *self.warnings),
            consumer_local_time=self.local,
            policy=self.policy.stamp(),
        )
        return _Outcome(decision, self.favorable, self.unfavorable)

    def forbid(self, deciding: Reason) -> _Outcome:
        return self.finish("forbidden", "canvassing", deciding)

    # -- the decision order --------------------------------------------------------------------------------

    def run(self) -> _Outcome:
        if self.regime == "bloctel":
            self.when(self.policy.opt_in_from, favorable=None)
        out_of_scope = self.step2_scope()
        if out_of_scope is not None:
            return self.finish("allowed", "out_of_scope", out_of_scope)
        banned = self.step3_caller_id()
        if banned is not None:
            return self.forbid(banned)
        sector = self.step4_sector()
        if sector is not None and sector[0] != "contract_only":
            verdict, reason = sector
            return self.finish("allowed", "out_of_scope", reason) if verdict == "allowed" else self.forbid(reason)
        for step in (self.step5_withdrawal, self.step6_time_window, self.step7_frequency):
            banned = step()
            if banned is not None:
                return self.forbid(banned)
        if sector is not None:  # contract_only from step 4 skips steps 8 and 9
            return self.step10_stale("contract_only", sector[1])
        verdict, reason = self.step8_bloctel() if self.regime == "bloctel" else self.step9_opt_in()
        if verdict == "forbidden":
            return self.forbid(reason)
        return self.step10_stale(verdict, reason)

    def step2_scope(self) -> Reason | None:
        call = self.call
        if call.direction == "inbound":
            return self.reason("OUT_OF_SCOPE_INBOUND")
        if call.purpose in self.policy.data.scope.non_commercial_purposes:
            return self.reason("OUT_OF_SCOPE_NON_COMMERCIAL")
        if call.line_type == "business":
            return self.reason("OUT_OF_SCOPE_BUSINESS_LINE")
        return None

    def step3_caller_id(self) -> Reason | None:
        caller_id = self.call.caller_id
        if caller_id is None:
            self.warnings.append(self.reason("CALLER_ID_UNKNOWN"))
            return None
        if not phone.in_canvassing_range(caller_id, self.policy.data.caller_id.canvassing_prefixes):
            return self.reason("CALLER_ID_NOT_CANVASSING_RANGE", caller_id=caller_id)
        return None

    def step4_sector(self) -> tuple[Verdict, Reason] | None:
        if self.call.sector not in self.policy.data.sectors.banned:
            return None
        if self.params.info_request_exception:
            answered = self.info_request()
            if answered is not None:
                return "allowed", answered
        contract = self.related_contract()
        if contract is not None:
            reason = self.contract_reason(contract)
            self.trail.append(reason)
            return "contract_only", reason
        return "forbidden", self.reason("SECTOR_BAN")

    def info_request(self) -> Reason | None:
        product = self.call.product
        for request in self.facts.info_requests:
            if request.at > self.at:
                self.when(request.at, favorable=True)
                continue
            if product is None or product not in (request.products or ()):
                continue
            asked_on = request.at.astimezone(self.zone).date()
            last_day = self.working_days_after(asked_on, self.params.info_request_working_days)
            if self.day <= last_day:
                self.when(self.local_midnight(last_day + dt.timedelta(days=1)), favorable=False)
                return self.reason(
                    "OUT_OF_SCOPE_INFO_REQUEST",
                    request_date=self.date_text(asked_on),
                    until_date=self.date_text(last_day),
                )
        return None

    def working_days_after(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th jour ouvrable after ``day`` (Monday to Saturday, not a public or local holiday)."""
        current = day
        while count > 0:
            current += dt.timedelta(days=1)
            if current.isoweekday() == 7 or self.holiday(current, local=True) is not None:
                continue
            count -= 1
        return current

    def holiday(self, day: dt.date, *, local: bool) -> str | None:
        name = self.policy.national_holiday(day)
        if name is None and local:
            name = self.policy.local_holiday(day, self.zone_key, self.call.consumer_department)
        return name

    def related_contract(self) -> Contract | None:
        product = self.call.product
        for contract in self.facts.contracts:
            if not self.same_professional(contract.professional) or contract.status != "active":
                continue
            if contract.ended_at is not None and contract.ended_at <= self.at:
                continue
            covered = (*(contract.products or ()), *(contract.related_products or ()))
            if product is not None and product in covered:
                if contract.ended_at is not None:
                    self.when(contract.ended_at, favorable=False)
                return contract
        return None

    def contract_reason(self, contract: Contract) -> Reason:
        products = ", ".join((*(contract.products or ()), *(contract.related_products or ())))
        return self.reason("CONTRACT_RELATED", contract_products=products)

    def step5_withdrawal(self) -> Reason | None:
        """A withdrawal not followed by a new consent, or an objection to marketing on record, forbids."""
        withdrawn: dt.datetime | None = None
        for consent in self.facts.consents:
            if not self.same_professional(consent.professional) or consent.revoked_at is None:
                continue
            if consent.revoked_at > self.asked:
                self.when(consent.revoked_at, favorable=False)
            elif withdrawn is None or consent.revoked_at > withdrawn:
                withdrawn = consent.revoked_at
        objected: dt.datetime | None = None
        for objection in self.facts.objections:
            if objection.at > self.asked:
                self.when(objection.at, favorable=False)
            elif objected is None or objection.at > objected:
                objected = objection.at
        # GDPR art. 21: an objection stands independently of consent; only its record's removal lifts it.
        if objected is not None:
            return self.reason("MARKETING_OBJECTION", objection_at=self.date_text(objected))
        if withdrawn is not None and not self.consented_again_after(withdrawn):
            return self.reason("CONSENT_REVOKED", revoked_at=self.date_text(withdrawn))
        return None

    def consented_again_after(self, instant: dt.datetime) -> bool:
        """A consent from the consumer (a clear affirmative act) to this professional after ``instant``."""
        return any(
            consent.collected_at is not None
            and instant < consent.collected_at <= self.asked
            and self.same_professional(consent.professional)
            and consent.affirmative_act is True
            and consent.pre_ticked is False
            and (consent.revoked_at is None or consent.revoked_at > self.asked)
            for consent in self.facts.consents
        )

    def step6_time_window(self) -> Reason | None:
        failure = self.window_failure(self.local)
        if failure is None:
            self.when(self.window_end(self.local), favorable=False)
            return None
        covering = self.out_of_hours_consent()
        if covering is not None:
            self.trail.append(covering)
            return None
        self.when(self.next_opening(self.local), favorable=True)
        return failure

    def window_failure(self, local: dt.datetime) -> Reason | None:
        day = local.date()
        weekday = local.isoweekday()
        if weekday not in self.policy.data.calling_hours.weekdays:
            names = _WEEKDAYS.get(self.language, _WEEKDAYS["fr"])
            return self.reason("WEEKEND", weekday=names[weekday - 1].capitalize(), local_time=self.date_text(local))
        national = self.policy.national_holiday(day)
        if national is not None:
            return self.reason("PUBLIC_HOLIDAY", holiday=national, local_date=self.date_text(day))
        if self.params.block_local_holidays:
            local_name = self.policy.local_holiday(day, self.zone_key, self.call.consumer_department)
            if local_name is not None:
                return self.reason("LOCAL_HOLIDAY", holiday=local_name, local_date=self.date_text(day))
        clock = local.time().replace(tzinfo=None)
        if not any(start <= clock < end for start, end in self.policy.data.calling_hours.window_times):
            return self.reason("OUTSIDE_CALLING_HOURS", local_clock=local.strftime("%H:%M"))
        return None

    def window_end(self, local: dt.datetime) -> dt.datetime:
        clock = local.time().replace(tzinfo=None)
        for start, end in self.policy.data.calling_hours.window_times:
            if start <= clock < end:
                return dt.datetime.combine(local.date(), end, tzinfo=self.zone)
        raise AssertionError("window_end called outside a window")  # pragma: no cover

    def next_opening(self, local: dt.datetime) -> dt.datetime:
        """First instant after ``local`` at which a call may start, looking a few weeks ahead."""
        day = local.date()
        for offset in range(40):
            current = day + dt.timedelta(days=offset)
            for start, _end in self.policy.data.calling_hours.window_times:
                opening = dt.datetime.combine(current, start, tzinfo=self.zone)
                if opening > local and self.window_failure(opening) is None:
                    return opening
        return local + dt.timedelta(days=40)  # pragma: no cover - a pack with no open day

    def out_of_hours_consent(self) -> Reason | None:
        width = self.params.max_slot_width
        for consent in self.facts.consents:
            if not self.proven_consent_of_this_professional(consent):
                continue
            for slot in consent.out_of_hours_slots or ():
                if slot.start < slot.end and slot.end <= add_duration(slot.start, width):
                    if slot.start <= self.at < slot.end:
                        self.when(slot.end, favorable=False)
                        return self.reason("OUT_OF_HOURS_CONSENT", slot=self.slot_text(slot.start, slot.end))
                    if slot.start > self.at:
                        self.when(slot.start, favorable=True)
            if self.regime == "bloctel" and consent.out_of_hours_any is True:
                return self.reason("OUT_OF_HOURS_CONSENT", slot="*")
        return None

    def slot_text(self, start: dt.datetime, end: dt.datetime) -> str:
        return f"{self.date_text(start)}–{end.astimezone(self.zone).strftime('%H:%M')}"

    def proven_consent_of_this_professional(self, consent: Consent) -> bool:
        return (
            self.same_professional(consent.professional)
            and consent.collected_at is not None
            and consent.collected_at <= self.at
            and consent.affirmative_act is True
            and consent.pre_ticked is False
            and bool(consent.evidence_ref)
            and (consent.revoked_at is None or consent.revoked_at > self.asked)
        )

    def step7_frequency(self) -> Reason | None:
        first_day = self.day - dt.timedelta(days=self.params.frequency_window_days - 1)
        days = sorted(
            local_day
            for attempt in self.facts.attempts
            if attempt.at < self.at
            and (attempt.professional is None or self.same_professional(attempt.professional))
            and first_day <= (local_day := attempt.at.astimezone(self.zone).date())
        )
        cap = self.params.frequency_cap
        if len(days) + 1 <= cap:
            return None
        # The call becomes possible on the day enough of the oldest attempts have left the window.
        freed_on = days[len(days) - cap] + dt.timedelta(days=self.params.frequency_window_days)
        self.when(self.local_midnight(freed_on), favorable=True)
        return self.reason("FREQUENCY_CAP", count=len(days), days=self.params.frequency_window_days, cap=cap)

    def step8_bloctel(self) -> tuple[Verdict, Reason]:
        quiet = self.params.refusal_quiet_days
        for refusal in self.facts.refusals:
            if refusal.at > self.at:
                continue
            refused_on = refusal.at.astimezone(self.zone).date()
            if (self.day - refused_on).days <= quiet:
                self.when(self.local_midnight(refused_on + dt.timedelta(days=quiet + 1)), favorable=True)
                return "forbidden", self.reason(
                    "REFUSAL_WITHIN_60_DAYS", refusal_date=self.date_text(refused_on), days=quiet
                )
        if self.call.sector in self.policy.data.sectors.press:
            return "allowed", self.reason("PRESS_EXEMPTION")
        listing = self.facts.opposition_list
        registered = listing.registered if listing is not None else None
        since = listing.since if listing is not None else None
        if registered is True and since is not None and since > self.day:
            self.when(self.local_midnight(since), favorable=False)
            registered = False  # registration not yet effective on the call date
        if registered is not False:
            contract = self.related_contract()
            if contract is not None:
                return "contract_only", self.contract_reason(contract)
            since_text = f" depuis le {self.date_text(since)}" if since and self.language == "fr" else ""
            if since and self.language != "fr":
                since_text = f" since {self.date_text(since)}"
            return "forbidden", self.reason("OPPOSITION_LIST_REGISTERED", since=since_text)
        last_scrub = listing.last_scrub if listing is not None else None
        never = "jamais" if self.language == "fr" else "never"
        if last_scrub is None:
            return "forbidden", self.reason("OPPOSITION_SCRUB_STALE", last_scrub=never)
        fresh_until = add_duration_to_date(last_scrub, self.params.scrub_max_age)
        if self.day > fresh_until:
            return "forbidden", self.reason("OPPOSITION_SCRUB_STALE", last_scrub=self.date_text(last_scrub))
        self.when(self.local_midnight(fresh_until + dt.timedelta(days=1)), favorable=False)
        return "allowed", self.reason("OPPOSITION_LIST_CLEAR", last_scrub=self.date_text(last_scrub))

    def step9_opt_in(self) -> tuple[Verdict, Reason]:
        insurance = self.call.sector in self.policy.data.sectors.insurance
        if insurance:
            # "forbids further calls": a refusal said during this very call ends it too
            refusals = [refusal.at for refusal in self.facts.refusals if refusal.at <= self.asked]
            if refusals:
                return "forbidden", self.reason("INSURANCE_REFUSAL", refusal_date=self.date_text(max(refusals)))
        best_valid: tuple[dt.datetime, Consent] | None = None
        closest: tuple[int, dt.datetime, Consent, str, str | None] | None = None
        for consent in self.facts.consents:
            rank, code, message_id, expires = self.consent_check(consent, insurance)
            if code is None:
                assert expires is not None
                if best_valid is None or expires > best_valid[0]:
                    best_valid = (expires, consent)
                continue
            collected = consent.collected_at or dt.datetime.min.replace(tzinfo=dt.UTC)
            if closest is None or (rank, collected) > (closest[0], closest[1]):
                closest = (rank, collected, consent, code, message_id)
        if best_valid is not None:
            expires, consent = best_valid
            self.when(expires, favorable=False)
            assert consent.collected_at is not None
            return "allowed", self.reason(
                "VALID_CONSENT",
                collected_date=self.date_text(consent.collected_at),
                method=consent.method or "?",
                expires=self.date_text(expires),
            )
        if self.call.sector in self.policy.data.sectors.press:
            return "allowed", self.reason("PRESS_EXEMPTION")
        contract = self.related_contract()
        if contract is not None:
            return "contract_only", self.contract_reason(contract)
        if closest is None:
            self.trail.append(self.reason("CONSENT_MISSING"))
        else:
            _rank, _collected, consent, code, message_id = closest
            self.trail.append(self.consent_reason(consent, code, message_id))
        return "forbidden", self.reason("NO_VALID_CONSENT")

    def consent_check(
        self, consent: Consent, insurance: bool
    ) -> tuple[int, str | None, str | None, dt.datetime | None]:
        """(rank, failing code, message id, expiry): rank counts the checks passed, for the closest consent."""
        product = self.call.product
        if not self.same_professional(consent.professional):
            return 0, "CONSENT_OTHER_PROFESSIONAL", None, None
        if product is None or product not in (consent.products or ()):
            return 1, "CONSENT_OUT_OF_SCOPE", None, None
        if consent.pre_ticked is True:
            return 2, "CONSENT_PRE_TICKED", None, None
        if consent.affirmative_act is not True or consent.pre_ticked is None:
            return 3, "CONSENT_NO_AFFIRMATIVE_ACT", None, None
        if consent.collected_at is None or not consent.evidence_ref or not consent.text_shown:
            return 4, "CONSENT_NO_PROOF", None, None
        if consent.collected_at > self.at:
            self.when(consent.collected_at, favorable=True)
            return 5, "CONSENT_MISSING", "CONSENT_COLLECTED_AFTER_CALL", None
        expires = add_duration(consent.collected_at, self.params.consent_max_age)
        if self.at >= expires:
            return 6, "CONSENT_EXPIRED", None, expires
        # null: not known to have been lawful, so not proven valid (fail-closed)
        if self.params.reject_consent_from_unlawful_call and consent.collected_during_unlawful_call is not False:
            return 7, "CONSENT_FROM_UNLAWFUL_CALL", None, None
        phone_methods = self.policy.data.sectors.phone_methods
        if (
            insurance
            and self.params.insurance_rejects_phone_consent
            and (consent.method is None or consent.method in phone_methods)
        ):
            return 8, "CONSENT_BY_PHONE_INSURANCE", None, None
        if consent.revoked_at is not None and consent.revoked_at <= self.asked:
            return 9, "CONSENT_REVOKED", None, None
        return 10, None, None, expires

    def consent_reason(self, consent: Consent, code: str, message_id: str | None) -> Reason:
        values: dict[str, Any] = {
            "consent_professional": consent.professional or "?",
            "consent_products": ", ".join(consent.products or ()) or "?",
        }
        if consent.collected_at is not None:
            values["collected_date"] = self.date_text(consent.collected_at)
            values["expires"] = self.date_text(add_duration(consent.collected_at, self.params.consent_max_age))
        if consent.revoked_at is not None:
            values["revoked_at"] = self.date_text(consent.revoked_at)
        return self.reason(code, message_id, **values)

    def step10_stale(self, verdict: Verdict, deciding: Reason) -> _Outcome:
        sync = self.facts.sync
        if sync is not None:
            pulled = sync.last_consent_pull
            if pulled is None:
                never = "jamais" if self.language == "fr" else "never"
                return self.forbid_stale(deciding, never)
            stale_after = add_duration(pulled, self.params.max_sync_age)
            if self.asked > stale_after:
                return self.forbid_stale(deciding, self.date_text(pulled))
            self.when(stale_after, favorable=False, probe=stale_after + _TINY)
        return self.finish(verdict, "canvassing", deciding)

    def forbid_stale(self, replaced: Reason, since: str) -> _Outcome:
        self.trail.append(replaced)
        return self.forbid(self.reason("CONSENT_DATA_STALE", since=since))


def consumer_zone(facts: Facts, policy: Policy) -> ZoneInfo:
    """The consumer's time zone: stored, else inferred from the number's prefix, else metropolitan France."""
    call = facts.call
    if call.consumer_timezone is not None:
        return ZoneInfo(call.consumer_timezone)
    if call.number is not None:
        for prefix, zone in policy.zone_by_number:
            if call.number.startswith(prefix):
                return zone
    return policy.default_zone


def _at(facts: Facts, instant: dt.datetime) -> Facts:
    """The same records, for a call starting at ``instant`` and asked about then."""
    call = facts.call.model_copy(update={"at": instant.astimezone(facts.call.at.tzinfo)})
    return facts.model_copy(update={"call": call, "evaluated_at": None})


def _asked_again(facts: Facts, instant: dt.datetime) -> Facts:
    """The same call (same start), asked about again at ``instant``."""
    return facts.model_copy(update={"evaluated_at": instant})


def _valid_until(facts: Facts, policy: Policy, first: _Outcome, language: str) -> dt.datetime | None:
    """Earliest instant after the question at which a call starting then gets another verdict, or None. For a
    question asked during the call (``evaluated_at`` after ``call.at``): at which this call, asked again, does
    (its start keeps deciding regime, hours and frequency: a call begun in the window may go on past its end)."""
    verdict = first.decision.verdict
    during = facts.evaluated_at is not None and facts.evaluated_at > facts.call.at
    probe_facts = _asked_again if during else _at
    pending: list[_Candidate] = []

    def push(outcome: _Outcome) -> None:
        chosen: Iterable[_Candidate] = outcome.favorable if verdict == "forbidden" else outcome.unfavorable
        for candidate in chosen:
            heapq.heappush(pending, candidate)

    push(first)
    probed: set[dt.datetime] = set()
    for _ in range(_MAX_PROBES):
        if not pending:
            return None
        candidate = heapq.heappop(pending)
        if candidate.probe in probed:
            continue
        probed.add(candidate.probe)
        outcome = _Run(probe_facts(facts, candidate.probe), policy, language).run()
        if outcome.decision.verdict != verdict:
            return candidate.instant
        push(outcome)
    return None


def evaluate(facts: Facts, policy: Policy, *, language: str = "fr") -> Decision:
    """The verdict for these facts under this policy, with its reasons and how long it holds."""
    outcome = _Run(facts, policy, language).run()
    until = _valid_until(facts, policy, outcome, language)
    zone = outcome.decision.consumer_local_time.tzinfo
    return replace(outcome.decision, valid_until=until.astimezone(zone) if until else None)
