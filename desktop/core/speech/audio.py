"""Audio sources: PCM chunks with timestamps from a WAV file, a WAV file still being written, or a capture device.

Every source has the same shape (:class:`AudioSource`): a sample ``rate`` known once the first chunk is out, and
``chunks()`` yielding :class:`AudioChunk` (mono signed 16-bit samples, ``start`` in seconds from the first sample
of the stream). Stereo input is mixed down to mono. Plain Python and numpy: no Qt, used by the CLI and the app.

- :class:`WavFileSource`: a finished PCM WAV file (``agent-assist transcribe FILE.wav``, tests).
- :class:`GrowingWavSource`: a WAV file another process is still writing (baresip's ``sndfile`` module writes
  ``dump-…-dec.wav``, the customer, and ``dump-…-enc.wav``, the agent, during the call). It reads the header once
  for the format and where the samples begin, then follows the file as it grows; the size fields of the header are
  only trusted once they make sense (baresip corrects them at close), so a rewritten header is harmless and marks
  the end. It stops when its ``stop`` event is set (the call ended), after reading what is left.
- :class:`CaptureSource`: raw s16 PCM from a recording command's standard output, on Linux PulseAudio's
  ``parec`` or PipeWire's ``pw-record`` on a monitor source (what the speakers play = the customer). Windows
  needs WASAPI loopback capture (see :func:`capture_command` and docs/speech.md): not implemented.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

import numpy as np
import numpy.typing as npt

from desktop.core.errors import InputError

log = logging.getLogger("agent_assist.speech")
Samples = npt.NDArray[np.int16]
#: Seconds of audio per chunk read from a file.
BLOCK_S = 0.1
_PCM_FORMAT = 1
_EXTENSIBLE_FORMAT = 0xFFFE
_UNSET_SIZES = (0, 0xFFFFFFFF)


@dataclass(frozen=True)
class AudioChunk:
    """Mono s16 samples; ``start`` in seconds from the first sample of the stream."""

    samples: Samples
    rate: int
    start: float

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / self.rate


class AudioSource(Protocol):
    """Where audio comes from: ``chunks()`` yields until the stream ends (or the source is told to stop)."""

    @property
    def rate(self) -> int | None: ...

    def chunks(self) -> Iterator[AudioChunk]: ...


@dataclass(frozen=True)
class WavFormat:
    rate: int
    channels: int
    data_offset: int
    #: What the header says; None while unset (0 or 0xFFFFFFFF, a file still being written).
    data_size: int | None

    @property
    def frame_bytes(self) -> int:
        return 2 * self.channels


def parse_wav_header(head: bytes) -> WavFormat | None:
    """The format of a 16-bit PCM WAV from its first bytes; None when the header is not complete yet.

    Raises :class:`InputError` for a file that is not RIFF/WAVE or not 16-bit PCM.
    """
    if len(head) < 12:
        return None
    if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise InputError("not a WAV file (no RIFF/WAVE header)")
    offset = 12
    rate = channels = 0
    while offset + 8 <= len(head):
        kind, size = head[offset : offset + 4], struct.unpack_from("<I", head, offset + 4)[0]
        body = offset + 8
        if kind == b"fmt ":
            if body + 16 > len(head):
                return None
            fmt, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", head, body)
            if fmt not in (_PCM_FORMAT, _EXTENSIBLE_FORMAT) or bits != 16 or channels < 1:
                raise InputError(f"unsupported WAV: format {fmt}, {bits} bits (16-bit PCM needed)")
        elif kind == b"data":
            if not rate:
                raise InputError("WAV without a fmt chunk before its data")
            return WavFormat(rate, channels, body, None if size in _UNSET_SIZES else size)
        offset = body + size + (size & 1)
    return None


def to_mono(raw: bytes, channels: int) -> Samples:
    """Little-endian s16 frames to mono samples (channels averaged)."""
    samples: Samples = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    if channels == 1:
        return samples
    frames = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    mixed: Samples = frames.mean(axis=1).astype(np.int16)
    return mixed


class WavFileSource:
    """A finished 16-bit PCM WAV file, mono or not, in ``block_s`` chunks."""

    def __init__(self, path: Path | str, *, block_s: float = BLOCK_S) -> None:
        self.path = Path(path)
        self.block_s = block_s
        self._rate: int | None = None

    @property
    def rate(self) -> int | None:
        return self._rate

    def chunks(self) -> Iterator[AudioChunk]:
        try:
            reader = wave.open(str(self.path), "rb")  # noqa: SIM115 (closed by the with below; errors mapped here)
        except FileNotFoundError:
            raise InputError(f"{self.path}: no such file") from None
        except (wave.Error, EOFError) as error:
            raise InputError(f"{self.path}: not a readable WAV file ({error})") from None
        with reader:
            if reader.getsampwidth() != 2:
                raise InputError(f"{self.path}: {8 * reader.getsampwidth()}-bit samples (16-bit PCM needed)")
            rate, channels = reader.getframerate(), reader.getnchannels()
            self._rate = rate
            block = max(1, int(rate * self.block_s))
            done = 0
            while raw := reader.readframes(block):
                samples = to_mono(raw, channels)
                yield AudioChunk(samples, rate, done / rate)
                done += len(samples)


class GrowingWavSource:
    """Follows a WAV file that is still being written, until ``stop`` is set (then reads what is left) or the
    writer closes it (its header then gives the final data size, and everything up to it has been read).

    ``appear_timeout_s``: how long to wait for the file (and a complete header) before :class:`TimeoutError`.
    ``started_at`` (epoch seconds): when the first sample was written, estimated at the first read from the file's
    modification time less the duration already written; None before.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        stop: threading.Event | None = None,
        poll_s: float = 0.05,
        block_s: float = BLOCK_S,
        appear_timeout_s: float = 10.0,
    ) -> None:
        self.path = Path(path)
        self.stop = stop or threading.Event()
        self.poll_s = poll_s
        self.block_s = block_s
        self.appear_timeout_s = appear_timeout_s
        self.format: WavFormat | None = None
        self.started_at: float | None = None
        self.bytes_read = 0

    @property
    def rate(self) -> int | None:
        return self.format.rate if self.format else None

    def _wait_for_header(self) -> WavFormat:
        deadline = time.monotonic() + self.appear_timeout_s
        while True:
            try:
                with self.path.open("rb") as handle:
                    found = parse_wav_header(handle.read(4096))
                if found is not None:
                    return found
            except FileNotFoundError:
                pass
            if self.stop.is_set() or time.monotonic() > deadline:
                raise TimeoutError(f"{self.path.name}: no WAV header after {self.appear_timeout_s:.0f} s")
            time.sleep(self.poll_s)

    def _closed_size(self) -> int | None:
        """The data size the header gives once the writer has rewritten it at close; None while unset."""
        with self.path.open("rb") as reread:
            try:
                found = parse_wav_header(reread.read(4096))
            except InputError:
                return None
        return found.data_size if found else None

    def chunks(self) -> Iterator[AudioChunk]:
        wav = self.format = self._wait_for_header()
        frame = wav.frame_bytes
        block = max(frame, int(wav.rate * self.block_s) * frame)
        position = wav.data_offset
        done = 0
        last_header_check = 0.0
        with self.path.open("rb") as handle:
            while True:
                size = os.fstat(handle.fileno()).st_size
                if size < position:
                    log.warning("%s shrank below what was read: stopped following it", self.path.name)
                    return
                available = (size - position) // frame * frame
                if available:
                    handle.seek(position)
                    raw = handle.read(min(available, block))
                    if self.started_at is None:
                        written = (size - wav.data_offset) // frame
                        self.started_at = os.fstat(handle.fileno()).st_mtime - written / wav.rate
                    position += len(raw)
                    self.bytes_read += len(raw)
                    samples = to_mono(raw, wav.channels)
                    yield AudioChunk(samples, wav.rate, done / wav.rate)
                    done += len(samples)
                    if len(raw) == block:
                        continue  # more may be there already: no sleep
                if self.stop.is_set():
                    if (os.fstat(handle.fileno()).st_size - position) // frame:
                        continue  # drain what was written before the stop
                    return
                now = time.monotonic()
                if now - last_header_check > 0.5:
                    last_header_check = now
                    final = self._closed_size()
                    if final is not None and position >= wav.data_offset + final:
                        return  # the writer closed the file and everything has been read
                time.sleep(self.poll_s)


