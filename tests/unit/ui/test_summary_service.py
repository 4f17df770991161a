"""CallService with the summary engine on: the draft follows the call segment by segment (the model's work on the
summary worker, never the GUI thread), is ready at hang-up, holds the confirmed consent events, and is stored valid
for the CRM payload."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

from desktop.core.assist.summarize import Classifier, SummaryWorker, lexical_embed, load_prototypes
from desktop.core.crm.payloads import interaction_payload
from desktop.core.store.db import Store
from desktop.services.calls import CallService
from tests.unit.ui.conftest import NUMBER, FakeClock, ev

OPENING = (
    "Bonjour, je suis Sofia, je vous appelle pour le compte d'ACME Énergie. C'est un appel commercial pour nos"
    " offres d'électricité, et l'appel est enregistré."
)


class RecordingEmbed:
    """The lexical stand-in as the model: records the thread each batch runs on."""

    def __init__(self) -> None:
        self.threads: set[str] = set()

    def __call__(self, texts):  # type: ignore[no-untyped-def]
        self.threads.add(threading.current_thread().name)
        return lexical_embed(texts)


def _call(service: CallService, clock: FakeClock) -> object:
    session = service.handle_event(ev("dialing", 0, call_id="c1", number=NUMBER, direction="outbound"))
    clock.at(4)
    service.handle_event(ev("answered", 4, call_id="c1"))
    service.add_segment(session, "agent", OPENING, 4.5, 11.0)  # type: ignore[arg-type]
    service.add_segment(session, "customer", "Oui. Je paie quatre-vingt-quinze euros par mois.", 11.5, 15.0)  # type: ignore[arg-type]
    service.add_segment(
        session,  # type: ignore[arg-type]
        "agent",
        "Avec Fixe Sérénité ce serait quatre-vingt-deux euros. Je vous envoie l'offre par e-mail avec le lien de"
        " signature, et la fourniture pourra démarrer le mardi 15 décembre.",
        15.5,
        22.0,
    )
    service.add_segment(
        session, "customer", "D'accord, on prend, je signe ce soir. Ma carte c'est 4970 1012 3456 7893."
    )  # type: ignore[arg-type]
    return session


def test_the_draft_is_made_during_the_call_on_the_worker(service: CallService, clock: FakeClock, qtbot) -> None:
    embed = RecordingEmbed()
    worker = SummaryWorker(lambda: Classifier(load_prototypes(), embed, name="test-model"))
    try:
        service.use_summary_engine(worker)
        deadline = time.monotonic() + 5
        while worker.classifier is None and time.monotonic() < deadline:
            time.sleep(0.01)
        session = _call(service, clock)
        clock.at(40)
        service.handle_event(ev("ended", 40, call_id="c1"))
        started = time.perf_counter()
        summary = service.draft(session)  # type: ignore[arg-type]
        assert time.perf_counter() - started < 1.0
    finally:
        worker.stop()
    assert embed.threads and all(name.startswith("summaries") for name in embed.threads)
    assert threading.main_thread().name not in embed.threads
    assert summary.disposition == "sale" and summary.resolution == "not_applicable"
    assert summary.entities.amounts_eur == [95.0, 82.0]
    assert [d.isoformat() for d in summary.entities.dates] == ["2026-12-15", "2026-11-24"]
    assert {s.due.isoformat() for s in summary.next_steps if s.due} == {"2026-11-24", "2026-12-15"}
    assert summary.opening_disclosure.model_dump() == dict.fromkeys(
        ("identity", "on_behalf_of", "commercial_nature", "recording_notice"), True
    )
    assert "4970" not in json.dumps(summary.to_json())


def test_confirmed_withdrawal_is_in_the_draft_and_the_stored_summary_syncs(
    service: CallService, clock: FakeClock, consented_store: Store, qtbot
) -> None:
    service.use_summary_engine()  # lexical, in the GUI thread
    session = service.handle_event(ev("dialing", 0, call_id="c1", number=NUMBER, direction="outbound"))
    service.handle_event(ev("answered", 4, call_id="c1"))
    service.add_segment(session, "agent", OPENING, 4.5, 11.0)  # type: ignore[arg-type]
    clock.at(20)
    service.add_segment(session, "customer", "Non merci, et ne m'appelez plus.", 16.0, 19.0)  # type: ignore[arg-type]
    service.confirm_withdrawal(session, segment=1)  # type: ignore[arg-type]
    service.handle_event(ev("ended", 30, call_id="c1"))
    summary = service.resume_draft(session)  # type: ignore[arg-type]
    assert summary.disposition == "do_not_call"
    assert [(e.kind, e.segment) for e in summary.consent_events] == [("withdrawal", 1)]
    assert summary.consent_events[0].at == dt.datetime(2026, 11, 24, 10, 30, 20, tzinfo=clock.now.tzinfo)
    assert summary.reason  # drafted, for the agent to check
    service.save_summary(session, summary, validated_by="agent-7")  # type: ignore[arg-type]
    payload = interaction_payload(consented_store.conn, session.interaction_id, station="s1")  # type: ignore[attr-defined]
    assert payload.summary == summary.to_json()
    assert service.summaries == {}  # dropped once validated


def test_a_missing_model_keeps_the_lexical_draft(service: CallService, clock: FakeClock, qtbot, caplog) -> None:
    def broken() -> Classifier:
        raise FileNotFoundError("e5-small is not installed: agent-assist models install e5-small")

    worker = SummaryWorker(broken)
    try:
        service.use_summary_engine(worker)
        session = _call(service, clock)
        service.handle_event(ev("ended", 40, call_id="c1"))
        with caplog.at_level("WARNING"):
            summary = service.draft(session)  # type: ignore[arg-type]
    finally:
        worker.stop()
    assert summary.disposition == "sale"
    assert worker.failure is not None and "models install e5-small" in worker.failure
    assert "lexical one kept" in caplog.text
