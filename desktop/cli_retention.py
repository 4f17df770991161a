"""``agent-assist retention purge [--dry-run] [--json]``: purge the call content whose retention period is over.

Registered by :func:`desktop.cli.build_parser` through :func:`add_retention_commands`. The periods come from the
effective ``[retention]`` settings (the machine policy may set and lock them); consent proofs are never purged.
The app runs the same purge at start and daily. Exit codes as the rest of the CLI: 0 done (also when nothing had
expired), 2 bad settings or machine policy.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.cli import Context


def add_retention_commands(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``retention purge`` to the ``agent-assist`` sub-commands."""
    retention_parser = subparsers.add_parser("retention", help="retention of call content: purge what expired")
    retention = retention_parser.add_subparsers(
        dest="retention_command", required=True, parser_class=type(retention_parser)
    )
    purge = retention.add_parser(
        "purge", parents=[common_parent], help="delete transcripts, summaries and recordings past their period"
    )
    purge.add_argument("--dry-run", action="store_true", help="count what would be purged, change nothing")
    purge.set_defaults(handler=cmd_retention_purge)


def cmd_retention_purge(ctx: Context) -> int:
    from desktop.core.store.retention import purge_expired, recordings_folder

    settings = ctx.settings
    with ctx.store() as store:
        report = purge_expired(
            store.conn,
            settings,
            dt.datetime.now(dt.UTC),
            recordings_dir=recordings_folder(settings, ctx.data_dir),
            dry_run=bool(ctx.args.dry_run),
            actor="cli",
        )
    ctx.emit(report.to_json(), report.line())
    return 0
