"""CallService.refine_segment: a provisional transcript line (a long utterance transcribed in parts) gets its final
text: redacted, stored in its place, shown, summarised; a consent phrase only the final text holds is raised then,
one the provisional text held is not raised twice."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from stdnum import luhn

from desktop.core.assist.redact import CARD_MASK
from desktop.core.speech.transcriber import SpeechSegment
from desktop.core.speech.vad import Utterance
from desktop.core.telephony.session import CallSession, Segment
from desktop.services.calls import CallService
from desktop.services.transcription import CallJob, TranscriptionService
from tests.unit.ui.conftest import NUMBER, FakeClock, ev

CARD = "497201234567890" + luhn.calc_check_digit("497201234567890")


def _active(service: CallService, clock: FakeClock) -> CallSession:
    session = service.handle_event(ev("ringing", 0, call_id="c1", number=NUMBER, direction="inbound"))
    assert session is not None
    clock.at(2)
    service.handle_event(ev("answered", 2, call_id="c1"))
    return session


def _rows(conn: sqlite3.Connection) -> list[tuple[int, str, int]]:
    return conn.execute("SELECT idx, text, final FROM transcript_segments ORDER BY idx").fetchall()


def test_a_provisional_line_is_stored_then_replaced_in_place(
    service: CallService, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    session = _active(service, clock)
    added: list[Segment] = []
    refined: list[Segment] = []
    service.segment_added.connect(lambda _s, segment: added.append(segment))
    service.segment_refined.connect(lambda _s, segment: refined.append(segment))
    service.add_segment(session, "customer", "Bonjour, je vous appelle pour ma fac", 3.0, 15.0, final=False)
    service.add_segment(session, "agent", "Je vous écoute.", 15.5, 16.5)
    assert [s.final for s in added] == [False, True]
    assert _rows(service.desk.conn) == [(0, "Bonjour, je vous appelle pour ma fac", 0), (1, "Je vous écoute.", 1)]

    caplog.set_level(logging.DEBUG)
    segment = service.refine_segment(session, 0, f"Bonjour, je vous appelle pour ma facture, carte {CARD}")
    text = f"Bonjour, je vous appelle pour ma facture, carte {CARD_MASK}"
    assert (segment.idx, segment.speaker, segment.start, segment.end, segment.text, segment.final) == (
        0, "customer", 3.0, 15.0, text, True,
    )  # fmt: skip
    assert refined == [segment] and session.segments[0] == segment
    assert _rows(service.desk.conn) == [(0, text, 1), (1, "Je vous écoute.", 1)]
    everything = "\n".join(r.getMessage() for r in caplog.records) + "\n".join(service.desk.conn.iterdump())
    assert CARD not in everything


def test_an_unknown_line_is_refused_and_nothing_changes(service: CallService, clock: FakeClock) -> None:
    session = _active(service, clock)
    service.add_segment(session, "customer", "Allô ?", 3.0, 4.0, final=False)
    with pytest.raises(IndexError, match="no transcript segment 1"):
        service.refine_segment(session, 1, "Allô, oui ?")
    assert _rows(service.desk.conn) == [(0, "Allô ?", 0)]
    assert session.segments[0].text == "Allô ?" and not session.segments[0].final


def test_a_withdrawal_only_the_final_text_holds_is_raised_once(service: CallService, clock: FakeClock) -> None:
    session = _active(service, clock)
    detected: list[tuple[str, int]] = []
    service.phrase_detected.connect(lambda _s, kind, idx: detected.append((kind, idx)))
    service.add_segment(session, "customer", "Écoutez, je ne veux plus être ap", 3.0, 14.0, final=False)
    assert detected == []
    service.refine_segment(session, 0, "Écoutez, je ne veux plus être appelé, retirez-moi de votre liste.")
    assert detected == [("withdrawal", 0)]
    # The same phrase in the provisional and the final text: raised with the provisional one only.
    service.add_segment(session, "customer", "Je ne veux plus être appelé, c'est clair ?", 20.0, 31.0, final=False)
    service.refine_segment(session, 1, "Je ne veux plus être appelé, c'est bien clair ?")
    assert detected == [("withdrawal", 0), ("withdrawal", 1)]


def test_replies_follow_a_refined_line_only_while_it_is_the_last_customer_line(
    service: CallService, clock: FakeClock
) -> None:
    session = _active(service, clock)
    shown: list[str] = []
    service.suggestions_changed.connect(lambda _s, suggestions: shown.extend(s.source for s in suggestions[:1]))
    service.add_segment(session, "customer", "Vous m'entendez, c'est pour ma fac", 3.0, 14.0, final=False)
    assert shown == []  # nothing in the playbook answers the provisional text
    service.refine_segment(session, 0, "Vous m'entendez ? C'est trop cher pour moi.")
    assert shown == ["playbook:price-01"]  # the replies now answer the final text
    service.add_segment(session, "customer", "Et je veux résilier mon cont", 20.0, 31.0, final=False)
    service.add_segment(session, "customer", "Vous m'entendez ?", 32.0, 33.0)
    shown.clear()
    service.refine_segment(session, 1, "C'est trop cher, je veux résilier mon contrat.")
    assert shown == []  # a later customer line holds the replies


def test_the_summary_draft_follows_the_final_text(service: CallService, clock: FakeClock) -> None:
    service.use_summary_engine()
    session = _active(service, clock)
    service.add_segment(session, "customer", "Je paie soixante euros par m", 3.0, 14.0, final=False)
    service.refine_segment(session, 0, "Je paie quatre-vingt-quinze euros par mois.")
    clock.at(40)
    service.handle_event(ev("ended", 40, call_id="c1"))
    summary = service.draft(session)
    assert summary.entities.amounts_eur == [95.0]


def test_a_reopened_call_keeps_its_provisional_flag(service: CallService, clock: FakeClock) -> None:
    session = _active(service, clock)
    service.add_segment(session, "customer", "Bonjour, je", 3.0, 14.0, final=False)
    conn = service.desk.conn
    reopened = CallService(conn, service.desk.policy, service.playbook, service.desk.defaults, clock=clock)
    (again,) = reopened.recovered
    assert [(s.text, s.final) for s in again.segments] == [("Bonjour, je", False)]


# -- the transcription service's scheduling: a double stands in for Whisper ---------------------------------------


class PartsTranscriber:
    """Whisper's stand-in: a text joined from parts when given a prefix, the whole text otherwise; records calls.
    ``on_refine`` runs once, inside the first whole-utterance call, before the service is asked if it still wants it."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self.on_refine: Callable[[], None] | None = None

    def load(self) -> None:
        pass

    def transcribe_wanted(self, utterance, speaker, offset=0.0, wanted=None, *, prefix=None, prompt_with_prefix=False):  # type: ignore[no-untyped-def]
        kind = "parts" if prefix is not None else ("refine" if wanted is not None else "whole")
        self.calls.append((utterance.index, kind))
        if kind == "refine" and self.on_refine is not None:
            hook, self.on_refine = self.on_refine, None
            hook()
        if wanted is not None and not wanted():
            return None
        text = f"{prefix[1]} suite {utterance.index}" if prefix else f"phrase entière {utterance.index}"
        return SpeechSegment(speaker, utterance.start, utterance.end, text, whole=prefix is None)


