"""The summary's prose by the generator in the panel, with a scripted generator (a unit-test double of the model):
the extractive draft is on screen at hang-up, the model's prose follows on the generation worker and fills only
the fields the agent has not edited, a new call or a new adaptation cancels it (the extractive text stays), a
prose holding a fact the call does not is rejected field by field, and without a generator nothing changes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.core.assist.generator import GenerationError, Message
from desktop.core.assist.playbook import Suggestion
from desktop.core.assist.summary import draft_summary
from desktop.core.store.db import Store
from desktop.services.generation import GenerationService, SummaryProse
from desktop.ui.panel import AgentPanel
from desktop.ui.widgets.summary_editor import SummaryEditor

from .conftest import NUMBER, T0, FakeClock, ev

OPENING = (
    "Bonjour, je suis Sofia, je vous appelle pour le compte d'ACME Énergie. C'est un appel commercial pour nos"
    " offres d'électricité, et l'appel est enregistré."
)
REASON = "Proposition de l'offre Fixe Sérénité au client."
ACTIONS = ["Le conseiller a comparé le tarif actuel avec Fixe Sérénité.", "Il a envoyé l'offre par e-mail."]
STEP = "Signer l'offre reçue par e-mail."
TOP = Suggestion("closing", "Merci, bonne journée.", "playbook:closing-01", 0.5)


class ProseGenerator:
    """Writes the scripted prose as the schema's JSON; with ``release``, waits for it (or for ``stop``) first."""

    def __init__(
        self,
        reason: str = REASON,
        actions: Sequence[str] = ACTIONS,
        step: str = STEP,
        *,
        release: threading.Event | None = None,
        error: str | None = None,
    ) -> None:
        self.reason, self.actions, self.step = reason, list(actions), step
        self.release = release
        self.error = error
        self.threads: list[str] = []
        self.calls: list[list[Message]] = []
        self.stopped = threading.Event()

    @property
    def name(self) -> str:
        return "scripted"

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int, stop: threading.Event) -> Iterator[str]:
        yield "Merci, bonne journée."

    def generate_json(
        self, messages: Sequence[Message], schema: Any, *, stop: threading.Event, max_new_tokens: int = 400
    ) -> Any:
        self.threads.append(threading.current_thread().name)
        self.calls.append(list(messages))
        if self.release is not None:
            while not self.release.wait(0.01):
                if stop.is_set():
                    self.stopped.set()
                    return None
        if self.error is not None:
            raise GenerationError(self.error)
        steps = schema.model_json_schema()["properties"]["next_step_actions"].get("minItems", 0)
        return schema(reason=self.reason, actions=self.actions, next_step_actions=[self.step] * steps)


@pytest.fixture
def attach(panel: AgentPanel) -> Iterator[Any]:
    made: list[GenerationService] = []

    def attach(generator: ProseGenerator) -> GenerationService:
        generation = GenerationService(lambda: generator)
        made.append(generation)
        panel.attach_generation(generation)
        return generation

    panel.service.use_summary_engine()  # the extractive engine, lexical classifier (no model here)
    yield attach
    for generation in made:
        generation.stop()


def talk(panel: AgentPanel, clock: FakeClock, call_id: str = "c1") -> Any:
    service = panel.service
    session = service.handle_event(ev("dialing", 0, call_id=call_id, number=NUMBER, direction="outbound"))
    clock.at(4)
    service.handle_event(ev("answered", 4, call_id=call_id))
    assert session is not None
    service.add_segment(session, "agent", OPENING, 4.5, 11.0)
    service.add_segment(session, "customer", "Oui. Je paie quatre-vingt-quinze euros par mois.", 11.5, 15.0)
    service.add_segment(
        session,
        "agent",
        "Avec Fixe Sérénité ce serait quatre-vingt-deux euros. Je vous envoie l'offre par e-mail avec le lien de"
        " signature, et la fourniture pourra démarrer le mardi 15 décembre.",
        15.5,
        22.0,
    )
    service.add_segment(session, "customer", "D'accord, on prend, je signe ce soir.", 22.5, 25.0)
    return session


def hang_up(panel: AgentPanel, clock: FakeClock, call_id: str = "c1") -> None:
    clock.at(40)
    panel.service.handle_event(ev("ended", 40, call_id=call_id))


