"""Errors that the command line and the UI show to a person as one line."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a person or a file: the message is one line and names what is wrong (and where)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class IntegrityError(RuntimeError):
    """Stored data failed a check (ledger chain broken, database corrupt)."""


class NotFoundError(LookupError):
    """A record that was asked for does not exist."""

    def __str__(self) -> str:  # LookupError quotes its argument; we want the plain sentence
        return str(self.args[0]) if self.args else ""