def _utterance(index: int, start: float) -> Utterance:
    return Utterance(np.zeros(16000 * 12, dtype=np.int16), 16000, start, start + 12.0, start + 12.5, index)


def _job(service: CallService, transcription: TranscriptionService, session: CallSession) -> CallJob:
    job = CallJob(session.key, anchor=time.time())
    job.followers_done = 2  # no recording followed: the test queues the utterances itself
    transcription.jobs[session.key] = job
    transcription._ensure_model_thread()
    return job


def test_a_line_joined_from_parts_is_provisional_then_refined(
    service: CallService, clock: FakeClock, qtbot: QtBot
) -> None:
    session = _active(service, clock)
    whisper = PartsTranscriber()
    transcription = TranscriptionService(service, None, Path("."), transcriber=whisper)  # type: ignore[arg-type]
    committed: list[Segment] = []
    transcription.segment_committed.connect(lambda _s, segment, _t: committed.append(segment))
    completed: list[list[tuple[int, str, int]]] = []  # what the store held when the call service was told
    service.transcript_completed.connect(lambda _s: completed.append(_rows(service.desk.conn)))
    job = _job(service, transcription, session)
    job.prefixes["customer"] = (0, 16000 * 6, "premier morceau")  # transcribed at an inner pause
    try:
        with qtbot.waitSignal(transcription.call_transcribed, timeout=5000):
            transcription._enqueue(job, "customer", _utterance(0, 1.0), SimpleNamespace(started_at=job.anchor))
    finally:
        transcription.stop()
    assert [(s.text, s.final) for s in committed] == [("premier morceau suite 0", False)]
    assert whisper.calls == [(0, "parts"), (0, "refine")]
    assert _rows(service.desk.conn) == [(0, "phrase entière 0", 1)]
    assert completed == [[(0, "phrase entière 0", 1)]]  # told once, after the refinement


def test_a_refinement_yields_to_an_utterance_that_arrives(service: CallService, clock: FakeClock, qtbot: QtBot) -> None:
    session = _active(service, clock)
    whisper = PartsTranscriber()
    transcription = TranscriptionService(service, None, Path("."), transcriber=whisper)  # type: ignore[arg-type]
    job = _job(service, transcription, session)
    job.prefixes["customer"] = (0, 16000 * 6, "premier morceau")
    source = SimpleNamespace(started_at=job.anchor)
    # The agent's next utterance is cut while the refinement's encoder runs: the decoder is left for later.
    whisper.on_refine = lambda: transcription._enqueue(job, "agent", _utterance(1, 14.0), source)
    try:
        with qtbot.waitSignal(transcription.call_transcribed, timeout=5000):
            transcription._enqueue(job, "customer", _utterance(0, 1.0), source)
    finally:
        transcription.stop()
    assert whisper.calls == [(0, "parts"), (0, "refine"), (1, "whole"), (0, "refine")]
    assert _rows(service.desk.conn) == [(0, "phrase entière 0", 1), (1, "phrase entière 1", 1)]


def test_without_refinement_the_joined_text_is_final(service: CallService, clock: FakeClock, qtbot: QtBot) -> None:
    session = _active(service, clock)
    whisper = PartsTranscriber()
    transcription = TranscriptionService(
        service,
        None,
        Path("."),
        transcriber=whisper,
        refine=False,  # type: ignore[arg-type]
    )
    job = _job(service, transcription, session)
    job.prefixes["customer"] = (0, 16000 * 6, "premier morceau")
    try:
        with qtbot.waitSignal(transcription.call_transcribed, timeout=5000):
            transcription._enqueue(job, "customer", _utterance(0, 1.0), SimpleNamespace(started_at=job.anchor))
    finally:
        transcription.stop()
    assert whisper.calls == [(0, "parts")]
    assert _rows(service.desk.conn) == [(0, "premier morceau suite 0", 1)]
