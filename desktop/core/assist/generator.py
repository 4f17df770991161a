"""The optional generator: a local instruct model (transformers) or an OpenAI-compatible server (vLLM, llama.cpp
server) that adapts the best approved reply to the conversation, and writes a summary's prose fields as JSON.

The rule of the field holds here: a suggestion comes from approved content, and the model may only *adapt* it
(same commitments: :func:`adaptation_problems` flags figures it added); the approved text stays on screen, the
adaptation is a variant whose source is ``model:<name>`` and whose provenance is the reply's ``playbook:<id>``.

Every generator streams text pieces through :meth:`Generator.stream` and stops within one token of ``stop`` being
set. JSON output (:meth:`Generator.generate_json`) is constrained to the schema: locally by a logits processor that
forces the JSON skeleton and lets the model write only the string values (valid by construction); on a server by
its ``response_format`` JSON schema (guided decoding in vLLM and llama.cpp server), then validated with pydantic,
with one retry. Nothing is logged above DEBUG about the text (transcripts and replies are call content).
"""

from __future__ import annotations

import importlib
import json
import logging
import queue
import re
import threading
import time
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from pydantic import Field as PydanticField

from desktop.core.errors import InputError
from desktop.core.models.causal_lm import Dtype, generator_folder, preferred_dtype

log = logging.getLogger("agent_assist.generator")

Message = Mapping[str, str]
M = TypeVar("M", bound=BaseModel)

#: Decoding settings of every adaptation (reference/models.md §3.2): greedy, light repetition penalty.
REPETITION_PENALTY = 1.1
#: The customer and agent turns given to the model with the approved reply (the last ones).
CONTEXT_TURNS = 6
#: Longest turn given to the model (characters): a long monologue is cut from its start.
TURN_CHARS = 400
INSTALL_COMMAND = (
    "pip install torch==2.13.0 (first: the CPU wheel) then pip install transformers==5.23.0 (the [models] extra)"
)


class GenerationError(RuntimeError):
    """The generator could not produce text (model not loadable, server refused or unreachable, invalid JSON after
    the retry): the message is one line saying what to do."""


class Generator(Protocol):
    """A text generator: a local model or a server. Implementations are used from one worker thread at a time."""

    @property
    def name(self) -> str:
        """The model's name, as shown in a variant's source ``model:<name>``."""
        ...

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int, stop: threading.Event) -> Iterator[str]:
        """The answer to the chat ``messages`` as successive text pieces (greedy); ends within one token of ``stop``
        being set. Raises :class:`GenerationError`."""
        ...

    def generate_json(
        self, messages: Sequence[Message], schema: type[M], *, stop: threading.Event, max_new_tokens: int = 400
    ) -> M | None:
        """An instance of ``schema`` written by the model (valid by construction or validated, one retry); None when
        ``stop`` was set first. Raises :class:`GenerationError`."""
        ...


# -- prompts (French: the model answers in the language it is asked in) --------------------------------------

ADAPT_SYSTEM = (
    "Tu aides un conseiller de centre d'appels pendant un appel en français. On te donne les derniers échanges de "
    "l'appel et une réponse approuvée par le service conformité. Réécris cette réponse pour qu'elle s'enchaîne "
    "naturellement avec ce que le client vient de dire, en une à trois phrases que le conseiller dira au client. "
    "Ne change aucun engagement : garde exactement les mêmes promesses, délais, montants, dates, conditions et "
    "mentions légales ; n'ajoute aucune offre, aucun chiffre, aucune date ni aucune promesse. Garde tels quels les "
    "passages entre accolades ou entre crochets. Si tu ne peux pas l'adapter sans en changer le sens, recopie-la "
    "telle quelle. Réponds uniquement par le texte à dire, sans guillemets ni commentaire."
)
SPEAKER_WORDS = {"customer": "Client", "agent": "Conseiller"}


def _turn(speaker: str, text: str) -> str:
    text = " ".join(text.split())
    if len(text) > TURN_CHARS:
        text = "…" + text[-TURN_CHARS:]
    return f"{SPEAKER_WORDS.get(speaker, speaker)} : {text}"


