"""``agent-assist event ring|dial|answer|hangup|withdraw|object``: hand a softphone's or dialler's event to the
running app.

Softphones such as MicroSIP run a program on call events and wait for it (up to 10 s each), so this command
must return at once: it reads ``event-api.json`` and the token in the data folder, sends one POST to the
app's local event API with ``Prefer: respond-async`` (the app validates the event and queues it), and exits.
Standard library only (plus platformdirs when no data folder is given): it imports neither pydantic nor Qt.

Exit codes: 0 handed over; 2 bad usage; 5 the app is not running (no runtime file, a stale one, connection
refused); 6 the app did not answer within ``--timeout``; 7 the app refused the event (token, bad number…),
or the token file is unsafe. Every failure prints one line on stderr.

Without ``--call-id`` the app pairs events by number: ``answer`` and ``hangup`` go to the open call with that
number, or, without ``--number``, to the station's latest open call.

``withdraw`` and ``object`` (a dialler's "do not call" or "opposition" button) record the customer's withdrawal
of consent, or objection, for the call ``--call-id`` (required) in the app's consent ledger. They wait for the
app's answer (default ``--timeout`` 3 s) so that a call the app does not know, or one without a number, is
reported (exit 7), not lost; the same event twice is recorded once.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from desktop.core.telephony.api_files import UnsafeFileError, read_runtime, read_token, stale

EXIT_OK, EXIT_INPUT, EXIT_NOT_RUNNING, EXIT_TIMEOUT, EXIT_REFUSED = 0, 2, 5, 6, 7
EVENTS = ("ring", "dial", "answer", "hangup")
#: Consent commands → the ``kind`` of ``POST /v1/consent-events``.
CONSENT_EVENTS = {"withdraw": "withdrawal", "object": "objection"}
#: Seconds allowed for the whole exchange with the app (connect, send, answer).
DEFAULT_TIMEOUT_S = 0.15
#: The same for consent events, which wait until the app has recorded them (it waits up to 2 s for its GUI thread).
DEFAULT_CONSENT_TIMEOUT_S = 3.0
PROG = "agent-assist event"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Hand a softphone hook's call event to the running app, at once; or record the customer's"
        " withdrawal of consent (withdraw) or objection (object) in a call.",
    )
    parser.add_argument("event", choices=(*EVENTS, *CONSENT_EVENTS))
    parser.add_argument("--number", help="the other party's number (required for ring and dial)")
    parser.add_argument("--call-id", help="the softphone's call id, when it gives one (required for withdraw, object)")
    parser.add_argument("--product", help="campaign product, when the dialler knows it")
    parser.add_argument("--segment", type=int, help="withdraw, object: the transcript line where it was said")
    parser.add_argument("--data-dir", help="data folder (default: $AGENT_ASSIST_HOME, else the user data folder)")
    parser.add_argument(
        "--timeout",
        type=float,
        help=f"seconds to wait (default {DEFAULT_TIMEOUT_S}; {DEFAULT_CONSENT_TIMEOUT_S:g} for withdraw, object)",
    )
    return parser


def data_dir(explicit: str | None) -> Path:
    """The same folder as ``desktop.paths.data_dir`` (platformdirs imported only when needed)."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get("AGENT_ASSIST_HOME")
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("agent-assist", appauthor=False))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    consent = args.event in CONSENT_EVENTS
    if args.event in ("ring", "dial") and not args.number:
        return _fail(EXIT_INPUT, f"{args.event}: --number is required")
    if consent and not args.call_id:
        return _fail(EXIT_INPUT, f"{args.event}: --call-id is required")
    unused = [f"--{name}" for name in ("number", "product") if consent and getattr(args, name) is not None]
    unused += ["--segment"] if not consent and args.segment is not None else []
    if unused:
        return _fail(EXIT_INPUT, f"{args.event}: {unused[0]} does not apply")
    if args.segment is not None and args.segment < 0:
        return _fail(EXIT_INPUT, "--segment: 0 or more")
    if args.timeout is None:
        args.timeout = DEFAULT_CONSENT_TIMEOUT_S if consent else DEFAULT_TIMEOUT_S
    if not 0 < args.timeout <= 60:
        return _fail(EXIT_INPUT, "--timeout: between 0 and 60 seconds")
    folder = data_dir(args.data_dir)
    runtime = read_runtime(folder)
    if runtime is None:
        return _fail(EXIT_NOT_RUNNING, f"the app is not running (no event API in {folder})")
    why = stale(runtime)
    if why is not None:
        return _fail(EXIT_NOT_RUNNING, f"the app is not running ({why})")
    try:
        token = read_token(folder, runtime)
    except FileNotFoundError:
        return _fail(EXIT_NOT_RUNNING, f"the app is not running (no token in {folder})")
    except UnsafeFileError as error:
        return _fail(EXIT_REFUSED, str(error))
    if consent:
        path, event = "/v1/consent-events", {"call_id": args.call_id, "kind": CONSENT_EVENTS[args.event]}
        if args.segment is not None:
            event["segment"] = args.segment
    else:
        path, event = "/v1/call-events", {"event": args.event}
        for key in ("number", "call_id", "product"):
            value = getattr(args, key)
            if value is not None:
                event[key] = value
    event["source"] = "hook"
    body = json.dumps(event).encode("utf-8")
    return _send(runtime.host, runtime.port, token, body, args.timeout, path=path, respond_async=not consent)


def _send(host: str, port: int, token: str, body: bytes, timeout: float, *, path: str, respond_async: bool) -> int:
    """One POST over a plain socket (http.client would import email and ssl: 20 ms more at every call event)."""
    deadline = time.monotonic() + timeout
    prefer = "Prefer: respond-async\r\n" if respond_async else ""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{prefer}"
        "Connection: close\r\n\r\n"
    ).encode("ascii") + body
    answer = b""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(request)
            while len(answer) < 65536:
                connection.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = connection.recv(8192)
                if not chunk:
                    break
                answer += chunk
    except ConnectionRefusedError:
        return _fail(EXIT_NOT_RUNNING, f"the app is not running (nothing listens on {host}:{port})")
    except TimeoutError:
        return _fail(EXIT_TIMEOUT, f"the app did not answer within {timeout:g} s")
    except OSError as error:
        return _fail(EXIT_NOT_RUNNING, f"the app is not reachable ({error.strerror or error})")
    head, _, payload = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    if 200 <= status < 300:
        return EXIT_OK
    try:
        message = str(json.loads(payload).get("message") or "")
    except (ValueError, AttributeError):
        message = ""
    detail = f"{status}: {message}" if message else str(status or "no valid HTTP answer")
    return _fail(EXIT_REFUSED, f"the app refused the event ({detail})")


def _fail(code: int, message: str) -> int:
    print(f"agent-assist: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
