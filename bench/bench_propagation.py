"""How long an opt-out takes to travel from one station to another through a real CRM (Tryton 8.2).

Two stations (separate data folders) point at one Tryton started for the bench (``integrations.tryton.server``),
with the default ``[crm]`` settings (push every 5 s, pull every 15 s, 5 s overlap). Each station runs its
:class:`~desktop.core.crm.worker.SyncWorker` in a thread of its own, as the app does (``SyncWorker.run``). Station B
holds a consent for each test number, so its verdict starts ``allowed``. Then N withdrawals are recorded on
station A at random instants over a window (the samples overlap: the run lasts about the window plus one pull
interval), each through the store function the app and the CLI use (``record_event``: ledger entry and outbox
row in one transaction). For each, the delay is measured from the commit on A until B's consent check for that
number answers ``forbidden`` (B's store polled every 50 ms through ``check``, as a new call would ask).

Two modes run side by side, each with its own pair of stations on the same Tryton:

- ``woken``: the worker is woken when the withdrawal is recorded, as the app does when the agent confirms a
  withdrawal during a call (``verdict_changed`` wakes the sync service): delay = push + wait for B's next pull;
- ``timer``: nothing wakes the worker (a withdrawal recorded with ``agent-assist consent revoke`` while the app
  runs): the push also waits for its timer.

Target: p95 under 60 s (``docs/benchmarks.md``).

    .venv/bin/python bench/bench_propagation.py               # 40 withdrawals per mode over 120 s (about 3 minutes)
    .venv/bin/python bench/bench_propagation.py --quick       # 10 per mode over 30 s (about a minute)
    .venv/bin/python bench/bench_propagation.py --samples 100 --window 300 --seed 7
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _machine import machine_markdown

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # integrations/ lives at the repository root

from desktop.config import Crm
from desktop.core.consent.check import CallQuestion, check
from desktop.core.consent.ledger import LedgerWriter
from desktop.core.consent.policy import Policy, load_policy
from desktop.core.crm.connectors import make_connector
from desktop.core.crm.worker import SyncWorker
from desktop.core.store.consents import ConsentRecord, insert_consent, record_event
from desktop.core.store.db import Store, open_store, transaction
from integrations.tryton.server import TrytonServer, drop_database

TARGET_P95_S = 60.0
PARIS = dt.timezone(dt.timedelta(hours=1))
PROFESSIONAL = "ACME Énergie SAS"
# The call asked about: a Tuesday morning in the calling hours, after every consent and withdrawal written here,
# so that the verdict only depends on what B's ledger holds (not on the hour the bench runs).
CALL_AT = dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)
COLLECTED_AT = dt.datetime(2026, 9, 1, 15, 0, tzinfo=PARIS)
WITHDRAWN_AT = dt.datetime(2026, 11, 24, 9, 0, tzinfo=PARIS)
POLL_S = 0.05


@dataclass
class Sample:
    number: str
    offset_s: float  # when, after the start, the withdrawal is recorded
    recorded: float | None = None  # time.monotonic() of the commit on A
    recorded_wall: dt.datetime | None = None  # the same instant by the wall clock (outbox times are wall times)
    pushed_s: float | None = None  # from the commit on A until A's outbox row was sent
    forbidden: float | None = None  # time.monotonic() when B's check first answered forbidden

    @property
    def delay_s(self) -> float | None:
        if self.recorded is None or self.forbidden is None:
            return None
        return self.forbidden - self.recorded


@dataclass
class Pair:
    """Stations A and B of one mode, their workers and the withdrawals to make."""

    mode: str
    a_dir: Path
    b_dir: Path
    samples: list[Sample]
    workers: list[SyncWorker] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def question(number: str) -> CallQuestion:
    return CallQuestion(
        number=number, product="electricity", professional=PROFESSIONAL, at=CALL_AT, caller_id="+33162000001"
    )


def seed_consents(store: Store, numbers: list[str]) -> None:
    """B's consents, as a file import would give them (not shared: they are not what is measured)."""
    with transaction(store.conn):
        ledger = LedgerWriter(store.conn)
        for number in numbers:
            record = ConsentRecord(
                number=number,
                professional=PROFESSIONAL,
                products=("electricity",),
                collected_at=COLLECTED_AT,
                method="web_form",
                affirmative_act=True,
                pre_ticked=False,
                evidence_ref=f"webform-{number[-6:]}",
                text_shown=f"J'accepte d'être appelé par {PROFESSIONAL} pour ses offres d'électricité.",
            )
            insert_consent(store.conn, ledger, record, "bench-seed", share=False)
        ledger.flush()


