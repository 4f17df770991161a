"""Call events from the softphone (baresip, hook commands, local HTTP API, demo replay) and the call session."""
