"""The ``agent-assist`` command line: the interface IT, compliance officers and tests drive the product with.

Exit codes: 0 done; 1 unexpected internal error; 2 bad input or usage (one line on stderr, nothing changed);
3 integrity failure (the ledger or the database does not verify); 4 not found.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from desktop import __version__
from desktop.config import Settings, load_settings
from desktop.core.consent.policy import Policy, load_policy
from desktop.core.errors import InputError, IntegrityError, NotFoundError
from desktop.paths import data_dir

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INTEGRITY, EXIT_NOT_FOUND = 0, 1, 2, 3, 4
VERDICT_WORDS = {
    "fr": {"allowed": "AUTORISÉ", "contract_only": "CONTRAT SEULEMENT", "forbidden": "INTERDIT"},
    "en": {"allowed": "ALLOWED", "contract_only": "CONTRACT ONLY", "forbidden": "FORBIDDEN"},
}


class _Parser(argparse.ArgumentParser):
    """argparse that fails with one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


class Context:
    """What a command needs, built lazily from the common options (one object, handed down)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data_dir = data_dir(args.data_dir)
        self.json = bool(args.json)
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.data_dir)
        return self._settings

    @property
    def language(self) -> str:
        return str(self.args.lang or self.settings.language)

    def policy(self) -> Policy:
        return load_policy(self.args.policy or self.settings.policy_pack)

    def store(self) -> Any:
        from desktop.core.store.db import open_store

        return open_store(self.data_dir)

    def professional(self, explicit: str | None) -> str:
        name = explicit or self.settings.station.professional
        if not name:
            raise InputError("--professional: missing (or set [station].professional in settings.toml)")
        return name

    def emit(self, payload: Any, human: str | None = None) -> None:
        if self.json or human is None:
            print(json.dumps(payload, ensure_ascii=False, indent=None if self.json else 2))
        else:
            print(human)


def _instant(text: str) -> dt.datetime:
    from desktop.core.consent.facts import parse_instant

    try:
        return parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _number(text: str) -> str:
    from desktop.core.consent.phone import normalize

    try:
        return normalize(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _setting(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        raise argparse.ArgumentTypeError(f'{key}: the value must be a JSON literal such as false, 4 or "P1Y"') from None


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


# -- consent ---------------------------------------------------------------------------------------------------


def cmd_consent_evaluate(ctx: Context) -> int:
    from desktop.core.consent.engine import evaluate
    from desktop.core.consent.facts import load_facts_text

    source = ctx.args.file
    if source in (None, "-"):
        text, where = sys.stdin.read(), "<stdin>"
    else:
        try:
            text, where = Path(source).read_text(encoding="utf-8"), source
        except OSError as error:
            raise InputError(f"{source}: cannot read ({error.strerror})") from None
        except UnicodeDecodeError:
            raise InputError(f"{source}: not UTF-8 text") from None
    facts, case_policy = load_facts_text(text, where)
    policy = ctx.policy().with_overrides({**case_policy, **dict(ctx.args.set or [])})
    decision = evaluate(facts, policy, language=ctx.language)
    print(json.dumps(decision.to_json(), ensure_ascii=False, indent=None if ctx.json else 2))
    return EXIT_OK


def _decision_lines(decision: Any, language: str) -> str:
    words = VERDICT_WORDS.get(language, VERDICT_WORDS["fr"])
    lines = [f"{words[decision.verdict]} — {decision.reasons[0].message}"]
    lines += [f"  · {reason.message} [{reason.code}]" for reason in decision.reasons[1:]]
    if decision.valid_until is not None:
        label = "valable jusqu'au" if language == "fr" else "valid until"
        lines.append(f"  {label} {decision.valid_until.isoformat()}")
    return "\n".join(lines)


def cmd_consent_check(ctx: Context) -> int:
    from desktop.core.consent.check import CallQuestion, check

    args = ctx.args
    question = CallQuestion(
        number=args.number,
        product=args.product,
        professional=ctx.professional(args.professional),
        at=args.at or _now(),
        direction=args.direction,
        purpose=args.purpose,
        caller_id=args.caller_id or ctx.settings.station.caller_id,
        sector=args.sector,
    )
    policy = ctx.policy()
    with ctx.store() as store:
        _facts, decision, decision_id = check(
            store.conn, question, policy, language=ctx.language, crm_sync=ctx.settings.crm.connector != "none"
        )
    ctx.emit({**decision.to_json(), "decision_id": decision_id}, _decision_lines(decision, ctx.language))
    return EXIT_OK


def cmd_consent_record(ctx: Context) -> int:
    from desktop.core.store.consents import ConsentRecord, record_consent

    args = ctx.args
    products = tuple(part.strip() for part in args.products.split(",") if part.strip())
    if not products:
        raise InputError("--products: give at least one product")
    slots = tuple(_slot(text) for text in args.slot or [])
    record = ConsentRecord(
        number=args.number,
        professional=ctx.professional(args.professional),
        products=products,
        collected_at=args.collected_at or _now(),
        method=args.method,
        affirmative_act=not args.no_affirmative_act,
        pre_ticked=bool(args.pre_ticked),
        evidence_ref=args.evidence_ref,
        text_shown=args.text_shown,
        collected_during_unlawful_call=bool(args.unlawful_call),
        out_of_hours_slots=slots,
        out_of_hours_any=bool(args.out_of_hours_any),
        external_id=args.consent_id,
    )
    with ctx.store() as store:
        outcome, uid = record_consent(store.conn, record, source="cli", station=ctx.settings.crm.station_id)
    ctx.emit({"consent_id": uid, "outcome": outcome}, f"consent {uid}: {outcome}")
    return EXIT_OK


def _slot(text: str) -> tuple[dt.datetime, dt.datetime]:
    start, sep, end = text.partition("/")
    if not sep:
        raise InputError(f"--slot: expected START/END, got {text!r}")
    try:
        return _instant(start), _instant(end)
    except argparse.ArgumentTypeError as error:
        raise InputError(f"--slot: {error}") from None


def _event(ctx: Context, kind: str, details: dict[str, Any]) -> int:
    from desktop.core.store.consents import record_event
    from desktop.core.store.db import transaction

    args = ctx.args
    professional = ctx.professional(args.professional)
    consent_id = getattr(args, "consent_id", None)
    with ctx.store() as store:
        if consent_id is not None:
            found = store.conn.execute("SELECT number FROM consents WHERE uid = ?", (consent_id,)).fetchone()
            if found is None or found[0] != args.number:
                raise NotFoundError(f"consent {consent_id!r} of this number not found")
        with transaction(store.conn):
            seq = record_event(
                store.conn,
                kind,  # type: ignore[arg-type]
                number=args.number,
                professional=professional,
                at=args.at or _now(),
                details=details,
                consent_uid=consent_id,
                station=ctx.settings.crm.station_id,
            )
    ctx.emit({"entry": seq, "kind": kind}, f"{kind}: ledger entry {seq}")
    return EXIT_OK


def cmd_consent_revoke(ctx: Context) -> int:
    args = ctx.args
    return _event(ctx, "withdrawn", {"channel": args.channel, "agent": args.agent, "segment": args.segment})


def cmd_consent_object(ctx: Context) -> int:
    args = ctx.args
    return _event(ctx, "objection", {"scope": args.scope, "channel": args.channel, "agent": args.agent})


def cmd_consent_proof(ctx: Context) -> int:
    from desktop.core.consent.proof import export_proof

    args = ctx.args
    with ctx.store() as store:
        proof = export_proof(
            store.conn,
            at=_now(),
            consent_uid=args.consent_id,
            number=args.number,
            professional=args.professional,
            requested_by=args.requested_by,
        )
    text = json.dumps(proof, ensure_ascii=False, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        ctx.emit({"output": args.output, "consents": len(proof["consents"])}, f"proof written to {args.output}")
    else:
        print(text)
    return EXIT_OK


def cmd_consent_verify_ledger(ctx: Context) -> int:
    from desktop.core.consent.ledger import verify

    with ctx.store() as store:
        result = verify(store.conn)
    if ctx.json:
        print(json.dumps(result.to_json()))
    elif result.ok:
        print(f"ledger OK: {result.entries} entries, {result.consents} consents, head {result.head[:16]}")
    if not result.ok:
        raise IntegrityError(f"ledger broken: {result.problem}")
    return EXIT_OK


# -- import ----------------------------------------------------------------------------------------------------


def cmd_import(ctx: Context) -> int:
    from desktop.core.consent.importers import run_import

    with ctx.store() as store:
        summary = run_import(store, ctx.args.kind, Path(ctx.args.file), ctx.args.format)
    ctx.emit(summary.to_json(), summary.line())
    return EXIT_OK


# -- demo ------------------------------------------------------------------------------------------------------


def cmd_demo(ctx: Context) -> int:
    from desktop.demo import run_demo

    return run_demo(ctx.data_dir, ctx.policy(), language=ctx.language, as_json=ctx.json)


# -- run -------------------------------------------------------------------------------------------------------


def cmd_run(ctx: Context) -> int:
    from desktop.app import RunOptions, run

    args = ctx.args
    if args.speed is not None and args.speed <= 0:
        raise InputError(f"--speed: must be positive, got {args.speed}")
    if args.call is not None and not Path(args.call).is_file():
        raise InputError(f"--call: no such file: {args.call}")
    return run(
        RunOptions(
            data_dir=ctx.data_dir,
            demo=bool(args.demo or args.call),
            smoke_test=bool(args.smoke_test),
            speed=args.speed,
            call_file=Path(args.call) if args.call else None,
            language=args.lang,
            policy_path=args.policy,
        )
    )


# -- parser ----------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data folder (default: $AGENT_ASSIST_HOME, else the user data folder)")
    common.add_argument("--json", action="store_true", help="print JSON")
    common.add_argument("--policy", help="policy pack file (default: the one shipped)")
    common.add_argument("--lang", choices=("fr", "en"), help="language of messages (default: settings, else fr)")

    parser = _Parser(prog="agent-assist", description="Agent Assist: consent, transcript, suggestions, CRM sync.")
    parser.add_argument("--version", action="version", version=f"agent-assist {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    consent = commands.add_parser("consent", help="consent engine and ledger").add_subparsers(
        dest="consent_command", required=True, parser_class=_Parser
    )
    evaluate = consent.add_parser("evaluate", parents=[common], help="facts JSON in, decision JSON out")
    evaluate.add_argument("file", nargs="?", help="facts JSON file, or - for standard input")
    evaluate.add_argument(
        "--set", action="append", type=_setting, metavar="KEY=VALUE", help="override a policy parameter"
    )
    evaluate.set_defaults(handler=cmd_consent_evaluate)

    check = consent.add_parser("check", parents=[common], help="decision from the facts in the store")
    check.add_argument("number", type=_number)
    check.add_argument("--product", required=True)
    check.add_argument("--purpose", default="prospection", choices=("prospection", "contract", "service", "survey"))
    check.add_argument("--professional")
    check.add_argument("--direction", default="outbound", choices=("outbound", "inbound"))
    check.add_argument("--at", type=_instant, help="call start, ISO 8601 with offset (default: now)")
    check.add_argument("--caller-id", type=_number)
    check.add_argument(
        "--sector", choices=("energy_renovation", "housing_adaptation", "cpf_training", "insurance", "press")
    )
    check.set_defaults(handler=cmd_consent_check)

    record = consent.add_parser("record", parents=[common], help="record a consent given")
    record.add_argument("--number", required=True, type=_number)
    record.add_argument("--professional")
    record.add_argument("--products", required=True, help="comma-separated product slugs")
    record.add_argument("--collected-at", type=_instant)
    record.add_argument(
        "--method",
        required=True,
        choices=("web_form", "paper", "store", "email", "phone_call", "recorded_call", "broker_file"),
    )
    record.add_argument("--evidence-ref", required=True)
    record.add_argument("--text-shown", required=True)
    record.add_argument("--consent-id")
    record.add_argument("--pre-ticked", action="store_true")
    record.add_argument("--no-affirmative-act", action="store_true")
    record.add_argument("--unlawful-call", action="store_true", help="collected during an unlawful outbound call")
    record.add_argument("--slot", action="append", metavar="START/END", help="out-of-hours slot chosen by the consumer")
    record.add_argument("--out-of-hours-any", action="store_true")
    record.set_defaults(handler=cmd_consent_record)

    for name, handler, helptext in (
        ("revoke", cmd_consent_revoke, "record a withdrawal of consent"),
        ("object", cmd_consent_object, "record an objection to marketing"),
    ):
        sub = consent.add_parser(name, parents=[common], help=helptext)
        sub.add_argument("--number", required=True, type=_number)
        sub.add_argument("--professional")
        sub.add_argument("--at", type=_instant, help="instant it was said (default: now)")
        sub.add_argument("--agent")
        sub.add_argument("--channel", default="oral", choices=("oral", "written", "web", "crm"))
        if name == "revoke":
            sub.add_argument("--consent-id", help="only this consent (default: every consent of the professional)")
            sub.add_argument("--segment", type=int, help="transcript segment where it was said")
        else:
            sub.add_argument("--scope", choices=("marketing", "all"), default="marketing")
        sub.set_defaults(handler=handler)

    proof = consent.add_parser("proof", parents=[common], help="export the proof of a consent")
    proof.add_argument("--consent-id")
    proof.add_argument("--number", type=_number)
    proof.add_argument("--professional")
    proof.add_argument("--requested-by")
    proof.add_argument("--output", "-o", help="write to this file instead of standard output")
    proof.set_defaults(handler=cmd_consent_proof)

    verify = consent.add_parser("verify-ledger", parents=[common], help="check the ledger's hash chain")
    verify.set_defaults(handler=cmd_consent_verify_ledger)

    imports = commands.add_parser("import", parents=[common], help="import CSV or JSON Lines, all or nothing")
    imports.add_argument("kind", choices=("consents", "contracts", "attempts", "optout"))
    imports.add_argument("file")
    imports.add_argument("--format", choices=("csv", "jsonl"))
    imports.set_defaults(handler=cmd_import)

    run = commands.add_parser("run", parents=[common], help="the desktop app (default command)")
    run.add_argument("--demo", action="store_true", help="replay a demo call through the whole pipeline")
    run.add_argument("--smoke-test", action="store_true", help="initialise everything, then quit 0")
    run.add_argument("--speed", type=float, help="demo speed factor (1 = real time)")
    run.add_argument("--call", help="a call in the corpus format to replay (implies --demo)")
    run.set_defaults(handler=cmd_run)

    # Parsed by desktop.hook (standard library only, fast); listed here for --help.
    commands.add_parser(
        "event", add_help=False, help="hand a softphone hook's call event to the running app (ring|dial|answer|hangup)"
    )

    demo = commands.add_parser("demo", parents=[common], help="load the demo data and check the demo calls")
    demo.set_defaults(handler=cmd_demo)

    from desktop.cli_calls import add_calls_commands

    add_calls_commands(commands, common)
    from desktop.cli_models import add_models_commands

    add_models_commands(commands, common)
    from desktop.cli_speech import add_speech_commands

    add_speech_commands(commands, common)
    from desktop.cli_sync import add_sync_commands

    add_sync_commands(commands, common)
    from desktop.cli_retention import add_retention_commands

    add_retention_commands(commands, common)
    from desktop.cli_doctor import add_doctor_commands

    add_doctor_commands(commands, common)
    from desktop.cli_assist import add_assist_commands

    add_assist_commands(commands, common)
    from desktop.cli_generator import add_generator_commands

    add_generator_commands(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] == "event":
        from desktop.hook import main as hook_main

        return hook_main(arguments[1:])
    parser = build_parser()
    if not arguments or (arguments[0].startswith("--") and arguments[0] not in ("--help", "--version")):
        arguments.insert(0, "run")  # `agent-assist` alone starts the desktop app
    args = parser.parse_args(arguments)
    handler: Callable[[Context], int] = args.handler
    try:
        if args.command != "doctor":  # doctor reports a malformed machine policy among its checks (exit 2)
            from desktop.machine_policy import load_machine_policy

            load_machine_policy()
        return handler(Context(args))
    except InputError as error:
        return _fail(EXIT_INPUT, str(error))
    except IntegrityError as error:
        return _fail(EXIT_INTEGRITY, str(error))
    except NotFoundError as error:
        return _fail(EXIT_NOT_FOUND, str(error))
    except KeyboardInterrupt:
        return _fail(EXIT_INTERNAL, "interrupted")
    except Exception as error:  # one line for the person; the traceback only with AGENT_ASSIST_DEBUG
        import os
        import traceback

        if os.environ.get("AGENT_ASSIST_DEBUG"):
            traceback.print_exc()
        return _fail(EXIT_INTERNAL, f"internal error: {type(error).__name__}: {error}")


def _fail(code: int, message: str) -> int:
    print(f"agent-assist: error: {' '.join(message.split())}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
