"""``agent-assist doctor [--json] [--strict]``: is this station fit to take calls? (checks in :mod:`desktop.doctor`)

Registered by :func:`desktop.cli.build_parser` through :func:`add_doctor_commands`. One line per check (``ok``,
``warning`` or ``failed``, why, and what to do), then a verdict line; ``--json`` prints
``{"fit": bool, "checks": [...]}``.

Exit codes: 0 fit (warnings allowed unless ``--strict``); 2 the machine policy is malformed (the app would not
start; the checks are still printed, and the policy error goes to stderr as one line); 3 unfit: a check failed
(or, with ``--strict``, warned); 1 the doctor itself crashed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.cli import Context

EXIT_FIT, EXIT_POLICY, EXIT_UNFIT = 0, 2, 3


def add_doctor_commands(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``doctor`` to the ``agent-assist`` sub-commands."""
    doctor = subparsers.add_parser(
        "doctor",
        parents=[common_parent],
        help="check this station: policy, settings, database, ledger, permissions, disk, models, softphone, CRM",
    )
    doctor.add_argument("--strict", action="store_true", help="warnings make the station unfit too (exit 3)")
    doctor.set_defaults(handler=cmd_doctor)


def cmd_doctor(ctx: Context) -> int:
    from desktop.doctor import fit, run_checks

    results = run_checks(ctx.data_dir)
    is_fit = fit(results, strict=bool(ctx.args.strict))
    if ctx.json:
        print(json.dumps({"fit": is_fit, "checks": [result.to_json() for result in results]}, ensure_ascii=False))
    else:
        for result in results:
            print(result.line())
        failures = [result.name for result in results if result.status == "failed"]
        warnings = [result.name for result in results if result.status == "warning"]
        if is_fit:
            print(f"station fit ({len(warnings)} warnings)" if warnings else "station fit")
        else:
            print(f"station NOT fit: {', '.join(failures or warnings)}")
    policy = next(result for result in results if result.name == "policy")
    if policy.status == "failed":
        print(f"agent-assist: error: {' '.join(policy.message.split())}", file=sys.stderr)
        return EXIT_POLICY
    return EXIT_FIT if is_fit else EXIT_UNFIT
