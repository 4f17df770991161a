"""The bench's transformers rebuild of Whisper base (bench/whisper_ct2_to_transformers.py): the CTranslate2 reader,
and the rebuilt model against faster-whisper on the same espeak-ng audio (needs the optional [models] extra)."""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from desktop.core.speech.audio import WavFileSource
from desktop.core.speech.transcriber import resample
from tests.speech_support import install_whisper, speak

ROOT = Path(__file__).resolve().parents[4]


def load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "whisper_ct2_to_transformers", ROOT / "bench/whisper_ct2_to_transformers.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def ct2_file(path: Path, variables: dict[str, np.ndarray], aliases: dict[str, str], version: int = 6) -> Path:
    """A model.bin as ctranslate2.specs.model_spec writes it."""

    def string(text: str) -> bytes:
        return struct.pack("H", len(text) + 1) + text.encode() + b"\0"

    type_ids = {np.dtype(np.float32): 0, np.dtype(np.int8): 1, np.dtype(np.float16): 4}
    out = struct.pack("I", version) + string("WhisperSpec") + struct.pack("I", 3) + struct.pack("I", len(variables))
    for name, value in variables.items():
        out += string(name) + struct.pack("B", value.ndim) + b"".join(struct.pack("I", d) for d in value.shape)
        out += struct.pack("B", type_ids[value.dtype]) + struct.pack("I", value.nbytes) + value.tobytes()
    out += struct.pack("I", len(aliases)) + b"".join(string(a) + string(t) for a, t in aliases.items())
    path.write_bytes(out)
    return path


def test_reader_gives_shapes_types_and_aliases(tmp_path: Path) -> None:
    module = load_module()
    weight = np.arange(6, dtype=np.float16).reshape(2, 3)
    heads = np.array(8, dtype=np.int8)
    path = ct2_file(tmp_path / "model.bin", {"a/weight": weight, "a/num_heads": heads}, {"b/weight": "a/weight"})
    spec, variables = module.read_ct2(path)
    assert spec == "WhisperSpec"
    assert np.array_equal(variables["a/weight"], weight) and variables["a/weight"].dtype == np.float16
    assert int(variables["a/num_heads"]) == 8
    assert variables["b/weight"] is variables["a/weight"]
    with pytest.raises(ValueError, match="version 4"):
        module.read_ct2(ct2_file(tmp_path / "old.bin", {}, {}, version=4))


@pytest.mark.slow
def test_rebuilt_model_matches_faster_whisper(tmp_path_factory: pytest.TempPathFactory) -> None:
    for package in ("torch", "transformers"):
        if importlib.util.find_spec(package) is None:
            pytest.fail(f"{package} is required: pip install torch==2.13.0 transformers==5.23.0 (the [models] extra)")
    module = load_module()
    ct2_dir = install_whisper(tmp_path_factory.mktemp("models"))
    hf_dir = module.convert(ct2_dir, tmp_path_factory.mktemp("hf") / "whisper-base")
    assert (hf_dir / "model.safetensors").is_file() and (hf_dir / "tokenizer.json").is_file()
    wav = speak(
        "Est-ce que vous pouvez me rappeler demain matin vers dix heures ?",
        tmp_path_factory.mktemp("audio") / "a.wav",
        rate=16000,
        pad_s=(0.2, 0.2),
    )
    chunks = list(WavFileSource(wav).chunks())
    audio = resample(np.concatenate([c.samples for c in chunks]), chunks[0].rate)
    encoder_error, agreement, count = module.check(ct2_dir, hf_dir, audio)
    assert encoder_error < 1e-3  # rounding only (2.5e-5 measured)
    assert count >= 8 and agreement >= 0.95  # 100 % measured: the same next token as faster-whisper's