#: Commands that write raw s16 mono PCM to standard output, by backend; ``{device}`` and ``{rate}`` filled in.
CAPTURE_COMMANDS: dict[str, tuple[str, ...]] = {
    "parec": ("parec", "--raw", "--format=s16le", "--rate={rate}", "--channels=1", "--device={device}"),
    "pw-record": ("pw-record", "--format", "s16", "--rate", "{rate}", "--channels", "1", "--target", "{device}", "-"),
}
#: The monitor of the default output (what the speakers play: the far end of the call), per backend.
DEFAULT_MONITOR = {"parec": "@DEFAULT_MONITOR@", "pw-record": "0"}


def capture_command(backend: str | None = None, device: str | None = None, rate: int = 16000) -> list[str]:
    """The argv of an OS capture command writing s16 mono PCM at ``rate`` to standard output.

    Linux: ``parec`` (PulseAudio, and PipeWire's pulse layer) or ``pw-record`` (PipeWire), the first found when
    ``backend`` is None; ``device`` defaults to the monitor of the default output. Windows (WASAPI loopback) and
    macOS are not implemented: :class:`InputError` says so.
    """
    if sys.platform.startswith("win") or sys.platform == "darwin":
        raise InputError(
            "audio capture on this system is not implemented yet (Windows: WASAPI loopback, see docs/speech.md);"
            " use the softphone's recordings"
        )
    names = [backend] if backend else list(CAPTURE_COMMANDS)
    for name in names:
        if name not in CAPTURE_COMMANDS:
            raise InputError(f"unknown capture backend {name!r} (parec or pw-record)")
        if shutil.which(name):
            target = device or DEFAULT_MONITOR[name]
            return [part.format(rate=rate, device=target) for part in CAPTURE_COMMANDS[name]]
    raise InputError("no capture command found: install pulseaudio-utils (parec) or pipewire-bin (pw-record)")


