"""How fast ``import consents FILE.csv`` is, and how much memory it takes, against the bare sqlite3 shell.

Generates a consents CSV of N rows (default 1,000,000: E.164 French mobile numbers with a few in national
form, five professionals, one to three products, web forms mostly, some out-of-hours slots and revocations),
then, each in a child process whose wall time and peak RSS (``os.wait4``) are measured:

1. ``run_import(store, "consents", FILE)`` into a fresh store: parsing, validation, the consents rows and
   their hash-chained ledger entries, in one transaction (target: under 30 s and 300 MB);
2. the yardstick: the ``sqlite3`` command-line shell's ``.import --csv FILE consents_raw`` into a fresh
   file (text columns, no index, no validation, no ledger).

With ``--store-open``, another connection holds the store open during the import (as the running app
would): the import then stays in WAL mode instead of using a rollback journal for the bulk load.

    .venv/bin/python bench/bench_import.py [--rows 1000000] [--keep DIR] [--verify] [--store-open]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _machine import machine_markdown

TARGET_SECONDS = 30.0
TARGET_RSS_MB = 300.0

PROFESSIONALS = (
    "ACME Énergie SAS",
    "Partenaires Énergie SARL",
    "Télécom Horizon SAS",
    "Assurances Lumière SA",
    "Presse Régionale SARL",
)
PRODUCTS = ("electricity", "gas", "fiber", "mobile", "home_insurance")
METHODS = ("web_form",) * 14 + ("paper", "store", "email", "phone_call", "recorded_call", "broker_file")
HEADER = (
    "consent_id",
    "number",
    "professional",
    "products",
    "collected_at",
    "method",
    "affirmative_act",
    "pre_ticked",
    "evidence_ref",
    "text_shown",
    "collected_during_unlawful_call",
    "out_of_hours_any",
    "out_of_hours_slots",
    "revoked_at",
)


def generate(path: Path, rows: int, seed: int = 20260811) -> None:
    """A realistic export of a consent platform: one consent per row, all distinct."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index in range(rows):
            subscriber = rng.randrange(100_000_000)
            number = f"+336{subscriber:08d}" if rng.random() < 0.6 else f"+337{subscriber:08d}"
            if rng.random() < 0.01:  # a few rows keep the national form: 06 39 98 00 01
                number = "0" + number[3] + " " + " ".join(number[i : i + 2] for i in range(4, 12, 2))
            professional = rng.choice(PROFESSIONALS)
            products = rng.sample(PRODUCTS, rng.choice((1, 1, 2, 3)))
            day, second = rng.randrange(1, 29), rng.randrange(8 * 3600, 20 * 3600)
            month = rng.choice((9, 10))
            collected = (
                f"2026-{month:02d}-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+02:00"
            )
            method = rng.choice(METHODS)
            slots = ""
            if rng.random() < 0.05:
                hour = rng.choice((8, 20))
                slots = f"2026-11-{day:02d}T{hour:02d}:00:00+01:00/2026-11-{day:02d}T{hour:02d}:15:00+01:00"
            revoked = ""
            if rng.random() < 0.01:
                revoked = f"2026-11-{day:02d}T10:42:00+01:00"
            writer.writerow(
                (
                    f"CP-{index:08d}" if index % 2 else "",
                    number,
                    professional,
                    "|".join(products),
                    collected,
                    method,
                    "true",
                    "false",
                    f"{method}-{index:08d}",
                    f"J'accepte d'être appelé par {professional} pour ses offres {', '.join(products)}.",
                    "false",
                    "false",
                    slots,
                    revoked,
                )
            )


@dataclass
class Run:
    label: str
    wall_s: float
    peak_rss_mb: float
    output: str


