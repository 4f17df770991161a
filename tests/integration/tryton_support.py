"""A real Tryton 8.2 for the integration tests: one server for the whole session, on a fresh database.

Fixtures (registered in ``tests/integration/conftest.py``):

- ``tryton`` (session): a :class:`~integrations.tryton.server.TrytonHandle` (``.endpoint``, ``.key``, ``.url``,
  ``.database``, ``.log``), started from ``integrations/tryton/server.py`` on a database made for this session
  (installed into ``.cache/tryton`` or ``$AGENT_ASSIST_TRYTON_HOME`` the first time: about 15 s, then reused),
  stopped and deleted at the end. A machine where it cannot start fails the test with the reason.
- ``tryton_connector`` (per test): a :class:`~desktop.core.crm.connectors.tryton.TrytonConnector` on it.

Tests share the database: make every number and external id unique with :func:`unique_number` and
:func:`unique_id`, never count rows you did not create. A test that needs an empty database starts its own server
with :func:`fresh_tryton` (about 1 s: a copy of the template database).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
from collections.abc import Iterator

import pytest

from desktop.core.crm.connectors.tryton import TrytonConnector
from integrations.tryton.server import TrytonError, TrytonHandle, default_home, drop_database, start_tryton

INSTALL_HINT = "python -m integrations.tryton.server install  (needs network access to PyPI the first time)"
_SESSION = secrets.randbelow(10**6)
_COUNTER = itertools.count(1)


def unique_id(prefix: str = "t") -> str:
    """An external id no other test (nor an earlier run on the same database) uses."""
    return f"{prefix}-{os.getpid()}-{_SESSION:06d}-{next(_COUNTER)}"


def unique_number() -> str:
    """A French mobile number (E.164) that no other test of this session uses."""
    return f"+336{(_SESSION * 100 + next(_COUNTER)) % 10**8:08d}"


def _database_name(purpose: str) -> str:
    return f"{purpose}_{os.getpid()}_{secrets.token_hex(3)}"


@contextlib.contextmanager
def fresh_tryton(purpose: str = "test") -> Iterator[TrytonHandle]:
    """A server of its own on an empty database (deleted afterwards); fails the test when it cannot start."""
    database = _database_name(purpose)
    try:
        handle = start_tryton(default_home(), 0, database, fresh=True)
    except TrytonError as error:
        pytest.fail(f"Tryton 8.2 could not be started: {error}\nTo install by hand: {INSTALL_HINT}", pytrace=False)
    try:
        yield handle
    finally:
        handle.stop()
        drop_database(handle.home, database)


@pytest.fixture(scope="session")
def tryton() -> Iterator[TrytonHandle]:
    """One Tryton for the session (see the module docstring)."""
    with fresh_tryton("session") as handle:
        yield handle


@pytest.fixture
def tryton_connector(tryton: TrytonHandle) -> Iterator[TrytonConnector]:
    connector = TrytonConnector(tryton.endpoint, tryton.key)
    yield connector
    connector.close()
