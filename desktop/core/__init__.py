"""Domain logic of Agent Assist. Plain Python: nothing below this package imports Qt."""