def measure(label: str, command: list[str]) -> Run:
    """Wall time and peak RSS of one child process (its own rusage, not the maximum of all children)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    assert child.stdout is not None
    assert child.stderr is not None
    output = child.stdout.read().decode() + child.stderr.read().decode()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{label} failed ({child.returncode}):\n{output}")
    return Run(label, wall, usage.ru_maxrss / 1024, output.strip())  # ru_maxrss is in KiB on Linux


def child_import(csv_path: Path, data_dir: Path, store_open: bool = False) -> None:
    """Runs in the child: open a fresh store, import, print the summary and the time inside the process."""
    from desktop.core.consent.importers import run_import
    from desktop.core.store.db import open_store

    with open_store(data_dir) as store, open_store(data_dir) as other:
        if store_open:
            other.conn.execute("SELECT count(*) FROM consents").fetchone()
        else:
            other.close()
        start = time.perf_counter()
        summary = run_import(store, "consents", csv_path)
        elapsed = time.perf_counter() - start
    print(json.dumps({"summary": summary.line(), "import_s": round(elapsed, 2)}, ensure_ascii=False))


def child_verify(data_dir: Path) -> None:
    """Runs in the child: walk the ledger that the import wrote."""
    from desktop.core.consent.ledger import verify
    from desktop.core.store.db import open_store

    with open_store(data_dir) as store:
        result = verify(store.conn)
    print(f"ok={result.ok} entries={result.entries} consents={result.consents} problem={result.problem}")


def size_mb(path: Path) -> float:
    return sum(item.stat().st_size for item in path.parent.glob(path.name + "*")) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and leave the files there")
    parser.add_argument("--verify", action="store_true", help="then check the ledger (ledger.verify), measured apart")
    parser.add_argument("--store-open", action="store_true", help="another connection holds the store open")
    parser.add_argument("--child-import", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-verify", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_import:
        child_import(*args.child_import, store_open=args.store_open)
        return 0
    if args.child_verify:
        child_verify(args.child_verify)
        return 0
    shell = shutil.which("sqlite3")
    if shell is None:
        raise SystemExit("the sqlite3 shell is needed for the yardstick: apt-get install sqlite3")

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        csv_path = work / "consents.csv"
        start = time.perf_counter()
        generate(csv_path, args.rows)
        generated = time.perf_counter() - start
        csv_mb = csv_path.stat().st_size / 1e6
        data_dir = work / "store"
        shutil.rmtree(data_dir, ignore_errors=True)
        script = [sys.executable, str(Path(__file__).resolve())]
        ours = measure(
            "run_import (agent-assist import consents)"
            + (", store held open by another connection" if args.store_open else ""),
            [*script, "--child-import", str(csv_path), str(data_dir), *(["--store-open"] if args.store_open else [])],
        )
        checked = (
            measure("ledger.verify afterwards", [*script, "--child-verify", str(data_dir)]) if args.verify else None
        )
        raw_db = work / "raw.sqlite3"
        raw_db.unlink(missing_ok=True)
        yardstick = measure(
            "sqlite3 shell .import --csv", [shell, str(raw_db), f".import --csv {csv_path} consents_raw"]
        )
        details = json.loads(ours.output.splitlines()[-1])
        store_mb = size_mb(data_dir / "agent-assist.sqlite3")
        raw_mb = size_mb(raw_db)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    print(machine_markdown(shell=True))
    print()
    print(f"{args.rows:,} consent rows: a CSV of {csv_mb:.0f} MB (generated in {generated:.1f} s)")
    print()
    print("| run | wall (s) | peak RSS (MB) | database (MB) |")
    print("|---|---:|---:|---:|")
    print(f"| {ours.label} | {ours.wall_s:.1f} | {ours.peak_rss_mb:.0f} | {store_mb:.0f} |")
    print(f"| {yardstick.label} | {yardstick.wall_s:.1f} | {yardstick.peak_rss_mb:.0f} | {raw_mb:.0f} |")
    print(
        f"| ratio | {ours.wall_s / yardstick.wall_s:.1f}x | {ours.peak_rss_mb / yardstick.peak_rss_mb:.1f}x"
        f" | {store_mb / raw_mb:.1f}x |"
    )
    print()
    print(f"import: {details['summary']}; {details['import_s']} s inside the process (store opened, no start-up)")
    if checked is not None:
        print(
            f"ledger verify (not part of the import): {checked.output}; {checked.wall_s:.1f} s, peak RSS {checked.peak_rss_mb:.0f} MB"
        )
    within = ours.wall_s <= TARGET_SECONDS and ours.peak_rss_mb <= TARGET_RSS_MB
    target = f"target: under {TARGET_SECONDS:.0f} s and {TARGET_RSS_MB:.0f} MB"
    print(f"{target}: {'met' if within else 'MISSED'}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
