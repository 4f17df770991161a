"""``agent-assist sync status|run|retry|secret``: the CRM outbox and its sync, from the command line.

Registered by :func:`desktop.cli.build_parser` through :func:`add_sync_commands`. Exit codes, besides the
common ones (0 done, 1 internal error, 2 bad input, 4 not found):

- ``sync run``: 0 nothing is left pending and the consent changes were pulled (parked entries are reported,
  they wait for a person);
  5 entries are still pending when it stops (the CRM could not be reached or was too slow for ``--timeout``),
  or the consent changes could not be pulled;
  6 the CRM refused the credentials, or none are stored (``sync secret set``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import TYPE_CHECKING, Any

from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.cli import Context
    from desktop.config import Crm

EXIT_NOT_DRAINED = 5
EXIT_AUTH = 6
#: ``sync run`` without ``--timeout``: long enough for a large backlog, bounded for a script.
DEFAULT_TIMEOUT_S = 600.0


def add_sync_commands(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``sync status``, ``sync run``, ``sync retry`` and ``sync secret`` to the sub-commands."""
    sync_parser = subparsers.add_parser("sync", help="the CRM outbox and its synchronisation")
    sync = sync_parser.add_subparsers(dest="sync_command", required=True, parser_class=type(sync_parser))

    status = sync.add_parser("status", parents=[common_parent], help="what is queued, parked, last pushed and pulled")
    status.set_defaults(handler=cmd_sync_status)

    run = sync.add_parser(
        "run",
        parents=[common_parent],
        help="pull consent changes, then push the outbox until nothing is pending or the timeout",
    )
    run.add_argument("--once", action="store_true", help="one pull and one push cycle, no waiting for retries")
    run.add_argument(
        "--timeout", type=_seconds, default=DEFAULT_TIMEOUT_S, metavar="S", help="give up after S seconds (default 600)"
    )
    run.add_argument("--no-pull", action="store_true", help="push only")
    run.set_defaults(handler=cmd_sync_run)

    retry = sync.add_parser("retry", parents=[common_parent], help="put a parked entry back in the queue")
    target = retry.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?", type=int, help="the parked entry's id (sync status lists them)")
    target.add_argument("--all-parked", action="store_true", help="every parked entry")
    retry.set_defaults(handler=cmd_sync_retry)

    secret_parser = sync.add_parser("secret", help="the CRM secret in the OS keyring")
    secret = secret_parser.add_subparsers(dest="secret_command", required=True, parser_class=type(sync_parser))
    set_secret = secret.add_parser(
        "set", parents=[common_parent], help="store the secret for [crm] connector and endpoint (stdin or prompt)"
    )
    set_secret.set_defaults(handler=cmd_sync_secret_set)
    delete = secret.add_parser("delete", parents=[common_parent], help="remove the stored secret")
    delete.set_defaults(handler=cmd_sync_secret_delete)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _configured(crm: Crm) -> tuple[str, str]:
    if crm.connector == "none":
        raise InputError('[crm] connector is "none" in settings.toml: set the CRM to sync with first (docs/crm.md)')
    if not crm.endpoint:
        raise InputError(f"[crm] endpoint is missing in settings.toml (the {crm.connector} URL)")
    return crm.connector, crm.endpoint


def _credentials_present(crm: Crm) -> bool | None:
    """Whether a secret is stored for the configured CRM; None when nothing is configured or no keyring."""
    if crm.connector == "none" or not crm.endpoint:
        return None
    from desktop.core.crm.credentials import KeyringUnavailableError, get_secret

    try:
        return get_secret(crm.connector, crm.endpoint) is not None
    except KeyringUnavailableError:
        return None


def cmd_sync_status(ctx: Context) -> int:
    from desktop.core.crm.status import status_lines, sync_status

    crm = ctx.settings.crm
    with ctx.store() as store:
        status = sync_status(store.conn, crm, now=dt.datetime.now(dt.UTC), credentials=_credentials_present(crm))
    ctx.emit(status.to_json(), status_lines(status))
    return 0


def cmd_sync_run(ctx: Context) -> int:
    from desktop.core.crm.connectors import make_connector
    from desktop.core.crm.contract import AuthError
    from desktop.core.crm.credentials import get_secret
    from desktop.core.crm.worker import SyncWorker

    crm = ctx.settings.crm
    connector_name, endpoint = _configured(crm)
    try:
        connector = make_connector(crm, get_secret(connector_name, endpoint))
    except AuthError as error:
        return _auth_failed(ctx, str(error))
    assert connector is not None  # _configured refused "none"
    with ctx.store() as store:
        worker = SyncWorker(lambda: store.conn, connector, crm)
        try:
            report = worker.drain(timeout_s=0.0 if ctx.args.once else ctx.args.timeout, pull=not ctx.args.no_pull)
        finally:
            connector.close()
    data = report.to_json()
    if report.push.problem == "auth":
        ctx.emit(data, _run_lines(data))
        return _auth_failed(ctx, report.push.message or "the CRM refused the credentials")
    ctx.emit(data, _run_lines(data))
    return 0 if report.drained and report.pull_problem is None else EXIT_NOT_DRAINED


def _auth_failed(ctx: Context, message: str) -> int:
    print(
        f"agent-assist: error: the CRM refused the credentials ({' '.join(message.split())}); "
        "store them with: agent-assist sync secret set",
        file=sys.stderr,
    )
    return EXIT_AUTH


def _run_lines(data: dict[str, Any]) -> str:
    push = data["push"]
    lines = [
        f"pushed {push['sent']} new, {push['duplicates']} already in the CRM, {push['parked']} parked, "
        f"{push['retried']} to retry; {data['pending']} still pending" + (" (drained)" if data["drained"] else "")
    ]
    if push["problem"] and push["problem"] != "auth":
        lines.append(f"the CRM could not be reached: {push['message']}")
    if data["pull_problem"]:
        lines.append(f"consent pull failed: {data['pull_problem']}")
    if push["parked"]:
        lines.append("parked entries wait for a person: agent-assist sync status, then sync retry ID")
    return "\n".join(lines)


def cmd_sync_retry(ctx: Context) -> int:
    from desktop.core.crm.worker import retry_parked

    with ctx.store() as store:
        count = retry_parked(store.conn, None if ctx.args.all_parked else ctx.args.id)
    ctx.emit({"requeued": count}, f"{count} entr{'y' if count == 1 else 'ies'} back in the queue")
    return 0


def _read_secret() -> str:
    if sys.stdin is not None and not sys.stdin.isatty():
        return sys.stdin.readline()
    return getpass.getpass("CRM secret (not shown): ")


def cmd_sync_secret_set(ctx: Context) -> int:
    from desktop.core.crm.credentials import set_secret

    connector, endpoint = _configured(ctx.settings.crm)
    set_secret(connector, endpoint, _read_secret())
    ctx.emit(
        {"stored": True, "connector": connector, "endpoint": endpoint}, f"secret stored for {connector} at {endpoint}"
    )
    return 0


def cmd_sync_secret_delete(ctx: Context) -> int:
    from desktop.core.crm.credentials import delete_secret

    connector, endpoint = _configured(ctx.settings.crm)
    removed = delete_secret(connector, endpoint)
    human = (
        f"secret removed for {connector} at {endpoint}"
        if removed
        else f"no secret was stored for {connector} at {endpoint}"
    )
    ctx.emit({"removed": removed, "connector": connector, "endpoint": endpoint}, human)
    return 0
