# The party's calls and consent events, readable through REST as party.calls / party.consent_events.
from trytond.model import fields
from trytond.pool import PoolMeta


class Party(metaclass=PoolMeta):
    __name__ = "party.party"

    calls = fields.One2Many("agent_assist.call", "party", "Calls", readonly=True)
    consent_events = fields.One2Many("agent_assist.consent", "party", "Consent Events", readonly=True)
