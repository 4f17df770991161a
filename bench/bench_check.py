"""How long ``consent check`` takes against a big store: the facts read from SQLite, evaluated, recorded.

The store (real schema, opened with ``open_store``) is built once and cached in bench/out/check-store/<sizes>/:
1,000,000 consents on 600,000 distinct numbers +33639xxxxxx (each with its ``given`` ledger entry, hash-chained
by the app's own LedgerWriter), withdrawals for a few thousand numbers, objections, 1,000,000 call attempts over
the last 90 days and 100,000 contracts (80 % of them on numbers that have a consent), an opposition-list scrub,
some consumer records and information requests.

Then, for 2,000 random numbers (half with consents, half without), it times in-process
``check(conn, question, policy, store=False)`` (a first pass after dropping the OS page cache of the store file,
and a warm pass) and ``store=True``, the parts of a check, the same SQL statements
run from Python alone, the same statements run by the ``sqlite3`` command-line shell, and the whole
``agent-assist consent check`` command as a subprocess for 20 numbers.

    .venv/bin/python bench/bench_check.py [--consents 1000000] [--attempts 1000000] [--contracts 100000]
                                          [--numbers 600000] [--lookups 2000] [--cli 20] [--rebuild]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _machine import machine_markdown

from desktop.core.consent.check import CallQuestion, build_facts, check
from desktop.core.consent.engine import evaluate
from desktop.core.consent.facts import parse_facts
from desktop.core.consent.ledger import LedgerWriter, content_hash, utc_key
from desktop.core.consent.policy import Policy, load_policy
from desktop.core.consent.professionals import professional_key
from desktop.core.store.consents import CONSENT_COLUMNS, ConsentRecord, content_from_row
from desktop.core.store.db import DB_NAME, open_store
from desktop.core.store.migrations import LATEST

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PARIS = ZoneInfo("Europe/Paris")
#: The questions are asked on this day (a Tuesday in the opt-in regime); the data lies before it.
QUESTION_DAY = dt.date(2026, 11, 24)
#: Bump when the generator changes, so that an old cached store is not reused.
GENERATOR = 1
TARGET_P99_MS = 10.0
CALLER_ID = "+33162000001"


@dataclass(frozen=True)
class Professional:
    name: str
    weight: float
    products: tuple[str, ...]
    related: tuple[str, ...]
    sector: str | None = None


PROFESSIONALS = (
    Professional("ACME Énergie SAS", 0.50, ("electricity", "gas"), ("electricity_green_option",)),
    Professional("Partenaires Énergie SARL", 0.15, ("electricity", "gas"), ()),
    Professional("Télécom Horizon SAS", 0.20, ("fiber", "mobile"), ("tv_option",)),
    Professional("Assurances Lumière SA", 0.10, ("home_insurance", "car_insurance"), (), "insurance"),
    Professional("Presse Régionale SARL", 0.05, ("newspaper",), (), "press"),
)
PRO_WEIGHTS = [pro.weight for pro in PROFESSIONALS]
METHODS = (("web_form", 70), ("paper", 5), ("store", 5), ("email", 5), ("phone_call", 5), ("recorded_call", 5))
OUTCOMES = (("no_answer", 40), ("answered", 25), ("voicemail", 15), ("busy", 8), ("refused", 7), ("failed", 5))
DEPARTMENTS = ("75", "69", "13", "33", "59", "67", "57", "68", "31", "44", "2A", "974")
SOURCE = "bench"


# -- sizes and the cached store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    consents: int
    numbers: int
    attempts: int
    contracts: int
    withdrawals: int
    objections: int
    opposition: int
    consumers: int
    info_requests: int
    seed: int

    def key(self) -> str:
        return (
            f"k{self.consents}-n{self.numbers}-a{self.attempts}-c{self.contracts}-w{self.withdrawals}"
            f"-o{self.objections}-b{self.opposition}-u{self.consumers}-i{self.info_requests}"
            f"-s{self.seed}-schema{LATEST}-gen{GENERATOR}"
        )


def number_text(value: int) -> str:
    return f"+33639{value:06d}"


def number_split(sizes: Sizes) -> tuple[list[int], list[int]]:
    """The numbers with a consent (``sizes.numbers`` of them) and the others of the +33639 range."""
    rng = random.Random(f"{sizes.seed}-numbers")
    space = 1_000_000
    if sizes.numbers >= space:
        raise SystemExit(f"--numbers must be below {space} (the +33639xxxxxx range)")
    with_consent = rng.sample(range(space), sizes.numbers)
    taken = set(with_consent)
    others = [value for value in range(space) if value not in taken]
    return with_consent, others


def local_instant(rng: random.Random, day: dt.date, calling_hours: bool = True) -> dt.datetime:
    """A random instant of ``day`` in Paris: within the calling hours, or between 08:00 and 22:00."""
    if calling_hours:
        minute = rng.randrange(9 * 60)  # 10:00-13:00 and 14:00-20:00
        minute += 10 * 60 if minute < 180 else 11 * 60
    else:
        minute = rng.randrange(8 * 60, 22 * 60)
    naive = dt.datetime.combine(day, dt.time(minute // 60, minute % 60, rng.randrange(60)))
    return naive.replace(tzinfo=PARIS)


def weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in table], [weight for _, weight in table])[0]


class Progress:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def say(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.start:7.1f} s] {message}", file=sys.stderr, flush=True)


_INSERT_CONSENT = (
    f"INSERT INTO consents (uid, {', '.join(CONSENT_COLUMNS)}, professional_key, source, content_hash,"
    f" recorded_at) VALUES ({', '.join('?' * (len(CONSENT_COLUMNS) + 5))})"
)
_INSERT_ATTEMPT = (
    "INSERT INTO call_attempts (uid, number, professional, professional_key, at, at_utc, outcome, source)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_CONTRACT = (
    "INSERT INTO contracts (uid, number, professional, professional_key, products, related_products, status,"
    " started_at, ended_at, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def build_store(folder: Path, sizes: Sizes, progress: Progress) -> dict[str, Any]:
    """Create the store in a scratch folder, fill it, and move it into place only once complete."""
    scratch = folder.with_name(folder.name + ".building")
    shutil.rmtree(scratch, ignore_errors=True)
    started = time.perf_counter()
    open_store(scratch).close()  # the real schema, at the latest version
    conn = sqlite3.connect(scratch / DB_NAME, isolation_level=None)
    # Bulk-load settings for this build only; the file goes back to WAL (what open_store sets) at the end.
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    conn.execute("PRAGMA foreign_keys = ON")  # the data must hold together, as in the app
    rng = random.Random(f"{sizes.seed}-data")
    with_consent, others = number_split(sizes)
    progress.say(f"building the store in {scratch} ({sizes.key()})")
    consents_of = fill_consents(conn, rng, sizes, with_consent, progress)
    fill_events(conn, rng, sizes, consents_of, progress)
    del consents_of
    fill_attempts(conn, rng, sizes, with_consent, others, progress)
    fill_contracts(conn, rng, sizes, with_consent, others, progress)
    fill_others(conn, rng, sizes, with_consent, others, progress)
    conn.execute("PRAGMA journal_mode = WAL")
    problems = conn.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise SystemExit(f"the generated store breaks a foreign key: {problems[:3]}")
    conn.close()
    with open_store(scratch) as store:  # opens as the app does (migrations: nothing to do)
        counts = table_counts(store.conn)
    manifest = {
        "sizes": sizes.__dict__,
        "counts": counts,
        "build_seconds": round(time.perf_counter() - started, 1),
        "built_at": dt.datetime.now(dt.UTC).isoformat(),
        "schema_version": LATEST,
    }
    (scratch / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    scratch.rename(folder)
    progress.say(f"store built in {manifest['build_seconds']} s")
    return manifest


def fill_consents(
    conn: sqlite3.Connection, rng: random.Random, sizes: Sizes, numbers: list[int], progress: Progress
) -> dict[int, list[tuple[str, str, dt.datetime]]]:
    """Consents in the order they were collected, each with its ``given`` entry; returns them per number."""
    owners = numbers + [rng.choice(numbers) for _ in range(max(0, sizes.consents - len(numbers)))]
    owners = owners[: sizes.consents]
    days = [rng.randint(1, 420) for _ in owners]  # ~13 % older than a year: expired
    order = sorted(range(len(owners)), key=lambda index: -days[index])
    ledger = LedgerWriter(conn, batch=10_000)
    consents_of: dict[int, list[tuple[str, str, dt.datetime]]] = defaultdict(list)
    chunk = 50_000
    for begin in range(0, len(order), chunk):
        rows: list[tuple[Any, ...]] = []
        events: list[tuple[ConsentRecord, str, str, str, dict[str, Any], dt.datetime]] = []
        for index in order[begin : begin + chunk]:
            value = owners[index]
            pro = rng.choices(PROFESSIONALS, PRO_WEIGHTS)[0]
            collected = local_instant(rng, QUESTION_DAY - dt.timedelta(days=days[index]), calling_hours=False)
            slot: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
            if rng.random() < 0.01:
                start = local_instant(rng, QUESTION_DAY + dt.timedelta(days=rng.randint(1, 20)), False)
                slot = ((start, start + dt.timedelta(minutes=15)),)
            record = ConsentRecord(
                number=number_text(value),
                professional=pro.name,
                products=tuple(rng.sample(pro.products, rng.randint(1, len(pro.products)))),
                collected_at=collected,
                method=weighted(rng, METHODS) if pro.sector != "insurance" or rng.random() < 0.5 else "web_form",
                affirmative_act=True if rng.random() < 0.98 else rng.choice((False, None)),
                pre_ticked=rng.random() < 0.03,
                evidence_ref=f"evidence-{begin + len(rows):07d}" if rng.random() < 0.99 else None,
                text_shown=f"J'accepte d'être appelé par {pro.name} pour ses offres.",
                collected_during_unlawful_call=rng.random() < 0.005,
                out_of_hours_slots=slot,
                out_of_hours_any=rng.random() < 0.005,
                external_id=f"K{index:07d}",
            )
            row = record.row()
            content = content_from_row(row)
            digest = content_hash(content)
            uid = record.uid(digest)
            key = professional_key(pro.name)
            recorded = collected + dt.timedelta(hours=1)
            rows.append((uid, *row, key, SOURCE, digest, recorded.isoformat()))
            events.append((record, key, uid, digest, content, recorded))
            consents_of[value].append((uid, pro.name, collected))
        conn.execute("BEGIN")
        conn.executemany(_INSERT_CONSENT, rows)
        for record, key, uid, digest, content, recorded in events:  # exactly what insert_consent appends
            ledger.append(
                "given",
                number=record.number,
                professional=record.professional,
                professional_key=key,
                at=record.collected_at or recorded,
                payload={"content_hash": digest, "source": SOURCE, "content": content},
                consent_uid=uid,
                recorded_at=recorded,
            )
        ledger.flush()
        conn.execute("COMMIT")
        progress.say(f"consents: {begin + len(rows):,} / {len(order):,}")
    return consents_of


def fill_events(
    conn: sqlite3.Connection,
    rng: random.Random,
    sizes: Sizes,
    consents_of: dict[int, list[tuple[str, str, dt.datetime]]],
    progress: Progress,
) -> None:
    """Withdrawals (of one consent, or of every consent of a professional) and objections, in time order."""
    end = dt.datetime.combine(QUESTION_DAY, dt.time(), tzinfo=PARIS) - dt.timedelta(hours=1)
    pending: list[tuple[dt.datetime, str, int, str, str | None, dict[str, Any]]] = []
    for value in rng.sample(sorted(consents_of), min(sizes.withdrawals, len(consents_of))):
        uid, professional, collected = rng.choice(consents_of[value])
        at = collected + (end - collected) * rng.random()
        whole = rng.random() < 0.3  # "ne m'appelez plus": every consent given to this professional
        payload = {"source": SOURCE, "channel": rng.choice(("oral", "written", "web", "crm"))}
        pending.append((at, "withdrawn", value, professional, None if whole else uid, payload))
    for value in rng.sample(sorted(consents_of), min(sizes.objections, len(consents_of))):
        _, professional, collected = rng.choice(consents_of[value])
        at = collected + (end - collected) * rng.random()
        pending.append((at, "objection", value, professional, None, {"scope": rng.choice(("marketing", "all"))}))
    pending.sort(key=lambda item: item[0])
    ledger = LedgerWriter(conn, batch=10_000)
    conn.execute("BEGIN")
    for at, kind, value, professional, consent_uid, payload in pending:
        ledger.append(
            kind,
            number=number_text(value),
            professional=professional,
            professional_key=professional_key(professional),
            at=at.astimezone(PARIS),
            payload=payload,
            consent_uid=consent_uid,
            recorded_at=at + dt.timedelta(minutes=2),
        )
    ledger.flush()
    conn.execute("COMMIT")
    progress.say(f"ledger events: {len(pending):,} withdrawals and objections")


def pick_number(rng: random.Random, with_consent: list[int], others: list[int], share: float = 0.8) -> str:
    return number_text(rng.choice(with_consent) if rng.random() < share else rng.choice(others))


def fill_attempts(
    conn: sqlite3.Connection,
    rng: random.Random,
    sizes: Sizes,
    with_consent: list[int],
    others: list[int],
    progress: Progress,
) -> None:
    """Attempts over the 90 days before the question day, in calling hours, inserted in time order."""
    instants = []
    for _ in range(sizes.attempts):
        day = QUESTION_DAY - dt.timedelta(days=rng.randint(1, 90))
        instants.append(local_instant(rng, day))
    instants.sort()
    chunk = 100_000
    for begin in range(0, len(instants), chunk):
        rows = []
        for offset, at in enumerate(instants[begin : begin + chunk]):
            pro = rng.choices(PROFESSIONALS, PRO_WEIGHTS)[0]
            rows.append(
                (
                    f"A{begin + offset:07d}",
                    pick_number(rng, with_consent, others),
                    pro.name,
                    professional_key(pro.name),
                    at.isoformat(),
                    utc_key(at),
                    weighted(rng, OUTCOMES),
                    SOURCE,
                )
            )
        conn.execute("BEGIN")
        conn.executemany(_INSERT_ATTEMPT, rows)
        conn.execute("COMMIT")
        progress.say(f"attempts: {begin + len(rows):,} / {len(instants):,}")


def fill_contracts(
    conn: sqlite3.Connection,
    rng: random.Random,
    sizes: Sizes,
    with_consent: list[int],
    others: list[int],
    progress: Progress,
) -> None:
    horizon = dt.datetime.combine(QUESTION_DAY, dt.time(), tzinfo=PARIS)
    rows = []
    for index in range(sizes.contracts):
        pro = rng.choices(PROFESSIONALS, PRO_WEIGHTS)[0]
        started = local_instant(rng, QUESTION_DAY - dt.timedelta(days=rng.randint(30, 2000)), False)
        status = weighted(rng, (("active", 85), ("ended", 12), ("suspended", 3)))
        ended = started + (horizon - started) * rng.random() if status == "ended" else None
        rows.append(
            (
                f"C{index:07d}",
                pick_number(rng, with_consent, others),
                pro.name,
                professional_key(pro.name),
                json.dumps([rng.choice(pro.products)]),
                json.dumps(list(pro.related)),
                status,
                started.isoformat(),
                ended.isoformat() if ended else None,
                SOURCE,
                started.isoformat(),
            )
        )
    conn.execute("BEGIN")
    conn.executemany(_INSERT_CONTRACT, rows)
    conn.execute("COMMIT")
    progress.say(f"contracts: {len(rows):,}")


def fill_others(
    conn: sqlite3.Connection,
    rng: random.Random,
    sizes: Sizes,
    with_consent: list[int],
    others: list[int],
    progress: Progress,
) -> None:
    """One opposition-list scrub, consumer records, information requests."""
    scrubbed = QUESTION_DAY - dt.timedelta(days=22)
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO opposition_scrubs (id, scrubbed_on, source, rows, imported_at) VALUES (1, ?, ?, ?, ?)",
        (scrubbed.isoformat(), SOURCE, sizes.opposition, f"{scrubbed.isoformat()}T09:00:00+00:00"),
    )
    entries = []
    for value in rng.sample(range(1_000_000), sizes.opposition):
        registered = rng.random() < 0.25
        since = (scrubbed - dt.timedelta(days=rng.randint(1, 3000))).isoformat() if registered else None
        entries.append((number_text(value), scrubbed.isoformat(), int(registered), since))
    conn.executemany(
        "INSERT INTO opposition_entries (number, scrubbed_on, registered, since, scrub_id) VALUES (?, ?, ?, ?, 1)",
        entries,
    )
    consumers = [
        (
            number_text(value),
            "Europe/Paris" if rng.random() < 0.98 else "Indian/Reunion",
            rng.choice(DEPARTMENTS),
            "business" if rng.random() < 0.01 else "consumer",
            "2026-10-01T00:00:00+00:00",
        )
        for value in rng.sample(with_consent, min(sizes.consumers, len(with_consent)))
    ]
    conn.executemany(
        "INSERT INTO consumers (number, timezone, department, line_type, updated_at) VALUES (?, ?, ?, ?, ?)",
        consumers,
    )
    requests = []
    for _ in range(sizes.info_requests):
        pro = rng.choices(PROFESSIONALS, PRO_WEIGHTS)[0]
        at = local_instant(rng, QUESTION_DAY - dt.timedelta(days=rng.randint(1, 60)), False)
        requests.append(
            (
                pick_number(rng, with_consent, others),
                pro.name,
                professional_key(pro.name),
                at.isoformat(),
                json.dumps([rng.choice(pro.products)]),
                SOURCE,
            )
        )
    conn.executemany(
        "INSERT INTO info_requests (number, professional, professional_key, at, products, source)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        requests,
    )
    conn.execute("COMMIT")
    progress.say(
        f"opposition entries: {sizes.opposition:,}, consumers: {sizes.consumers:,}, info requests: {len(requests):,}"
    )


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = (
        "consents",
        "consent_events",
        "call_attempts",
        "contracts",
        "opposition_entries",
        "consumers",
        "info_requests",
        "decisions",
    )
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}


# -- the questions ---------------------------------------------------------------------------------------------


@dataclass
class Lookup:
    question: CallQuestion
    has_consent: bool
    statements: list[str] = field(default_factory=list)  # what build_facts ran for it, parameters inlined


def questions(
    conn: sqlite3.Connection, sizes: Sizes, count: int, seed: str, exclude: frozenset[str] = frozenset()
) -> list[Lookup]:
    """``count`` numbers, half with consents (asked for a professional and product of one of them)."""
    rng = random.Random(f"{sizes.seed}-{seed}")
    with_consent, others = number_split(sizes)
    if exclude:
        with_consent = [value for value in with_consent if number_text(value) not in exclude]
        others = [value for value in others if number_text(value) not in exclude]
    chosen = rng.sample(with_consent, count - count // 2) + rng.sample(others, count // 2)
    rng.shuffle(chosen)
    present = set(with_consent)
    found = []
    for value in chosen:
        number = number_text(value)
        at = local_instant(rng, QUESTION_DAY)
        pro = rng.choices(PROFESSIONALS, PRO_WEIGHTS)[0]
        product = rng.choice(pro.products)
        if value in present:
            row = rng.choice(
                conn.execute(
                    "SELECT professional, products FROM consents WHERE number = ? ORDER BY id", (number,)
                ).fetchall()
            )
            pro = next(candidate for candidate in PROFESSIONALS if candidate.name == row[0])
            product = rng.choice(json.loads(row[1]))
        question = CallQuestion(
            number=number,
            product=product,
            professional=pro.name,
            at=at,
            caller_id=CALLER_ID,
            sector=pro.sector,
        )
        found.append(Lookup(question, value in present))
    return found


# -- timing ----------------------------------------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": percentile(ordered, 0.5),
        "p99": percentile(ordered, 0.99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
        "n": len(ordered),
    }


def timed(action: Callable[[], Any]) -> float:
    """Milliseconds that ``action`` takes."""
    start = time.perf_counter_ns()
    action()
    return (time.perf_counter_ns() - start) / 1e6


def kind_of(sql: str) -> str:
    """Which of build_facts' lookups a statement is."""
    table = re.search(r"\bFROM (\w+)", sql)
    name = table.group(1) if table else sql.split()[0]
    if name == "call_attempts":
        return "call_attempts (refusals)" if "'refused'" in sql else "call_attempts (30-day window)"
    if name == "consent_events":
        return "consent_events (withdrawals)"
    return name


