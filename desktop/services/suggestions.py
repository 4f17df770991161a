"""SuggestionEngine: ranks approved replies for customer turns on its own worker thread (never the GUI thread).

:class:`desktop.services.calls.CallService` hands it each redacted customer turn (:meth:`request`); the worker loads
the embedder lazily on its first request, ranks with :class:`Retriever`, and the engine re-emits the result in the
GUI thread as ``ranked(session, suggestions)``; the service re-emits that as ``suggestions_changed``. A request
overtaken by a newer one for the same session is dropped (only the last turn's suggestions matter). Without the
model installed, the playbook's rule-based pick is used and ``unavailable(message)`` is emitted once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.core.assist.playbook import Playbook, Suggestion
from desktop.core.assist.retrieval import Retriever
from desktop.core.errors import NotFoundError

log = logging.getLogger("agent_assist.suggestions")

#: Builds the retriever in the worker thread (loads the model): the installed embedder by default.
RetrieverFactory = Callable[[], Retriever]


def installed_retriever(playbook: Playbook, models_root: Path | None, cache_dir: Path | None) -> RetrieverFactory:
    """A factory for the retriever over ``playbook`` with the installed e5-small."""

    def build() -> Retriever:
        from desktop.core.assist.summarize import shared_embedder

        embedder = shared_embedder(models_root)  # one e5-small for suggestions and summaries (about 215 MB saved)
        return Retriever(playbook, embedder.embed, model_fingerprint=embedder.fingerprint, cache_dir=cache_dir)

    return build


class _Worker(QObject):
    done = Signal(object, object, int)
    failed = Signal(str)

    def __init__(self, playbook: Playbook, factory: RetrieverFactory) -> None:
        super().__init__()
        self.playbook = playbook
        self.factory = factory
        self.retriever: Retriever | None = None
        self.unavailable = False
        self.latest: dict[str, int] = {}

    @Slot()
    def load(self) -> None:
        """Build the retriever now (model load, playbook embeddings) rather than at the first customer turn."""
        if self.retriever is None and not self.unavailable:
            try:
                self.retriever = self.factory()
            except NotFoundError as error:
                self.unavailable = True
                self.failed.emit(str(error))

    @Slot(object, str, object, object, object, int)
    def rank(
        self, session: Any, text: str, verdict: str | None, sector: str | None, kinds: Sequence[str], seq: int
    ) -> None:
        if self.latest.get(session.uid, seq) > seq:
            return  # a newer turn of this call is queued
        self.load()
        if self.retriever is not None:
            found = self.retriever.suggest(text, verdict=verdict, sector=sector, detections=tuple(kinds))
        else:
            found = self.playbook.suggest(text, verdict, tuple(kinds))
        self.done.emit(session, found, seq)


class SuggestionEngine(QObject):
    """Lives in the GUI thread; owns the worker thread. Signals: ``ranked(session, suggestions)``, ``unavailable``."""

    ranked = Signal(object, object)
    unavailable = Signal(str)
    _requested = Signal(object, str, object, object, object, int)
    _load_requested = Signal()

    def __init__(self, playbook: Playbook, factory: RetrieverFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("suggestions")
        self._worker = _Worker(playbook, factory)
        self._worker.moveToThread(self._thread)
        self._requested.connect(self._worker.rank)
        self._load_requested.connect(self._worker.load)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self.unavailable)
        self._seq = 0
        self._thread.start()

    def preload(self) -> None:
        """Load the model in the worker now, so that the first customer turn is ranked at once."""
        self._load_requested.emit()

    def request(
        self, session: Any, text: str, verdict: str | None, sector: str | None, kinds: Sequence[str] = ()
    ) -> None:
        """Rank (in the worker) the replies for this redacted customer turn; answered by ``ranked``."""
        self._seq += 1
        self._worker.latest[session.uid] = self._seq
        self._requested.emit(session, text, verdict, sector, tuple(kinds), self._seq)

    def _on_done(self, session: Any, suggestions: list[Suggestion], seq: int) -> None:
        if self._worker.latest.get(session.uid) == seq and suggestions:
            self.ranked.emit(session, suggestions)

    def stop(self) -> None:
        """Stop the worker thread (waits for the request in progress)."""
        self._thread.quit()
        self._thread.wait()