def adaptation_messages(reply_text: str, category: str, turns: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """The chat asking to adapt the approved ``reply_text`` to the last ``turns`` ((speaker, redacted text) pairs,
    oldest first; only the last :data:`CONTEXT_TURNS` are sent)."""
    recent = "\n".join(_turn(speaker, text) for speaker, text in list(turns)[-CONTEXT_TURNS:]) or "(aucun)"
    user = (
        f"Derniers échanges :\n{recent}\n\n"
        f"Réponse approuvée (catégorie {category}) :\n« {reply_text.strip()} »\n\n"
        "Réponse adaptée :"
    )
    return [{"role": "system", "content": ADAPT_SYSTEM}, {"role": "user", "content": user}]


_NUMBER = re.compile(r"\d(?:[\d  .,]*\d)?")


def _figures(text: str) -> set[str]:
    return {re.sub(r"[  .]", "", found).replace(",", ".") for found in _NUMBER.findall(text)}


def adaptation_problems(approved: str, adapted: str) -> list[str]:
    """What the adaptation changed that it may not: figures (amounts, dates, delays, references) absent from the
    approved reply, and ``{placeholder}``/``[bracket]`` passages of the reply that it dropped. Empty when none."""
    problems = [f"chiffre ajouté : {figure}" for figure in sorted(_figures(adapted) - _figures(approved))]
    for kept in re.findall(r"\{\w+\}|\[[^\]]+\]", approved):
        if kept not in adapted:
            problems.append(f"passage retiré : {kept}")
    return problems


@dataclass(frozen=True)
class Adaptation:
    """A model's variant of an approved reply: shown under it, never instead of it."""

    text: str
    model: str
    reply_source: str  # provenance: the approved reply's ``playbook:<id>``
    category: str
    problems: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return f"model:{self.model}"

    @property
    def provenance(self) -> str:
        """What the call's suggestion-use record says: the model and the approved reply it adapted."""
        return f"{self.source} from {self.reply_source}"

    def to_json(self) -> dict[str, object]:
        return {
            "category": self.category,
            "text": self.text,
            "source": self.source,
            "adapted_from": self.reply_source,
            "problems": list(self.problems),
        }


# -- JSON shapes (the schema the local constraint enforces) --------------------------------------------------


@dataclass(frozen=True)
class _Field:
    name: str
    kind: Literal["text", "list", "choice"]
    choices: tuple[str, ...] = ()
    min_items: int = 0
    max_items: int = 4


def json_fields(schema: type[BaseModel]) -> tuple[_Field, ...]:
    """The fields of a flat prose schema: ``str``, ``list[str]`` or ``Literal[...]`` of strings, in order.

    Raises :class:`TypeError` for any other field type (the local constraint does not know it)."""
    fields = []
    for name, info in schema.model_fields.items():
        key = info.alias or name
        annotation = info.annotation
        origin = typing.get_origin(annotation)
        arguments = typing.get_args(annotation)
        if annotation is str:
            fields.append(_Field(key, "text"))
        elif origin in (list, tuple) and arguments and arguments[0] is str:
            low = next((int(m.min_length) for m in info.metadata if hasattr(m, "min_length")), 0)
            high = next((int(m.max_length) for m in info.metadata if hasattr(m, "max_length")), max(low, 4))
            fields.append(_Field(key, "list", min_items=low, max_items=high))
        elif origin is Literal and arguments and all(isinstance(each, str) for each in arguments):
            fields.append(_Field(key, "choice", tuple(arguments)))
        else:
            raise TypeError(f"{schema.__name__}.{name}: {annotation!r} is not str, list[str] or a Literal of strings")
    return tuple(fields)


def _validate(schema: type[M], text: str) -> M:
    try:
        return schema.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise GenerationError(f"{where}: {first['msg']}") from None


# -- local model (transformers) -------------------------------------------------------------------------------


def _require_torch() -> tuple[Any, Any]:
    try:
        # Optional (the [models] extra): imported by name so that type checking does not depend on it.
        torch: Any = importlib.import_module("torch")
        transformers: Any = importlib.import_module("transformers")
    except ImportError as error:
        raise GenerationError(
            f"the local generator needs torch and transformers ({error.name} is missing): {INSTALL_COMMAND}"
        ) from None
    return torch, transformers


_END = object()
T = TypeVar("T")


def in_fresh_thread(work: typing.Callable[[], T], name: str) -> T:
    """``work()`` run on a new thread, joined; its result or its exception.

    Every ``generate`` runs on a thread of its own: on a busy CPU (the softphone, speech and the embedder share two
    cores) generate() on a long-lived thread ran 2.5x to 10x slower than on a fresh one, measured with torch 2.13's
    OpenMP (docs/generation.md), and a fresh thread costs about 0.1 ms.
    """
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


class LocalGenerator:
    """An instruct model from a local transformers folder (``local_files_only``: never the network), run greedy
    with repetition penalty 1.1 in this CPU's fastest dtype (:func:`preferred_dtype`, logged at load)."""

    def __init__(self, folder: Path, *, name: str | None = None, dtype: Dtype | None = None) -> None:
        torch, transformers = _require_torch()
        self._torch = torch
        self.folder = folder
        self._name = name or folder.name
        if dtype is None:
            dtype, why = preferred_dtype()
        else:
            why = "asked for"
        started = time.perf_counter()
        transformers.utils.logging.disable_progress_bar()
        try:
            self.tokenizer: Any = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            self.model: Any = transformers.AutoModelForCausalLM.from_pretrained(
                str(folder), local_files_only=True, dtype=getattr(torch, dtype)
            ).eval()
        except (OSError, ValueError) as error:
            raise GenerationError(f"generator {self._name}: cannot load {folder} ({error})") from None
        if not getattr(self.tokenizer, "chat_template", None):
            raise GenerationError(f"generator {self._name}: {folder} has no chat template (not an instruct model)")
        self.dtype: Dtype = dtype
        self.load_seconds = time.perf_counter() - started
        self._eos = self.model.generation_config.eos_token_id
        if self._eos is None:
            self._eos = self.tokenizer.eos_token_id
        self._pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self._eos
        self._json_vocab: _JsonVocabulary | None = None
        log.info("generator %s loaded in %.1f s, %s (%s)", self._name, self.load_seconds, dtype, why)

    @classmethod
    def installed(cls, name: str, models_root: Path | None = None, *, dtype: Dtype | None = None) -> LocalGenerator:
        """Generator ``name`` from the models folder (a manifest model's converted folder, or a site model)."""
        return cls(generator_folder(name, models_root), name=name, dtype=dtype)

    @property
    def name(self) -> str:
        return self._name

    def encode(self, messages: Sequence[Message]) -> Any:
        """The chat template applied to ``messages``, ready for the assistant's answer (input_ids, attention_mask)."""
        return self.tokenizer.apply_chat_template(
            [dict(message) for message in messages], add_generation_prompt=True, return_dict=True, return_tensors="pt"
        )

    def generate_kwargs(self, batch: Any, max_new_tokens: int) -> dict[str, Any]:
        """The arguments of every ``model.generate`` call here (also what the benchmark gives the bare call)."""
        return {
            **batch,
            "max_new_tokens": max_new_tokens,
            "do_sample": False,
            "repetition_penalty": REPETITION_PENALTY,
            "pad_token_id": self._pad,
            "eos_token_id": self._eos,
        }

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int, stop: threading.Event) -> Iterator[str]:
        torch = self._torch
        StoppingCriteriaList = importlib.import_module("transformers").StoppingCriteriaList

        batch = self.encode(messages)
        pieces: queue.Queue[object] = queue.Queue()
        left = threading.Event()  # the consumer stopped iterating: end the generation too
        streamer = _QueueStreamer(self.tokenizer, pieces)
        criteria = StoppingCriteriaList([_EventStop(stop, left)])

        def run() -> None:
            try:
                with torch.inference_mode():
                    self.model.generate(
                        **self.generate_kwargs(batch, max_new_tokens), streamer=streamer, stopping_criteria=criteria
                    )
            except BaseException as error:  # handed to the consumer's thread, raised there
                pieces.put(error)
            finally:
                pieces.put(_END)

        worker = threading.Thread(target=run, name=f"generate-{self._name}", daemon=True)
        worker.start()
        try:
            while (item := pieces.get()) is not _END:
                if isinstance(item, BaseException):
                    raise GenerationError(f"generator {self._name}: {type(item).__name__}: {item}") from item
                assert isinstance(item, str)
                yield item
        finally:
            left.set()
            worker.join()

    def generate_json(
        self, messages: Sequence[Message], schema: type[M], *, stop: threading.Event, max_new_tokens: int = 400
    ) -> M | None:
        try:
            fields = json_fields(schema)
            vocabulary = self._vocabulary()
        except (TypeError, _Unsupported) as why:
            log.info("generator %s: JSON not constrained locally (%s): validated, one retry", self._name, why)
            return _json_by_retry(self, messages, schema, stop=stop, max_new_tokens=max_new_tokens)
        torch = self._torch
        transformers = importlib.import_module("transformers")
        LogitsProcessorList, StoppingCriteriaList = transformers.LogitsProcessorList, transformers.StoppingCriteriaList

        batch = self.encode(messages)
        constraint = _JsonConstraint(vocabulary, fields, batch["input_ids"].shape[1], max_new_tokens)

        def run() -> Any:
            with torch.inference_mode():
                return self.model.generate(
                    **self.generate_kwargs(batch, constraint.budget),
                    logits_processor=LogitsProcessorList([constraint]),
                    stopping_criteria=StoppingCriteriaList([_EventStop(stop, constraint.finished)]),
                )

        output = in_fresh_thread(run, f"generate-{self._name}")
        if stop.is_set():
            return None
        if not constraint.finished.is_set():
            raise GenerationError(f"generator {self._name}: the JSON answer did not finish within its token budget")
        generated = output[0, batch["input_ids"].shape[1] :].tolist()
        text = self.tokenizer.decode(generated, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        return _validate(schema, text)

    def _vocabulary(self) -> _JsonVocabulary:
        if self._json_vocab is None:
            self._json_vocab = _JsonVocabulary(self.tokenizer, self.model.config.vocab_size, self._eos, self._torch)
        return self._json_vocab


class _QueueStreamer:
    """A transformers streamer putting each new piece of decoded text into a queue as soon as its token is out
    (the first ``put`` is the prompt, skipped); a piece ending inside a UTF-8 character waits for the next token."""

    def __init__(self, tokenizer: Any, pieces: queue.Queue[object]) -> None:
        self.tokenizer = tokenizer
        self.pieces = pieces
        self.ids: list[int] = []
        self.sent = ""
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        self.ids.extend(int(each) for each in value.reshape(-1).tolist())
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        if text.endswith("\ufffd") or not text.startswith(self.sent):
            return
        piece, self.sent = text[len(self.sent) :], text
        if piece:
            self.pieces.put(piece)

    def end(self) -> None:
        pass  # the generating thread puts the end marker after generate() returns


class _EventStop:
    """Stops generate() when the caller's ``stop`` or our own ``done`` event is set (checked after each token)."""

    def __init__(self, stop: threading.Event, done: threading.Event) -> None:
        self.stop = stop
        self.done = done

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        torch = importlib.import_module("torch")

        flag = self.stop.is_set() or self.done.is_set()
        return torch.full((input_ids.shape[0],), flag, dtype=torch.bool, device=input_ids.device)


class _Unsupported(Exception):
    """The tokenizer does not allow the local JSON constraint (not byte-level BPE)."""


class _JsonVocabulary:
    """Token masks for the JSON constraint, computed once per tokenizer: string content tokens (no quote,
    backslash or control character), tokens closing a string (content then one quote), and the structural tokens."""

    def __init__(self, tokenizer: Any, size: int, eos: int | list[int], torch: Any) -> None:
        sample = ' {"a": ["b c", "d"], "e": "f."}'
        ids = tokenizer.encode(sample, add_special_tokens=False)
        if "".join(tokenizer.decode([each], clean_up_tokenization_spaces=False) for each in ids) != sample:
            raise _Unsupported("token texts do not concatenate (not a byte-level BPE tokenizer)")
        self.tokenizer = tokenizer
        self.torch = torch
        size = max(size, len(tokenizer))
        texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))], clean_up_tokenization_spaces=False)
        special = set(tokenizer.all_special_ids)
        content = [False] * size
        self.closes = [False] * size
        for i, text in enumerate(texts):
            if i in special or not text:
                continue
            body, quote, rest = text.partition('"')
            clean = "\\" not in body and all(ord(ch) >= 0x20 for ch in body)
            if clean and not quote:
                content[i] = True
            elif clean and quote and not rest:
                self.closes[i] = True
        self.content = torch.tensor(content, dtype=torch.bool)
        self.closing = torch.tensor(self.closes, dtype=torch.bool)
        self.content_or_closing = self.content | self.closing
        self.quote = self.single('"')
        self.only_quote = torch.zeros(size, dtype=torch.bool)
        self.only_quote[self.quote] = True
        self.comma = self.single(",")
        self.bracket_close = self.single("]")
        self.eos = eos if isinstance(eos, int) else eos[0]
        self.size = size

    def single(self, text: str) -> int:
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        if len(ids) != 1:
            raise _Unsupported(f"{text!r} is not one token")
        return int(ids[0])

    def tokens(self, text: str) -> list[int]:
        return [int(each) for each in self.tokenizer.encode(text, add_special_tokens=False)]


