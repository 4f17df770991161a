"""Speech core: WAV sources (finished, growing, capture command), the utterance cutter, resampling, WER, and the
file pipeline on a short espeak-ng French WAV through the real Whisper base model (fails without it)."""

from __future__ import annotations

import struct
import threading
import time
import wave
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from desktop.core.errors import InputError
from desktop.core.speech.audio import AudioChunk, CaptureSource, GrowingWavSource, WavFileSource, parse_wav_header
from desktop.core.speech.scoring import normalise, word_error_rate
from desktop.core.speech.transcriber import Transcriber, resample, transcribe_source
from desktop.core.speech.vad import Utterance, UtteranceCutter, VadSettings, cut_utterances
from tests.speech_support import install_whisper, speak

RATE = 8000
SPLIT = VadSettings(split_after_s=5.0, max_utterance_s=8.0)


def tone(seconds: float, rate: int = RATE, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440 * t) * level * 32767).astype(np.int16)


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.int16)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def header(rate: int, data_size: int) -> bytes:
    """A 44-byte header as baresip's sndfile writes it: sizes unset (0) while recording."""
    riff = 36 + data_size if data_size else 8
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16)
        + b"data"
        + struct.pack("<I", data_size)
    )


@pytest.fixture(scope="module")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> Transcriber:
    transcriber = Transcriber(install_whisper(tmp_path_factory.mktemp("models")))
    transcriber.load()
    return transcriber


