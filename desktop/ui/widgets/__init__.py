"""The agent panel's parts: each shows one thing about the call and emits the agent's intents as signals.

None of them talks to the call service: :class:`desktop.ui.panel.AgentPanel` wires them.
"""
