"""The playbook: approved replies by category, validated at load (a bad entry names the file, the reply id and the
key), and the rule-based pick (a reply is offered when a customer turn contains one of its situations), kept as the
fallback when the embedding ranker (:mod:`desktop.core.assist.retrieval`) is not installed."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from desktop.core.assist.phrases import PhraseDetector
from desktop.core.consent.policy import format_validation_error
from desktop.core.errors import InputError
from desktop.paths import assets_dir

DEFAULT_PLAYBOOK = assets_dir() / "playbooks" / "fr.toml"
CATEGORIES = (
    "greeting_disclosure",
    "withdrawal_ack",
    "objection_price",
    "objection_time",
    "proof_of_consent",
    "billing_dispute",
    "technical_issue",
    "cancellation_request",
    "payment_card_safety",
    "recording_refused",
    "closing",
)
#: Detections of the consent phrase lists that force a category to the top.
FORCED = {
    "withdrawal": "withdrawal_ack",
    "objection": "withdrawal_ack",
    "proof_request": "proof_of_consent",
    "recording_refused": "recording_refused",
}
Verdict = Literal["allowed", "contract_only", "forbidden"]
Topic = Literal["compliance", "service", "contract", "offer"]
Sector = Literal["general", "insurance", "press"]
#: The verdicts each topic may be shown under: no offer unless allowed, contract topics also under contract_only.
TOPIC_VERDICTS: dict[str, frozenset[str]] = {
    "compliance": frozenset({"allowed", "contract_only", "forbidden"}),
    "service": frozenset({"allowed", "contract_only", "forbidden"}),
    "contract": frozenset({"allowed", "contract_only"}),
    "offer": frozenset({"allowed"}),
}


class Reply(BaseModel):
    """One approved reply; ``sectors`` empty means every sector."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    category: str
    topic: Topic = "compliance"
    verdicts: tuple[Verdict, ...] = Field(min_length=1)
    sectors: tuple[Sector, ...] = ()
    situations: tuple[str, ...] = Field(min_length=1)
    text: str = Field(min_length=1)

    @field_validator("category")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}")
        return value

    @field_validator("situations")
    @classmethod
    def _not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("a situation is empty")
        return value

    @model_validator(mode="after")
    def _topic_allows_verdicts(self) -> Reply:
        extra = [v for v in self.verdicts if v not in TOPIC_VERDICTS[self.topic]]
        if extra:
            raise ValueError(f"verdicts: a {self.topic!r} reply may not be shown under {extra[0]!r}")
        return self

    def shown_under(self, verdict: str | None, sector: str | None) -> bool:
        """Whether the reply may be shown for this live verdict and call sector (None: not known yet)."""
        if verdict is not None and (verdict not in self.verdicts or verdict not in TOPIC_VERDICTS[self.topic]):
            return False
        return not self.sectors or (sector or "general") in self.sectors


class PlaybookFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    reply: tuple[Reply, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Suggestion:
    category: str
    text: str
    source: str
    score: float

    def to_json(self) -> dict[str, object]:
        return {"category": self.category, "text": self.text, "source": self.source, "score": self.score}


class Playbook:
    def __init__(self, data: PlaybookFile, source: str) -> None:
        self.data = data
        self.source = source
        self.replies = data.reply
        self._situations = PhraseDetector({reply.id: reply.situations for reply in data.reply})
        self._by_id = {reply.id: reply for reply in data.reply}

    @property
    def version(self) -> str:
        return self.data.version

    def for_category(self, category: str, verdict: str | None, sector: str | None = None) -> list[Reply]:
        return [r for r in self.replies if r.category == category and r.shown_under(verdict, sector)]

    def suggest(self, text: str, verdict: str | None, detections: tuple[str, ...] = ()) -> list[Suggestion]:
        """Replies for one customer turn: forced categories first, then replies whose situation was said."""
        picked: list[Suggestion] = []
        seen: set[str] = set()
        for kind in detections:
            category = FORCED.get(kind)
            for reply in self.for_category(category, verdict) if category else []:
                if reply.id not in seen:
                    seen.add(reply.id)
                    picked.append(Suggestion(reply.category, reply.text, f"playbook:{reply.id}", 1.0))
        for detection in self._situations.detect(text):
            reply = self._by_id[detection.kind]
            if reply.id not in seen and reply.shown_under(verdict, None):
                seen.add(reply.id)
                picked.append(Suggestion(reply.category, reply.text, f"playbook:{reply.id}", 0.8))
        return picked


def load_playbook(path: Path | None = None) -> Playbook:
    return _load(str((path or DEFAULT_PLAYBOOK).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> Playbook:
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: cannot read the playbook ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid TOML: {error}") from None
    replies = document.get("reply") if isinstance(document, dict) else None
    for index, entry in enumerate(replies if isinstance(replies, list) else []):
        try:
            Reply.model_validate(entry)
        except ValidationError as error:
            name = entry.get("id") if isinstance(entry, dict) else None
            where = f"{path}: reply {name!r}" if isinstance(name, str) and name else f"{path}: reply #{index + 1}"
            raise InputError(format_validation_error(error, where)) from None
    try:
        data = PlaybookFile.model_validate(document)
    except ValidationError as error:
        raise InputError(format_validation_error(error, path)) from None
    ids = [reply.id for reply in data.reply]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate is not None:
        raise InputError(f"{path}: reply id {duplicate!r} is used twice")
    missing = [c for c in CATEGORIES if c not in {reply.category for reply in data.reply}]
    if missing:
        raise InputError(f"{path}: no reply for category {missing[0]!r}")
    return Playbook(data, path)
