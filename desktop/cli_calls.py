"""``agent-assist calls list|show``: the stored interactions, from the command line.

Registered by :func:`desktop.cli.build_parser` through :func:`add_calls_commands`. Numbers are masked unless
``--unmasked`` is given; ``--csv FILE`` writes the list as CSV (the same columns as the review window's export).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.cli import Context

_YES_NO = {"yes": True, "no": False}


def add_calls_commands(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``calls list`` and ``calls show`` to the ``agent-assist`` sub-commands."""
    calls_parser = subparsers.add_parser("calls", help="stored interactions")
    calls = calls_parser.add_subparsers(dest="calls_command", required=True, parser_class=type(calls_parser))

    listing = calls.add_parser("list", parents=[common_parent], help="stored calls, newest first, filtered")
    listing.add_argument(
        "--from", dest="date_from", metavar="DATE", help="from this local date (YYYY-MM-DD) or instant"
    )
    listing.add_argument("--to", dest="date_to", metavar="DATE", help="up to this local date (included) or instant")
    listing.add_argument("--agent", help="agent id")
    listing.add_argument("--disposition", help="summary disposition (sale, do_not_call, …)")
    listing.add_argument("--verdict", choices=("allowed", "contract_only", "forbidden"))
    listing.add_argument("--withdrawal", choices=tuple(_YES_NO), help="calls with (yes) or without (no) a withdrawal")
    listing.add_argument("--limit", type=int, default=500, help="at most this many calls (default 500)")
    listing.add_argument("--csv", metavar="FILE", help="write the list as CSV to FILE")
    listing.add_argument("--unmasked", action="store_true", help="show numbers in full")
    listing.set_defaults(handler=cmd_calls_list)

    show = calls.add_parser("show", parents=[common_parent], help="one call: transcript, summary, consent events")
    show.add_argument("id", help="the call's id or uid (or the first 8 characters of its uid)")
    show.add_argument("--unmasked", action="store_true", help="show the number in full")
    show.set_defaults(handler=cmd_calls_show)


def cmd_calls_list(ctx: Context) -> int:
    from desktop.core.store.interactions import export_csv, list_interactions

    args = ctx.args
    with ctx.store() as store:
        rows = list_interactions(
            store.conn,
            date_from=args.date_from,
            date_to=args.date_to,
            agent=args.agent,
            disposition=args.disposition,
            verdict=args.verdict,
            withdrawal=_YES_NO[args.withdrawal] if args.withdrawal else None,
            limit=args.limit,
        )
    if args.csv:
        count = export_csv(rows, args.csv, unmasked=args.unmasked)
        ctx.emit({"csv": args.csv, "count": count}, f"{count} call(s) written to {args.csv}")
        return 0
    shown = rows if args.unmasked else [row.masked() for row in rows]
    ctx.emit({"count": len(shown), "calls": [row.to_json() for row in shown]}, _list_lines(shown))
    return 0


def _list_lines(rows: list[Any]) -> str:
    if not rows:
        return "no call stored matches"
    header = ("id", "started", "agent", "number", "dir", "verdict", "disposition", "withdrawal", "state")
    table = [header] + [
        (
            str(row.id),
            (row.started_at or "")[:16].replace("T", " "),
            row.agent_id or "",
            row.number or "",
            {"inbound": "in", "outbound": "out"}.get(row.direction or "", ""),
            row.verdict or "",
            row.disposition or "",
            "yes" if row.withdrawal else "",
            row.state,
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in table
    )


def cmd_calls_show(ctx: Context) -> int:
    from desktop.core.store.interactions import show_interaction

    with ctx.store() as store:
        call = show_interaction(store.conn, ctx.args.id, unmasked=ctx.args.unmasked)
    ctx.emit(call, _show_lines(call))
    return 0


def _show_lines(call: dict[str, Any]) -> str:
    interaction = call["interaction"]
    lines = [
        f"call {interaction['id']} ({interaction['uid']}) — {interaction['state']}",
        f"  {interaction['direction'] or '?'} {interaction['number'] or '?'}, {interaction['professional'] or '?'}"
        f" / {interaction['product'] or '?'}, agent {interaction['agent_id'] or '?'}",
        f"  {interaction['started_at'] or '?'} → {interaction['ended_at'] or '…'}",
    ]
    decision = call["decision"]
    if decision is not None:
        reason = decision["reasons"][0] if decision["reasons"] else {}
        lines.append(f"  verdict {decision['verdict']}: {reason.get('message', '')} [{reason.get('code', '')}]")
    history = call.get("decisions", [])
    if len(history) > 1:  # re-evaluated during the call (a withdrawal, the end of a window): each one, in order
        for each in history:
            until = f", until {each['valid_until']}" if each["valid_until"] else ""
            lines.append(f"  evaluated {each['evaluated_at']}: {each['verdict']} [{each['code']}]{until}")
    for event in call["consent_events"]:
        lines.append(f"  consent event {event['kind']} at {event['at']}")
    for use in call.get("suggestions", []):
        lines.append(f"  suggestion {use['source']} {'copied' if use['accepted'] else 'ignored'} at {use['at']}")
    lines.append("transcript:")
    lines += [
        f"  [{segment['idx']}] {segment['speaker']}: {segment['text']}"
        + ("" if segment.get("final", True) else " (provisional)")
        for segment in call["segments"]
    ]
    if not call["segments"]:
        lines.append("  (none)")
    summary = call["summary"]
    if summary is None:
        lines.append("summary: (none)")
    else:
        body = summary["body"]
        state = f"validated by {summary['validated_by']}" if summary["validated_by"] else "draft"
        lines.append(f"summary ({state}):")
        for key in ("reason", "resolution", "disposition"):
            lines.append(f"  {key}: {body.get(key, '')}")
        lines += [f"  action: {action}" for action in body.get("actions", [])]
        lines += [
            f"  next step ({step.get('owner')}): {step.get('action')}"
            + (f" by {step['due']}" if step.get("due") else "")
            for step in body.get("next_steps", [])
        ]
    return "\n".join(lines)
