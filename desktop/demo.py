"""``agent-assist demo``: the shipped demo data loaded into a fresh folder, and the demo calls checked.

It uses the same import, store, engine and ledger as production; only the data is made up (numbers from the
ranges Arcep reserves for fiction, +33 6 39 98).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

from desktop.core.consent.check import CallQuestion, check
from desktop.core.consent.importers import run_import
from desktop.core.consent.ledger import verify
from desktop.core.consent.phone import mask
from desktop.core.consent.policy import Policy
from desktop.core.store.db import open_store
from desktop.paths import assets_dir

DEMO_PROFESSIONAL = "ACME Énergie SAS"
DEMO_CALLER_ID = "+33162000001"
_DAYS = (("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."), ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
_IMPORTS = ("consents", "contracts", "attempts", "optout")
_COLOURS = {"allowed": "\033[42;30m", "contract_only": "\033[43;30m", "forbidden": "\033[41;97m"}
_WORDS = {
    "fr": {"allowed": " AUTORISÉ ", "contract_only": " CONTRAT SEULEMENT ", "forbidden": " INTERDIT "},
    "en": {"allowed": " ALLOWED ", "contract_only": " CONTRACT ONLY ", "forbidden": " FORBIDDEN "},
}


def run_demo(data_dir: Path, policy: Policy, *, language: str = "fr", as_json: bool = False) -> int:
    folder = data_dir / "demo"
    if folder.exists():
        shutil.rmtree(folder)
    demo = assets_dir() / "demo"
    calls = json.loads((demo / "calls.json").read_text(encoding="utf-8"))
    results = []
    with open_store(folder) as store:
        summaries = [run_import(store, kind, demo / f"{kind}.csv") for kind in _IMPORTS]
        for call in calls:
            question = CallQuestion(
                number=call["number"],
                product=call["product"],
                professional=DEMO_PROFESSIONAL,
                at=dt.datetime.fromisoformat(call["at"]),
                direction=call["direction"],
                purpose=call["purpose"],
                caller_id=DEMO_CALLER_ID,
            )
            _facts, decision, decision_id = check(store.conn, question, policy, language=language)
            results.append((call, decision, decision_id))
        ledger = verify(store.conn)
    if as_json:
        print(
            json.dumps(
                {
                    "data_dir": str(folder),
                    "imports": [summary.to_json() for summary in summaries],
                    "calls": [
                        {"title": call["title"], "decision_id": decision_id, **decision.to_json()}
                        for call, decision, decision_id in results
                    ],
                    "ledger": ledger.to_json(),
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"Agent Assist — démo ({folder})")
    for summary in summaries:
        print(f"  import {summary.line()}")
    print()
    words = _WORDS.get(language, _WORDS["fr"])
    colour = sys.stdout.isatty()
    for call, decision, _decision_id in results:
        moment = decision.consumer_local_time
        local = f"{_DAYS[language == 'en'][moment.weekday()]} {moment:%d/%m %H:%M}"
        print(f"{call['title']}")
        print(f"  {mask(call['number'])}  {call['direction']}  {call['product']}  {local}")
        verdict = (
            f"{_COLOURS[decision.verdict]}{words[decision.verdict]}\033[0m"
            if colour
            else f"[{words[decision.verdict].strip()}]"
        )
        print(f"  {verdict} {decision.reasons[0].message}")
        for reason in decision.reasons[1:]:
            print(f"      · {reason.message}")
        print()
    print(f"Registre des consentements : {'intègre' if ledger.ok else 'CORROMPU'} ({ledger.entries} entrées)")
    return 0 if ledger.ok else 3