def fields(editor: SummaryEditor) -> tuple[str, str, list[str]]:
    return editor.reason_edit.text(), editor.actions_edit.toPlainText(), [row[1].text() for row in editor.steps.rows]


def test_the_prose_arrives_after_the_extractive_draft_and_is_kept_as_a_draft(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, attach: Any, consented_store: Store
) -> None:
    generator = ProseGenerator(release=threading.Event())
    generation = attach(generator)
    session = talk(panel, clock)
    hang_up(panel, clock)
    editor = panel.editors[session.uid]
    extractive = panel.service.draft(session)
    # At once: the extractive draft, never waiting for the model; the note says the model is writing.
    assert fields(editor) == (
        extractive.reason,
        "\n".join(extractive.actions),
        [s.action for s in extractive.next_steps],
    )
    assert extractive.next_steps and editor.summary(strict=False).generated_by.method == "extractive"
    assert editor.prose_note.isVisible() and "rédige" in editor.prose_note.text()

    with qtbot.waitSignal(generation.summary_prose_ready, timeout=5000) as ready:
        generator.release.set()  # type: ignore[union-attr]
    prose: SummaryProse = ready.args[2]
    assert prose.rejected == () and prose.model == "scripted"
    assert fields(editor) == (REASON, "\n".join(ACTIONS), [STEP] * len(extractive.next_steps))
    written = editor.summary(strict=False)
    assert written.generated_by.model_dump() == {"method": "model", "model": "scripted"}
    assert written.entities == extractive.entities and written.disposition == extractive.disposition
    assert editor.prose_note.text().startswith("Rédigé par le modèle scripted : motif, actions, étape 1")
    assert generator.threads and threading.main_thread().name not in generator.threads  # the generation worker
    assert "Je paie quatre-vingt-quinze euros" in generator.calls[0][1]["content"]  # the call's transcript

    with qtbot.waitSignal(panel.service.summary_saved, timeout=5000):
        pass  # kept as a draft, as the agent's edits are
    body = json.loads(consented_store.conn.execute("SELECT body FROM summaries").fetchone()[0])
    assert body["reason"] == REASON and body["actions"] == ACTIONS
    assert body["generated_by"] == {"method": "model", "model": "scripted"}


def test_what_the_agent_edited_before_the_prose_arrived_is_kept(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, attach: Any
) -> None:
    generator = ProseGenerator(release=threading.Event())
    generation = attach(generator)
    session = talk(panel, clock)
    hang_up(panel, clock)
    editor = panel.editors[session.uid]
    editor.reason_edit.end(False)  # the agent adds to the end of the drafted reason (it opens at its start)
    qtbot.keyClicks(editor.reason_edit, " Client presse.")
    first_step = editor.steps.rows[0][1]
    first_step.selectAll()
    qtbot.keyClicks(first_step, "Rappeler le client")
    typed_reason = editor.reason_edit.text()
    assert typed_reason.endswith("Client presse.")

    with qtbot.waitSignal(generation.summary_prose_ready, timeout=5000):
        generator.release.set()  # type: ignore[union-attr]
    reason, actions, steps = fields(editor)
    assert reason == typed_reason  # the agent's
    assert actions == "\n".join(ACTIONS)  # untouched: the model's
    assert steps[0] == "Rappeler le client" and steps[1:] == [STEP] * (len(steps) - 1)
    assert editor.summary(strict=False).generated_by.method == "model"
    assert "motif" not in editor.prose_note.text()  # the note names only what the model filled


def test_a_new_call_ringing_cancels_the_prose_and_keeps_the_extractive_text(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, attach: Any
) -> None:
    generator = ProseGenerator(release=threading.Event())  # never released: only a cancel ends it
    generation = attach(generator)
    ready: list[object] = []
    generation.summary_prose_ready.connect(lambda *args: ready.append(args))
    session = talk(panel, clock)
    hang_up(panel, clock)
    editor = panel.editors[session.uid]
    before = fields(editor)
    qtbot.waitUntil(lambda: bool(generator.calls), timeout=5000)  # the model is writing
    with qtbot.waitSignal(generation.summary_prose_cancelled, timeout=5000) as cancelled:
        panel.service.handle_event(ev("ringing", 50, call_id="c2", number="+33639980002", direction="inbound"))
    assert cancelled.args[0] is session
    assert generator.stopped.is_set() and ready == []
    assert fields(editor) == before
    assert editor.summary(strict=False).generated_by.method == "extractive"
    assert editor.prose_note.text() == "Rédaction par le modèle arrêtée : texte extrait gardé."
    assert generation.current_request is None


