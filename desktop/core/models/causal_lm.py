"""Causal language models (the optional generator): the install-time GGUF conversion, the dtype this CPU runs
fastest, and where a configured generator's transformers folder is.

A generator is either a manifest model (``smollm2-135m``: its verified GGUF converted at install into
``<models>/<name>/transformers/``) or a *site model*: a transformers folder that IT put in ``<models>/<name>/``
(downloaded from the model's official repository, e.g. Qwen/Qwen2.5-0.5B-Instruct). Nothing here imports torch at
module level: the app runs without it when no generator is configured.
"""

from __future__ import annotations

import importlib
import logging
import os
import platform
from pathlib import Path
from typing import Any, Literal

from desktop.core.errors import InputError, IntegrityError

log = logging.getLogger("desktop.models")

Dtype = Literal["bfloat16", "float32"]
#: The converted folder inside a manifest generator's install folder.
TRANSFORMERS_SUBDIR = "transformers"
#: Files a transformers causal-LM folder must hold to be loaded with local files only.
REQUIRED_FILES = ("config.json", "tokenizer_config.json")
#: The fixed prompt of the conversion check (French, with accents: the tokenizer conversion is checked too).
CHECK_MESSAGES = (
    {"role": "user", "content": "Bonjour, je voudrais résilier mon contrat d'électricité, s'il vous plaît."},
)


