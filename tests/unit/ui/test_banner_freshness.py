"""The banner's consent freshness line: how long ago the consents were pulled from the CRM, and the warning look
once that is older than the policy's max_sync_age (the engine then forbids with CONSENT_DATA_STALE). The value
comes from the ConsentFreshness service, which reads the store through consent_freshness() (the banner runs no
SQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from pytestqt.qtbot import QtBot

from desktop.core.consent.check import Freshness
from desktop.core.consent.policy import Policy
from desktop.core.store.db import Store, transaction
from desktop.core.store.sync_state import set_last_consent_pull
from desktop.services.consent_freshness import ConsentFreshness
from desktop.ui.panel import load_stylesheet
from desktop.ui.widgets.banner import ConsentBanner

from .conftest import T0, Shots

DAY = dt.timedelta(hours=24)


def pulled_at(instant: dt.datetime | None) -> Freshness:
    """What consent_freshness() says for a pull at ``instant`` under the pack's PT24H (stale as seen at T0)."""
    stale_at = None if instant is None else instant + DAY
    return Freshness(crm_sync=True, last_pull=instant, stale_at=stale_at, stale=stale_at is None or stale_at < T0)


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
        (dt.timedelta(hours=11, minutes=5), "Consentements synchronisés il y a 11 h", False),
        (DAY, "Consentements synchronisés il y a 24 h", False),  # the limit itself is still fresh
        (DAY + dt.timedelta(hours=2), "⚠ Consentements non synchronisés depuis 26 h", True),
        (dt.timedelta(days=3, hours=1), "⚠ Consentements non synchronisés depuis 3 j", True),
    ],
)
def test_the_line_says_how_long_ago(banner: ConsentBanner, age: dt.timedelta, text: str, stale: bool) -> None:
    assert banner.freshness_label.isHidden()  # no CRM: no line
    banner.set_freshness(pulled_at(T0 - age))
    banner.tick(T0)
    assert banner.freshness_label.isVisible()
    assert banner.freshness_label.full_text() == text
    assert banner.freshness_stale is stale
    assert banner.freshness_label.toolTip().startswith(
        text + "\nDernière synchronisation des consentements avec le CRM"
    )
    # One line: the strip keeps the verdict's full height at the panel's width.
    assert banner.verdict_label.height() >= banner.verdict_label.sizeHint().height()
    assert banner.freshness_label.height() <= 2 * banner.freshness_label.fontMetrics().height()


def test_never_pulled_is_stale_and_the_line_follows_the_clock(banner: ConsentBanner) -> None:
    banner.set_freshness(pulled_at(None))
    banner.tick(T0)
    assert banner.freshness_label.full_text() == "⚠ Consentements jamais synchronisés avec le CRM"
    assert "Aucune synchronisation réussie" in banner.freshness_label.toolTip()
    assert banner.freshness_stale
    banner.set_freshness(pulled_at(T0))
    assert not banner.freshness_stale
    banner.tick(T0 + dt.timedelta(minutes=7))
    assert banner.freshness_label.full_text() == "Consentements synchronisés il y a 7 min"
    banner.tick(T0 + DAY + dt.timedelta(minutes=1))  # no new value: the tick alone turns it stale
    assert banner.freshness_stale
    banner.set_freshness(Freshness(crm_sync=False, last_pull=None, stale_at=None, stale=False))
    assert banner.freshness_label.isHidden()
    banner.set_freshness(pulled_at(T0))
    banner.set_freshness(None)
    assert banner.freshness_label.isHidden()


def test_pictures_fresh_and_stale(banner: ConsentBanner, shots: Shots) -> None:
    """The strip at the panel's width with the line fresh, then stale (test artefacts: look at them)."""
    banner.set_freshness(pulled_at(T0 - dt.timedelta(minutes=3)))
    banner.tick(T0)
    shots(banner, "fresh")
    banner.tick(T0 + DAY)
    assert banner.freshness_stale
    shots(banner, "stale")
    assert len(shots.paths) == 2


def test_no_empty_countdown_line(banner: ConsentBanner) -> None:
    banner.tick(T0)
    assert banner.countdown_label.isHidden()


def test_the_service_reads_the_store(qtbot: QtBot, store: Store, policy: Policy, banner: ConsentBanner) -> None:
    service = ConsentFreshness(store.conn, policy, crm_sync=True, clock=lambda: T0, poll_ms=20)
    assert service.current == Freshness(crm_sync=True, last_pull=None, stale_at=None, stale=True)
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
    assert (freshness.last_pull, freshness.stale_at, freshness.stale) == (pulled, pulled + DAY, True)
    banner.tick(T0)
    assert banner.freshness_stale and banner.freshness_label.full_text().endswith("depuis 25 h")
    assert service.poll() is service.current  # nothing moved: same value


def test_without_a_crm_the_service_says_so_once(qtbot: QtBot, store: Store, policy: Policy) -> None:
    service = ConsentFreshness(store.conn, policy, crm_sync=False)
    with qtbot.waitSignal(service.freshness_changed) as first:
        service.start()
    assert first.args[0].crm_sync is False
    assert not service.timer.isActive()