def crm_settings(endpoint: str, station: str) -> Crm:
    """The default [crm] block (push 5 s, pull 15 s, overlap 5 s), pointed at the bench's Tryton."""
    return Crm(connector="tryton", endpoint=endpoint, station_id=station)


def start_workers(pair: Pair, endpoint: str, key: str, stop: threading.Event) -> None:
    for station, data_dir in ((f"{pair.mode}-a", pair.a_dir), (f"{pair.mode}-b", pair.b_dir)):
        crm = crm_settings(endpoint, station)
        connector = make_connector(crm, key)
        assert connector is not None
        worker = SyncWorker.for_data_dir(data_dir, connector, crm)
        worker.on_error = pair.errors.append
        thread = threading.Thread(target=worker.run, args=(stop,), name=f"sync-{station}", daemon=True)
        pair.workers.append(worker)
        pair.threads.append(thread)
        thread.start()


def run_pair_withdrawals(pair: Pair, policy: Policy, started: float, deadline: float) -> None:
    """Record A's withdrawals on time and watch B's verdicts until every one is forbidden or the deadline."""
    station_a = f"{pair.mode}-a"
    pending = sorted(pair.samples, key=lambda sample: sample.offset_s)
    to_record = list(pending)
    watching: list[Sample] = []
    with open_store(pair.a_dir) as a, open_store(pair.b_dir) as b:
        last_version = None
        while (to_record or watching) and time.monotonic() < deadline:
            now = time.monotonic()
            while to_record and now - started >= to_record[0].offset_s:
                sample = to_record.pop(0)
                with transaction(a.conn):
                    record_event(
                        a.conn,
                        "withdrawn",
                        number=sample.number,
                        professional=PROFESSIONAL,
                        at=WITHDRAWN_AT,
                        details={"channel": "oral", "agent": "bench"},
                        station=station_a,
                    )
                sample.recorded, sample.recorded_wall = time.monotonic(), dt.datetime.now(dt.UTC)
                if pair.mode == "woken":
                    pair.workers[0].wake()
                watching.append(sample)
            version = b.conn.execute("PRAGMA data_version").fetchone()[0]  # changes when another connection commits
            if version != last_version:
                last_version = version
                for sample in list(watching):
                    if check(b.conn, question(sample.number), policy, store=False)[1].verdict == "forbidden":
                        sample.forbidden = time.monotonic()
                        watching.remove(sample)
            time.sleep(POLL_S)
        sent = dict(
            a.conn.execute(
                "SELECT json_extract(payload, '$.number'), sent_at FROM outbox"
                " WHERE kind = 'consent_event' AND sent_at IS NOT NULL"
            ).fetchall()
        )
    for sample in pair.samples:
        if sample.recorded_wall is not None and sent.get(sample.number):
            sent_at = dt.datetime.fromisoformat(sent[sample.number])
            sample.pushed_s = (sent_at - sample.recorded_wall).total_seconds()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (the value below which ``fraction`` of the samples fall)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=40, help="withdrawals per mode (default 40)")
    parser.add_argument("--window", type=float, default=120.0, help="seconds over which they are spread (120)")
    parser.add_argument("--quick", action="store_true", help="10 withdrawals per mode over 30 s")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--keep", type=Path, help="work in this folder and leave the stations' data there")
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.window = 10, 30.0
    if args.samples < 1 or args.window <= 0:
        parser.error("--samples must be at least 1 and --window positive")
    rng = random.Random(args.seed)
    policy = load_policy()
    defaults = Crm()

    with tempfile.TemporaryDirectory(prefix="bench-propagation-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        pairs: list[Pair] = []
        for index, mode in enumerate(("woken", "timer")):
            numbers = [f"+3363{index}{serial:06d}" for serial in range(args.samples)]
            samples = [Sample(number, rng.uniform(0.0, args.window)) for number in numbers]
            pair = Pair(mode, work / f"{mode}-a", work / f"{mode}-b", samples)
            with open_store(pair.a_dir):
                pass
            with open_store(pair.b_dir) as b:
                seed_consents(b, numbers)
                verdicts = {check(b.conn, question(n), policy, store=False)[1].verdict for n in numbers}
            if verdicts != {"allowed"}:
                raise SystemExit(f"set-up: B's verdicts before any withdrawal are {verdicts}, expected allowed")
            pairs.append(pair)

        print("starting Tryton…", file=sys.stderr)
        tryton_started = time.monotonic()
        with TrytonServer(database="bench_propagation", fresh=True) as tryton:
            tryton_s = time.monotonic() - tryton_started
            stop = threading.Event()
            for pair in pairs:
                start_workers(pair, tryton.endpoint, tryton.key, stop)
            started = time.monotonic()
            deadline = started + args.window + 4 * (defaults.pull_interval_s + defaults.push_interval_s) + 30
            print(f"{args.samples} withdrawals per mode over {args.window:.0f} s…", file=sys.stderr)
            watchers = [
                threading.Thread(target=run_pair_withdrawals, args=(pair, policy, started, deadline)) for pair in pairs
            ]
            for watcher in watchers:
                watcher.start()
            for watcher in watchers:
                watcher.join()
            elapsed = time.monotonic() - started
            stop.set()
            for pair in pairs:
                for worker in pair.workers:
                    worker.wake()
                for thread in pair.threads:
                    thread.join(timeout=30)
        drop_database(None, "bench_propagation")

    print(machine_markdown())
    print()
    print(
        f"Opt-out propagation A → B through Tryton 8.2 (SQLite, 127.0.0.1): default settings (push every"
        f" {defaults.push_interval_s:g} s, pull every {defaults.pull_interval_s:g} s, overlap"
        f" {defaults.pull_overlap_s:g} s); {args.samples} withdrawals per mode at random instants over"
        f" {args.window:.0f} s (seed {args.seed}); run {elapsed:.0f} s after Tryton started in {tryton_s:.1f} s."
    )
    print()
    print(
        "| mode | samples | arrived | p50 (s) | p95 (s) | max (s) | min (s) | mean (s) | of which push p50 / p95 (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    met = True
    for pair in pairs:
        delays = [sample.delay_s for sample in pair.samples if sample.delay_s is not None]
        arrived = len(delays)
        if arrived < len(pair.samples):
            met = False
        pushes = [sample.pushed_s for sample in pair.samples if sample.pushed_s is not None]
        push = f"{percentile(pushes, 0.5):.1f} / {percentile(pushes, 0.95):.1f}" if pushes else "–"
        if delays:
            p95 = percentile(delays, 0.95)
            met = met and p95 < TARGET_P95_S
            print(
                f"| {pair.mode} | {len(pair.samples)} | {arrived} | {percentile(delays, 0.5):.1f} | {p95:.1f}"
                f" | {max(delays):.1f} | {min(delays):.1f} | {statistics.fmean(delays):.1f} | {push} |"
            )
        else:
            print(f"| {pair.mode} | {len(pair.samples)} | 0 | – | – | – | – | – | {push} |")
    print()
    for pair in pairs:
        if pair.errors:
            print(f"{pair.mode}: {len(pair.errors)} sync errors, first: {pair.errors[0]}")
    print(
        f"target: p95 under {TARGET_P95_S:.0f} s, every withdrawal arrived: {'met' if met else 'MISSED'}"
        " (woken = the app during a call; timer = nothing wakes the push)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
