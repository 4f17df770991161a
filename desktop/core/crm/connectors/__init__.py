"""Connectors by name, imported only when chosen (each pulls its own dependencies).

Every connector class has ``from_settings(crm: desktop.config.Crm, secret: str | None) -> Connector``; the
secret comes from the OS keyring (``desktop.core.crm.credentials``), never from the settings file.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.config import Crm
    from desktop.core.crm.contract import Connector

CONNECTORS: dict[str, str] = {
    "tryton": "desktop.core.crm.connectors.tryton:TrytonConnector",
    "webhook": "desktop.core.crm.connectors.webhook:WebhookConnector",
    "salesforce": "desktop.core.crm.connectors.salesforce:SalesforceConnector",
    "hubspot": "desktop.core.crm.connectors.hubspot:HubSpotConnector",
    "dynamics": "desktop.core.crm.connectors.dynamics:DynamicsConnector",
}


def make_connector(crm: Crm, secret: str | None) -> Connector | None:
    """The connector the settings name, or None for ``connector = "none"``; InputError if it is unknown or
    its settings are incomplete (the connector's own message)."""
    if crm.connector == "none":
        return None
    try:
        target = CONNECTORS[crm.connector]
    except KeyError:
        raise InputError(f"crm.connector: unknown connector {crm.connector!r}") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    connector: Connector = cls.from_settings(crm, secret)
    return connector