class CaptureSource:
    """Raw s16 mono PCM from a capture command's standard output, until ``stop`` is set or the command ends.

    ``argv``: from :func:`capture_command`, or any command writing s16 little-endian mono PCM at ``rate``.
    """

    def __init__(
        self, argv: Sequence[str], *, rate: int = 16000, stop: threading.Event | None = None, block_s: float = BLOCK_S
    ) -> None:
        self.argv = list(argv)
        self._rate = rate
        self.stop = stop or threading.Event()
        self.block_s = block_s
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def rate(self) -> int | None:
        return self._rate

    def chunks(self) -> Iterator[AudioChunk]:
        block = max(2, int(self._rate * self.block_s) * 2)
        try:
            process = self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
        except OSError as error:
            raise InputError(f"capture command {self.argv[0]!r} could not start: {error}") from None
        assert process.stdout is not None
        stdout = cast(io.BufferedReader, process.stdout)
        watcher = threading.Thread(target=self._stop_when_asked, args=(process,), name="speech-capture-stop")
        watcher.daemon = True
        watcher.start()
        done, pending = 0, b""
        try:
            while raw := stdout.read1(block):  # read1: whatever is there, without waiting for a full block
                pending += raw
                usable = len(pending) // 2 * 2
                if not usable:
                    continue
                samples = to_mono(pending[:usable], 1)
                pending = pending[usable:]
                yield AudioChunk(samples, self._rate, done / self._rate)
                done += len(samples)
        finally:
            self.stop.set()
            watcher.join(5)
            process.stdout.close()
            if process.poll() is None:
                process.kill()
            process.wait(3)

    def _stop_when_asked(self, process: subprocess.Popen[bytes]) -> None:
        while not self.stop.wait(0.1):
            if process.poll() is not None:
                return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(3)