def test_wav_file_source_chunks_and_times(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", np.concatenate((tone(0.25), silence(0.1))))
    chunks = list(WavFileSource(path).chunks())
    assert [round(c.start, 3) for c in chunks] == [0.0, 0.1, 0.2, 0.3]
    assert sum(len(c.samples) for c in chunks) == int(0.35 * RATE)
    assert chunks[-1].end == pytest.approx(0.35)


def test_stereo_is_mixed_to_mono(tmp_path: Path) -> None:
    left, right = tone(0.1), np.zeros(int(0.1 * RATE), dtype=np.int16)
    path = write_wav(tmp_path / "s.wav", np.stack((left, right), axis=1).reshape(-1), channels=2)
    samples = np.concatenate([c.samples for c in WavFileSource(path).chunks()])
    assert len(samples) == len(left)
    assert np.abs(samples.astype(int) - left.astype(int) // 2).max() <= 1


def test_bad_wav_files_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "x.wav").write_bytes(b"not a wav at all")
    with pytest.raises(InputError):
        list(WavFileSource(tmp_path / "x.wav").chunks())
    with pytest.raises(InputError):
        list(WavFileSource(tmp_path / "missing.wav").chunks())
    with pytest.raises(InputError):
        parse_wav_header(b"RIFF\0\0\0\0WAVEfmt " + struct.pack("<IHHIIHH", 16, 3, 1, 8000, 32000, 4, 32))
    assert parse_wav_header(header(8000, 0)[:30]) is None  # still being written


def test_growing_wav_followed_until_the_writer_rewrites_the_header(tmp_path: Path) -> None:
    path = tmp_path / "dump-dec.wav"
    audio = np.concatenate((tone(0.6), silence(0.3)))
    pieces = np.array_split(audio, 9)

    def writer() -> None:
        time.sleep(0.1)
        with path.open("wb") as out:
            out.write(header(RATE, 0))
            for piece in pieces:
                out.write(piece.astype("<i2").tobytes())
                out.flush()
                time.sleep(0.05)
            out.seek(0)
            out.write(header(RATE, 2 * len(audio)))  # as at close: sizes corrected

    thread = threading.Thread(target=writer)
    thread.start()
    source = GrowingWavSource(path, poll_s=0.01, appear_timeout_s=5)
    got = np.concatenate([c.samples for c in source.chunks()])  # ends by itself: the header gives the final size
    thread.join()
    assert np.array_equal(got, audio)
    assert source.started_at is not None and abs(source.started_at - time.time()) < 5


def test_growing_wav_stops_when_told_after_reading_what_is_left(tmp_path: Path) -> None:
    path = tmp_path / "dump-enc.wav"
    path.write_bytes(header(RATE, 0) + tone(0.2).astype("<i2").tobytes() + b"\x01")  # half a sample at the end
    stop = threading.Event()
    source = GrowingWavSource(path, stop=stop, poll_s=0.01)
    chunks = source.chunks()
    first = next(chunks)
    with path.open("ab") as out:
        out.write(b"\x00" + tone(0.1).astype("<i2").tobytes())
    stop.set()
    rest = list(chunks)
    assert len(first.samples) + sum(len(c.samples) for c in rest) == int(0.3 * RATE) + 1


def test_growing_wav_that_never_appears_times_out(tmp_path: Path) -> None:
    with pytest.raises(TimeoutError):
        list(GrowingWavSource(tmp_path / "none.wav", appear_timeout_s=0.2, poll_s=0.02).chunks())


def test_capture_source_reads_a_command_that_writes_raw_pcm() -> None:
    argv = ["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", "-"]
    chunks = list(CaptureSource([*argv, "synth", "0.5", "sine", "440"], rate=16000).chunks())
    assert sum(len(c.samples) for c in chunks) == 8000
    assert chunks[0].start == 0.0 and chunks[-1].end == pytest.approx(0.5)


def test_capture_source_stops_when_asked() -> None:
    stop = threading.Event()
    argv = ["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", "-"]
    source = CaptureSource([*argv, "synth", "60", "sine", "440"], rate=16000, stop=stop)
    started = time.monotonic()
    for chunk in source.chunks():
        if chunk.end > 0.3:
            stop.set()
    assert time.monotonic() - started < 10
    assert source.process is not None and source.process.poll() is not None


def test_utterances_are_cut_on_silence_with_their_times() -> None:
    audio = np.concatenate((silence(0.5), tone(1.0), silence(1.0), tone(0.5), silence(1.0), tone(0.05), silence(1)))

    stream = [AudioChunk(piece, RATE, i * 0.1) for i, piece in enumerate(np.array_split(audio, len(audio) // 800))]
    found = list(cut_utterances(stream))
    assert len(found) == 2  # the 50 ms click is too short to be speech
    assert found[0].start == pytest.approx(0.5 - 0.2, abs=0.07) and found[0].end == pytest.approx(1.5, abs=0.04)
    assert found[1].start == pytest.approx(2.5 - 0.2, abs=0.07) and found[1].end == pytest.approx(3.0, abs=0.04)
    assert found[0].decided_at == pytest.approx(2.0, abs=0.05)  # end + hangover 0.5 s


def feed_all(cutter: UtteranceCutter, audio: np.ndarray, rate: int = RATE) -> list[Utterance]:
    """Feed ``audio`` in 0.1 s chunks, as a follower does; the cuts, flush included."""
    cuts = []
    for i, piece in enumerate(np.array_split(audio, max(1, len(audio) // (rate // 10)))):
        cuts += cutter.feed(AudioChunk(piece, rate, i * 0.1))
    return cuts + cutter.flush()


def test_a_pause_offers_the_utterance_early_and_the_cut_that_follows_is_the_same() -> None:
    audio = np.concatenate((silence(0.5), tone(1.0), silence(1.0), tone(0.5), silence(1.0)))
    offers: list[Utterance] = []
    cutter = UtteranceCutter(on_pause=offers.append)
    cuts = feed_all(cutter, audio)
    assert [u.index for u in cuts] == [0, 1] and [u.index for u in offers] == [0, 1]
    for offer, cut in zip(offers, cuts, strict=True):
        assert np.array_equal(offer.samples, cut.samples)  # the very samples the model will be given
        assert (offer.start, offer.end) == (cut.start, cut.end)
        assert offer.decided_at == pytest.approx(cut.end + 0.3, abs=0.04)  # the tail, not the 0.5 s hangover
        assert cut.decided_at == pytest.approx(cut.end + 0.5, abs=0.04)
    plain = list(cut_utterances([AudioChunk(audio, RATE, 0.0)]))  # offering changes no cut
    assert [(u.start, u.end, u.decided_at, u.index) for u in plain] == [
        (u.start, u.end, u.decided_at, u.index) for u in cuts
    ]
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(plain, cuts, strict=True))


def test_an_offer_overtaken_by_speech_differs_from_the_cut_and_stops_standing() -> None:
    audio = np.concatenate((tone(1.0), silence(0.4), tone(1.0), silence(1.0)))  # 0.4 s: past the tail, not the hangover
    offers: list[Utterance] = []
    cutter = UtteranceCutter(on_pause=offers.append)
    standing, cuts = [], []
    for i, piece in enumerate(np.array_split(audio, len(audio) // 240)):  # 30 ms chunks
        cuts += cutter.feed(AudioChunk(piece, RATE, i * 0.03))
        standing.append(cutter.standing_offer)
    (cut,) = cuts + cutter.flush()  # one utterance: the 0.4 s pause did not end it
    assert len(offers) == 2 and offers[0].index == offers[1].index == cut.index == 0
    assert len(offers[0].samples) < len(cut.samples) and np.array_equal(offers[1].samples, cut.samples)
    first = (0, len(offers[0].samples))
    assert first in standing and standing[standing.index(first) + 5] is None  # speech resumed: stale


def test_long_speech_without_pause_is_cut_at_its_quietest_frame_past_5_s() -> None:
    audio = tone(20)
    dip = 216 * 240  # the 30 ms frame from 6.48 s, 18 dB quieter: still voiced, no pause
    audio[dip : dip + 240] //= 8
    found = list(cut_utterances([AudioChunk(audio, RATE, 0.0)], SPLIT))
    assert found[0].end == pytest.approx(6.51) and found[0].decided_at == pytest.approx(8.0, abs=0.05)
    assert all(5.0 <= u.end - u.start <= 8.0 for u in found[:-1])  # the rest: a steady tone, cut past 5 s
    assert all(later.start == pytest.approx(earlier.end) for earlier, later in pairwise(found))
    assert sum(len(u.samples) for u in found) == len(audio) // 240 * 240  # whole frames: none lost or doubled


def test_past_5_s_a_short_pause_ends_the_utterance() -> None:
    audio = np.concatenate((tone(3), silence(0.15), tone(3), silence(0.15), tone(1), silence(1)))
    found = list(cut_utterances([AudioChunk(audio, RATE, 0.0)], SPLIT))
    assert [round(u.end, 1) for u in found] == [6.2, 7.3]  # the first pause is too early, the second ends it


def test_resample_keeps_duration_and_tone() -> None:
    up = resample(tone(1.0), 8000, 16000)
    assert len(up) == 16000 and up.dtype == np.float32
    peak = np.argmax(np.abs(np.fft.rfft(up)))
    assert peak == 440


def test_word_error_rate() -> None:
    assert normalise("Bonjour, l'électricité  à Paris !") == ["bonjour", "l", "électricité", "à", "paris"]
    assert word_error_rate("a b c d", "a x c") == 0.5
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("déjà vu", "deja vu") == 0.5  # accents kept


# Calibrated on espeak-ng's French voice at 16 kHz through Whisper base int8, beam 5: 0.33 to 0.53 on this text
# depending on the silence around it (docs/speech.md); a broken pipeline (8 kHz audio taken as 16 kHz, truncated
# audio, English decoding) measured 0.9 to 1.0. 0.6 separates the two with room for int8 differences between CPUs.
FILE_WER_MAX = 0.6
FILE_TEXT = (
    "Bonjour madame. Je vous appelle au sujet de ma facture d'électricité. Le montant est beaucoup trop élevé"
    " ce mois-ci. Et surtout, je ne veux plus recevoir d'appels commerciaux. Merci de me retirer de votre liste."
)


def test_file_pipeline_transcribes_french_speech(tmp_path: Path, whisper: Transcriber) -> None:
    path = speak(FILE_TEXT, tmp_path / "call.wav", rate=16000, pad_s=(0.5, 0.5))
    segments = list(transcribe_source(WavFileSource(path), whisper, "customer"))
    text = " ".join(s.text for s in segments)
    assert segments and all(s.speaker == "customer" for s in segments)
    assert segments[0].start == pytest.approx(0.3, abs=0.2)
    assert all(s.start < s.end for s in segments)
    wer = word_error_rate(FILE_TEXT, text)
    print(f"file WER {wer:.2f}: {text}")  # shown by pytest -rP
    assert wer <= FILE_WER_MAX, text
    assert {"sujet", "merci", "liste"} <= set(normalise(text)), text


def test_a_known_first_part_is_not_transcribed_again_and_its_text_leads(tmp_path: Path, whisper: Transcriber) -> None:
    first = speak("Bonjour madame, je vous appelle.", tmp_path / "first.wav", rate=16000, pad_s=(0.3, 0.5))
    second = speak("Merci de me retirer de votre liste.", tmp_path / "second.wav", rate=16000, pad_s=(0.0, 0.3))
    head, rest = (np.concatenate([c.samples for c in WavFileSource(p).chunks()]) for p in (first, second))
    utterance = Utterance(np.concatenate((head, rest)), 16000, 0.3, 4.0, 4.3, index=2)
    for prompted in (False, True):
        segment = whisper.transcribe_wanted(
            utterance, "agent", 1.0, prefix=(len(head), "PREMIÈRE PARTIE."), prompt_with_prefix=prompted
        )
        assert segment is not None
        assert segment.text.startswith("PREMIÈRE PARTIE."), segment.text
        words = set(normalise(segment.text))
        # only the rest was transcribed: none of the first part's words (what is heard of the 2.4 s rest varies from
        # one CPU to another with synthetic speech: "list" for "liste", once nothing at all in CI)
        assert not words & {"bonjour", "madame", "appelle"}, segment.text
        assert (segment.speaker, segment.start, segment.end) == ("agent", 1.3, 5.0)  # the whole utterance's times


def test_silence_gives_no_segment(tmp_path: Path, whisper: Transcriber) -> None:
    path = write_wav(tmp_path / "quiet.wav", silence(3.0, 16000), rate=16000)
    assert list(transcribe_source(WavFileSource(path), whisper)) == []


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    from desktop.core.errors import NotFoundError

    with pytest.raises(NotFoundError, match="models install"):
        Transcriber(tmp_path / "nothing").load()
