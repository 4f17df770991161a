"""A call ended in the app gets a summary draft written by the real generator: SmolLM2-135M-Instruct installed by
the app's installer, started by the app's own wiring from ``[assist] generator = "local"``, the extractive draft on
screen at hang-up, then the model's prose through the fact check into the editor, kept as a draft in the store.

Mechanics, not quality: SmolLM2 is English-only and its French is useless (reference/models.md §3.3).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop.config import Assist, Settings
from desktop.core.store.db import Store
from desktop.core.telephony.events import CallEvent
from desktop.ui.panel import AgentPanel
from tests.integration.conftest import CONSENTED, T0

pytestmark = pytest.mark.slow  # installs (converts and checks) SmolLM2, then a prose of a few seconds

TURNS = [
    ("agent", "Bonjour, ACME Énergie, Julie à l'appareil. Cet appel est enregistré."),
    ("customer", "Bonjour, je voudrais changer l'adresse e-mail de mon contrat, s'il vous plaît."),
    ("agent", "Bien sûr, c'est fait : je mets à jour votre adresse et je vous envoie une confirmation par e-mail."),
    ("customer", "Parfait, merci beaucoup. Bonne journée."),
]


class Window(QWidget):
    """What the app's wiring needs of its main window: a QObject parent holding the panel."""

    def __init__(self, panel: AgentPanel) -> None:
        super().__init__()
        self.panel = panel


def event(kind: str, seconds: float, **values: Any) -> CallEvent:
    return CallEvent(kind=kind, at=T0 + dt.timedelta(seconds=seconds), call_id="g1", **values)  # type: ignore[arg-type]


def test_a_call_ended_in_the_app_gets_a_model_written_summary_draft(
    smollm2_models: Path, panel: AgentPanel, consented_store: Store, data_dir: Path, qtbot: QtBot
) -> None:
    from desktop.app import _start_generation

    settings = Settings(
        models_dir=str(smollm2_models), assist=Assist(generator="local", generator_model="smollm2-135m")
    )
    window = Window(panel)
    stages: list[str] = []
    generation = _start_generation(window, data_dir, settings, lambda stage, **_fields: stages.append(stage))
    try:
        assert stages == ["generator_started"] and panel.generation is generation
        service = panel.service
        service.use_summary_engine()
        session = service.handle_event(event("ringing", 0, number=CONSENTED, direction="inbound"))
        assert session is not None
        service.handle_event(event("answered", 2))
        for k, (speaker, text) in enumerate(TURNS):
            service.add_segment(session, speaker, text, 3.0 + 5 * k, 7.0 + 5 * k)  # type: ignore[arg-type]

        started = time.perf_counter()
        with qtbot.waitSignal(generation.summary_prose_ready, timeout=180_000) as ready:
            service.handle_event(event("ended", 30))
            hung_up = time.perf_counter() - started
            editor = panel.editors[session.uid]
            extractive = editor.summary(strict=False)
            assert extractive.generated_by.method == "extractive"  # on screen at once, before the model
            assert editor.prose_request is not None
        assert hung_up < 2.0  # the hang-up never waits for the model
        prose = ready.args[2]
        assert prose.model == "smollm2-135m"
        written = editor.summary(strict=False)
        assert written.generated_by.model_dump() == {"method": "model", "model": "smollm2-135m"}
        assert prose.summary.reason == editor.reason_edit.text() or any(r.field == "reason" for r in prose.rejected)
        assert editor.prose_note.text().startswith("Rédigé par le modèle smollm2-135m")
        with qtbot.waitSignal(service.summary_saved, timeout=5000):
            pass  # kept as a draft
        body = json.loads(consented_store.conn.execute("SELECT body FROM summaries").fetchone()[0])
        assert body["generated_by"] == {"method": "model", "model": "smollm2-135m"}
        assert body["reason"] == editor.reason_edit.text()
    finally:
        generation.stop()
