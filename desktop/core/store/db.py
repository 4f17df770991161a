"""Opening the local store: one SQLite file in the data folder, WAL, foreign keys, migrated on open.

The connection runs in autocommit mode and every change goes through :func:`transaction`, so that a
multi-statement change (a record and its ledger entry, an import) is all-or-nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from desktop.core.errors import IntegrityError
from desktop.core.store.migrations import LATEST, MIGRATIONS

DB_NAME = "agent-assist.sqlite3"


class Store:
    """The open database of one data folder. Owned by one thread (sqlite connections are not shared)."""

    def __init__(self, path: Path, *, target_version: int = LATEST) -> None:
        self.path = path
        # The folder holds transcripts, numbers and the API token: the user's own (0700) when we create it.
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        new = not path.exists()
        conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        if new:
            path.chmod(0o600)
        self.db = sqlite_utils.Database(conn)
        self.conn = conn
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 10000")
        self.db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no committed transaction
        migrate(conn, target_version)

    @property
    def version(self) -> int:
        return schema_version(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(data_dir: Path) -> Store:
    return Store(data_dir / DB_NAME)


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception (the exception goes on)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def statements(script: str) -> Iterator[str]:
    """Split a script into complete statements (triggers contain semicolons)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:60]}")


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> int:
    """Apply the migrations after the current version up to ``target``; returns the version reached."""
    current = schema_version(conn)
    if current > LATEST:
        raise IntegrityError(
            f"the database is at schema version {current}, newer than this program knows ({LATEST}): "
            "update Agent Assist"
        )
    for version in range(current + 1, target + 1):
        with transaction(conn):
            for statement in statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
    return schema_version(conn)