def test_a_new_adaptation_cancels_the_prose(qtbot: QtBot) -> None:
    generator = ProseGenerator(release=threading.Event())
    generation = GenerationService(lambda: generator)
    try:
        session = type("Session", (), {"uid": "s1", "segments": [], "started_at": T0})()
        draft = draft_summary(direction="inbound", purpose="service", consent_events=[], disclosure=None)
        first = generation.write_prose(session, draft)
        qtbot.waitUntil(lambda: bool(generator.calls), timeout=5000)
        ends: list[str] = []
        generation.summary_prose_cancelled.connect(lambda _s, rid: ends.append(f"prose {rid} cancelled"))
        generation.generation_finished.connect(lambda _s, rid, _a: ends.append(f"adaptation {rid} finished"))
        with qtbot.waitSignals([generation.summary_prose_cancelled, generation.generation_finished], timeout=5000):
            second = generation.adapt(session, TOP, [("customer", "Merci.")])
        assert ends == [f"prose {first} cancelled", f"adaptation {second} finished"]
        assert generator.stopped.is_set()
    finally:
        generation.stop()


def test_a_prose_with_an_invented_amount_is_rejected_field_by_field(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, attach: Any
) -> None:
    generation = attach(ProseGenerator(reason="Le client a obtenu une remise de 450 € sur Fixe Sérénité."))
    session = talk(panel, clock)
    with qtbot.waitSignal(generation.summary_prose_ready, timeout=5000) as ready:
        hang_up(panel, clock)
    editor = panel.editors[session.uid]
    extractive = panel.service.draft(session)
    prose: SummaryProse = ready.args[2]
    assert [(each.field, each.unsupported) for each in prose.rejected] == [("reason", ("450 €",))]
    reason, actions, steps = fields(editor)
    assert reason == extractive.reason and "450" not in reason  # kept extractive
    assert actions == "\n".join(ACTIONS) and steps == [STEP] * len(steps)  # the other fields passed
    assert editor.summary(strict=False).generated_by.method == "model"
    note = editor.prose_note.text()
    assert note.endswith("Gardé tel qu'extrait (fait absent de l'appel) : motif (450 €).")


def test_a_failing_generator_leaves_the_extractive_text(
    qtbot: QtBot, panel: AgentPanel, clock: FakeClock, attach: Any
) -> None:
    generation = attach(ProseGenerator(error="generator scripted: no valid JSON after one retry (boom)"))
    session = talk(panel, clock)
    extractive = panel.service.draft(session)
    with qtbot.waitSignal(generation.summary_prose_failed, timeout=5000) as failed:
        hang_up(panel, clock)
    assert "no valid JSON" in failed.args[2]
    editor = panel.editors[session.uid]
    assert fields(editor)[:2] == (extractive.reason, "\n".join(extractive.actions))
    assert editor.summary(strict=False).generated_by.method == "extractive"
    assert editor.prose_note.text() == "Modèle indisponible : texte extrait gardé."
    assert "no valid JSON" in editor.prose_note.toolTip()


def test_without_a_generator_nothing_changes(qtbot: QtBot, panel: AgentPanel, clock: FakeClock) -> None:
    panel.service.use_summary_engine()
    session = talk(panel, clock)
    hang_up(panel, clock)
    editor = panel.editors[session.uid]
    extractive = panel.service.draft(session)
    assert panel.generation is None and editor.prose_request is None
    assert fields(editor) == (
        extractive.reason,
        "\n".join(extractive.actions),
        [s.action for s in extractive.next_steps],
    )
    assert not editor.prose_note.isVisible() and editor.prose_note.text() == ""
    assert editor.summary(strict=False).generated_by.method == "extractive"
