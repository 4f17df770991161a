"""TranscriptionService: live local transcription of both sides of the current call, committed as it arrives.

Lives in the GUI thread and follows the call service: when a call becomes active it starts a :class:`CallJob`,
whose two follower threads find baresip's recording files of the call (``*-dec.wav`` = customer, ``*-enc.wav`` =
agent, in ``recordings_dir``), follow them as they grow and cut utterances (:mod:`desktop.core.speech.vad`). Every
utterance goes to one model thread (the only one that touches the shared :class:`Transcriber`, so one model in
memory for all calls, one utterance at a time on its cores). Each text comes back to the GUI thread through a
queued signal and is committed with :meth:`CallService.add_segment` (which redacts, stores, and runs the live
helpers), with start and end in seconds from the answer.

Speculation (on by default): when a pause has lasted the cutter's ``tail_s`` (0.3 s), the utterance as it would
be cut there is already complete, so it is queued for the model at once, while the 0.5 s hangover runs; when the cut
comes and is the same utterance (same index and length: speech did not resume), the text already computed is
committed instead of starting then. If speech resumes, that text is dropped and the utterance goes on. What is cut
and transcribed is unchanged; end of speech → committed becomes max(hangover, tail + compute) instead of hangover +
compute. An offer that speech has overtaken before the model reached it is skipped, and one overtaken while the
encoder ran is not decoded (the decoder is most of the time with beam 5), so the next utterance waits less.

Parts (``parts_after_s``, 5 s by default) and refinement (``refine``, on): an offer holding that many seconds more
than the part already transcribed is transcribed even if speech resumes, and becomes the utterance's known first
part; a later offer or the cut then transcribes only what follows it and joins the texts. The work left after the
end of a long utterance is its last part, so its line is shown within the latency target; but pieces are recognised
worse than the whole (docs/speech.md), so such a line is committed as *provisional* (``final`` False) and the whole
utterance is queued again, behind every cut and speculation, to be transcribed at once: its text replaces the
provisional one (:meth:`CallService.refine_segment`: stored, shown, summarised, and a consent phrase only the final
text holds is raised then). A refinement yields to waiting utterances between the encoder and the decoder. With
``refine`` off the joined text is final (the parts' accuracy); with ``parts_after_s`` None nothing is split.

When the call ends (``wrap_up``, ``missed``, ``saved``, ``interrupted``) the followers read what is left of the
files and stop; the tail is still transcribed and committed. :meth:`stop` (app quit) cancels everything: what is
queued is dropped, the model thread ends after the utterance it is on.

Signals:
- ``segment_committed(session, segment, timing)``: a transcript line was committed; ``timing`` (dict, epoch
  seconds): ``speech_end`` (end of the speech in the recording), ``cut`` (the cutter decided it ended),
  ``transcribed``, ``committed``, and ``compute_s``.
- ``segment_refined(session, segment, timing)``: a provisional line got its final text (``timing`` as above, with
  ``refined``, ``committed_final`` and ``refine_compute_s``).
- ``call_transcribed(session)``: every utterance (and refinement) of an ended call has been handled (also told to
  the call service: :meth:`CallService.mark_transcribed`).
- ``transcription_failed(str)``: a side of a call could not be followed (no recording, unreadable), or the model
  failed to load; the call goes on without transcript.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

from desktop.core.speech.audio import GrowingWavSource
from desktop.core.speech.recordings import RecordingFinder
from desktop.core.speech.transcriber import Speaker, SpeechSegment, Transcriber
from desktop.core.speech.vad import Utterance, UtteranceCutter, VadSettings
from desktop.core.telephony.session import CallSession
from desktop.services.calls import CallService

log = logging.getLogger("agent_assist.transcription")
ENDED_STATES = ("wrap_up", "missed", "saved", "interrupted")
SIDES: tuple[Speaker, ...] = ("customer", "agent")
#: Recordings modified this long before the answer still count as the call's (baresip opens them at answer).
_CLOCK_SLACK_S = 2.0


@dataclass
class CallJob:
    """The transcription of one call: its follower threads, and what the GUI thread needs to commit segments."""

    key: str
    #: Epoch seconds of the call's zero (its answer, else its start), for segment times.
    anchor: float
    stop: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    followers: list[threading.Thread] = field(default_factory=list)
    pending: int = 0  # utterances queued or being transcribed (GUI thread's count)
    followers_done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Per side, (index, sample count) of the standing speculative offer, and of the last cut queued (followers).
    offers: dict[Speaker, tuple[int, int] | None] = field(default_factory=dict)
    cuts: dict[Speaker, tuple[int, int]] = field(default_factory=dict)
    #: Per side, the speculative result: (index, sample count) and the segment (model thread only).
    speculated: dict[Speaker, tuple[tuple[int, int], SpeechSegment]] = field(default_factory=dict)
    #: Per side, the first part of the utterance in progress already transcribed: (index, sample count, text)
    #: (model thread only; see ``parts_after_s``).
    prefixes: dict[Speaker, tuple[int, int, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Work:
    job: CallJob
    speaker: Speaker
    utterance: Utterance
    #: Epoch seconds of the recording's first sample.
    recording_start: float
    cut_at: float
    speculative: bool = False
    #: The committed provisional segment this whole-utterance transcription replaces (its idx), if any.
    refines: int | None = None
    #: For a refinement: the provisional line's timing, completed when the final text is committed.
    timing: dict[str, float] | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.utterance.index, len(self.utterance.samples))


#: Queue priorities: cuts and speculations first, then refinements (the sentinel that ends the thread before all).
_STOP, _URGENT, _REFINE = -1, 0, 1


class TranscriptionService(QObject):
    segment_committed = Signal(object, object, object)
    segment_refined = Signal(object, object, object)
    call_transcribed = Signal(object)
    transcription_failed = Signal(str)
    _text_ready = Signal(object, object, object, object)  # job, SpeechSegment, timing, _Work: model → GUI thread
    _refined = Signal(object, object, object)  # _Work, SpeechSegment | None, timing: model thread → GUI thread
    _follower_done = Signal(object)  # job: follower thread → GUI thread
    _failed = Signal(str)

    def __init__(
        self,
        calls: CallService,
        model_dir: Path | None,
        recordings_dir: Path,
        *,
        transcriber: Transcriber | None = None,
        vad: VadSettings | None = None,
        speculate: bool = True,
        parts_after_s: float | None = 5.0,
        parts_prompt: bool = False,
        refine: bool = True,
        appear_timeout_s: float = 10.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if transcriber is None:
            if model_dir is None:
                raise ValueError("a model folder or a transcriber is needed")
            transcriber = Transcriber(model_dir)
        self.calls = calls
        self.transcriber = transcriber
        self.finder = RecordingFinder(recordings_dir)
        self.vad = vad
        self.speculate = speculate
        self.parts_after_s = parts_after_s
        self.parts_prompt = parts_prompt
        self.refine = refine
        self.appear_timeout_s = appear_timeout_s
        self.jobs: dict[str, CallJob] = {}
        # (priority, order, work): the model thread takes cuts and speculations before refinements
        self._queue: queue.PriorityQueue[tuple[int, int, _Work | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._model_thread: threading.Thread | None = None
        self._preload_thread: threading.Thread | None = None
        self._stopped = False
        self._text_ready.connect(self._on_text_ready, Qt.ConnectionType.QueuedConnection)
        self._refined.connect(self._on_refined, Qt.ConnectionType.QueuedConnection)
        self._follower_done.connect(self._on_follower_done, Qt.ConnectionType.QueuedConnection)
        self._failed.connect(self.transcription_failed, Qt.ConnectionType.QueuedConnection)
        calls.call_started.connect(self._on_calls_changed)
        calls.call_state_changed.connect(self._on_calls_changed)

    # -- intents ---------------------------------------------------------------------------------------------

    def preload(self) -> None:
        """Load the model on the model thread now, so that the first utterance does not wait for it."""
        self._ensure_model_thread()
        self._preload_thread = threading.Thread(target=self._preload, name="speech-preload", daemon=True)
        self._preload_thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel every call's transcription and end the threads (app quit); idempotent."""
        if self._stopped:
            return
        self._stopped = True
        for job in self.jobs.values():
            job.cancelled.set()
            job.stop.set()
        self._queue.put((_STOP, next(self._order), None))
        deadline = time.monotonic() + timeout
        for job in self.jobs.values():
            for thread in job.followers:
                thread.join(max(0.0, deadline - time.monotonic()))
        if self._model_thread is not None:
            self._model_thread.join(max(0.0, deadline - time.monotonic()))
        if self._preload_thread is not None:
            # A model still loading when the app quits: CTranslate2's own threads must end before the
            # interpreter does, or the process aborts ("terminate called without an active exception").
            self._preload_thread.join(max(0.0, deadline - time.monotonic()))

    # -- GUI thread ------------------------------------------------------------------------------------------

    def _on_calls_changed(self, session: CallSession) -> None:
        job = self.jobs.get(session.key)
        if session.state == "active" and job is None and not self._stopped:
            self._start(session)
        elif session.state in ENDED_STATES and job is not None and not job.stop.is_set():
            log.debug("call %s ended: following the recordings to their end", session.uid[:8])
            job.stop.set()

    def _start(self, session: CallSession) -> None:
        zero = session.answered_at or session.started_at
        anchor = time.time() - (self.calls.clock() - zero).total_seconds()
        job = CallJob(session.key, anchor)
        self.jobs[session.key] = job
        self._ensure_model_thread()
        for speaker in SIDES:
            thread = threading.Thread(
                target=self._follow, args=(job, speaker), name=f"speech-follow-{speaker}", daemon=True
            )
            job.followers.append(thread)
            thread.start()
        log.info("call %s: transcription started", session.uid[:8])

    def _on_text_ready(self, job: CallJob, segment: SpeechSegment, timing: dict[str, float], work: _Work) -> None:
        with job.lock:
            job.pending -= 1
        session = self.calls.desk.sessions.get(job.key)
        if session is not None and not job.cancelled.is_set() and segment.text:
            final = segment.whole or not self.refine
            committed = self.calls.add_segment(
                session, segment.speaker, segment.text, segment.start, segment.end, final=final
            )
            timing["committed"] = time.time()
            self.segment_committed.emit(session, committed, timing)
            if not final:
                self._queue_refinement(work, committed.idx, timing)
        self._maybe_done(job)

    def _queue_refinement(self, cut: _Work, idx: int, timing: dict[str, float]) -> None:
        job = cut.job
        work = dataclasses.replace(cut, cut_at=time.time(), speculative=False, refines=idx, timing=dict(timing))
        with job.lock:
            job.pending += 1
        self._queue.put((_REFINE, next(self._order), work))

    def _on_refined(self, work: _Work, segment: SpeechSegment | None, timing: dict[str, float]) -> None:
        job = work.job
        with job.lock:
            job.pending -= 1
        session = self.calls.desk.sessions.get(job.key)
        if session is not None and segment is not None and not job.cancelled.is_set() and work.refines is not None:
            try:
                refined = self.calls.refine_segment(session, work.refines, segment.text)
            except IndexError as error:  # the call was rebuilt meanwhile: nothing to refine
                log.warning("refinement dropped: %s", error)
            else:
                timing["committed_final"] = time.time()
                self.segment_refined.emit(session, refined, timing)
        self._maybe_done(job)

    def _on_follower_done(self, job: CallJob) -> None:
        job.followers_done += 1
        self._maybe_done(job)

    def _maybe_done(self, job: CallJob) -> None:
        with job.lock:
            done = job.followers_done == len(SIDES) and job.pending == 0
        if done and self.jobs.get(job.key) is job:
            del self.jobs[job.key]
            session = self.calls.desk.sessions.get(job.key)
            if session is not None:
                log.info("call %s: transcription done", session.uid[:8])
                self.calls.mark_transcribed(session)
                self.call_transcribed.emit(session)

    # -- follower threads ------------------------------------------------------------------------------------

    def _follow(self, job: CallJob, speaker: Speaker) -> None:
        try:
            path = self.finder.find(
                speaker, job.anchor - _CLOCK_SLACK_S, timeout_s=self.appear_timeout_s, stop=job.cancelled
            )
            if path is None:
                if not job.cancelled.is_set():
                    self._failed.emit(f"no {speaker} recording appeared in {self.finder.folder}")
                return
            source = GrowingWavSource(path, stop=job.stop, appear_timeout_s=self.appear_timeout_s)

            def offer(utterance: Utterance) -> None:
                job.offers[speaker] = (utterance.index, len(utterance.samples))
                self._enqueue(job, speaker, utterance, source, speculative=True)

            cutter = UtteranceCutter(self.vad, on_pause=offer if self.speculate else None)
            for chunk in source.chunks():
                if job.cancelled.is_set():
                    return
                for utterance in cutter.feed(chunk):
                    self._enqueue(job, speaker, utterance, source)
                job.offers[speaker] = cutter.standing_offer  # None once speech resumed: the offer is stale
            for utterance in cutter.flush():
                self._enqueue(job, speaker, utterance, source)
        except (OSError, TimeoutError, ValueError) as error:
            log.warning("%s side not transcribed: %s", speaker, error)
            self._failed.emit(f"{speaker} side not transcribed: {error}")
        finally:
            self._follower_done.emit(job)

    def _enqueue(
        self,
        job: CallJob,
        speaker: Speaker,
        utterance: Utterance,
        source: GrowingWavSource,
        *,
        speculative: bool = False,
    ) -> None:
        start = source.started_at if source.started_at is not None else job.anchor
        work = _Work(job, speaker, utterance, start, time.time(), speculative)
        if not speculative:  # only cuts are counted: a speculation commits nothing by itself
            job.cuts[speaker] = work.key
            with job.lock:
                job.pending += 1
        self._queue.put((_URGENT, next(self._order), work))

    # -- model thread ----------------------------------------------------------------------------------------

    def _ensure_model_thread(self) -> None:
        if self._model_thread is None:
            self._model_thread = threading.Thread(target=self._run_model, name="speech-model", daemon=True)
            self._model_thread.start()

    def _preload(self) -> None:
        try:
            self.transcriber.load()
        except Exception as error:  # reported, not raised: the app goes on without transcript
            self._failed.emit(f"speech model not loaded: {error}")

    def _urgent_waiting(self) -> bool:
        """A cut or a speculation is queued (a refinement then yields to it)."""
        with self._queue.mutex:
            return bool(self._queue.queue) and self._queue.queue[0][0] <= _URGENT

    def _run_model(self) -> None:
        while (work := self._queue.get()[2]) is not None:
            if work.refines is not None:
                self._refine(work)
                continue
            if work.speculative:
                self._speculate(work)
                continue
            job = work.job
            segment = SpeechSegment(work.speaker, 0.0, 0.0, "")
            timing = {
                "speech_end": work.recording_start + work.utterance.end,
                "cut": work.cut_at,
                "speculative": 0.0,
            }
            ready = job.speculated.pop(work.speaker, None)
            prefix = self._prefix(work)
            job.prefixes.pop(work.speaker, None)  # the utterance is cut: its first part is of no further use
            if ready is not None and ready[0] == work.key:  # the same samples: the text is already there
                segment, timing["speculative"] = ready[1], 1.0
            elif not job.cancelled.is_set():
                segment = self._transcribe(work, prefix=prefix) or segment
            timing["transcribed"] = time.time()
            timing["compute_s"] = segment.compute_s
            self._text_ready.emit(job, segment, timing, work)

    def _refine(self, work: _Work) -> None:
        """The whole utterance of a provisional line, transcribed at once; put back behind waiting utterances
        when one arrives while the encoder runs (the decoder is most of the time)."""
        job = work.job
        timing = dict(work.timing or {})

        def wanted() -> bool:
            return not job.cancelled.is_set() and not self._urgent_waiting()

        segment = None
        if not job.cancelled.is_set():
            if self._urgent_waiting():
                self._queue.put((_REFINE, next(self._order), work))
                return
            segment = self._transcribe(work, report=False, wanted=wanted)
            if segment is None and not job.cancelled.is_set() and self._urgent_waiting():
                self._queue.put((_REFINE, next(self._order), work))  # overtaken: later, still counted as pending
                return
        if segment is not None:
            timing["refined"] = time.time()
            timing["refine_compute_s"] = segment.compute_s
        self._refined.emit(work, segment if segment is not None and segment.text else None, timing)

    def _prefix(self, work: _Work) -> tuple[int, str] | None:
        """(sample count, text) of the part of ``work``'s utterance already transcribed, if any."""
        known = work.job.prefixes.get(work.speaker)
        if known is None or known[0] != work.utterance.index or known[1] >= len(work.utterance.samples):
            return None
        return known[1], known[2]

    def _speculate(self, work: _Work) -> None:
        job = work.job
        prefix = self._prefix(work)
        new_s = (len(work.utterance.samples) - (prefix[0] if prefix else 0)) / work.utterance.rate
        # Long enough since the last part: transcribed even if speech resumes, as the next part's context.
        as_part = self.parts_after_s is not None and new_s >= self.parts_after_s

        def wanted() -> bool:  # not cancelled, and speech has not resumed (nor a later pause superseded it)
            if job.cancelled.is_set():
                return False
            return as_part or work.key in (job.offers.get(work.speaker), job.cuts.get(work.speaker))

        if not wanted():
            return
        # A failure recurs, and is reported, at the cut.
        segment = self._transcribe(work, report=False, wanted=wanted, prefix=prefix)
        if segment is not None:
            job.speculated[work.speaker] = (work.key, segment)
            if as_part:
                job.prefixes[work.speaker] = (work.utterance.index, len(work.utterance.samples), segment.text)

    def _transcribe(
        self,
        work: _Work,
        *,
        report: bool = True,
        wanted: Callable[[], bool] | None = None,
        prefix: tuple[int, str] | None = None,
    ) -> SpeechSegment | None:
        offset = max(0.0, work.recording_start - work.job.anchor)
        try:
            return self.transcriber.transcribe_wanted(
                work.utterance, work.speaker, offset, wanted, prefix=prefix, prompt_with_prefix=self.parts_prompt
            )
        except Exception as error:  # one bad utterance must not end the transcription of the call
            if report:
                log.warning("utterance not transcribed: %s: %s", type(error).__name__, error)
                self._failed.emit(f"utterance not transcribed: {error}")
            return None
