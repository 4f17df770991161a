"""Agent Assist: the desktop assistant that sits beside a call-centre agent's softphone."""

__version__ = "0.1.0"
