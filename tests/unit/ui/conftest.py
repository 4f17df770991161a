"""The agent panel on a real call service over a fresh store, with a clock the test moves by hand.

Every test here fails on a Qt warning (a style sheet that does not parse, a layout problem), except the one the
offscreen platform prints for every top-level window.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QtMsgType
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.assist.playbook import load_playbook
from desktop.core.consent.policy import Policy
from desktop.core.store.consents import ConsentRecord, record_consent
from desktop.core.store.db import Store
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import StationDefaults
from desktop.services.calls import CallService
from desktop.ui.i18n import install_translator
from desktop.ui.panel import AgentPanel

PARIS = dt.timezone(dt.timedelta(hours=1))
# A Tuesday morning after the opt-in switch, inside the calling hours: the consent below makes it allowed.
T0 = dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)
NUMBER = "+33639980001"
DEFAULTS = StationDefaults(
    professional="ACME Énergie SAS", product="electricity", caller_id="+33162000001", agent_id="agent-7"
)
TEXT_SHOWN = "J'accepte d'être appelé par ACME Énergie pour ses offres d'électricité."
# The offscreen platform says this for every window it shows; it is no problem of ours.
_OFFSCREEN_NOISE = ("This plugin does not support propagateSizeHints()",)


class FakeClock:
    """The service's and the panel's "now", moved by the test."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, seconds: float) -> dt.datetime:
        """Set the time to ``seconds`` after T0 and return it."""
        self.now = T0 + dt.timedelta(seconds=seconds)
        return self.now


def ev(kind: str, seconds: float = 0, **values: object) -> CallEvent:
    return CallEvent(kind=kind, at=T0 + dt.timedelta(seconds=seconds), **values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _fails_on_qt_warnings(qtlog: object) -> Iterator[None]:
    yield
    bad = (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
    records = qtlog.records  # type: ignore[attr-defined]
    problems = [r.message for r in records if r.type in bad and r.message not in _OFFSCREEN_NOISE]
    assert problems == []


@pytest.fixture(autouse=True)
def _french(qapp: QApplication) -> Iterator[None]:
    """The interface starts in French, as in the app, and a test that switches language cannot leak it."""
    install_translator(qapp, "fr")
    yield
    install_translator(qapp, "fr")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def consented_store(store: Store) -> Store:
    """The store with one consent: +33639980001 to ACME Énergie for electricity, by web form."""
    record = ConsentRecord(
        number=NUMBER,
        professional="ACME Énergie SAS",
        products=("electricity",),
        collected_at=dt.datetime(2026, 9, 1, 15, 2, tzinfo=PARIS),
        method="web_form",
        affirmative_act=True,
        pre_ticked=False,
        evidence_ref="wf-2026-09-01-8812",
        text_shown=TEXT_SHOWN,
    )
    record_consent(store.conn, record, source="test")
    return store


@pytest.fixture
def service(consented_store: Store, policy: Policy, clock: FakeClock, qapp: QApplication) -> CallService:
    return CallService(consented_store.conn, policy, load_playbook(), DEFAULTS, clock=clock)


@pytest.fixture
def panel(qtbot: QtBot, service: CallService) -> AgentPanel:
    widget = AgentPanel(service)
    qtbot.addWidget(widget)
    widget.resize(380, 720)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


class Shots:
    """Renders a widget to PNG files named after the test and the stage, kept as test artefacts."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        self.count = 0
        self.paths: list[Path] = []

    def __call__(self, widget: QWidget, stage: str) -> Path:
        # Layouts settle before the picture: a widget shown or hidden posts layout requests that post others,
        # which a few processEvents() calls do not all reach; the running event loop does.
        QTest.qWait(60)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.prefix}-{self.count:02d}-{stage}.png"
        self.count += 1
        assert widget.grab().save(str(path))
        self.paths.append(path)
        return path


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Shots:
    """Where the pictures go: ``$AGENT_ASSIST_ARTIFACTS`` if set (CI keeps it), else the test's tmp_path."""
    folder = os.environ.get("AGENT_ASSIST_ARTIFACTS")
    return Shots(Path(folder) if folder else tmp_path / "artifacts", request.node.name)
