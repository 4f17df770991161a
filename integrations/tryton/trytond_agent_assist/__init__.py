# Tryton module "agent_assist": the models are registered from tryton.cfg ([register]).
"""Calls, consent events and team-lead review of Agent Assist stations, with unique external ids."""
