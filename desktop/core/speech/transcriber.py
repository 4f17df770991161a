"""Local speech-to-text: one faster-whisper model (Whisper base, CTranslate2, int8) shared by every call.

:class:`Transcriber` loads the model lazily from an installed folder (local files only: never a hub) and turns
one utterance into text; calls are serialised by a lock (the model runs on ``cpu_threads`` cores; two utterances
at once would only share them). :func:`transcribe_source` runs a whole source through the utterance cutter and
the transcriber, as the CLI does for a file and the live service does per side of a call.

Decoding (see ``/work/shared/reference/models.md`` §5 and §7): French, beam search 5 (greedy was faster and
slightly better on the bench's isolated espeak-ng sentences, but worse on the tests' 12 s passage: 0.42 against
0.37 on the file, 0.61 against 0.34 through the call); a single temperature (the fallback to sampling multiplied
the time by up to 8 on unclear audio, which a live call cannot afford); no timestamps (an utterance is one segment,
its times come from the cutter); at most ``tokens_per_second`` tokens per second of audio, which stops the
repetition loops Whisper falls into on unclear audio ("je vous remercie, je vous remercie, ...") at the length the
utterance could hold.

Short encoder window (``window_pad_s``): faster-whisper pads every input to Whisper's 30 s window, so the encoder
costs the same ~0.6 s on 2 cores for a 2 s utterance as for a 30 s one, most of an utterance's time. The encoder
here is given the utterance plus ``window_pad_s`` of silence instead (CTranslate2 takes any length up to 30 s),
and the decoder is run the way faster-whisper runs it (same prompt, suppressed tokens, no-speech rule). On the
bench set this cut the time by 40 % with a lower word error rate (docs/speech.md). ``None``: faster-whisper's own path.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
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
    #: False: the text joins parts transcribed separately (``prefix``), less accurate than the whole at once.
    whole: bool = True


@dataclass(frozen=True)
class DecodeOptions:
    language: str = "fr"
    beam_size: int = 5
    compute_type: str = "int8"
    cpu_threads: int = 2
    tokens_per_second: float = 12.0
    min_tokens: int = 24
    #: Silence after the audio in the encoder's window, seconds; ``None``: Whisper's full 30 s window.
    window_pad_s: float | None = 3.0


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

    def transcribe(
        self,
        samples: Samples,
        rate: int,
        wanted: Callable[[], bool] | None = None,
        *,
        prompt: str | None = None,
    ) -> str | None:
        """The text of one utterance (s16 mono at ``rate``), stripped; empty when nothing was recognised.

        ``wanted`` is asked between the encoder and the decoder (short window only): when it says no, decoding is
        skipped and None returned (a speculation that speech overtook; None is never returned without it).
        ``prompt``: the text said just before, given to the decoder as Whisper's previous text (its last 223 tokens,
        as faster-whisper's ``condition_on_previous_text`` does), so that a piece of a longer utterance is read in
        its context."""
        audio = resample(samples, rate)
        seconds = len(audio) / WHISPER_RATE
        if seconds < 0.1:
            return ""
        options = self.options
        limit = max(options.min_tokens, int(seconds * options.tokens_per_second))
        max_new_tokens = min(limit, 440)
        with self._lock:
            self._load_locked()
            pad = options.window_pad_s
            if pad is not None and seconds + pad <= 30.0:
                text = self._decode_short_window(audio, pad, max_new_tokens, wanted, prompt)
                if text is None:
                    return None
            else:
                pieces, _info = self._model.transcribe(
                    audio,
                    language=options.language,
                    task="transcribe",
                    beam_size=options.beam_size,
                    temperature=0.0,
                    without_timestamps=True,
                    condition_on_previous_text=False,
                    initial_prompt=prompt or None,
                    vad_filter=False,
                    max_new_tokens=max_new_tokens,
                )
                text = " ".join(piece.text.strip() for piece in pieces)  # the generator decodes as it is read
        return " ".join(text.split())

    def _decode_short_window(
        self,
        audio: npt.NDArray[np.float32],
        pad_s: float,
        max_new_tokens: int,
        wanted: Callable[[], bool] | None,
        previous: str | None = None,
    ) -> str | None:
        """One utterance through an encoder window of its own length + ``pad_s``, decoded as faster-whisper would
        (``generate_with_fallback`` at one temperature, then its no-speech rule). Called under the lock."""
        from faster_whisper.tokenizer import Tokenizer  # type: ignore[import-untyped]
        from faster_whisper.transcribe import get_suppressed_tokens  # type: ignore[import-untyped]

        model = self._model
        tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=self.options.language)
        features = model.feature_extractor(audio)[:, :-1]  # as faster-whisper: the last frame is padding
        frames = min(3000, features.shape[-1] + round(pad_s * 100))
        frames += frames % 2  # the encoder's convolution halves the frames
        features = np.pad(features, ((0, 0), (0, max(0, frames - features.shape[-1]))))[:, :frames]
        encoded = model.encode(np.ascontiguousarray(features, dtype=np.float32))
        if wanted is not None and not wanted():  # the decoder is most of the cost with beam 5: spare it
            return None
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        if previous:  # faster-whisper's get_prompt: <|startofprev|> + the last tokens of the previous text
            prompt = [tokenizer.sot_prev, *tokenizer.encode(" " + previous.strip())[-223:], *prompt]
        result = model.model.generate(
            encoded,
            [prompt],
            beam_size=self.options.beam_size,
            max_length=min(448, len(prompt) + max_new_tokens),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=list(get_suppressed_tokens(tokenizer, [-1])),
        )[0]
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)  # length penalty 1, as faster-whisper
        if result.no_speech_prob > 0.6 and avg_logprob < -1.0:  # faster-whisper's thresholds: silence
            return ""
        return str(tokenizer.decode(tokens)).strip()

    def transcribe_utterance(self, utterance: Utterance, speaker: Speaker, offset: float = 0.0) -> SpeechSegment:
        segment = self.transcribe_wanted(utterance, speaker, offset)
        assert segment is not None  # never None without ``wanted``
        return segment

    def transcribe_wanted(
        self,
        utterance: Utterance,
        speaker: Speaker,
        offset: float = 0.0,
        wanted: Callable[[], bool] | None = None,
        *,
        prefix: tuple[int, str] | None = None,
        prompt_with_prefix: bool = False,
    ) -> SpeechSegment | None:
        """:meth:`transcribe_utterance`, given up (None) when ``wanted`` says no after the encoder.

        ``prefix`` = (sample count, its text): the utterance's first samples were already transcribed (a piece cut
        at an inner pause while speech went on); only the rest is (with that text as Whisper's previous text when
        ``prompt_with_prefix``), and the segment's text is both joined."""
        started = time.perf_counter()
        skip, before = prefix if prefix is not None else (0, "")
        prompt = before if prompt_with_prefix and before else None
        text = self.transcribe(utterance.samples[skip:], utterance.rate, wanted, prompt=prompt)
        if text is None:
            return None
        text = " ".join(part for part in (before, text) if part)
        return SpeechSegment(
            speaker,
            round(offset + utterance.start, 3),
            round(offset + utterance.end, 3),
            text,
            compute_s=time.perf_counter() - started,
            whole=prefix is None,
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
