"""The playbook: approved replies by category, validated at load, and the rule-based pick used until the
embedding ranker lands (a reply is offered when a customer turn contains one of its situations)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from desktop.core.assist.phrases import PhraseDetector
from desktop.core.consent.policy import format_validation_error
from desktop.core.errors import InputError

DEFAULT_PLAYBOOK = Path(__file__).resolve().parents[3] / "assets" / "playbooks" / "fr.toml"
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


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    category: str
    verdicts: tuple[Verdict, ...] = Field(min_length=1)
    situations: tuple[str, ...] = Field(min_length=1)
    text: str = Field(min_length=1)

    @field_validator("category")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}")
        return value


class PlaybookFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
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

    def for_category(self, category: str, verdict: str | None) -> list[Reply]:
        return [r for r in self.replies if r.category == category and (verdict is None or verdict in r.verdicts)]

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
            if reply.id not in seen and (verdict is None or verdict in reply.verdicts):
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
