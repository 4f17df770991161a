from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.core.errors import IntegrityError
from desktop.core.store import db as db_module
from desktop.core.store.db import Store, migrate, schema_version, statements
from desktop.core.store.migrations import LATEST, MIGRATIONS

# Rows that each version's schema can hold, inserted before upgrading so that the upgrade must keep them.
SAMPLES = {
    1: [
        "INSERT INTO meta (key, value) VALUES ('sync.enabled', '0')",
        "INSERT INTO consumers (number, timezone, updated_at) VALUES ('+33639980001', 'Europe/Paris', 'x')",
        "INSERT INTO call_attempts (uid, number, professional, professional_key, at, at_utc, outcome, source)"
        " VALUES ('a1', '+33639980001', 'ACME', 'acme', '2026-11-02T10:30:00+01:00', '2026-11-02T09:30:00Z',"
        " 'no_answer', 'test')",
    ],
    2: [
        "INSERT INTO interactions (uid, number, state, created_at, updated_at)"
        " VALUES ('i1', '+33639980001', 'ended', 'x', 'x')",
        "INSERT INTO transcript_segments (interaction_id, idx, speaker, text, created_at)"
        " VALUES (1, 0, 'customer', 'bonjour', 'x')",
    ],
    3: [],
    4: [
        "INSERT INTO suggestion_uses (interaction_id, source, accepted, at) VALUES (1, 'playbook:x', 1, 'x')",
    ],
    5: [
        "INSERT INTO sync_state (key, value, updated_at) VALUES ('consent_cursor', 'c1', 'x')",
        "INSERT INTO reviews (interaction_uid, state, reviewer, at) VALUES ('i1', 'approved', 'lead', 'x')",
    ],
    6: [],
}


def _schema(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").fetchall()
    return [(name, " ".join(sql.split())) for name, sql in rows]


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}


def test_every_version_has_samples() -> None:
    assert set(SAMPLES) == set(range(1, LATEST + 1))


def test_a_new_store_is_the_users_own(tmp_path: Path) -> None:
    with Store(tmp_path / "data" / "s.sqlite3"):
        pass
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "data" / "s.sqlite3").stat().st_mode & 0o777 == 0o600


def test_fresh_store_is_latest_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite3") as store:
        assert store.version == LATEST
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        for table in (
            "consents",
            "consent_events",
            "contracts",
            "opposition_entries",
            "opposition_scrubs",
            "call_attempts",
            "interactions",
            "transcript_segments",
            "summaries",
            "outbox",
            "audit",
        ):
            assert table in store.db.table_names()
        assert "objections" in store.db.view_names()


@pytest.mark.parametrize("start", range(LATEST))
def test_upgrade_from_every_earlier_version(tmp_path: Path, start: int) -> None:
    path = tmp_path / f"v{start}.sqlite3"
    with Store(path, target_version=start) as old:
        assert old.version == start
        for version in range(1, start + 1):
            for sql in SAMPLES[version]:
                old.conn.execute(sql)
        before = _counts(old.conn)
    with Store(path) as upgraded:
        assert upgraded.version == LATEST
        after = _counts(upgraded.conn)
        assert {table: after[table] for table in before} == before
        with Store(tmp_path / "fresh.sqlite3") as fresh:
            assert _schema(upgraded.conn) == _schema(fresh.conn)


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    with pytest.raises(IntegrityError, match="newer than this program"):
        Store(path)


def test_failed_migration_leaves_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.sqlite3"
    Store(path, target_version=1).close()
    broken = (*MIGRATIONS, "CREATE TABLE ok_table (x INTEGER);\nCREATE TABLE consents (x INTEGER);")
    monkeypatch.setattr(db_module, "MIGRATIONS", broken)
    monkeypatch.setattr(db_module, "LATEST", len(broken))
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, len(broken))
    assert schema_version(conn) == LATEST
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'ok_table'").fetchone()[0] == 0
    conn.close()


def test_statement_splitter_keeps_triggers_whole() -> None:
    script = "CREATE TABLE t (x);\nCREATE TRIGGER g BEFORE DELETE ON t\nBEGIN SELECT 1; SELECT 2; END;\n"
    assert len(list(statements(script))) == 2


def test_append_only_tables_refuse_changes(store: Store) -> None:
    store.conn.execute(
        "INSERT INTO decisions (evaluated_at, verdict, regime, scope, reasons, policy_name, policy_version, facts,"
        " facts_hash, created_at) VALUES ('x', 'allowed', 'opt_in', 'canvassing', '[]', 'fr', '1', '{}', 'h', 'x')"
    )
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE decisions SET verdict = 'forbidden'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM decisions")
