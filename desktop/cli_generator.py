"""``agent-assist generator check|secret``: the optional generator, from the command line (IT).

- ``generator check [--kind local|openai] [--model NAME] [--url URL]``: load the generator (by default the one the
  ``[assist]`` settings name) and stream one adaptation of a fixed approved reply; prints the load time, the time to
  first token and the tokens per second (never call content: the text is a fixed example).
- ``generator secret set|delete --url URL``: the API key of an OpenAI-compatible server, in the OS keyring
  (service ``agent-assist``, user ``generator:<url>``); ``set`` reads it from stdin or a hidden prompt.

Exit codes as the rest of the CLI: 2 bad input, 4 the generator is not installed or the server cannot be used.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from desktop.core.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from desktop.cli import Context

EXAMPLE_TURNS = (("customer", "Bonjour, je ne veux plus être appelé pour vos offres, retirez mon numéro."),)
EXAMPLE_REPLY = "C'est noté : votre numéro est retiré de nos listes d'appel, vous ne serez plus sollicité."


def add_generator_commands(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``generator check`` and ``generator secret set|delete`` to the ``agent-assist`` sub-commands."""
    parser = subparsers.add_parser("generator", help="the optional generator: check it, store a server's key")
    commands = parser.add_subparsers(dest="generator_command", required=True, parser_class=type(parser))

    check = commands.add_parser("check", parents=[common_parent], help="load the generator and time one adaptation")
    check.add_argument("--kind", choices=("local", "openai"), help="default: the [assist] generator setting")
    check.add_argument("--model", help="local: a models-folder name (e.g. smollm2-135m); openai: the served model")
    check.add_argument("--url", help="openai: the server's base URL, e.g. http://127.0.0.1:8000/v1")
    check.add_argument("--max-new-tokens", type=int, default=48)
    check.set_defaults(handler=cmd_generator_check)

    secret_parser = commands.add_parser("secret", help="an OpenAI-compatible server's key in the OS keyring")
    secret = secret_parser.add_subparsers(dest="secret_command", required=True, parser_class=type(parser))
    set_secret = secret.add_parser("set", parents=[common_parent], help="store the key (stdin or hidden prompt)")
    set_secret.add_argument("--url", required=True, help="the server's base URL, as in [assist] openai_url")
    set_secret.set_defaults(handler=cmd_generator_secret_set)
    delete = secret.add_parser("delete", parents=[common_parent], help="remove the stored key")
    delete.add_argument("--url", required=True)
    delete.set_defaults(handler=cmd_generator_secret_delete)


def _configured(ctx: Context) -> tuple[str, str, str]:
    """kind, model, url: the options, else the ``[assist]`` settings (when that block exists)."""
    assist = getattr(ctx.settings, "assist", None)
    kind = ctx.args.kind or str(getattr(assist, "generator", "none"))
    model = ctx.args.model or str(getattr(assist, "generator_model", "") or "")
    url = ctx.args.url or str(getattr(assist, "openai_url", "") or "")
    if kind == "none":
        raise InputError('generator check: no generator configured ([assist] generator = "none"): give --kind')
    return kind, model, url


def cmd_generator_check(ctx: Context) -> int:
    from desktop.core.assist.generator import GenerationError, adaptation_messages, make_generator
    from desktop.core.models import models_root

    kind, model, url = _configured(ctx)
    if ctx.args.max_new_tokens < 1:
        raise InputError("--max-new-tokens: must be at least 1")
    started = time.perf_counter()
    generator = None
    try:
        generator = make_generator(
            kind, model=model, url=url, models_root=models_root(ctx.data_dir, ctx.settings.models_dir)
        )
        assert generator is not None
        load_s = time.perf_counter() - started
        messages = adaptation_messages(EXAMPLE_REPLY, "withdrawal_ack", EXAMPLE_TURNS)
        began = time.perf_counter()
        first: float | None = None
        pieces = []
        for piece in generator.stream(messages, max_new_tokens=ctx.args.max_new_tokens, stop=threading.Event()):
            first = first if first is not None else time.perf_counter() - began
            pieces.append(piece)
        total = time.perf_counter() - began
    except GenerationError as error:
        raise NotFoundError(str(error)) from None
    finally:
        close = getattr(generator, "close", None)  # a server's HTTP connections
        if close is not None:
            close()
    text = "".join(pieces).strip()
    result = {
        "kind": kind,
        "model": generator.name,
        "load_s": round(load_s, 2),
        "ttft_s": round(first or 0.0, 3),
        "seconds": round(total, 3),
        "pieces": len(pieces),
        "pieces_per_s": round(len(pieces) / total, 1) if total else None,
        "text": text,
    }
    ctx.emit(
        result,
        f"generator {generator.name} ({kind}): loaded in {load_s:.1f} s, first piece after {result['ttft_s']} s,"
        f" {len(pieces)} pieces in {total:.1f} s\n{text}",
    )
    return 0 if text else 4


def _read_key() -> str:
    if sys.stdin is not None and not sys.stdin.isatty():
        return sys.stdin.readline()
    return getpass.getpass("Server API key (not shown): ")


def cmd_generator_secret_set(ctx: Context) -> int:
    from desktop.core.assist.generator import KEYRING_NAME, check_server_url
    from desktop.core.crm.credentials import set_secret

    url = check_server_url(ctx.args.url)
    set_secret(KEYRING_NAME, url, _read_key())
    ctx.emit({"stored": True, "url": url}, f"key stored for the generator server {url}")
    return 0


def cmd_generator_secret_delete(ctx: Context) -> int:
    from desktop.core.assist.generator import KEYRING_NAME, check_server_url
    from desktop.core.crm.credentials import delete_secret

    url = check_server_url(ctx.args.url)
    removed = delete_secret(KEYRING_NAME, url)
    ctx.emit({"removed": removed, "url": url}, f"key {'removed' if removed else 'was not stored'} for {url}")
    return 0
