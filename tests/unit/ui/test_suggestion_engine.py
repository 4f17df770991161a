"""The live panel's suggestions come from the ranking worker (not the GUI thread), re-emitted by the service."""

from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot

from desktop.core.assist.playbook import load_playbook
from desktop.core.assist.retrieval import Retriever
from desktop.core.models import ModelNotInstalledError
from desktop.services.calls import CallService
from desktop.services.suggestions import SuggestionEngine
from tests.unit.core.assist.test_retrieval import BagOfWords

from .conftest import NUMBER, ev


def test_customer_turn_ranked_on_the_worker_and_re_emitted(service: CallService, qtbot: QtBot) -> None:
    threads: list[str] = []
    embed = BagOfWords()

    def traced(texts):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return embed(texts)

    engine = SuggestionEngine(load_playbook(), lambda: Retriever(load_playbook(), traced, model_fingerprint="bow"))
    service.use_suggester(engine)
    try:
        session = service.handle_event(ev("ringing", 0, call_id="c1", number=NUMBER, direction="inbound"))
        service.handle_event(ev("answered", 2, call_id="c1"))
        with qtbot.waitSignal(service.suggestions_changed, timeout=10000) as signal:
            service.add_segment(session, "customer", "Je voudrais résilier mon abonnement, s'il vous plaît.")
        got_session, suggestions = signal.args
        assert got_session is session
        assert suggestions[0].category == "cancellation_request"
        assert threads and threading.main_thread().name not in threads
    finally:
        engine.stop()


def test_without_the_model_the_playbook_pick_is_used(service: CallService, qtbot: QtBot) -> None:
    def missing() -> Retriever:
        raise ModelNotInstalledError("model e5-small is not installed: run agent-assist models install e5-small")

    engine = SuggestionEngine(load_playbook(), missing)
    service.use_suggester(engine)
    try:
        session = service.handle_event(ev("ringing", 0, call_id="c2", number=NUMBER, direction="inbound"))
        service.handle_event(ev("answered", 2, call_id="c2"))
        with qtbot.waitSignals([engine.unavailable, service.suggestions_changed], timeout=10000):
            service.add_segment(session, "customer", "Ne m'appelez plus.")
    finally:
        engine.stop()
