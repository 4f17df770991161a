"""CRM sync: the outbox, its worker, the consent pull and the connectors (Tryton, webhook, Salesforce, HubSpot,
Dynamics 365) behind one contract, :mod:`desktop.core.crm.contract`."""
