"""``agent-assist suggest``, ``summarize FILE.json`` and ``eval suggestions|summaries DIR``.

Registered by :func:`desktop.cli.build_parser` through :func:`add_assist_commands`. ``suggest`` and ``eval
suggestions`` need the ``e5-small`` model (``agent-assist models install e5-small``; exit 4 with that command in the
message when it is missing). ``summarize`` and ``eval summaries`` always work: they classify with e5-small where it
is installed and with the lexical stand-in otherwise (``--classifier`` chooses; the report says which).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.cli import Context
    from desktop.core.assist.retrieval import Retriever
    from desktop.core.assist.summarize import Classifier

VERDICTS = ("allowed", "contract_only", "forbidden")
#: The policy pack's phrase lists the live panel runs on customer turns (as desktop/services/calls.py does).
DETECTED_KINDS = ("withdrawal", "objection", "proof_request", "recording_refused")
SECTORS = ("general", "insurance", "press")
CLASSIFIERS = ("auto", "e5-small", "lexical")
CLASSIFIER_HELP = "auto (default): e5-small where installed, else lexical; e5-small: fail without it"


def add_assist_commands(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``suggest`` and ``eval suggestions`` to the ``agent-assist`` sub-commands."""
    suggest = subparsers.add_parser("suggest", parents=[common_parent], help="ranked approved replies for a turn")
    suggest.add_argument("--text", help="what the customer just said (default: the last customer turn of --call)")
    suggest.add_argument("--call", metavar="FILE", help="a call in the corpus format: its sector, its turns")
    suggest.add_argument("--segment", type=int, help="with --call: the customer segment to answer (0-based)")
    suggest.add_argument("--verdict", choices=VERDICTS, help="the live consent verdict (default: no filter)")
    suggest.add_argument("--sector", choices=SECTORS, help="the call's sector (default: the call's, else general)")
    suggest.add_argument("--limit", type=int, default=3, help="how many suggestions (default 3)")
    suggest.add_argument("--playbook", metavar="FILE", help="another playbook (default: the shipped one)")
    suggest.set_defaults(handler=cmd_suggest)

    evaluation = subparsers.add_parser("eval", help="score the assistant on labelled calls")
    kinds = evaluation.add_subparsers(dest="eval_command", required=True, parser_class=type(evaluation))
    suggestions = kinds.add_parser("suggestions", parents=[common_parent], help="suggestion accuracy on DIR")
    suggestions.add_argument("dir", help="a folder of calls in the corpus format (*.json)")
    suggestions.add_argument("--verdict", choices=VERDICTS, help="replay every call under this verdict")
    suggestions.add_argument("--playbook", metavar="FILE", help="another playbook (default: the shipped one)")
    suggestions.set_defaults(handler=cmd_eval_suggestions)

    summaries = kinds.add_parser("summaries", parents=[common_parent], help="summary accuracy on DIR")
    summaries.add_argument("dir", help="a folder of calls in the corpus format (*.json)")
    summaries.add_argument("--classifier", choices=CLASSIFIERS, default="auto", help=CLASSIFIER_HELP)
    summaries.add_argument("--prototypes", metavar="FILE", help="other prototype phrases (default: the shipped ones)")
    summaries.set_defaults(handler=cmd_eval_summaries)

    summarize = subparsers.add_parser("summarize", parents=[common_parent], help="the summary JSON of a call file")
    summarize.add_argument("file", metavar="FILE.json", help="a call in the corpus format")
    summarize.add_argument("--classifier", choices=CLASSIFIERS, default="auto", help=CLASSIFIER_HELP)
    summarize.add_argument("--prototypes", metavar="FILE", help="other prototype phrases (default: the shipped ones)")
    summarize.add_argument(
        "--generator",
        choices=("none", "local", "openai"),
        help="prose fields written by a generator, facts checked against the transcript (default: [assist] settings)",
    )
    summarize.add_argument("--generator-model", metavar="NAME", help="the generator's model (default: settings)")
    summarize.add_argument("--openai-url", metavar="URL", help="an OpenAI-compatible server (default: settings)")
    summarize.set_defaults(handler=cmd_summarize)


def build_retriever(ctx: Context, playbook_path: str | None = None) -> Retriever:
    """The retriever over the playbook with the installed embedder, situations cached under ``<data dir>/cache``."""
    from desktop.cli_models import _root
    from desktop.core.assist.embedder import Embedder
    from desktop.core.assist.playbook import load_playbook
    from desktop.core.assist.retrieval import Retriever

    playbook = load_playbook(Path(playbook_path) if playbook_path else None)
    embedder = Embedder.installed(_root(ctx))
    return Retriever(playbook, embedder.embed, model_fingerprint=embedder.fingerprint, cache_dir=ctx.data_dir / "cache")


def _detector(ctx: Context) -> Any:
    from desktop.core.assist.phrases import PhraseDetector

    phrases = ctx.policy().data.phrases
    return PhraseDetector({kind: getattr(phrases, kind) for kind in DETECTED_KINDS})


