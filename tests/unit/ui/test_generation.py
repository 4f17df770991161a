"""GenerationService on its worker thread with a scripted generator (a unit-test double of the model), and the
variant row of the suggestion list: streaming order, a new request cancels the old, Échap, stop() joins, copy."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from desktop.core.assist.generator import Adaptation, GenerationError, Message
from desktop.core.assist.playbook import Suggestion
from desktop.core.models import ModelNotInstalledError
from desktop.services.generation import GenerationService
from desktop.ui.widgets.suggestions import VARIANT_ROW, SuggestionList

CTRL = Qt.KeyboardModifier.ControlModifier
TOP = Suggestion("withdrawal_ack", "C'est noté : vous ne serez plus appelé.", "playbook:withdrawal-01", 0.9)
OTHER = Suggestion("closing", "Merci, bonne journée.", "playbook:closing-01", 0.5)


class Session:
    """What the service needs of a call session: an identity and its (redacted) segments."""

    def __init__(self) -> None:
        self.uid = "s1"
        self.segments: list[Any] = []


class ScriptedGenerator:
    """Yields ``pieces`` one by one, ``delay`` seconds apart, and ends as soon as ``stop`` is set."""

    def __init__(self, pieces: Sequence[str], delay: float = 0.0) -> None:
        self.pieces = list(pieces)
        self.delay = delay
        self.threads: list[str] = []
        self.calls: list[list[Message]] = []

    @property
    def name(self) -> str:
        return "scripted"

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int, stop: threading.Event) -> Iterator[str]:
        self.threads.append(threading.current_thread().name)
        self.calls.append(list(messages))
        for piece in self.pieces:
            if stop.wait(self.delay):
                return
            yield piece

    def generate_json(
        self, messages: Sequence[Message], schema: Any, *, stop: threading.Event, max_new_tokens: int = 400
    ) -> Any:
        raise GenerationError("not used here")


@pytest.fixture
def make_service() -> Iterator[Any]:
    made: list[GenerationService] = []

    def make(generator: Any) -> GenerationService:
        service = GenerationService(lambda: generator)
        made.append(service)
        return service

    yield make
    for service in made:
        service.stop()


def test_pieces_stream_in_order_on_the_worker_then_the_adaptation(make_service: Any, qtbot: QtBot) -> None:
    generator = ScriptedGenerator(["C'est ", "noté, ", "vous ", "ne serez plus appelé."])
    service = make_service(generator)
    tokens: list[tuple[int, str]] = []
    service.token_generated.connect(lambda _s, rid, text: tokens.append((rid, text)))
    session = Session()
    with qtbot.waitSignal(service.generation_finished, timeout=5000) as finished:
        request = service.adapt(session, TOP, [("customer", "Ne m'appelez plus.")])
    got_session, got_id, adaptation = finished.args
    assert got_session is session and got_id == request
    assert tokens == [(request, "C'est "), (request, "noté, "), (request, "vous "), (request, "ne serez plus appelé.")]
    assert isinstance(adaptation, Adaptation)
    assert adaptation.text == "C'est noté, vous ne serez plus appelé."
    assert (adaptation.source, adaptation.reply_source, adaptation.category) == (
        "model:scripted", "playbook:withdrawal-01", "withdrawal_ack"
    )  # fmt: skip
    assert adaptation.problems == ()
    assert len(generator.threads) == 1 and threading.main_thread().name not in generator.threads  # the worker
    assert "Client : Ne m'appelez plus." in generator.calls[0][1]["content"]
    assert service.current_request is None


def test_the_session_segments_are_the_default_context(make_service: Any, qtbot: QtBot) -> None:
    generator = ScriptedGenerator(["ok"])
    service = make_service(generator)
    session = Session()
    session.segments = [type("Segment", (), {"speaker": "customer", "text": "Retirez mon numéro."})()]
    with qtbot.waitSignal(service.generation_finished, timeout=5000):
        service.adapt(session, TOP)
    assert "Client : Retirez mon numéro." in generator.calls[0][1]["content"]


def test_a_new_request_cancels_the_one_in_progress(make_service: Any, qtbot: QtBot) -> None:
    generator = ScriptedGenerator([f"mot{k} " for k in range(40)], delay=0.05)
    service = make_service(generator)
    tokens: list[int] = []
    service.token_generated.connect(lambda _s, rid, _t: tokens.append(rid))
    session = Session()
    with qtbot.waitSignal(service.token_generated, timeout=5000):
        first = service.adapt(session, TOP)
    ends: list[tuple[str, int, object]] = []
    service.generation_cancelled.connect(lambda _s, rid, partial: ends.append(("cancelled", rid, partial)))
    service.generation_finished.connect(lambda _s, rid, adaptation: ends.append(("finished", rid, adaptation)))
    with qtbot.waitSignals([service.generation_cancelled, service.generation_finished], timeout=10000):
        second = service.adapt(session, OTHER)
    (kind, rid, partial), (kind2, rid2, adaptation) = ends
    assert (kind, rid) == ("cancelled", first) and str(partial).startswith("mot0 ")
    assert (kind2, rid2) == ("finished", second) and adaptation.reply_source == "playbook:closing-01"  # type: ignore[attr-defined]
    assert tokens.index(second) > max(k for k, rid in enumerate(tokens) if rid == first)  # none interleaved after


def test_cancel_stops_within_a_piece_and_keeps_the_partial_text(make_service: Any, qtbot: QtBot) -> None:
    generator = ScriptedGenerator([f"mot{k} " for k in range(100)], delay=0.05)
    service = make_service(generator)
    finished: list[object] = []
    service.generation_finished.connect(finished.append)
    with qtbot.waitSignal(service.token_generated, timeout=5000):
        request = service.adapt(Session(), TOP)
    started = time.perf_counter()
    with qtbot.waitSignal(service.generation_cancelled, timeout=5000) as cancelled:
        service.cancel()
    assert time.perf_counter() - started < 1.0
    assert cancelled.args[1] == request and cancelled.args[2].startswith("mot0")
    assert service.current_request is None and finished == []


def test_a_request_overtaken_in_the_queue_generates_nothing(make_service: Any, qtbot: QtBot) -> None:
    generator = ScriptedGenerator(["a", "b"], delay=0.2)
    service = make_service(generator)
    with qtbot.waitSignals([service.generation_cancelled] * 2 + [service.generation_finished], timeout=10000):
        service.adapt(Session(), TOP)
        service.adapt(Session(), TOP)
        service.adapt(Session(), OTHER)
    assert len(generator.calls) <= 2  # the middle one was cancelled before it started


def test_stop_joins_the_worker_during_a_generation(qtbot: QtBot) -> None:
    generator = ScriptedGenerator([f"mot{k} " for k in range(1000)], delay=0.05)
    service = GenerationService(lambda: generator)
    with qtbot.waitSignal(service.token_generated, timeout=5000):
        service.adapt(Session(), TOP)
    started = time.perf_counter()
    service.stop()
    assert time.perf_counter() - started < 1.0
    assert not service._thread.isRunning()
    with pytest.raises(RuntimeError, match="after stop"):
        service.adapt(Session(), TOP)


def test_loads_lazily_once_and_a_missing_model_fails_every_request_in_one_line(qtbot: QtBot) -> None:
    loads: list[int] = []

    def missing() -> ScriptedGenerator:
        loads.append(1)
        raise ModelNotInstalledError("generator qwen is not installed (see docs/generation.md)")

    service = GenerationService(missing)
    try:
        assert loads == []  # nothing loaded before the first request
        for _ in range(2):
            with qtbot.waitSignal(service.generation_failed, timeout=5000) as failed:
                service.adapt(Session(), TOP)
            assert failed.args[2] == "generator qwen is not installed (see docs/generation.md)"
        assert loads == [1]
        service.reset()
        with qtbot.waitSignal(service.generation_failed, timeout=5000):
            service.adapt(Session(), TOP)
        assert loads == [1, 1]
    finally:
        service.stop()


def test_a_generator_error_mid_stream_is_reported(make_service: Any, qtbot: QtBot) -> None:
    class Failing(ScriptedGenerator):
        def stream(self, messages: Sequence[Message], *, max_new_tokens: int, stop: threading.Event) -> Iterator[str]:
            yield "début "
            raise GenerationError("generator server http://127.0.0.1:8000/v1 unreachable (ConnectError)")

    service = make_service(Failing([]))
    with qtbot.waitSignal(service.generation_failed, timeout=5000) as failed:
        service.adapt(Session(), TOP)
    assert "unreachable" in failed.args[2]


def test_added_figures_are_flagged(make_service: Any, qtbot: QtBot) -> None:
    service = make_service(ScriptedGenerator(["Vous aurez 20 € de remise."]))
    with qtbot.waitSignal(service.generation_finished, timeout=5000) as finished:
        service.adapt(Session(), TOP)
    assert finished.args[2].problems == ("chiffre ajouté : 20",)


# -- the variant row -----------------------------------------------------------------------------------------


@pytest.fixture
def shown(qtbot: QtBot, make_service: Any) -> Any:
    def show(generator: ScriptedGenerator) -> tuple[SuggestionList, GenerationService]:
        service = make_service(generator)
        widget = SuggestionList()
        widget.attach_generation(service)
        qtbot.addWidget(widget)
        widget.resize(420, 400)
        widget.show()
        widget.activateWindow()
        qtbot.waitActive(widget)
        widget.set_suggestions([TOP, OTHER])
        return widget, service

    return show


def test_the_variant_streams_under_the_top_reply_which_stays(shown: Any, qtbot: QtBot) -> None:
    widget, service = shown(ScriptedGenerator(["C'est ", "noté."], delay=0.05))
    used: list[tuple[str, bool]] = []
    widget.suggestion_used.connect(lambda source, accepted: used.append((source, accepted)))
    with qtbot.waitSignal(service.generation_finished, timeout=5000):
        widget.follow_adaptation(service.adapt(object(), TOP))
        qtbot.waitUntil(lambda: "en cours" in widget.list.item(VARIANT_ROW).text(), timeout=5000)
    assert widget.list.count() == 3
    assert widget.list.item(0).text().endswith(TOP.text)  # the approved reply stays first, unchanged
    variant = widget.list.item(VARIANT_ROW).text()
    assert variant.startswith("↳ Ctrl+0 · Variante adaptée (scripted)") and variant.endswith("\nC'est noté.")
    assert "playbook:withdrawal-01" in widget.list.item(VARIANT_ROW).toolTip()
    assert widget.list.item(2).text().startswith("Ctrl+2 · Conclusion")

    clipboard = QGuiApplication.clipboard()
    qtbot.keyClick(widget, Qt.Key.Key_0, CTRL)
    assert clipboard.text() == "C'est noté."
    assert used == [("model:scripted from playbook:withdrawal-01", True)]
    assert "copiée ✓" in widget.list.item(VARIANT_ROW).text()
    widget.copy(1)  # Ctrl+2's suggestion is still the second approved reply
    assert clipboard.text() == OTHER.text

    widget.set_suggestions([OTHER])  # new suggestions: the variant goes
    assert widget.list.count() == 1 and widget.variant_text() == ""


def test_escape_stops_the_variant_and_it_cannot_be_copied(shown: Any, qtbot: QtBot) -> None:
    widget, service = shown(ScriptedGenerator([f"mot{k} " for k in range(200)], delay=0.05))
    with qtbot.waitSignal(service.token_generated, timeout=5000):
        widget.follow_adaptation(service.adapt(object(), TOP))
    with qtbot.waitSignal(service.generation_cancelled, timeout=5000):
        qtbot.keyClick(widget, Qt.Key.Key_Escape)
    assert widget.list.item(VARIANT_ROW).text().split("\n")[0].endswith("· arrêtée")
    assert widget.variant_text().startswith("mot0 ")
    assert widget.copy_adaptation() is None and widget.adaptation() is None
    assert not widget.stop_shortcut.isEnabled()


def test_a_failed_generation_leaves_only_the_approved_replies(shown: Any, qtbot: QtBot) -> None:
    class Failing(ScriptedGenerator):
        def stream(self, messages: Sequence[Message], *, max_new_tokens: int, stop: threading.Event) -> Iterator[str]:
            raise GenerationError("no model")
            yield ""

    widget, service = shown(Failing([]))
    with qtbot.waitSignal(service.generation_failed, timeout=5000):
        widget.follow_adaptation(service.adapt(object(), TOP))
    assert widget.list.count() == 2 and widget.list.item(1).text().startswith("Ctrl+2")


def test_escape_with_the_withdrawal_prompt_also_on_screen_stops_only_the_variant(
    make_service: Any, qtbot: QtBot
) -> None:
    from PySide6.QtGui import QKeySequence, QShortcut
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    service = make_service(ScriptedGenerator([f"mot{k} " for k in range(400)], delay=0.05))
    window = QWidget()
    qtbot.addWidget(window)
    dismissed: list[bool] = []
    dismiss = QShortcut(QKeySequence("Escape"), window)  # the panel's: dismisses a detected withdrawal
    dismiss.setContext(Qt.ShortcutContext.WindowShortcut)
    dismiss.activated.connect(lambda: dismissed.append(True))
    widget = SuggestionList(window)
    QVBoxLayout(window).addWidget(widget)
    widget.attach_generation(service)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    widget.set_suggestions([TOP, OTHER])
    with qtbot.waitSignal(service.token_generated, timeout=5000):
        widget.follow_adaptation(service.adapt(object(), TOP))
    for _ in range(2):  # Qt hands an ambiguous key to each shortcut in turn: stopped at the latest by the second
        if widget.variant_state() == "streaming":
            qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert widget.variant_state() == "cancelled"
    assert dismissed == []  # the withdrawal prompt was not dismissed while the variant streamed
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert dismissed == [True]  # once the variant stopped, Échap is the prompt's again
