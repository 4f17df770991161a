# Calls handled by Agent Assist stations, one row per external id, with the team lead's review.
import json

from sql.operators import Not
from trytond.i18n import gettext
from trytond.model import Check, ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

# Timestamps, not DateTime: a station's instants keep their microseconds (ordering of events, equality on pull).
# What a station sent is set at creation and never changed after (only the review fields are).
_FROZEN = {"readonly": Eval("id", -1) >= 0}
DIRECTIONS = [("inbound", "Inbound"), ("outbound", "Outbound")]
VERDICTS = [
    (None, ""),
    ("allowed", "Allowed"),
    ("contract_only", "Contract only"),
    ("forbidden", "Forbidden"),
]
REVIEW_STATES = [
    ("pending", "Pending"),
    ("approved", "Approved"),
    ("flagged", "Flagged"),
]


def check_party(records):
    "Raise ValidationError for a party that does not exist (SQLite does not enforce foreign keys)"
    Party = Pool().get("party.party")
    wanted = {record.party.id for record in records if record.party}
    with Transaction().set_context(active_test=False):
        found = {party.id for party in Party.search([("id", "in", list(wanted))])}
    for record in records:
        if record.party and record.party.id not in found:
            raise ValidationError(
                gettext("agent_assist.msg_unknown_party", party=record.party.id, record=record.rec_name)
            )


def check_json(records, field_names):
    "Raise ValidationError naming the first field that holds text that is not JSON"
    for record in records:
        for name in field_names:
            value = getattr(record, name)
            if not value:
                continue
            try:
                json.loads(value)
            except ValueError as error:
                raise ValidationError(
                    gettext("agent_assist.msg_invalid_json", field=name, record=record.rec_name, error=str(error))
                ) from error


class Call(ModelSQL, ModelView):
    "Agent Assist Call"

    __name__ = "agent_assist.call"
    _rec_name = "external_id"

    external_id = fields.Char(
        "External ID", required=True, states=_FROZEN, help="The interaction's id on the station; stable across retries."
    )
    party = fields.Many2One("party.party", "Party", required=True, ondelete="CASCADE")
    station = fields.Char("Station", states=_FROZEN)
    direction = fields.Selection(DIRECTIONS, "Direction", required=True, states=_FROZEN)
    started_at = fields.Timestamp("Started At", required=True, states=_FROZEN)
    answered_at = fields.Timestamp("Answered At", states=_FROZEN)
    ended_at = fields.Timestamp("Ended At", states=_FROZEN)
    duration = fields.Integer("Duration", states=_FROZEN, help="In seconds.")
    agent = fields.Char("Agent", states=_FROZEN)
    professional = fields.Char("Professional", states=_FROZEN)
    product = fields.Char("Product", states=_FROZEN)
    verdict = fields.Selection(VERDICTS, "Verdict", states=_FROZEN)
    reason = fields.Char("Reason", states=_FROZEN, help="The code of the reason that decided the verdict.")
    disposition = fields.Char("Disposition", states=_FROZEN)
    summary = fields.Text("Summary", states=_FROZEN, help="The after-call summary validated by the agent (JSON).")
    transcript = fields.Text("Transcript", states=_FROZEN, help="The redacted transcript (JSON list of lines).")
    dialled_against_forbidden = fields.Boolean(
        "Dialled Against Forbidden", states=_FROZEN, help="A commercial call placed while the verdict was forbidden."
    )
    review_state = fields.Selection(REVIEW_STATES, "Review State", required=True)
    review_comment = fields.Text("Review Comment")
    reviewer = fields.Char("Reviewer")
    reviewed_at = fields.Timestamp("Reviewed At")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ("external_id_unique", Unique(t, t.external_id), "agent_assist.msg_call_external_id_unique"),
            ("duration_positive", Check(t, Not(t.duration < 0)), "agent_assist.msg_call_duration_positive"),
        ]
        cls._order = [("started_at", "DESC"), ("id", "DESC")]

    @staticmethod
    def default_review_state():
        return "pending"

    @staticmethod
    def default_dialled_against_forbidden():
        return False

    @classmethod
    def validate(cls, calls):
        super().validate(calls)
        check_party(calls)
        check_json(calls, ["summary", "transcript"])
        for call in calls:
            if call.ended_at and call.ended_at < call.started_at:
                raise ValidationError(gettext("agent_assist.msg_call_ends_before_start", call=call.rec_name))