def _read_call(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"--call: {path}: not a readable JSON call ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise InputError(f"--call: {path}: segments: missing")
    return data


def cmd_suggest(ctx: Context) -> int:
    from desktop.core.assist.redact import redact

    args = ctx.args
    sector = args.sector
    text = args.text
    if args.limit < 1:
        raise InputError("--limit: at least 1")
    if args.segment is not None and args.call is None:
        raise InputError("--segment: needs --call")
    if args.call:
        call = _read_call(args.call)
        sector = sector or (call.get("call") or {}).get("sector")
        segments = call["segments"]
        customer = [i for i, s in enumerate(segments) if isinstance(s, dict) and s.get("speaker") == "customer"]
        if args.segment is not None:
            if args.segment not in customer:
                raise InputError(f"--segment: {args.segment} is not a customer segment of {args.call}")
            text = text or segments[args.segment]["text"]
        elif text is None and customer:
            text = segments[customer[-1]]["text"]
    if text is None or not text.strip():
        raise InputError("suggest: give --text, or --call FILE with a customer turn")
    text = redact(text, ctx.policy().data.redaction.patterns).text
    kinds = tuple(detection.kind for detection in _detector(ctx).detect(text))
    retriever = build_retriever(ctx, args.playbook)
    found = retriever.suggest(text, verdict=args.verdict, sector=sector, detections=kinds, limit=args.limit)
    payload = {"suggestions": [s.to_json() for s in found]}
    human = "\n".join(f"{s.score:.3f}  {s.category:<22} {s.source}\n       {s.text}" for s in found)
    ctx.emit(payload, human or "no suggestion")
    return 0


def cmd_eval_suggestions(ctx: Context) -> int:
    from desktop.core.assist.eval_suggestions import evaluate

    args = ctx.args
    directory = Path(args.dir).expanduser()
    retriever = build_retriever(ctx, args.playbook)
    report = evaluate(
        directory, retriever, _detector(ctx), patterns=ctx.policy().data.redaction.patterns, verdict=args.verdict
    )
    ctx.emit(report.to_json(), report.to_text())
    return 0


def build_classifier(ctx: Context, choice: str = "auto", prototypes_path: str | None = None) -> Classifier:
    """The summary classifier: e5-small where installed (``auto``), required (``e5-small``), or lexical."""
    from desktop.cli_models import _root
    from desktop.core.assist.embedder import Embedder
    from desktop.core.assist.summarize import Classifier, load_prototypes
    from desktop.core.errors import NotFoundError

    prototypes = load_prototypes(Path(prototypes_path) if prototypes_path else None)
    if choice == "lexical":
        return Classifier(prototypes)
    try:
        embedder = Embedder.installed(_root(ctx))
    except NotFoundError:
        if choice == "e5-small":
            raise
        return Classifier(prototypes)
    return Classifier(prototypes, embedder.embed, name="e5-small")


def _summary_detector(ctx: Context) -> Any:
    from desktop.core.assist.phrases import PhraseDetector
    from desktop.core.assist.summarize import DETECTION_KINDS

    phrases = ctx.policy().data.phrases
    return PhraseDetector({kind: getattr(phrases, kind) for kind in DETECTION_KINDS})


def cmd_summarize(ctx: Context) -> int:
    from desktop.core.assist.eval_summaries import summarize_file

    args = ctx.args
    path = Path(args.file).expanduser()
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    classifier = build_classifier(ctx, args.classifier, args.prototypes)
    body = summarize_file(
        path,
        classifier,
        _summary_detector(ctx),
        patterns=ctx.policy().data.redaction.patterns,
        prose=_prose_writer(ctx),
    )
    ctx.emit(body, _summary_text(body))
    return 0


def _prose_writer(ctx: Context) -> Any:
    """The generator's prose writer when ``--generator`` or ``[assist] generator`` names one, else None."""
    args, assist = ctx.args, ctx.settings.assist
    kind = args.generator or assist.generator
    if kind == "none":
        return None
    from desktop.core.assist.generator import ModelProseWriter, make_generator
    from desktop.core.models import models_root

    generator = make_generator(
        kind,
        model=args.generator_model or assist.generator_model,
        url=args.openai_url or assist.openai_url,
        models_root=models_root(ctx.data_dir, ctx.settings.models_dir),
    )
    return None if generator is None else ModelProseWriter(generator)


def _summary_text(body: dict[str, Any]) -> str:
    entities = body["entities"]
    lines = [
        f"motif : {body['reason']}",
        f"issue : {body['disposition']} ({body['resolution']})",
        *(f"action : {action}" for action in body["actions"]),
        *(f"suite ({s['owner']}, {s['due'] or 'sans date'}) : {s['action']}" for s in body["next_steps"]),
        *(f"consentement : {e['kind']} (segment {e['segment']})" for e in body["consent_events"]),
        f"montants : {', '.join(f'{a:g} €' for a in entities['amounts_eur']) or '-'}",
        f"dates : {', '.join(entities['dates']) or '-'} ; heures : {', '.join(entities['times']) or '-'}",
        f"références : {', '.join(entities['references']) or '-'}",
        "annonce d'ouverture : "
        + ", ".join(f"{k}={'oui' if v else 'non'}" for k, v in body["opening_disclosure"].items()),
    ]
    return "\n".join(lines)


def cmd_eval_summaries(ctx: Context) -> int:
    from desktop.core.assist.eval_summaries import evaluate

    args = ctx.args
    directory = Path(args.dir).expanduser()
    classifier = build_classifier(ctx, args.classifier, args.prototypes)
    report = evaluate(directory, classifier, _summary_detector(ctx), patterns=ctx.policy().data.redaction.patterns)
    ctx.emit(report.to_json(), report.to_text())
    return 0
