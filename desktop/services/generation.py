"""GenerationService: the optional generator on its own worker thread, as typed Qt signals in the GUI thread.

It does two kinds of work, one at a time, on the same loaded model: adaptations of approved replies
(:meth:`GenerationService.adapt`) and the after-call summary's prose (:meth:`GenerationService.write_prose`).

:meth:`GenerationService.adapt` asks the generator (local model or server, loaded lazily on the first request or by
:meth:`preload`) to adapt an approved reply to the last turns of the call. The text streams back piece by piece;
a new request cancels the one in progress (only the last customer turn's adaptation matters), and so do
:meth:`cancel` (Échap in the panel) and :meth:`stop` (quit, which also joins the thread).

Signals (all emitted in the GUI thread; ``request_id`` is what :meth:`adapt` returned):
- ``token_generated(session, request_id, text)``: the next piece of the adaptation;
- ``generation_finished(session, request_id, adaptation)``: the whole :class:`Adaptation` (text, source
  ``model:<name>``, the reply's ``playbook:<id>``, the figures it added if any);
- ``generation_cancelled(session, request_id, partial_text)``: stopped by a newer request, cancel() or stop();
- ``generation_failed(session, request_id, message)``: one line (model not installed, server down...); after a
  failed load every request fails at once with the same message until :meth:`reset`.

:meth:`GenerationService.write_prose` asks the model for a call's summary prose (``reason``, ``actions``, each next
step's action) as schema-constrained JSON, then checks every date, amount, time and reference it wrote against the
transcript (:func:`desktop.core.assist.summarize.apply_prose`); a new adaptation, :meth:`cancel` or :meth:`stop`
cancel it. Exactly one of:
- ``summary_prose_ready(session, request_id, prose)``: a :class:`SummaryProse` (the draft with the fields that
  passed the check, and the fields rejected for unsupported facts);
- ``summary_prose_cancelled(session, request_id)``: the extractive text stays;
- ``summary_prose_failed(session, request_id, message)``: one line; the extractive text stays.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.core.assist.extract import Turn
from desktop.core.assist.generator import (
    Adaptation,
    GenerationError,
    Generator,
    ModelProseWriter,
    adaptation_messages,
    adaptation_problems,
)
from desktop.core.assist.playbook import Suggestion
from desktop.core.assist.redact import ExtraPattern
from desktop.core.assist.summarize import Rejected, apply_prose
from desktop.core.assist.summary import Summary
from desktop.core.errors import InputError, NotFoundError

log = logging.getLogger("agent_assist.generation")

#: Builds the generator in the worker thread (loads the model): see :func:`desktop.core.assist.generator.make_generator`.
GeneratorFactory = Callable[[], Generator]
#: Longest adaptation, in tokens (three sentences of French are about 60 to 90).
MAX_NEW_TOKENS = 160
#: Longest summary prose, in tokens (a reason, up to four actions and the next steps' actions).
PROSE_MAX_NEW_TOKENS = 400


@dataclass(frozen=True)
class SummaryProse:
    """What the model wrote for a call's summary, after the fact check.

    ``summary`` is the extractive draft with every prose field whose facts are all in the transcript
    (``generated_by`` says ``model`` when at least one passed); ``rejected`` lists the others, kept extractive.
    """

    summary: Summary
    rejected: tuple[Rejected, ...]
    model: str
    seconds: float


class _ProseRequest:
    def __init__(
        self,
        session: Any,
        request_id: int,
        draft: Summary,
        transcript: list[Turn],
        started_at: dt.datetime,
        patterns: Sequence[ExtraPattern],
    ) -> None:
        self.session = session
        self.id = request_id
        self.draft = draft
        self.transcript = transcript
        self.started_at = started_at
        self.patterns = tuple(patterns)
        self.stop = threading.Event()


class _Request:
    def __init__(self, session: Any, request_id: int, suggestion: Suggestion, messages: list[dict[str, str]]) -> None:
        self.session = session
        self.id = request_id
        self.suggestion = suggestion
        self.messages = messages
        self.stop = threading.Event()


class _Worker(QObject):
    token = Signal(object, int, str)
    finished = Signal(object, int, object)
    cancelled = Signal(object, int, str)
    failed = Signal(object, int, str)
    prose_written = Signal(object, int, object)
    prose_cancelled = Signal(object, int)
    prose_failed = Signal(object, int, str)

    def __init__(self, factory: GeneratorFactory, max_new_tokens: int) -> None:
        super().__init__()
        self.factory = factory
        self.max_new_tokens = max_new_tokens
        self.generator: Generator | None = None
        self.load_error: str | None = None

    @Slot()
    def load(self) -> None:
        """Load the model now rather than at the first request (a failure is kept and reported per request)."""
        if self.generator is not None or self.load_error is not None:
            return
        try:
            self.generator = self.factory()
        except (GenerationError, NotFoundError, InputError) as error:
            self.load_error = str(error)
            log.warning("generator unavailable: %s", error)

    @Slot(object)
    def run(self, request: _Request) -> None:
        if request.stop.is_set():  # overtaken while queued: nothing generated
            self.cancelled.emit(request.session, request.id, "")
            return
        self.load()
        if self.generator is None:
            self.failed.emit(request.session, request.id, self.load_error or "no generator")
            return
        pieces: list[str] = []
        try:
            for piece in self.generator.stream(request.messages, max_new_tokens=self.max_new_tokens, stop=request.stop):
                if request.stop.is_set():
                    break
                pieces.append(piece)
                self.token.emit(request.session, request.id, piece)
        except GenerationError as error:
            self.failed.emit(request.session, request.id, str(error))
            return
        text = "".join(pieces)
        if request.stop.is_set():
            self.cancelled.emit(request.session, request.id, text)
            return
        text = text.strip().strip('«»"').strip()
        suggestion = request.suggestion
        adaptation = Adaptation(
            text=text,
            model=self.generator.name,
            reply_source=suggestion.source,
            category=suggestion.category,
            problems=tuple(adaptation_problems(suggestion.text, text)),
        )
        if adaptation.problems:
            log.info(
                "adaptation %d of %s flagged: %d problem(s)", request.id, suggestion.source, len(adaptation.problems)
            )
        self.finished.emit(request.session, request.id, adaptation)

    @Slot(object)
    def write_prose(self, request: _ProseRequest) -> None:
        if request.stop.is_set():  # a new call rang or an adaptation came first: nothing generated
            self.prose_cancelled.emit(request.session, request.id)
            return
        self.load()
        if self.generator is None:
            self.prose_failed.emit(request.session, request.id, self.load_error or "no generator")
            return
        writer = ModelProseWriter(self.generator, stop=request.stop, max_new_tokens=PROSE_MAX_NEW_TOKENS)
        started = time.perf_counter()
        try:
            prose = writer.write(request.transcript, request.draft)
            summary, rejected = apply_prose(
                request.draft,
                prose,
                request.transcript,
                started_at=request.started_at,
                model=writer.name,
                patterns=request.patterns,
            )
        except Exception as error:  # the extractive draft stands whatever the generator does
            if request.stop.is_set():
                self.prose_cancelled.emit(request.session, request.id)
            else:
                log.warning("summary prose %d failed, extractive text kept (%s)", request.id, type(error).__name__)
                self.prose_failed.emit(request.session, request.id, str(error) or type(error).__name__)
            return
        if request.stop.is_set():  # cancelled while the facts were checked: dropped all the same
            self.prose_cancelled.emit(request.session, request.id)
            return
        if rejected:
            log.info("summary prose %d: %d field(s) left extractive (unsupported facts)", request.id, len(rejected))
        result = SummaryProse(summary, tuple(rejected), writer.name, time.perf_counter() - started)
        self.prose_written.emit(request.session, request.id, result)


class GenerationService(QObject):
    """Lives in the GUI thread; owns the generator's worker thread. Signals: see the module docstring."""

    token_generated = Signal(object, int, str)
    generation_finished = Signal(object, int, object)
    generation_cancelled = Signal(object, int, str)
    generation_failed = Signal(object, int, str)
    summary_prose_ready = Signal(object, int, object)
    summary_prose_cancelled = Signal(object, int)
    summary_prose_failed = Signal(object, int, str)
    _run_requested = Signal(object)
    _prose_requested = Signal(object)
    _load_requested = Signal()

    def __init__(
        self, factory: GeneratorFactory, *, max_new_tokens: int = MAX_NEW_TOKENS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("generation")
        self._worker = _Worker(factory, max_new_tokens)
        self._worker.moveToThread(self._thread)
        self._run_requested.connect(self._worker.run)
        self._prose_requested.connect(self._worker.write_prose)
        self._load_requested.connect(self._worker.load)
        self._worker.token.connect(self._on_worker_token)
        self._worker.finished.connect(self._on_worker_finished)
        self._worker.cancelled.connect(self.generation_cancelled)
        self._worker.failed.connect(self._on_worker_failed)
        self._worker.prose_written.connect(self._on_worker_prose_written)
        self._worker.prose_cancelled.connect(self._on_worker_prose_cancelled)
        self._worker.prose_failed.connect(self._on_worker_prose_failed)
        self._current: _Request | _ProseRequest | None = None
        self._last_id = 0
        self._stopped = False
        self._thread.start()

    @property
    def current_request(self) -> int | None:
        """The id of the request in progress or queued (None when idle or cancelled)."""
        return self._current.id if self._current is not None and not self._current.stop.is_set() else None

    @property
    def model_name(self) -> str:
        """The generator's model name once loaded (empty before)."""
        generator = self._worker.generator
        return generator.name if generator is not None else ""

    def preload(self) -> None:
        """Load the model in the worker now, so that the first adaptation starts at once."""
        self._load_requested.emit()

    def adapt(self, session: Any, suggestion: Suggestion, turns: Sequence[tuple[str, str]] | None = None) -> int:
        """Start adapting the approved ``suggestion`` to the call; cancels the adaptation in progress.

        ``turns`` are (speaker, redacted text) pairs, oldest first; by default the session's last segments (the
        store keeps them redacted). Returns the request id the signals carry.
        """
        if self._stopped:
            raise RuntimeError("GenerationService.adapt after stop()")
        if turns is None:
            turns = [(segment.speaker, segment.text) for segment in getattr(session, "segments", [])]
        self.cancel()
        self._last_id += 1
        request = _Request(
            session, self._last_id, suggestion, adaptation_messages(suggestion.text, suggestion.category, turns)
        )
        self._current = request
        self._run_requested.emit(request)
        return request.id

    def write_prose(
        self,
        session: Any,
        draft: Summary,
        transcript: Sequence[Any] | None = None,
        *,
        started_at: dt.datetime | None = None,
        patterns: Sequence[ExtraPattern] = (),
    ) -> int:
        """Start writing the prose of ``draft`` (the call's extractive summary) with the model; cancels the work in
        progress, and a new :meth:`adapt` or :meth:`cancel` cancels it.

        ``transcript``: the call's redacted turns (``speaker``, ``text``, ``start``), by default the session's
        segments; ``started_at`` (default: the session's) resolves relative dates for the fact check; ``patterns``
        are the policy's extra redaction patterns, applied again to what the model wrote. Returns the request id
        the ``summary_prose_*`` signals carry.
        """
        if self._stopped:
            raise RuntimeError("GenerationService.write_prose after stop()")
        if transcript is None:
            transcript = getattr(session, "segments", [])
        turns = [Turn(turn.speaker, turn.text, getattr(turn, "start", None)) for turn in transcript]
        when = started_at if started_at is not None else session.started_at
        self.cancel()
        self._last_id += 1
        request = _ProseRequest(session, self._last_id, draft, turns, when, patterns)
        self._current = request
        self._prose_requested.emit(request)
        return request.id

    def cancel(self) -> None:
        """Cancel the work in progress: an adaptation (``generation_cancelled`` follows, with what was written so
        far) or a summary's prose (``summary_prose_cancelled``: the extractive text stays)."""
        if self._current is not None:
            self._current.stop.set()
            self._current = None

    def reset(self) -> None:
        """Forget a failed load, so that the next request tries to load the generator again (after an install)."""
        self._worker.load_error = None

    def stop(self) -> None:
        """Cancel what is in progress and stop the worker thread (waits for it: at most one token, or one event of
        a server)."""
        self.cancel()
        self._stopped = True
        self._thread.quit()
        self._thread.wait()
        close = getattr(self._worker.generator, "close", None)  # a server's HTTP connections
        if close is not None:
            close()

    def _on_worker_token(self, session: Any, request_id: int, text: str) -> None:
        # Pieces still queued from a cancelled request are dropped: the panel shows only the current one.
        if self._current is not None and self._current.id == request_id:
            self.token_generated.emit(session, request_id, text)

    def _on_worker_finished(self, session: Any, request_id: int, adaptation: Adaptation) -> None:
        self._done(request_id)
        self.generation_finished.emit(session, request_id, adaptation)

    def _on_worker_failed(self, session: Any, request_id: int, message: str) -> None:
        self._done(request_id)
        self.generation_failed.emit(session, request_id, message)

    def _on_worker_prose_written(self, session: Any, request_id: int, prose: SummaryProse) -> None:
        self._done(request_id)
        self.summary_prose_ready.emit(session, request_id, prose)

    def _on_worker_prose_cancelled(self, session: Any, request_id: int) -> None:
        self._done(request_id)
        self.summary_prose_cancelled.emit(session, request_id)

    def _on_worker_prose_failed(self, session: Any, request_id: int, message: str) -> None:
        self._done(request_id)
        self.summary_prose_failed.emit(session, request_id, message)

    def _done(self, request_id: int) -> None:
        if self._current is not None and self._current.id == request_id:
            self._current = None
