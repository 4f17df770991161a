"""GenerationService: the optional generator on its own worker thread, as typed Qt signals in the GUI thread.

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
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.core.assist.generator import (
    Adaptation,
    GenerationError,
    Generator,
    adaptation_messages,
    adaptation_problems,
)
from desktop.core.assist.playbook import Suggestion
from desktop.core.errors import InputError, NotFoundError

log = logging.getLogger("agent_assist.generation")

#: Builds the generator in the worker thread (loads the model): see :func:`desktop.core.assist.generator.make_generator`.
GeneratorFactory = Callable[[], Generator]
#: Longest adaptation, in tokens (three sentences of French are about 60 to 90).
MAX_NEW_TOKENS = 160


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


class GenerationService(QObject):
    """Lives in the GUI thread; owns the generator's worker thread. Signals: see the module docstring."""

    token_generated = Signal(object, int, str)
    generation_finished = Signal(object, int, object)
    generation_cancelled = Signal(object, int, str)
    generation_failed = Signal(object, int, str)
    _run_requested = Signal(object)
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
        self._load_requested.connect(self._worker.load)
        self._worker.token.connect(self._on_worker_token)
        self._worker.finished.connect(self._on_worker_finished)
        self._worker.cancelled.connect(self.generation_cancelled)
        self._worker.failed.connect(self._on_worker_failed)
        self._current: _Request | None = None
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

    def cancel(self) -> None:
        """Cancel the adaptation in progress (``generation_cancelled`` follows, with what was written so far)."""
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

    def _done(self, request_id: int) -> None:
        if self._current is not None and self._current.id == request_id:
            self._current = None
