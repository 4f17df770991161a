# Consent events shared between stations and the CRM: an append-only log, one row per external id.
import datetime as dt
import uuid

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import AccessError

from .call import check_json, check_party

KINDS = [
    ("given", "Given"),
    ("withdrawn", "Withdrawn"),
    ("objection", "Objection"),
]


class ConsentEvent(ModelSQL, ModelView):
    "Agent Assist Consent Event"

    __name__ = "agent_assist.consent"
    _rec_name = "external_id"

    external_id = fields.Char(
        "External ID",
        required=True,
        help="The event's id on the station that recorded it, or a new one for an event recorded in the CRM.",
    )
    party = fields.Many2One("party.party", "Party", required=True, ondelete="CASCADE")
    kind = fields.Selection(KINDS, "Kind", required=True)
    professional = fields.Char(
        "Professional", required=True, help="To whom the consent was given, or from whom the person withdraws."
    )
    products = fields.Text("Products", help="JSON list of products; empty means every product.")
    occurred_at = fields.Timestamp("Occurred At", required=True)
    consent_uid = fields.Char("Consent UID")
    consent = fields.Text("Consent", help="For a given consent: its content (JSON).")
    source = fields.Char("Source", required=True)
    interaction_id = fields.Char("Interaction ID", help="The external ID of the call during which it was said.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ("external_id_unique", Unique(t, t.external_id), "agent_assist.msg_consent_external_id_unique"),
        ]
        cls._order = [("occurred_at", "DESC"), ("id", "DESC")]

    @staticmethod
    def default_external_id():
        return f"crm:{uuid.uuid4().hex}"

    @staticmethod
    def default_occurred_at():
        # Tryton stores naive UTC datetimes.
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)

    @staticmethod
    def default_source():
        return "crm"

    @classmethod
    def validate(cls, events):
        super().validate(events)
        check_party(events)
        check_json(events, ["products", "consent"])

    @classmethod
    def write(cls, *args):
        # Append-only: a change of mind is a new event, so that every station replays the same history.
        events = [event for records in args[::2] for event in records]
        if events:
            raise AccessError(gettext("agent_assist.msg_consent_append_only", event=events[0].rec_name))
        super().write(*args)
