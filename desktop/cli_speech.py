"""``agent-assist transcribe FILE.wav``: the segments of a WAV file, transcribed locally (the live pipeline's cutter
and model), redacted as the app stores them.

Registered by :func:`desktop.cli.build_parser` through :func:`add_speech_commands`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.cli import Context


def add_speech_commands(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``transcribe`` to the ``agent-assist`` sub-commands."""
    parser = subparsers.add_parser("transcribe", parents=[common_parent], help="transcribe a WAV file (segments)")
    parser.add_argument("file", help="16-bit PCM WAV, any rate, mono or stereo")
    parser.add_argument("--speaker", choices=("customer", "agent"), default="customer")
    parser.add_argument("--model-dir", help="an installed model folder (default: the installed whisper-base)")
    parser.add_argument("--beam-size", type=int, default=5, help="beam width (1: greedy, faster)")
    parser.set_defaults(handler=cmd_transcribe)


def cmd_transcribe(ctx: Context) -> int:
    from pathlib import Path

    from desktop.core.assist.redact import redact
    from desktop.core.models import model_dir, models_root
    from desktop.core.speech.audio import WavFileSource
    from desktop.core.speech.transcriber import DecodeOptions, Transcriber, transcribe_source

    args = ctx.args
    root = models_root(ctx.data_dir, ctx.settings.models_dir)
    folder = Path(args.model_dir) if args.model_dir else model_dir("whisper-base", root)
    transcriber = Transcriber(folder, DecodeOptions(beam_size=args.beam_size))
    source = WavFileSource(args.file)
    patterns = ctx.policy().data.redaction.patterns
    segments = []
    for segment in transcribe_source(source, transcriber, args.speaker):
        text = redact(segment.text, patterns).text
        segments.append({"speaker": segment.speaker, "start": segment.start, "end": segment.end, "text": text})
        if not ctx.json:
            print(f"[{segment.start:7.2f} – {segment.end:7.2f}] {segment.speaker}: {text}", flush=True)
    if ctx.json:
        ctx.emit({"file": args.file, "segments": segments})
    return 0
