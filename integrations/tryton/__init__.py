"""Tryton 8.2 as the project's real CRM: the ``trytond_agent_assist`` module and ``server`` (install, start, stop)."""
