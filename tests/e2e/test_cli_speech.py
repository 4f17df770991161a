"""``agent-assist transcribe FILE.wav`` as a person runs it: a short espeak-ng French WAV through the real Whisper
base model (installed from this environment's packages: fails without them), and a missing file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from desktop.core.speech.scoring import normalise
from tests.speech_support import install_whisper, speak

TEXT = "Bonjour madame, je vous appelle au sujet de ma facture d'électricité."


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_ASSIST_HOME": str(data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


@pytest.mark.slow
def test_transcribe_a_wav_file_as_json(tmp_path: Path, data_dir: Path) -> None:
    model = install_whisper(tmp_path / "models")
    # espeak-ng at 150 words a minute gave "Je m'appelais aussi de m'affecter de l'électricité." here and in CI:
    # at 130 Whisper base hears most of the sentence.
    wav = speak(TEXT, tmp_path / "hello.wav", rate=16000, speed=130, pad_s=(0.5, 0.5))
    done = run("transcribe", str(wav), "--json", "--model-dir", str(model), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["file"] == str(wav)
    segments = result["segments"]
    assert segments and all(s["speaker"] == "customer" for s in segments), segments
    assert segments[0]["start"] == pytest.approx(0.3, abs=0.2)  # 0.5 s of silence, 0.2 s of pre-roll
    with wave.open(str(wav)) as audio:
        duration = audio.getnframes() / audio.getframerate()
    assert all(0 <= s["start"] < s["end"] <= duration for s in segments), segments
    words = set(normalise(" ".join(s["text"] for s in segments)))
    # synthetic speech: most words, not all (docs/speech.md); the sentence has 12 distinct words
    assert len(words & set(normalise(TEXT))) >= 5, segments


def test_transcribe_a_missing_file_is_an_input_error(tmp_path: Path, data_dir: Path) -> None:
    done = run("transcribe", str(tmp_path / "missing.wav"), "--json", "--model-dir", str(tmp_path), data_dir=data_dir)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == ""
    assert "missing.wav" in done.stderr and done.stderr.startswith("agent-assist: error:"), done.stderr
