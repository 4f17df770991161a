"""The playbook: every category covered, validated at load with one line naming the file, the reply id and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.assist.playbook import CATEGORIES, TOPIC_VERDICTS, load_playbook
from desktop.core.errors import InputError

GOOD = """
version = "t1"
[[reply]]
id = "a-01"
category = "closing"
topic = "compliance"
verdicts = ["allowed", "forbidden"]
situations = ["au revoir"]
text = "Au revoir."
"""


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pb.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_playbook_covers_every_category_with_situations() -> None:
    playbook = load_playbook()
    assert {reply.category for reply in playbook.replies} == set(CATEGORIES)
    for reply in playbook.replies:
        assert len(reply.situations) >= 3, reply.id
        assert set(reply.verdicts) <= TOPIC_VERDICTS[reply.topic], reply.id


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('category = "closing"', 'category = "goodbye"', "reply 'a-01': category: unknown category 'goodbye'"),
        ('topic = "compliance"', 'topic = "offer"', "reply 'a-01': verdicts: a 'offer' reply may not be shown under"),
        ('situations = ["au revoir"]', "situations = []", "reply 'a-01': situations:"),
        ('text = "Au revoir."', 'text = "Au revoir."\ncolour = "red"', "reply 'a-01': colour: unknown key"),
        (
            'situations = ["au revoir"]',
            'situations = ["au revoir", " "]',
            "reply 'a-01': situations: a situation is empty",
        ),
        ('id = "a-01"\n', "", "reply #1: id: missing key"),
    ],
)
def test_bad_entry_names_file_reply_and_key(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    path = _write(tmp_path, GOOD.replace(replace, by))
    with pytest.raises(InputError) as caught:
        load_playbook(path)
    message = str(caught.value)
    assert message.startswith(str(path.resolve())), message
    assert expected in message
    assert "\n" not in message


def test_a_category_without_reply_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no reply for category 'greeting_disclosure'"):
        load_playbook(_write(tmp_path, GOOD))


def test_offers_only_when_allowed_and_sectors_filter() -> None:
    playbook = load_playbook()
    prices = playbook.for_category("objection_price", "forbidden")
    assert prices and all(reply.topic in ("service", "compliance") for reply in prices)
    assert {r.id for r in playbook.for_category("recording_refused", None, "insurance")} == {"recording-01"}
    assert {r.id for r in playbook.for_category("recording_refused", None, None)} == {"recording-02"}


def test_rule_based_pick_still_serves_the_panel_without_a_model() -> None:
    suggestions = load_playbook().suggest("Ne m'appelez plus.", "allowed", ("withdrawal",))
    assert suggestions[0].category == "withdrawal_ack"
    assert suggestions[0].source.startswith("playbook:withdraw-")
