"""Local speech-to-text: one faster-whisper model (Whisper base, CTranslate2, int8) shared by every call.

:class:`Transcriber` loads the model lazily from an installed folder (local files only: never a hub) and turns
one utterance into text; calls are serialised by a lock (the model runs on ``cpu_threads`` cores; two utterances
at once would only share them). :func:`transcribe_source` runs a whole source through the utterance cutter and
the transcriber, as the CLI does for a file and the live service does per side of a call.

Decoding (see ``/work/shared/reference/models.md`` §5 and §7): French, beam search 5 (greedy decoding lost
words on synthetic speech, and beam 1 without conditioning dropped whole windows); a single temperature (the
fallback to sampling multiplied the time by up to 8 on unclear audio, which a live call cannot afford); no
timestamps (an utterance is one segment, its times come from the cutter); at most ``tokens_per_second`` tokens per
second of audio, which stops the repetition loops Whisper falls into on unclear audio ("je vous remercie, je vous
remercie, ...") at the length the utterance could hold.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from desktop.core.errors import NotFoundError
from desktop.core.speech.audio import AudioSource, Samples
from desktop.core.speech.vad import Utterance, UtteranceCutter, VadSettings

log = logging.getLogger("agent_assist.speech")
Speaker = Literal["agent", "customer"]
WHISPER_RATE = 16000
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class SpeechSegment:
    """One transcribed utterance; ``start``/``end`` in seconds from the start of the call (or file)."""

    speaker: Speaker
    start: float
    end: float
    text: str
    #: Seconds the model took for it.
    compute_s: float = 0.0


@dataclass(frozen=True)
class DecodeOptions:
    language: str = "fr"
    beam_size: int = 5
    compute_type: str = "int8"
    cpu_threads: int = 2
    tokens_per_second: float = 12.0
    min_tokens: int = 24


def resample(samples: Samples, rate: int, target: int = WHISPER_RATE) -> npt.NDArray[np.float32]:
    """s16 samples at ``rate`` to float32 in [-1, 1] at ``target`` (band-limited: FFT zero-padding/truncation)."""
    audio = samples.astype(np.float32) / 32768.0
    if rate == target or not len(audio):
        return audio
    count = round(len(audio) * target / rate)
    spectrum = np.fft.rfft(audio)
    bins = count // 2 + 1
    if bins > len(spectrum):
        spectrum = np.concatenate((spectrum, np.zeros(bins - len(spectrum), dtype=spectrum.dtype)))
    else:
        spectrum = spectrum[:bins]
    return (np.fft.irfft(spectrum, count) * (count / len(audio))).astype(np.float32)


class Transcriber:
    """One Whisper model (faster-whisper), loaded at the first use or by :meth:`load`; thread-safe."""

    def __init__(self, model_dir: Path | str, options: DecodeOptions | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.options = options or DecodeOptions()
        self._model: Any = None  # faster_whisper.WhisperModel: the package has no type information
        self._lock = threading.Lock()
        self.load_s: float | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the model now (about 0.4 s for Whisper base); raises :class:`NotFoundError` when it is missing."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is not None:
            return
        missing = [name for name in MODEL_FILES if not (self.model_dir / name).is_file()]
        if missing:
            raise NotFoundError(
                f"speech model folder {self.model_dir} lacks {', '.join(missing)}:"
                " run `agent-assist models install whisper-base`"
            )
        try:
            from faster_whisper import WhisperModel  # type: ignore[import-untyped]  # no type information
        except ImportError as error:
            raise NotFoundError(f"faster-whisper is not installed ({error}): pip install faster-whisper") from None
        started = time.perf_counter()
        self._model = WhisperModel(
            str(self.model_dir),
            device="cpu",
            compute_type=self.options.compute_type,
            cpu_threads=self.options.cpu_threads,
            num_workers=1,
            local_files_only=True,
        )
        self.load_s = time.perf_counter() - started
        log.info("speech model %s loaded in %.2f s", self.model_dir.name, self.load_s)

    def transcribe(self, samples: Samples, rate: int) -> str:
        """The text of one utterance (s16 mono at ``rate``), stripped; empty when nothing was recognised."""
        audio = resample(samples, rate)
        seconds = len(audio) / WHISPER_RATE
        if seconds < 0.1:
            return ""
        options = self.options
        limit = max(options.min_tokens, int(seconds * options.tokens_per_second))
        with self._lock:
            self._load_locked()
            pieces, _info = self._model.transcribe(
                audio,
                language=options.language,
                task="transcribe",
                beam_size=options.beam_size,
                temperature=0.0,
                without_timestamps=True,
                condition_on_previous_text=False,
                vad_filter=False,
                max_new_tokens=min(limit, 440),
            )
            text = " ".join(piece.text.strip() for piece in pieces)  # the generator decodes as it is read
        return " ".join(text.split())

    def transcribe_utterance(self, utterance: Utterance, speaker: Speaker, offset: float = 0.0) -> SpeechSegment:
        started = time.perf_counter()
        text = self.transcribe(utterance.samples, utterance.rate)
        return SpeechSegment(
            speaker,
            round(offset + utterance.start, 3),
            round(offset + utterance.end, 3),
            text,
            compute_s=time.perf_counter() - started,
        )


def transcribe_source(
    source: AudioSource,
    transcriber: Transcriber,
    speaker: Speaker = "customer",
    *,
    offset: float = 0.0,
    vad: VadSettings | None = None,
) -> Iterator[SpeechSegment]:
    """Each utterance of ``source`` transcribed, as soon as it ends; empty transcriptions are left out."""
    cutter = UtteranceCutter(vad)
    for chunk in source.chunks():
        for utterance in cutter.feed(chunk):
            segment = transcriber.transcribe_utterance(utterance, speaker, offset)
            if segment.text:
                yield segment
    for utterance in cutter.flush():
        segment = transcriber.transcribe_utterance(utterance, speaker, offset)
        if segment.text:
            yield segment
