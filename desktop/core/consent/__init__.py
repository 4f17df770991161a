"""The consent engine: facts, policy pack, pure rules engine, ledger and importers."""