def cpu_flags() -> frozenset[str]:
    """The CPU feature flags the kernel reports (Linux ``/proc/cpuinfo``); empty where they cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def preferred_dtype(flags: frozenset[str] | None = None) -> tuple[Dtype, str]:
    """The dtype to run a generator in on this CPU, and why (one line for the log).

    bfloat16 where the CPU computes it natively (``avx512_bf16`` or ``amx_bf16``: about 2x faster than float32 and
    half the memory, reference/models.md §3.2), float32 elsewhere (bf16 is emulated, slower, on other x86 CPUs).
    ``AGENT_ASSIST_GENERATOR_DTYPE`` (``bfloat16``/``float32``) overrides the choice.
    """
    forced = os.environ.get("AGENT_ASSIST_GENERATOR_DTYPE", "").strip().lower()
    if forced in ("bfloat16", "float32"):
        return forced, "set by AGENT_ASSIST_GENERATOR_DTYPE"  # type: ignore[return-value]  # checked just above
    if forced:
        raise InputError(f"AGENT_ASSIST_GENERATOR_DTYPE={forced!r}: expected bfloat16 or float32")
    flags = cpu_flags() if flags is None else flags
    native = sorted(flags & {"avx512_bf16", "amx_bf16"})
    if native:
        return "bfloat16", f"the CPU has {', '.join(native)}"
    if not flags:
        return "float32", f"CPU flags not readable on {platform.system() or 'this system'}"
    return "float32", "the CPU has no native bfloat16 (avx512_bf16/amx_bf16)"


def site_model_problem(folder: Path) -> str | None:
    """Why ``folder`` is not a loadable transformers causal-LM folder (None when it is)."""
    if not folder.is_dir():
        return f"{folder} does not exist"
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        return f"{folder} has no {', '.join(missing)} (not a transformers model folder)"
    if not any(folder.glob("*.safetensors")):
        return f"{folder} has no *.safetensors weights"
    return None


def generator_folder(name: str, models_root: Path | None = None) -> Path:
    """The transformers folder of generator ``name``: a manifest model's converted folder (presence and sizes checked,
    as :func:`desktop.core.models.model_dir` does), else a site model folder ``<models>/<name>/``.

    Raises :class:`desktop.core.models.ModelNotInstalledError` naming what to do when neither is there.
    """
    from desktop.core.models.installer import ModelNotInstalledError, model_dir
    from desktop.core.models.installer import models_root as default_root
    from desktop.core.models.manifest import load_manifest

    manifest = load_manifest()
    if name in manifest.models:
        spec = manifest.models[name]
        if spec.role != "generator":
            raise InputError(f"generator_model {name!r} is a {spec.role} model, not a generator")
        return model_dir(name, models_root) / TRANSFORMERS_SUBDIR
    root = models_root if models_root is not None else default_root()
    folder = root / name
    problem = site_model_problem(folder)
    if problem is not None:
        raise ModelNotInstalledError(
            f"generator {name} is not installed ({problem}): put the model's transformers folder there (see"
            " docs/generation.md) or run agent-assist models install smollm2-135m for the test fixture"
        )
    return folder


def convert_gguf(folder: Path, dtype: Dtype | None = None) -> list[str]:
    """Convert the single ``*.gguf`` of ``folder`` into ``folder/transformers`` (safetensors, tokenizer, chat template).

    The GGUF is de-quantised into ``dtype`` (this CPU's :func:`preferred_dtype` by default); the saved folder is then
    loaded back and must give the GGUF-loaded model's logits on a fixed chat prompt (same argmax everywhere, max
    difference under 1e-3), else :class:`IntegrityError` (the installer then puts nothing in place). Returns the
    written files relative to ``folder``. Needs torch, transformers, gguf and accelerate.
    """
    try:
        # Optional (the [models] extra): imported by name so that type checking does not depend on it.
        torch: Any = importlib.import_module("torch")
        transformers: Any = importlib.import_module("transformers")
    except ImportError as error:
        raise IntegrityError(
            f"converting a GGUF generator needs torch and transformers ({error.name} missing): pip install"
            " torch==2.13.0 (first, the CPU wheel) then pip install transformers==5.23.0 gguf==0.19.0 accelerate==1.15.0"
        ) from None
    for needed in ("gguf", "accelerate"):  # transformers asks for them only after ~30 s of tokenizer work
        try:
            importlib.import_module(needed)
        except ImportError:
            raise IntegrityError(
                f"converting a GGUF generator needs {needed}: pip install gguf==0.19.0 accelerate==1.15.0"
            ) from None
    sources = sorted(folder.glob("*.gguf"))
    if len(sources) != 1:
        raise IntegrityError(f"gguf-transformers: expected one .gguf file in the model, found {len(sources)}")
    source = sources[0]
    if dtype is None:
        dtype, why = preferred_dtype()
        log.info("generator conversion in %s (%s)", dtype, why)
    torch_dtype = getattr(torch, dtype)
    transformers.utils.logging.disable_progress_bar()  # no bars in the CLI output
    tokenizer: Any = transformers.AutoTokenizer.from_pretrained(str(folder), gguf_file=source.name)
    model: Any = transformers.AutoModelForCausalLM.from_pretrained(
        str(folder), gguf_file=source.name, dtype=torch_dtype
    )
    model.eval()
    if not getattr(tokenizer, "chat_template", None):
        raise IntegrityError(f"gguf-transformers: {source.name} has no chat template (not an instruct model)")
    batch = tokenizer.apply_chat_template(
        list(CHECK_MESSAGES), add_generation_prompt=True, return_dict=True, return_tensors="pt"
    )
    with torch.no_grad():
        reference = model(**batch).logits.float()
    # save_pretrained refuses a GGUF-loaded model until its quantiser is cleared (reference/models.md §7.2).
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out = folder / TRANSFORMERS_SUBDIR
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    del model
    _check_converted(out, batch, reference, torch_dtype)
    written = sorted(path for path in out.rglob("*") if path.is_file())
    for path in written:
        path.chmod(0o644)  # safetensors are written 0600: a machine-wide folder is read by every user
    return [str(path.relative_to(folder)) for path in written]


def _check_converted(out: Path, batch: Any, reference: Any, torch_dtype: Any) -> None:
    torch: Any = importlib.import_module("torch")
    transformers: Any = importlib.import_module("transformers")

    tokenizer: Any = transformers.AutoTokenizer.from_pretrained(str(out), local_files_only=True)
    again = tokenizer.apply_chat_template(
        list(CHECK_MESSAGES), add_generation_prompt=True, return_dict=True, return_tensors="pt"
    )
    if not torch.equal(again["input_ids"], batch["input_ids"]):
        raise IntegrityError("gguf-transformers: the saved tokenizer encodes the check prompt differently: refused")
    model: Any = transformers.AutoModelForCausalLM.from_pretrained(str(out), local_files_only=True, dtype=torch_dtype)
    model.eval()
    with torch.no_grad():
        logits = model(**again).logits.float()
    difference = float((logits - reference).abs().max())
    same_argmax = bool(torch.equal(logits.argmax(-1), reference.argmax(-1)))
    log.info("generator conversion checked: max logit difference %.2e, same argmax %s", difference, same_argmax)
    if difference > 1e-3 or not same_argmax:
        raise IntegrityError(
            f"gguf-transformers: the saved model differs from the GGUF (max logit difference {difference:.3g},"
            f" same argmax {same_argmax}): refused, nothing installed"
        )
