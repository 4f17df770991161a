"""Voice activity detection: cuts a stream of audio chunks into utterances, as the audio arrives.

An energy detector with an adaptive noise floor and a hangover, not Silero (which faster-whisper ships in
``faster_whisper.vad``). Why: the input is a softphone's decoded or encoded stream, where between turns there is
digital silence or comfort noise tens of dB below speech, so energy separates them reliably; it is streaming by
nature (Silero's helper in faster-whisper works on a whole array), costs microseconds per 30 ms frame on the
thread that follows the file, and loads nothing. Whisper then reads the utterance as a whole, so a breath or a
click let through costs one short, usually empty, transcription. Noisy open-office capture (the OS device source)
is where Silero would pay: a later change can put it behind the same :class:`UtteranceCutter` interface.

A frame is voiced when its level is above both ``min_level_db`` (dBFS) and the noise floor + ``margin_db``. Speech
starts after ``onset_s`` of voiced frames (``pre_roll_s`` kept before it), ends after ``hangover_s`` without one;
one with less than ``min_speech_s`` voiced is dropped. Long speech can be split so that no utterance costs the
model much more than the others (off by default, see :class:`VadSettings`): past ``split_after_s`` a pause of
``split_pause_s`` is enough to end it; at ``max_utterance_s`` it is cut at its quietest frame after
``split_after_s`` (between words, usually) and what follows that frame begins the next utterance.

Speculation (``on_pause``): once a pause has lasted ``tail_s``, every sample the utterance will hold if it ends
there is known, so the cutter offers that utterance early, while the hangover still runs; a transcriber can start
on it and keep the text if the cut that follows has the same :attr:`Utterance.index` and length (speech did not
resume). The cut itself, hence what is transcribed, is unchanged: only its waiting time is overlapped.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from desktop.core.speech.audio import AudioChunk, Samples


@dataclass(frozen=True)
class Utterance:
    """Speech cut from a stream: ``start``/``end`` in seconds of that stream (``end`` = last voiced frame)."""

    samples: Samples
    rate: int
    start: float
    end: float
    #: Stream position (seconds) at which the cut was decided: ``end`` plus the hangover, or the stream's end.
    decided_at: float
    #: Ordinal of the utterance in its stream (from 0); a speculative offer and its final cut share it.
    index: int = 0

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


@dataclass(frozen=True)
class VadSettings:
    frame_s: float = 0.03
    min_level_db: float = -45.0
    margin_db: float = 12.0
    onset_s: float = 0.06
    hangover_s: float = 0.5
    pre_roll_s: float = 0.2
    tail_s: float = 0.3
    min_speech_s: float = 0.2
    #: Splitting is off by default (= the cap): with a 0.3 s hangover and splits at 5 s / 8 s, the unit test's
    #: 12 s espeak-ng passage came in 5 pieces that Whisper recognised far worse (WER 0.79 against 0.37, beam 5);
    #: with the short encoder window the model is fast enough without it (docs/speech.md).
    split_after_s: float = 15.0
    split_pause_s: float = 0.12
    max_utterance_s: float = 15.0


def level_db(frame: Samples) -> float:
    """RMS level of s16 samples in dBFS (-120 for digital silence)."""
    if not len(frame):
        return -120.0
    rms = math.sqrt(float(np.mean(np.square(frame.astype(np.float64)))))
    return 20 * math.log10(rms / 32768.0) if rms > 0 else -120.0


class UtteranceCutter:
    """Streaming: :meth:`feed` chunks (one rate), get the utterances they complete; :meth:`flush` at the end.

    ``on_pause``, when given, is called (during :meth:`feed`, before the cut it anticipates) with the utterance that
    a cut at the current pause would give, as soon as the pause has lasted ``tail_s``: equal samples, ``index`` and
    times to that cut's if speech does not resume before the hangover ends (``decided_at`` is the offer's time).
    """

    def __init__(
        self, settings: VadSettings | None = None, on_pause: Callable[[Utterance], None] | None = None
    ) -> None:
        self.settings = settings or VadSettings()
        self.on_pause = on_pause
        self.rate: int | None = None
        self._index = 0  # of the next utterance
        self._frame = 0
        self._pending = np.zeros(0, dtype=np.int16)
        self._position = 0  # samples consumed into frames
        self._history: deque[Samples] = deque()  # pre-roll while silent
        self._speech: list[Samples] = []  # frames of the current utterance
        self._levels: list[float] = []  # their levels (dBFS)
        self._flags: list[bool] = []  # voiced or not
        self._speech_start = 0
        self._last_voiced_end = 0
        self._voiced_frames = 0
        self._run = 0  # consecutive voiced frames while silent
        self._silent_frames = 0
        self._noise_db = -70.0
        self._in_speech = False

    def _setup(self, rate: int) -> None:
        self.rate = rate
        self._frame = max(1, int(rate * self.settings.frame_s))

    def feed(self, chunk: AudioChunk) -> list[Utterance]:
        if self.rate is None:
            self._setup(chunk.rate)
        elif chunk.rate != self.rate:
            raise ValueError(f"sample rate changed from {self.rate} to {chunk.rate}")
        self._pending = np.concatenate((self._pending, chunk.samples))
        done: list[Utterance] = []
        while len(self._pending) >= self._frame:
            frame, self._pending = self._pending[: self._frame], self._pending[self._frame :]
            cut = self._step(frame)
            if cut is not None:
                done.append(cut)
        return done

    def flush(self) -> list[Utterance]:
        """The utterance in progress at the end of the stream, if it has enough speech."""
        if not self._in_speech:
            return []
        cut = self._cut(decided_at=self._position)
        return [cut] if cut is not None else []

    def _step(self, frame: Samples) -> Utterance | None:
        s = self.settings
        assert self.rate is not None
        level = level_db(frame)
        voiced = level > max(s.min_level_db, self._noise_db + s.margin_db)
        self._position += len(frame)
        if not voiced:  # the floor follows the quiet frames: fast down, slow up
            rate = 0.3 if level < self._noise_db else 0.02
            self._noise_db += rate * (max(level, -100.0) - self._noise_db)
        if not self._in_speech:
            self._history.append(frame)
            keep = int(s.pre_roll_s / s.frame_s) + int(s.onset_s / s.frame_s) + 1
            while len(self._history) > keep:
                self._history.popleft()
            self._run = self._run + 1 if voiced else 0
            if self._run * s.frame_s >= s.onset_s - 1e-9:
                frames = list(self._history)
                self._speech = frames
                self._levels = [level_db(f) for f in frames]
                self._flags = [False] * (len(frames) - self._run) + [True] * self._run
                self._speech_start = self._position - sum(len(f) for f in frames)
                self._voiced_frames = self._run
                self._last_voiced_end = self._position
                self._silent_frames = 0
                self._in_speech = True
                self._history.clear()
            return None
        self._speech.append(frame)
        self._levels.append(level)
        self._flags.append(voiced)
        if voiced:
            self._voiced_frames += 1
            self._last_voiced_end = self._position
            self._silent_frames = 0
        else:
            self._silent_frames += 1
            if self.on_pause is not None and self._silent_frames == self._tail_frames() and not self._cuts_now():
                offer = self._utterance(decided_at=self._position, tail=True)
                if offer is not None:
                    self.on_pause(offer)
        length_s = (self._position - self._speech_start) / self.rate
        if self._cuts_now():
            return self._cut(decided_at=self._position)
        if length_s >= s.max_utterance_s - 1e-9:
            return self._split_at_quietest()
        return None

    @property
    def standing_offer(self) -> tuple[int, int] | None:
        """(index, sample count) of the last :attr:`on_pause` offer while it still holds (no speech since)."""
        if not self._in_speech or self._silent_frames < self._tail_frames():
            return None
        offer = self._utterance(decided_at=self._position, tail=True)
        return None if offer is None else (offer.index, len(offer.samples))

    def _tail_frames(self) -> int:
        """Silent frames after which the tail a cut keeps is complete (at least one)."""
        return max(1, math.ceil(self.settings.tail_s / self.settings.frame_s - 1e-9))

    def _cuts_now(self) -> bool:
        """Whether the pause in progress ends the utterance at this frame (the hangover, or a split's short pause)."""
        s = self.settings
        assert self.rate is not None
        length_s = (self._position - self._speech_start) / self.rate
        pause_s = self._silent_frames * s.frame_s
        return pause_s >= s.hangover_s - 1e-9 or (length_s >= s.split_after_s and pause_s >= s.split_pause_s - 1e-9)

    def _split_at_quietest(self) -> Utterance | None:
        """Cut a too long utterance at its quietest frame past ``split_after_s``; the rest starts the next one."""
        s = self.settings
        assert self.rate is not None
        first = min(len(self._levels) - 1, int(s.split_after_s / s.frame_s))
        quietest = first + int(np.argmin(self._levels[first:]))
        head, rest = slice(0, quietest + 1), slice(quietest + 1, None)
        speech, levels, flags = self._speech, self._levels, self._flags
        rest_start = self._speech_start + sum(len(f) for f in speech[head])
        self._speech, self._voiced_frames = speech[head], sum(flags[head])
        self._last_voiced_end = rest_start
        cut = self._cut(decided_at=self._position, tail=False)
        if len(speech[rest]):  # speech goes on: what follows the cut begins the next utterance
            self._in_speech = True
            self._speech, self._levels, self._flags = speech[rest], levels[rest], flags[rest]
            self._speech_start = rest_start
            self._voiced_frames = sum(self._flags)
            last = max((i for i, flag in enumerate(self._flags) if flag), default=-1)
            self._silent_frames = len(self._flags) - 1 - last
            self._last_voiced_end = rest_start + sum(len(f) for f in self._speech[: last + 1])
        return cut

    def _utterance(self, *, decided_at: int, tail: bool) -> Utterance | None:
        """The utterance in progress as a cut now would give it; None when it has too little speech."""
        s = self.settings
        assert self.rate is not None
        if self._voiced_frames * s.frame_s < s.min_speech_s:
            return None
        samples = np.concatenate(self._speech) if self._speech else np.zeros(0, dtype=np.int16)
        kept_tail = int(s.tail_s * self.rate) if tail else 0
        keep_until = min(len(samples), self._last_voiced_end - self._speech_start + kept_tail)
        return Utterance(
            samples=samples[:keep_until],
            rate=self.rate,
            start=self._speech_start / self.rate,
            end=self._last_voiced_end / self.rate,
            decided_at=decided_at / self.rate,
            index=self._index,
        )

    def _cut(self, *, decided_at: int, tail: bool = True) -> Utterance | None:
        cut = self._utterance(decided_at=decided_at, tail=tail)
        if cut is not None:
            self._index += 1
        self._in_speech = False
        self._speech = []
        self._levels = []
        self._flags = []
        self._run = 0
        self._voiced_frames = 0
        self._silent_frames = 0
        return cut


def cut_utterances(chunks: Iterable[AudioChunk], settings: VadSettings | None = None) -> Iterator[Utterance]:
    """Every utterance of a stream, each as soon as it is complete."""
    cutter = UtteranceCutter(settings)
    for chunk in chunks:
        yield from cutter.feed(chunk)
    yield from cutter.flush()
