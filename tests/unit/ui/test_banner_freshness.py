"""The banner's consent freshness line: how long ago the consents were pulled from the CRM, and the warning look
once that is older than the policy's max_sync_age (the engine then forbids with CONSENT_DATA_STALE). The value
comes from the ConsentFreshness service, which reads the store's sync state (the banner runs no SQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from pytestqt.qtbot import QtBot

from desktop.core.consent.policy import Policy
from desktop.core.store.db import Store, transaction
from desktop.core.store.sync_state import set_last_consent_pull
from desktop.services.consent_freshness import ConsentFreshness, Freshness
from desktop.ui.panel import load_stylesheet
from desktop.ui.widgets.banner import ConsentBanner

from .conftest import T0

DAY = dt.timedelta(hours=24)


@pytest.fixture
def banner(qtbot: QtBot) -> ConsentBanner:
    shown = ConsentBanner()
    shown.setStyleSheet(load_stylesheet())
    shown.resize(380, shown.sizeHint().height())
    qtbot.addWidget(shown)
    shown.show()
    return shown


@pytest.mark.parametrize(
    ("age", "text", "stale"),
    [
        (dt.timedelta(seconds=20), "Consentements synchronisés à l'instant", False),
        (dt.timedelta(minutes=3, seconds=59), "Consentements synchronisés il y a 3 min", False),
        (dt.timedelta(hours=2, minutes=5), "Consentements synchronisés il y a 2 h 05", False),
        (DAY, "Consentements synchronisés il y a 24 h 00", False),  # the limit itself is still fresh
        (
            DAY + dt.timedelta(hours=2),
            "⚠ Consentements non synchronisés depuis 26 h 00 : démarchage interdit",
            True,
        ),
        (dt.timedelta(days=3, hours=1), "⚠ Consentements non synchronisés depuis 3 j : démarchage interdit", True),
    ],
)
def test_the_line_says_how_long_ago(banner: ConsentBanner, age: dt.timedelta, text: str, stale: bool) -> None:
    assert banner.freshness_label.isHidden()  # no CRM: no line
    banner.set_freshness(Freshness(T0 - age, DAY))
    banner.tick(T0)
    assert banner.freshness_label.isVisible()
    assert banner.freshness_label.text() == text
    assert banner.freshness_stale is stale
    assert "Dernière synchronisation des consentements avec le CRM" in banner.freshness_label.toolTip()


def test_never_pulled_is_stale_and_the_line_follows_the_clock(banner: ConsentBanner) -> None:
    banner.set_freshness(Freshness(None, DAY))
    banner.tick(T0)
    assert banner.freshness_label.text() == "⚠ Consentements jamais synchronisés avec le CRM : démarchage interdit"
    assert banner.freshness_stale
    banner.set_freshness(Freshness(T0, DAY))
    assert not banner.freshness_stale
    banner.tick(T0 + dt.timedelta(minutes=7))
    assert banner.freshness_label.text() == "Consentements synchronisés il y a 7 min"
    banner.tick(T0 + DAY + dt.timedelta(minutes=1))
    assert banner.freshness_stale
    banner.set_freshness(None)
    assert banner.freshness_label.isHidden()


def test_the_service_reads_the_store(qtbot: QtBot, store: Store, policy: Policy, banner: ConsentBanner) -> None:
    service = ConsentFreshness(store.conn, policy, poll_ms=20)
    assert service.current == Freshness(None, policy.params.max_sync_age)
    service.freshness_changed.connect(banner.set_freshness)
    with qtbot.waitSignal(service.freshness_changed) as first:
        service.start()
    assert first.args == [service.current]
    pulled = T0 - dt.timedelta(hours=25)
    with transaction(store.conn):
        set_last_consent_pull(store.conn, pulled)
    with qtbot.waitSignal(service.freshness_changed, timeout=2000) as changed:
        pass  # the timer reads the new instant
    service.stop()
    freshness = changed.args[0]
    assert freshness.last_pull == pulled
    banner.tick(T0)
    assert banner.freshness_stale  # 25 h > the pack's PT24H
    assert freshness.stale_after == pulled + dt.timedelta(hours=24)  # as the engine's step 10 computes it
    assert not freshness.is_stale(freshness.stale_after) and freshness.is_stale(pulled + DAY + dt.timedelta(seconds=1))
    assert service.poll() is service.current  # nothing moved: no signal, same value
