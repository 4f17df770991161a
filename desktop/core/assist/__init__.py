"""Live help during the call: consent phrase detection, the opening-disclosure checklist, playbook replies."""
