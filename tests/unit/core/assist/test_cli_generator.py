"""``agent-assist generator check|secret`` against the fake OpenAI-compatible server and a file keyring."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

from desktop.cli import Context
from desktop.cli_generator import add_generator_commands
from desktop.core.crm import credentials
from desktop.core.errors import InputError, NotFoundError
from tests.fakes.openai_server import FakeOpenAIServer, Scenario


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    fake = FakeOpenAIServer()
    yield fake
    fake.close()


@pytest.fixture
def file_keyring(tmp_path: Path) -> Iterator[PlaintextKeyring]:
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")  # never the developer's real keyring
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    common = argparse.ArgumentParser(add_help=False)
    for flag in ("--data-dir", "--policy", "--lang"):
        common.add_argument(flag)
    common.add_argument("--json", action="store_true")
    parser = argparse.ArgumentParser()
    add_generator_commands(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(argv)
    code = args.handler(Context(args))
    return code, json.loads(capsys.readouterr().out)


def test_check_streams_one_adaptation_from_the_server(
    server: FakeOpenAIServer, file_keyring: PlaintextKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    server.reset()
    code, out = _run(
        ["generator", "check", "--json", "--kind", "openai", "--model", "qwen", "--url", server.url], capsys
    )
    assert code == 0
    assert out["model"] == "qwen" and out["pieces"] == 4 and out["text"] == "Bien sûr, je comprends."
    assert out["ttft_s"] <= out["seconds"]


def test_secret_set_is_sent_then_delete(
    server: FakeOpenAIServer,
    file_keyring: PlaintextKeyring,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.reset(Scenario(key="k-123"))
    with pytest.raises(NotFoundError, match="HTTP 401"):
        _run(["generator", "check", "--json", "--kind", "openai", "--model", "m", "--url", server.url], capsys)
    monkeypatch.setattr("sys.stdin", io.StringIO("k-123\n"))
    code, out = _run(["generator", "secret", "set", "--json", "--url", server.url + "/"], capsys)
    assert code == 0 and out == {"stored": True, "url": server.url}
    assert credentials.get_secret("generator", server.url) == "k-123"
    code, out = _run(["generator", "check", "--json", "--kind", "openai", "--model", "m", "--url", server.url], capsys)
    assert code == 0 and server.headers[-1]["Authorization"] == "Bearer k-123"
    code, out = _run(["generator", "secret", "delete", "--json", "--url", server.url], capsys)
    assert out == {"removed": True, "url": server.url}


def test_bad_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match="use https"):
        _run(["generator", "secret", "delete", "--url", "http://gpu.example.com/v1"], capsys)
    with pytest.raises(InputError, match="no generator configured"):
        _run(["generator", "check"], capsys)
    with pytest.raises(NotFoundError, match="generator nothing-here is not installed"):
        _run(["generator", "check", "--kind", "local", "--model", "nothing-here"], capsys)
