"""How long the sync worker takes to drain a backlog of queued interactions to a real Tryton 8.2.

Starts its own Tryton (``integrations/tryton/server.py``, a fresh SQLite database, 127.0.0.1), queues N interactions
(default 10,000: summaries and redacted transcripts of realistic size, over ``--people`` distinct numbers so that
the connector finds or creates each person once) in a fresh store, then times ``SyncWorker.drain`` (the product's
worker and Tryton connector, its batch size, no fault injected) until nothing is pending. Afterwards every
external id is looked up in Tryton: the run counts only if each interaction is there exactly once.

    .venv/bin/python bench/bench_sync.py [--interactions 10000] [--people 2000] [--out FILE] [--keep DIR]

Prints a Markdown report (machine first); ``--out FILE`` also writes the figures as JSON (``-`` = standard output).
Target: 10,000 interactions in under 2 minutes.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _machine import machine_info, machine_markdown

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from desktop.config import Crm  # noqa: E402
from desktop.core.crm.connectors.tryton import MAX_BATCH, TrytonConnector  # noqa: E402
from desktop.core.crm.contract import InteractionPayload, TranscriptLine  # noqa: E402
from desktop.core.crm.outbox import enqueue  # noqa: E402
from desktop.core.crm.worker import SyncWorker  # noqa: E402
from desktop.core.store.db import open_store, transaction  # noqa: E402
from integrations.tryton.server import TrytonServer  # noqa: E402

TARGET_S = 120.0
T0 = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
LINES = (
    ("agent", "Bonjour, Camille de ACME Énergie, pour le compte d'ACME, cet appel est enregistré."),
    ("customer", "Oui bonjour, c'est à quel sujet ?"),
    ("agent", "Je vous appelle au sujet de votre contrat d'électricité et de l'échéancier proposé."),
    ("customer", "D'accord, j'avais une question sur la dernière facture de 84 euros."),
    ("agent", "Je regarde : la régularisation vient du relevé de mars, je vous envoie le détail."),
    ("customer", "Très bien, merci. Et pour le paiement, ma carte est [CARTE]."),
    ("agent", "Nous ne prenons pas de carte au téléphone ; vous recevrez un lien sécurisé."),
    ("customer", "Parfait, merci beaucoup, bonne journée."),
)


def payload(n: int, people: int, run: str) -> InteractionPayload:
    started = T0 + dt.timedelta(seconds=37 * n)
    return InteractionPayload(
        external_id=f"{run}-{n:06d}",
        station="bench",
        number=f"+3361{n % people:07d}",
        direction="outbound" if n % 3 else "inbound",
        professional="ACME Énergie SAS",
        product="electricity",
        agent_id=f"agent-{n % 25}",
        started_at=started,
        answered_at=started + dt.timedelta(seconds=6),
        ended_at=started + dt.timedelta(seconds=186),
        duration_s=186,
        verdict="allowed",
        reason="CONSENT_VALID",
        disposition="information_given",
        summary={
            "reason": "Question sur la facture et l'échéancier",
            "actions": ["Explication de la régularisation", "Envoi du détail par courriel"],
            "resolution": "resolved",
            "next_steps": [{"owner": "company", "action": "Envoyer le lien de paiement", "due": "2026-11-25"}],
            "disposition": "information_given",
            "consent_events": [],
            "entities": {"amounts_eur": [84], "dates": [], "times": [], "references": []},
            "opening_disclosure": {
                "identity": True,
                "on_behalf_of": True,
                "commercial_nature": True,
                "recording_notice": True,
            },
            "generated_by": {"method": "extractive", "model": None},
        },
        transcript=[
            TranscriptLine(speaker=speaker, start=4.0 * i, end=4.0 * i + 3.5, text=text)  # type: ignore[arg-type]
            for i, (speaker, text) in enumerate(LINES)
        ],
    )


def count_in_tryton(endpoint: str, key: str, prefix: str) -> tuple[int, int]:
    """(calls whose external id starts with ``prefix``, distinct external ids among them)."""
    domain = base64.urlsafe_b64encode(json.dumps([["external_id", "like", f"{prefix}-%"]]).encode()).decode()
    response = httpx.get(
        f"{endpoint}/rest/model/agent_assist.call",
        params=[("d", domain), ("f", "external_id"), ("s", "1000000")],
        headers={"Authorization": f"Bearer {key}"},
        timeout=300,
    )
    response.raise_for_status()
    rows = response.json()
    return len(rows), len({row["external_id"] for row in rows})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=2_000, help="distinct numbers called (default 2,000)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up draining after this many seconds")
    parser.add_argument("--out", help="also write the figures as JSON to this file ('-' = standard output)")
    parser.add_argument("--keep", type=Path, help="work in this folder and leave the store there")
    args = parser.parse_args()
    if args.interactions <= 0 or args.people <= 0:
        parser.error("--interactions and --people must be positive")

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-sync-"))
    work.mkdir(parents=True, exist_ok=True)
    run = f"bench{int(time.time())}"
    print(f"starting Tryton 8.2 (fresh database) and queueing {args.interactions:,} interactions…", file=sys.stderr)
    started = time.monotonic()
    with TrytonServer(database="bench_sync", fresh=True) as tryton:
        tryton_start_s = time.monotonic() - started
        store = open_store(work / "data")
        queued_at = time.monotonic()
        with transaction(store.conn):
            for n in range(args.interactions):
                enqueue(store.conn, payload(n, args.people, run))
        queue_s = time.monotonic() - queued_at
        crm = Crm(connector="tryton", endpoint=tryton.endpoint)
        connector = TrytonConnector(tryton.endpoint, tryton.key, crm=crm)
        worker = SyncWorker(lambda: store.conn, connector, crm)
        print("draining…", file=sys.stderr)
        drain_started = time.monotonic()
        report = worker.drain(timeout_s=args.timeout, pull=False)
        drain_s = time.monotonic() - drain_started
        connector.close()
        in_tryton, distinct = count_in_tryton(tryton.endpoint, tryton.key, run)
        store.close()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)

    exactly_once = in_tryton == distinct == args.interactions and report.drained
    rate = args.interactions / drain_s if drain_s else 0.0
    scaled = drain_s * 10_000 / args.interactions
    figures = {
        "interactions": args.interactions,
        "people": args.people,
        "batch": MAX_BATCH,
        "drain_s": round(drain_s, 2),
        "per_second": round(rate, 1),
        "drained": report.drained,
        "pushed": report.push.to_json(),
        "in_tryton": in_tryton,
        "distinct_in_tryton": distinct,
        "exactly_once": exactly_once,
        "queue_s": round(queue_s, 2),
        "tryton_start_s": round(tryton_start_s, 1),
        "target_s": TARGET_S,
        "target_met": exactly_once and scaled < TARGET_S,
        "machine": machine_info(),
    }
    print(machine_markdown())
    print()
    print(
        f"{args.interactions:,} interactions queued ({queue_s:.1f} s), {args.people:,} people, batches of {MAX_BATCH}"
    )
    print()
    print("| drained | wall (s) | interactions/s | in Tryton | exactly once |")
    print("|---|---:|---:|---:|---|")
    print(f"| {report.drained} | {drain_s:.1f} | {rate:.0f} | {in_tryton:,} | {exactly_once} |")
    print()
    print(f"target (10,000 in < {TARGET_S:.0f} s): {'met' if figures['target_met'] else 'MISSED'}")
    if args.out:
        text = json.dumps(figures, ensure_ascii=False, indent=2)
        if args.out == "-":
            print(text)
        else:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0 if exactly_once else 1


if __name__ == "__main__":
    sys.exit(main())