class _JsonConstraint:
    """A logits processor that lets the model write one JSON object of ``fields`` and nothing else.

    The skeleton (braces, keys, commas, quotes) is forced token by token; inside a string only content tokens are
    allowed (then a closing quote), a list chooses between another item and ``]``, a choice follows the token
    sequences of its options. Every string has a token budget after which its quote is forced, so the object
    always closes within :attr:`budget` tokens; then end of sequence is forced and :attr:`finished` is set.
    """

    def __init__(self, vocab: _JsonVocabulary, fields: Sequence[_Field], prompt_length: int, max_new_tokens: int):
        self.vocab = vocab
        self.fields = fields
        self.prompt_length = prompt_length
        strings = sum(1 if field.kind == "text" else field.max_items for field in fields if field.kind != "choice")
        skeleton = len(vocab.tokens(json.dumps({field.name: "" for field in fields}))) + 6 * strings + 8
        self.string_tokens = max(8, (max_new_tokens - skeleton) // max(strings, 1))
        self.budget = skeleton + strings * (self.string_tokens + 1) + 16
        self.finished = threading.Event()
        self._program = self._steps()
        self._allowed: Any = next(self._program)
        self._fed = 0

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        generated = input_ids.shape[1] - self.prompt_length
        while self._fed < generated:  # the token chosen after the last call
            token = int(input_ids[0, self.prompt_length + self._fed])
            self._fed += 1
            try:
                self._allowed = self._program.send(token)
            except StopIteration:
                self._allowed = self.vocab.eos
                self.finished.set()
        mask = self._mask(scores.shape[-1])
        return scores.masked_fill(~mask, float("-inf"))

    def _mask(self, width: int) -> Any:
        torch = self.vocab.torch
        allowed = self._allowed
        if isinstance(allowed, int):
            mask = torch.zeros(width, dtype=torch.bool)
            mask[allowed] = True
            return mask
        if isinstance(allowed, frozenset):
            mask = torch.zeros(width, dtype=torch.bool)
            mask[list(allowed)] = True
            return mask
        return (
            allowed[:width]
            if allowed.shape[0] >= width
            else torch.nn.functional.pad(allowed, (0, width - len(allowed)))
        )

    def _force(self, text: str) -> typing.Generator[Any, int, None]:
        for token in self.vocab.tokens(text):  # noqa: UP028  # `yield from` a list would break on send()
            yield token

    def _string(self) -> typing.Generator[Any, int, None]:
        vocab = self.vocab
        count = 0
        while True:
            if count >= self.string_tokens:
                allowed = vocab.only_quote
            elif count == 0:
                allowed = vocab.content
            else:
                allowed = vocab.content_or_closing
            token = yield allowed
            count += 1
            if vocab.closes[token]:
                return

    def _choice(self, options: Sequence[str]) -> typing.Generator[Any, int, None]:
        sequences = [self.vocab.tokens(" " + json.dumps(option, ensure_ascii=False)) for option in options]
        prefix: list[int] = []
        while True:
            live = [seq for seq in sequences if seq[: len(prefix)] == prefix]
            if any(len(seq) == len(prefix) for seq in live):
                return
            token = yield frozenset(seq[len(prefix)] for seq in live)
            prefix.append(token)

    def _list(self, field: _Field) -> typing.Generator[Any, int, None]:
        """Items while the model wants more (at least ``min_items``, at most ``max_items``), then ``]``."""
        vocab = self.vocab
        for item in range(field.max_items):
            if item == 0:
                ending = frozenset({vocab.bracket_close}) if field.min_items == 0 else frozenset()
                token = yield (frozenset({vocab.quote}) | ending)
            else:
                more = frozenset({vocab.comma})
                token = yield (more | frozenset({vocab.bracket_close}) if item >= field.min_items else more)
                if token != vocab.bracket_close:
                    yield from self._force(' "')
            if token == vocab.bracket_close:
                return
            yield from self._string()
        yield from self._force("]")

    def _steps(self) -> typing.Generator[Any, int, None]:
        for index, field in enumerate(self.fields):
            # The space goes with what follows the colon (` "`, ` [`), as the model's own tokens would have it.
            yield from self._force(("{" if index == 0 else ", ") + json.dumps(field.name) + ":")
            if field.kind == "text":
                yield from self._force(' "')
                yield from self._string()
            elif field.kind == "choice":
                yield from self._choice(field.choices)
            else:
                yield from self._force(" [")
                yield from self._list(field)
        yield from self._force("}")


def _json_by_retry(
    generator: Generator, messages: Sequence[Message], schema: type[M], *, stop: threading.Event, max_new_tokens: int
) -> M | None:
    """Unconstrained JSON validated with pydantic; one retry that tells the model what was wrong."""
    asked = [
        *messages,
        {"role": "system", "content": "Réponds uniquement par un objet JSON conforme à ce schéma : "
         + json.dumps(schema.model_json_schema(), ensure_ascii=False)},
    ]  # fmt: skip
    error: GenerationError | None = None
    for _attempt in range(2):
        text = "".join(generator.stream(asked, max_new_tokens=max_new_tokens, stop=stop))
        if stop.is_set():
            return None
        try:
            return _validate(schema, _json_object(text))
        except GenerationError as why:
            error = why
            asked = [*asked, {"role": "assistant", "content": text},
                     {"role": "user", "content": f"JSON invalide ({why}). Réponds uniquement par l'objet JSON corrigé."}]  # fmt: skip
    raise GenerationError(f"generator {generator.name}: no valid JSON after one retry ({error})")


def _json_object(text: str) -> str:
    """The outermost {...} of an answer (models like to wrap JSON in prose or code fences)."""
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


# -- summary prose (desktop.core.assist.summarize.ProseWriter) ------------------------------------------------

PROSE_SYSTEM = (
    "Tu rédiges le résumé d'un appel de centre d'appels pour le dossier client, en français, au passé composé, "
    "à la troisième personne. On te donne la transcription (des passages masqués apparaissent entre crochets) et les "
    "faits déjà extraits. Écris : reason, le motif de l'appel en une phrase ; actions, ce que le conseiller a fait, "
    "en phrases courtes ; next_step_actions, pour chaque prochaine étape listée et dans le même ordre, l'action en "
    "une phrase. N'écris aucune date, aucun montant, aucune heure ni aucune référence qui ne figure pas dans la "
    "transcription ; ne recopie jamais un passage masqué."
)
#: Most transcript characters sent: the start (the reason) and the end (the outcome) of a long call.
PROSE_HEAD_CHARS = 3000
PROSE_TAIL_CHARS = 5000


def prose_messages(transcript: Sequence[Any], draft: Any) -> list[dict[str, str]]:
    """The chat asking for a summary's prose: the redacted ``transcript`` (turns with ``speaker`` and ``text``) and
    the extractive ``draft``'s facts (a :class:`desktop.core.assist.summary.Summary`)."""
    lines = "\n".join(_turn(turn.speaker, turn.text) for turn in transcript)
    if len(lines) > PROSE_HEAD_CHARS + PROSE_TAIL_CHARS:
        lines = f"{lines[:PROSE_HEAD_CHARS]}\n[…]\n{lines[-PROSE_TAIL_CHARS:]}"
    steps = "\n".join(
        f"{k + 1}. ({step.owner}, échéance {step.due.isoformat() if step.due else 'aucune'}) {step.action}"
        for k, step in enumerate(draft.next_steps)
    )
    facts = (
        f"Motif extrait : {draft.reason}\n"
        f"Actions extraites : {'; '.join(draft.actions) or 'aucune'}\n"
        f"Prochaines étapes ({len(draft.next_steps)}) :\n{steps or 'aucune'}\n"
        f"Issue : {draft.resolution} ; disposition : {draft.disposition}"
    )
    user = f"Transcription :\n{lines}\n\nFaits extraits :\n{facts}\n\nRésumé JSON :"
    return [{"role": "system", "content": PROSE_SYSTEM}, {"role": "user", "content": user}]


def prose_schema(next_steps: int) -> type[BaseModel]:
    """The JSON the model writes: ``reason``, 1 to 4 ``actions``, exactly one action per extractive next step."""
    return create_model(
        "SummaryProse",
        __config__=ConfigDict(extra="forbid"),
        reason=(str, PydanticField(min_length=1)),
        actions=(list[str], PydanticField(min_length=1, max_length=4)),
        next_step_actions=(list[str], PydanticField(min_length=next_steps, max_length=next_steps)),
    )


class ModelProseWriter:
    """The :class:`desktop.core.assist.summarize.ProseWriter` of a generator: the summary's prose fields as
    schema-constrained JSON (see :meth:`Generator.generate_json`). ``stop`` cancels it (a new call rang); the
    summary then keeps its extractive text. The facts it writes are checked by the summary engine, not here."""

    def __init__(self, generator: Generator, *, stop: threading.Event | None = None, max_new_tokens: int = 400):
        self.generator = generator
        self.stop = stop or threading.Event()
        self.max_new_tokens = max_new_tokens

    @property
    def name(self) -> str:
        return self.generator.name

    def write(self, transcript: Sequence[Any], draft: Any) -> Any:
        from desktop.core.assist.summarize import Prose

        schema = prose_schema(len(draft.next_steps))
        started = time.perf_counter()
        written = self.generator.generate_json(
            prose_messages(transcript, draft), schema, stop=self.stop, max_new_tokens=self.max_new_tokens
        )
        if written is None:
            raise GenerationError(f"generator {self.name}: summary prose cancelled")
        log.info("summary prose written by %s in %.1f s", self.name, time.perf_counter() - started)
        values = written.model_dump()
        actions = [" ".join(each.split()) for each in values["actions"] if each.strip()]
        steps = [" ".join(each.split()) or None for each in values["next_step_actions"]]
        return Prose(
            reason=" ".join(values["reason"].split()) or None,
            actions=actions or None,
            next_step_actions=steps or None,
        )


# -- OpenAI-compatible server ----------------------------------------------------------------------------------

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: The keyring connector name of the server's API key (``desktop.core.crm.credentials``: ``generator:<url>``).
KEYRING_NAME = "generator"


def check_server_url(url: str) -> str:
    """The server's base URL (``.../v1``) without a trailing slash; InputError for a URL that would send call
    content in clear over the network (http to anything but this machine) or is not a URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"openai_url {url!r}: expected http(s)://host[:port]/v1")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise InputError(f"openai_url {url!r}: use https for a server on another machine (call content is sent)")
    return url.strip().rstrip("/")


class OpenAIGenerator:
    """A model served by an OpenAI-compatible server (``POST {url}/chat/completions``, server-sent events).

    ``api_key``, when the server wants one, comes from the OS keyring (:meth:`from_settings`), never from settings
    files. Cancelling closes the stream at the next event (the server stops generating when the client leaves).
    """

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = check_server_url(url)
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=5.0), headers=headers, transport=transport, trust_env=False
        )

    @classmethod
    def from_settings(cls, url: str, model: str) -> OpenAIGenerator:
        """The server at ``url`` with the key stored for it in the OS keyring (none stored: no key sent)."""
        from desktop.core.crm.credentials import KeyringUnavailableError, get_secret

        url = check_server_url(url)
        try:
            key = get_secret(KEYRING_NAME, url)
        except KeyringUnavailableError as error:
            log.info("generator server %s: no keyring here (%s): no API key sent", url, error)
            key = None
        return cls(url, model, api_key=key)

    @property
    def name(self) -> str:
        return self.model

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __enter__(self) -> OpenAIGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _events(self, body: dict[str, Any], stop: threading.Event) -> Iterator[dict[str, Any]]:
        try:
            with self._client.stream("POST", f"{self.url}/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    raise GenerationError(self._refused(response))
                for line in response.iter_lines():
                    if stop.is_set():
                        return
                    if not line.startswith("data:"):
                        continue  # blank separators and ": keep-alive" comments
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        event = json.loads(data)
                    except ValueError:
                        raise GenerationError(f"generator server {self.url}: not a JSON event: {data[:80]!r}") from None
                    if isinstance(event, dict) and "error" in event:
                        raise GenerationError(f"generator server {self.url}: {_error_message(event)}")
                    yield event
        except httpx.HTTPError as error:
            raise GenerationError(
                f"generator server {self.url} unreachable ({type(error).__name__}: {error})"
            ) from None

    def _refused(self, response: httpx.Response) -> str:
        try:
            detail = _error_message(response.json())
        except ValueError:
            detail = response.text[:120]
        hint = ""
        if response.status_code in (401, 403):
            hint = f": store its key with agent-assist generator secret set --url {self.url}"
        return f"generator server {self.url} answered HTTP {response.status_code} ({detail}){hint}"

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int, stop: threading.Event) -> Iterator[str]:
        body = {
            "model": self.model,
            "messages": [dict(message) for message in messages],
            "max_tokens": max_new_tokens,
            "temperature": 0,
            "stream": True,
        }
        for event in self._events(body, stop):
            for choice in event.get("choices") or ():
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    yield piece

    def generate_json(
        self, messages: Sequence[Message], schema: type[M], *, stop: threading.Event, max_new_tokens: int = 400
    ) -> M | None:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(message) for message in messages],
            "max_tokens": max_new_tokens,
            "temperature": 0,
            "stream": True,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": True},
            },
        }
        error: GenerationError | None = None
        for _attempt in range(2):  # guided decoding should make the first one valid; a server without it may not
            pieces = []
            for event in self._events(body, stop):
                for choice in event.get("choices") or ():
                    pieces.append((choice.get("delta") or {}).get("content") or "")
            if stop.is_set():
                return None
            text = "".join(pieces)
            try:
                return _validate(schema, _json_object(text))
            except GenerationError as why:
                error = why
                body["messages"] = [*body["messages"], {"role": "assistant", "content": text},
                                    {"role": "user", "content": f"JSON invalide ({why}). Réponds uniquement par l'objet JSON corrigé."}]  # fmt: skip
        raise GenerationError(f"generator server {self.url}: no valid JSON after one retry ({error})")


def _error_message(payload: object) -> str:
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict):
            return str(error.get("message") or error)[:160]
        return str(error)[:160]
    return str(payload)[:160]


# -- construction from settings ------------------------------------------------------------------------------


def make_generator(kind: str, *, model: str, url: str = "", models_root: Path | None = None) -> Generator | None:
    """The generator the ``[assist]`` settings name: ``none`` → None, ``local`` → :class:`LocalGenerator` of the
    installed ``model``, ``openai`` → :class:`OpenAIGenerator` at ``url``. Loads the model (call it on a worker)."""
    if kind == "none":
        return None
    if not model:
        raise InputError(f"generator = {kind!r} needs generator_model")
    if kind == "local":
        return LocalGenerator.installed(model, models_root)
    if kind == "openai":
        if not url:
            raise InputError("generator = 'openai' needs openai_url (e.g. http://127.0.0.1:8000/v1)")
        return OpenAIGenerator.from_settings(url, model)
    raise InputError(f"generator = {kind!r}: expected none, local or openai")