def capture_statements(conn: sqlite3.Connection, lookups: list[Lookup], policy: Policy) -> None:
    """The exact statements build_facts runs for each lookup (sqlite3 hands the trace its expanded SQL)."""
    for lookup in lookups:
        captured: list[str] = []
        conn.set_trace_callback(captured.append)
        try:
            build_facts(conn, lookup.question, policy)
        finally:
            conn.set_trace_callback(None)
        lookup.statements = captured


def run_shell(shell: str, db: Path, script: str) -> tuple[float, str]:
    """Seconds of wall time for one sqlite3 shell process fed ``script`` on standard input, and its stdout."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False, encoding="utf-8") as handle:
        handle.write(script)
        path = handle.name
    try:
        with open(path, encoding="utf-8") as stdin:
            start = time.perf_counter()
            done = subprocess.run(
                [shell, "-batch", "-bail", str(db)], stdin=stdin, capture_output=True, text=True, check=False
            )
            elapsed = time.perf_counter() - start
    finally:
        os.unlink(path)
    if done.returncode != 0:
        raise SystemExit(f"the sqlite3 shell failed: {done.stderr.strip()}")
    return elapsed, done.stdout


def shell_yardstick(shell: str, db: Path, lookups: list[Lookup], repeats: int) -> dict[str, Any]:
    """The statements of every lookup through the shell: wall time by batches, CPU time by ``.timer on``."""
    prologue = ".output /dev/null\nSELECT 1 FROM meta LIMIT 0;\n"  # the schema is read before any batch
    baseline = [run_shell(shell, db, prologue)[0] for _ in range(repeats)]
    scripts: dict[str, list[str]] = defaultdict(list)
    for lookup in lookups:
        for sql in lookup.statements:
            scripts["all"].append(sql)
            scripts[kind_of(sql)].append(sql)
    run_shell(shell, db, prologue + ";\n".join(scripts["all"]) + ";\n")  # warm the OS cache for the shell
    wall: dict[str, float] = {}
    for kind, statements in scripts.items():
        body = prologue + ";\n".join(statements) + ";\n"
        times = [run_shell(shell, db, body)[0] for _ in range(repeats)]
        wall[kind] = max(statistics.median(times) - statistics.median(baseline), 0.0)
    # .timer prints "Run Time: real R user U sys S" to stdout after each statement (the results go to /dev/null).
    timer_script = prologue + ".timer on\n" + ";\n".join(scripts["all"]) + ";\n"
    _, output = run_shell(shell, db, timer_script)
    cpu = [
        float(match.group(1)) + float(match.group(2))
        for match in re.finditer(r"Run Time: real [\d.]+ user ([\d.]+) sys ([\d.]+)", output)
    ]
    per_lookup, position = [], 0
    for lookup in lookups:
        count = len(lookup.statements)
        per_lookup.append(sum(cpu[position : position + count]) * 1000)
        position += count
    if position != len(cpu):
        raise SystemExit(f".timer gave {len(cpu)} lines for {position} statements")
    return {
        "baseline_ms": statistics.median(baseline) * 1000,
        "wall_ms": {kind: seconds * 1000 for kind, seconds in wall.items()},
        "counts": {kind: len(statements) for kind, statements in scripts.items()},
        "cpu_per_lookup_ms": per_lookup,
    }


def python_sql(conn: sqlite3.Connection, lookups: list[Lookup]) -> tuple[list[float], dict[str, float]]:
    """The same inlined statements executed from Python (execute + fetchall): per lookup, and per kind (total)."""
    per_lookup, per_kind = [], Counter[str]()
    clock = time.perf_counter_ns
    for lookup in lookups:
        total = 0
        for sql in lookup.statements:
            start = clock()
            conn.execute(sql).fetchall()
            spent = clock() - start
            total += spent
            per_kind[kind_of(sql)] += spent
        per_lookup.append(total / 1e6)
    return per_lookup, {kind: value / 1e6 for kind, value in per_kind.items()}


def wal_salt(wal: Path) -> bytes:
    try:
        with wal.open("rb") as handle:
            return handle.read(24)[16:24]
    except OSError:
        return b""


def checkpoint_commits(salts: list[bytes]) -> list[int]:
    """Indexes of the store=True checks whose commit ran SQLite's automatic checkpoint.

    The commit that takes the WAL past ``wal_autocheckpoint`` pages checkpoints it; the next write then restarts
    the WAL with a new salt. So check i checkpointed when the salt changed during check i + 1.
    """
    return [index - 1 for index in range(1, len(salts)) if salts[index] != salts[index - 1]]


def drop_os_cache(path: Path) -> bool:
    """Ask the kernel to forget its cached pages of this one file (clean pages only; nothing else is touched)."""
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return True


def resident(path: Path) -> str | None:
    """How much of the file the OS page cache holds (util-linux ``fincore``), when that tool exists."""
    if shutil.which("fincore") is None:
        return None
    done = subprocess.run(
        ["fincore", "--noheadings", "--output", "RES", str(path)], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None if done.returncode == 0 else None


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("agent-assist")
    return [str(script)] if script.exists() else [sys.executable, "-m", "desktop.cli"]


def run_cli(folder: Path, lookups: list[Lookup]) -> list[float]:
    times = []
    for lookup in lookups:
        q = lookup.question
        command = [
            *cli_command(),
            "consent",
            "check",
            q.number,
            "--product",
            q.product,
            "--professional",
            q.professional,
            "--at",
            q.at.isoformat(),
            "--caller-id",
            CALLER_ID,
            "--data-dir",
            str(folder),
            "--json",
        ]
        if q.sector:
            command += ["--sector", q.sector]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"agent-assist consent check failed ({done.returncode}): {done.stderr.strip()}")
        json.loads(done.stdout)
    return times


def run_python(code: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append((time.perf_counter() - start) * 1000)
    return times


# -- report ----------------------------------------------------------------------------------------------------


def ms(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def row(label: str, stats: dict[str, float] | None, method: str, mean: float | None = None) -> str:
    if stats is None:
        return f"| {label} | – | – | – | {ms(mean or 0)} | {method} |"
    return (
        f"| {label} | {ms(stats['p50'])} | {ms(stats['p99'])} | {ms(stats['max'])} | {ms(stats['mean'])} | {method} |"
    )


def explain(conn: sqlite3.Connection, lookups: list[Lookup]) -> dict[str, str]:
    plans: dict[str, str] = {}
    for lookup in lookups:
        for sql in lookup.statements:
            kind = kind_of(sql)
            if kind not in plans:
                details = [detail for *_, detail in conn.execute("EXPLAIN QUERY PLAN " + sql)]
                plans[kind] = "; ".join(details)
    return plans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--consents", type=int, default=1_000_000)
    parser.add_argument("--numbers", type=int, default=600_000, help="distinct numbers that have a consent")
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--withdrawals", type=int, default=5_000, help="numbers with a 'withdrawn' ledger event")
    parser.add_argument("--objections", type=int, default=1_000, help="numbers with an 'objection' ledger event")
    parser.add_argument("--opposition", type=int, default=150_000, help="opposition-list entries (one scrub)")
    parser.add_argument("--consumers", type=int, default=60_000, help="consumer records (time zone, department)")
    parser.add_argument("--info-requests", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lookups", type=int, default=2_000, help="numbers checked (half with consents)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed checks of other numbers first")
    parser.add_argument("--cli", type=int, default=20, help="numbers checked through the CLI subprocess")
    parser.add_argument("--shell", default="sqlite3", help="the sqlite3 command-line shell")
    parser.add_argument("--shell-repeats", type=int, default=5, help="runs of each shell batch (median)")
    parser.add_argument("--policy", type=Path, help="policy pack (default: the shipped one)")
    parser.add_argument("--disable-gc", action="store_true", help="disable the garbage collector while timing")
    parser.add_argument(
        "--cold",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="drop the OS page cache of the store file before the first pass (posix_fadvise DONTNEED; default on)",
    )
    parser.add_argument("--rebuild", action="store_true", help="build the store again even if cached")
    parser.add_argument("--out", type=Path, help="also write the Markdown report to this file")
    args = parser.parse_args(argv)
    sizes = Sizes(
        args.consents,
        args.numbers,
        args.attempts,
        args.contracts,
        args.withdrawals,
        args.objections,
        args.opposition,
        args.consumers,
        args.info_requests,
        args.seed,
    )
    if sizes.numbers > sizes.consents or min(sizes.numbers, args.lookups) < 2:
        parser.error("--numbers must be at least 2 and at most --consents; --lookups at least 2")
    if shutil.which(args.shell) is None:
        raise SystemExit(f"{args.shell}: not found (install it: apt-get update && apt-get install -y sqlite3)")
    progress = Progress()
    folder = OUT / "check-store" / sizes.key()
    manifest_path = folder / "manifest.json"
    if args.rebuild or not manifest_path.exists():
        manifest = build_store(folder, sizes, progress)
        built_now = True
    else:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        built_now = False
        progress.say(f"using the cached store {folder}")
    db = folder / DB_NAME
    policy = load_policy(args.policy)

    opened = time.perf_counter()
    store = open_store(folder)
    open_ms = (time.perf_counter() - opened) * 1000
    conn = store.conn
    counts = table_counts(conn)
    decisions_before = counts["decisions"]
    lookups = questions(conn, sizes, args.lookups, "lookups")
    extra = questions(conn, sizes, args.warmup + 1, "warmup", frozenset(item.question.number for item in lookups))
    first, warm = extra[0], extra[1:]
    progress.say(f"{len(lookups)} lookups ({sum(lookup.has_consent for lookup in lookups)} with consents)")

    first_ms = timed(lambda: check(conn, first.question, policy, store=False))
    for lookup in warm:
        check(conn, lookup.question, policy, store=False)
    if args.disable_gc:
        gc.collect()
        gc.disable()
    verdicts: Counter[str] = Counter()
    cold, plain, recorded, facts_ms, parse_ms, evaluate_ms = [], [], [], [], [], []
    resident_before = resident(db)
    dropped = args.cold and drop_os_cache(db)
    resident_after = resident(db)
    for lookup in lookups:  # first pass: these numbers' pages come from the disk (or the OS cache if not dropped)
        start = time.perf_counter_ns()
        _, decision, _ = check(conn, lookup.question, policy, store=False)
        cold.append((time.perf_counter_ns() - start) / 1e6)
        verdicts[decision.verdict] += 1
    for lookup in lookups:  # second pass: warm
        start = time.perf_counter_ns()
        check(conn, lookup.question, policy, store=False)
        plain.append((time.perf_counter_ns() - start) / 1e6)
    progress.say("check(store=False) done")
    for lookup in lookups:
        t0 = time.perf_counter_ns()
        document = build_facts(conn, lookup.question, policy)
        t1 = time.perf_counter_ns()
        facts = parse_facts(document, "stored facts")
        t2 = time.perf_counter_ns()
        evaluate(facts, policy)
        t3 = time.perf_counter_ns()
        facts_ms.append((t1 - t0) / 1e6)
        parse_ms.append((t2 - t1) / 1e6)
        evaluate_ms.append((t3 - t2) / 1e6)
    capture_statements(conn, lookups, policy)
    sql_per_lookup, sql_per_kind = python_sql(conn, lookups)
    wal = db.with_name(db.name + "-wal")
    salts = []  # the WAL header's salt changes when a write restarts the WAL after a complete checkpoint
    for lookup in lookups:
        start = time.perf_counter_ns()
        check(conn, lookup.question, policy, store=True)
        recorded.append((time.perf_counter_ns() - start) / 1e6)
        salts.append(wal_salt(wal))
    if args.disable_gc:
        gc.enable()
    progress.say("check(store=True) done")
    plans = explain(conn, lookups)
    store.close()

    shell = shell_yardstick(args.shell, db, lookups, args.shell_repeats)
    progress.say("sqlite3 shell done")
    cli_lookups = lookups[: args.cli]
    cli_ms = run_cli(folder, cli_lookups) if cli_lookups else []
    python_ms = run_python("pass", max(args.cli, 5))
    import_ms = run_python(
        "import desktop.core.consent.check, desktop.core.store.db;"
        "from desktop.core.consent.policy import load_policy; load_policy()",
        max(args.cli, 5),
    )
    progress.say("CLI done")

    n = len(lookups)
    stats_cold, stats_plain, stats_recorded = summary(cold), summary(plain), summary(recorded)
    checkpoints = checkpoint_commits(salts)
    others_recorded = [value for index, value in enumerate(recorded) if index not in set(checkpoints)]
    over = {
        name: sum(value > TARGET_P99_MS for value in values)
        for name, values in (("cold", cold), ("plain", plain), ("recorded", recorded))
    }
    if dropped:
        cache = (
            "Before the first pass the OS page cache of the store file was dropped (`posix_fadvise(DONTNEED)` on"
            f" that file only; resident before: {resident_before or '?'}, after: {resident_after or '?'}),"
            " so its pages come from the disk (on a VM, possibly from the host's cache)."
        )
    else:
        cache = f"The OS page cache was left as it was (resident: {resident_before or '?'})."

    def met(stats: dict[str, float]) -> str:
        return f"**{'met' if stats['p99'] < TARGET_P99_MS else 'NOT MET'}** (p99 {ms(stats['p99'])} ms)"

    lines = [
        "# consent check against a big store",
        "",
        machine_markdown(shell=True),
        "",
        "## Store",
        "",
        f"- `{db.relative_to(ROOT)}`: {db.stat().st_size / 2**20:,.0f} MiB"
        f" ({'built by this run' if built_now else 'cached'}, build took {manifest['build_seconds']} s);"
        f" schema version {LATEST}, WAL, no ANALYZE (the app does not run it).",
        "- Rows: "
        + ", ".join(f"{table} {count:,}" for table, count in counts.items())
        + f" (decisions before this run: {decisions_before:,}; each run adds {n + len(cli_lookups):,}).",
        f"- {sizes.numbers:,} distinct numbers have a consent; attempts and contracts are 80 % on those numbers,"
        " 20 % on other +33639 numbers; 5 professionals (50/15/20/10/5 %); attempts over the 90 days before"
        f" {QUESTION_DAY}, 7 % 'refused'; {sizes.withdrawals:,} numbers with a 'withdrawn' event (30 % of them for"
        " every consent of the professional), consents collected 1 to 420 days before (about 13 % expired).",
        "",
        "## Lookups",
        "",
        f"- {n:,} numbers ({sum(lookup.has_consent for lookup in lookups):,} with consents, asked about the"
        " professional and a product of one of their consents; the others about a random professional), calls"
        f" on {QUESTION_DAY} at random times in the calling hours; verdicts: "
        + ", ".join(f"{verdict} {count}" for verdict, count in sorted(verdicts.items()))
        + ".",
        f"- {args.warmup} checks of other numbers first (untimed); the very first check after opening the store"
        f" took {ms(first_ms)} ms; opening the store (`open_store`) took {ms(open_ms)} ms.",
        f"- Garbage collector {'disabled' if args.disable_gc else 'enabled'} while timing; SQLite's own page cache"
        " at its default (2 MiB). " + cache,
        "- Order, on the same numbers: check(store=False) first pass, check(store=False) again (warm), its parts,"
        " the SQL alone from Python, check(store=True), then the sqlite3 shell (after one untimed run of its"
        " script), then the CLI.",
        "",
        "## Latency (ms)",
        "",
        "| what | p50 | p99 | max | mean | how |",
        "|---|---:|---:|---:|---:|---|",
        row(
            "`check(store=False)`, first pass" + (" (OS cache dropped)" if dropped else ""),
            stats_cold,
            f"in-process, {n} numbers, perf_counter_ns around the call",
        ),
        row("`check(store=False)`, warm", stats_plain, "the same numbers again"),
        row(
            "`check(store=True)` (decision recorded)",
            stats_recorded,
            "same, plus the INSERT into decisions (one transaction, WAL, synchronous=NORMAL)",
        ),
        row("· `build_facts` (SQL + building the dict)", summary(facts_ms), "the parts of one check, timed separately"),
        row("· `parse_facts`", summary(parse_ms), ""),
        row("· `evaluate`", summary(evaluate_ms), ""),
        row(
            "SQL alone, from Python",
            summary(sql_per_lookup),
            "the statements build_facts ran (captured with the trace callback, parameters inlined), `execute().fetchall()`;"
            " each is compiled anew, as in the shell, where build_facts reuses its prepared statements",
        ),
        row(
            "SQL alone, `sqlite3` shell: CPU per number",
            summary(shell["cpu_per_lookup_ms"]),
            "one shell process fed every statement with `.timer on`; user+sys of a number's statements summed",
        ),
        row(
            "SQL alone, `sqlite3` shell: wall per number",
            None,
            f"(batch − empty batch) ÷ {n}, median of {args.shell_repeats} runs",
            shell["wall_ms"]["all"] / n,
        ),
        row(
            f"CLI `agent-assist consent check` ({len(cli_ms)} numbers)",
            summary(cli_ms) if cli_ms else None,
            "subprocess, wall time, decision recorded",
        ),
        row("· bare `python -c pass`", summary(python_ms), "interpreter start-up alone"),
        row("· python + import check/store + load policy", summary(import_ms), "start-up and imports, no query"),
        "",
        f"Target `check` p99 < {TARGET_P99_MS:.0f} ms: store=False first pass {met(stats_cold)}, warm"
        f" {met(stats_plain)}; store=True {met(stats_recorded)}.",
        f"Checks over {TARGET_P99_MS:.0f} ms: first pass {over['cold']}, warm {over['plain']},"
        f" store=True {over['recorded']}."
        f" During the store=True run SQLite's automatic WAL checkpoint ran {len(checkpoints)} times"
        " (`wal_autocheckpoint` = 1000 pages, reached every few hundred decisions since each stores its facts);"
        " the commits that ran it took "
        + (", ".join(ms(recorded[index]) for index in checkpoints) + " ms" if checkpoints else "–")
        + (
            f"; without them store=True p99 is {ms(summary(others_recorded)['p99'])} ms, max {ms(max(others_recorded))} ms."
            if checkpoints and others_recorded
            else "."
        ),
        f"The sqlite3 shell process itself (start, open, read the schema, one empty query) takes {ms(shell['baseline_ms'])} ms;"
        " it is subtracted from the batch times.",
        "",
        "## The lookups one by one (mean per statement, µs) and their query plans",
        "",
        "| lookup | statements | Python | sqlite3 shell | EXPLAIN QUERY PLAN |",
        "|---|---:|---:|---:|---|",
    ]
    for kind in sorted(shell["counts"]):
        if kind == "all":
            continue
        count = shell["counts"][kind]
        lines.append(
            f"| {kind} | {count:,} | {sql_per_kind.get(kind, 0) / count * 1000:.1f} |"
            f" {shell['wall_ms'][kind] / count * 1000:.1f} | {plans.get(kind, '')} |"
        )
    lines += [
        "",
        "Python: the same inlined statement through the sqlite3 module (execute + fetchall), summed per kind."
        " Shell: one process per kind fed all that kind's statements (results to /dev/null), minus an empty run,"
        f" median of {args.shell_repeats}. The consents' withdrawals are only read for numbers that have consents.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
