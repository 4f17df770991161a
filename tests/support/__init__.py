"""Test support shared by the CRM sync tests: a fault-injecting proxy and an in-memory connector double."""
