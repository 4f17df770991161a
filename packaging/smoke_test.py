"""Smoke test of a frozen (or installed) Agent Assist: ``python packaging/smoke_test.py [EXECUTABLE] [--expect-models]``.

EXECUTABLE defaults to ``dist/agent-assist/agent-assist`` (``.exe`` on Windows); give ``/usr/bin/agent-assist``
to test an installed Debian package. Every run happens headless (``QT_QPA_PLATFORM=offscreen``) in a temporary
data, log and home folder, so the station's own files are never touched. It checks, in order:

1. ``agent-assist --version`` names the release and the build id stamped in the build's ``build_info.json``;
2. ``agent-assist run --smoke-test``: exit 0, and the JSON log holds every initialisation stage (starting,
   store_opened, policy_loaded, playbook_loaded, window_shown, source_api, stopped with rc=0); with
   ``--expect-models`` the bundled speech model must be found and loaded (source_transcription);
3. as root (CI, the package test) and without bundled models, ``run --smoke-test`` again as the user ``nobody``
   with the build's own machine-wide models folder, which that user cannot write (an agent's session);
4. ``agent-assist run --demo --smoke-test``: one demo call through the whole pipeline (verdict, summary saved);
5. ``agent-assist consent evaluate`` on a sample case: the expected verdict and reason;
6. ``agent-assist event ring`` with no app running: the hook command answers "not running" (exit 5) at once;
7. ``agent-assist doctor --json`` runs its checks and prints its report (exit 0 fit, or 3 unfit: no softphone).

The machine policy is left out (``AGENT_ASSIST_POLICY`` set to the null device): this tests the build, not the
station's configuration, which ``agent-assist doctor`` checks.

Any fatal marker in an output or the log (a missing module, a missing Qt platform plugin, a traceback, a missing
data file, an ERROR record, a crash log) fails the test. Exit 0 and one line "smoke test passed ..." when all is
well; else exit 1 and one line "smoke test failed: <reason>". ``--verbose`` prints each step's output too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EXECUTABLE = (
    ROOT / "dist" / "agent-assist" / ("agent-assist.exe" if sys.platform == "win32" else "agent-assist")
)

#: What must never appear in an output or the log of a healthy build.
FATAL_MARKERS = (
    "ModuleNotFoundError",
    "ImportError",
    "No module named",
    "Could not find the Qt platform plugin",
    "Could not load the Qt platform plugin",
    "This application failed to start because no Qt platform plugin",
    "Traceback (most recent call last)",
    "FileNotFoundError",
    "No such file or directory",
    "Fatal Python error",
    "internal error:",
    "Failed to execute script",
)
STAGES = ("starting", "store_opened", "policy_loaded", "playbook_loaded", "window_shown", "source_api", "stopped")
DEMO_STAGES = (
    "starting", "store_opened", "policy_loaded", "playbook_loaded", "demo_data_loaded", "window_shown",
    "call_started", "verdict_shown", "summary_saved", "stopped",
)  # fmt: skip
EXIT_NOT_RUNNING = 5
#: doctor's exit codes when it ran: 0 fit, 3 unfit (a fresh temporary station has no softphone running).
DOCTOR_RAN = (0, 3)

#: A worked case of the consent engine (tests/data/consent/C01.json): a valid web consent, allowed.
SAMPLE_CASE = {
    "facts": {
        "call": {
            "number": "+33639980001", "direction": "outbound", "at": "2026-11-24T10:30:00+01:00",
            "purpose": "prospection", "product": "electricity", "sector": None,
            "professional": "ACME Énergie SAS", "caller_id": "+33162000001", "line_type": "consumer",
            "consumer_timezone": "Europe/Paris",
        },
        "consents": [
            {
                "professional": "ACME Énergie SAS", "products": ["electricity", "gas"],
                "collected_at": "2026-09-01T15:02:00+02:00", "method": "web_form", "affirmative_act": True,
                "pre_ticked": False, "evidence_ref": "webform-2026-09-01-8812",
                "text_shown": "J'accepte d'être appelé par ACME Énergie SAS pour ses offres d'électricité et de gaz.",
                "collected_during_unlawful_call": False, "out_of_hours_slots": [], "out_of_hours_any": False,
                "revoked_at": None,
            }
        ],
        "contracts": [],
        "attempts": [],
    }
}  # fmt: skip
SAMPLE_EXPECT = ("allowed", "VALID_CONSENT")


class SmokeFailure(Exception):
    """One line saying what is wrong with the build."""


@dataclass(frozen=True)
class Ran:
    """One command's outcome."""

    args: tuple[str, ...]
    rc: int
    output: str
    seconds: float


def build_info_of(executable: Path) -> dict[str, object]:
    """The ``build_info.json`` of the build that ``executable`` belongs to (links followed, e.g. /usr/bin)."""
    folder = executable.resolve().parent
    for candidate in (folder / "_internal" / "build_info.json", folder / "build_info.json"):
        if candidate.is_file():
            data = json.loads(candidate.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
    raise SmokeFailure(f"no build_info.json beside {executable.resolve()}: not a build of packaging/build.py")


def isolated_env(base: Path, *, models: Path | None) -> dict[str, str]:
    """The environment of every run: offscreen, and every folder the app writes to under ``base``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AGENT_ASSIST_", "QT_"))}
    for name in ("home", "config", "cache", "state", "log", "runtime"):
        (base / name).mkdir(parents=True, exist_ok=True)
    (base / "runtime").chmod(0o700)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(base / "home"),
        XDG_CONFIG_HOME=str(base / "config"),
        XDG_CACHE_HOME=str(base / "cache"),
        XDG_STATE_HOME=str(base / "state"),
        XDG_RUNTIME_DIR=str(base / "runtime"),
        AGENT_ASSIST_LOG_DIR=str(base / "log"),
        AGENT_ASSIST_POLICY=os.devnull,  # the build is tested, not this machine's policy (doctor checks that)
        PYTHONDONTWRITEBYTECODE="1",
    )
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)  # the frozen app must not lean on the developer's Python or screen
    if models is not None:
        env["AGENT_ASSIST_MODELS"] = str(models)
    return env


def run(executable: Path, args: Sequence[str], env: dict[str, str], timeout: float, stdin: str | None = None) -> Ran:
    started = time.monotonic()
    try:
        done = subprocess.run(
            [str(executable), *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SmokeFailure(f"`agent-assist {' '.join(args)}` did not finish within {timeout:.0f} s") from None
    except OSError as error:
        raise SmokeFailure(f"cannot start {executable}: {error}") from None
    return Ran(tuple(args), done.returncode, done.stdout + done.stderr, time.monotonic() - started)


def check_markers(where: str, text: str) -> None:
    for marker in FATAL_MARKERS:
        if marker in text:
            line = next(line for line in text.splitlines() if marker in line)
            raise SmokeFailure(f"{where}: {line.strip()[:300]}")


def read_log(log_dir: Path) -> list[dict[str, object]]:
    """The JSON lines of ``agent-assist.log`` in ``log_dir`` (fails on a line that is not JSON)."""
    path = log_dir / "agent-assist.log"
    if not path.is_file():
        raise SmokeFailure(f"no log written at {path}")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            raise SmokeFailure(f"{path}:{number}: not a JSON line: {line[:200]}") from None
    return records


def check_run_log(what: str, log_dir: Path, expected: Sequence[str]) -> list[dict[str, object]]:
    """Every expected stage present (in order), no ERROR record, no fatal marker, no crash log, stopped rc=0."""
    records = read_log(log_dir)
    for record in records:
        if record.get("level") in ("ERROR", "CRITICAL"):
            raise SmokeFailure(f"{what}: {record.get('level')} {record.get('logger')}: {str(record.get('msg'))[:300]}")
        check_markers(f"{what} log", json.dumps(record, ensure_ascii=False))
    stages = [str(record["stage"]) for record in records if "stage" in record]
    position = 0
    for stage in expected:
        try:
            position = stages.index(stage, position) + 1
        except ValueError:
            raise SmokeFailure(f"{what}: stage {stage!r} missing from the log (stages seen: {stages})") from None
    stopped = [record for record in records if record.get("stage") == "stopped"]
    fields = stopped[-1].get("fields") if stopped else None
    if not isinstance(fields, dict) or fields.get("rc") != 0:
        raise SmokeFailure(f"{what}: the app did not stop with rc=0 ({fields})")
    crash = log_dir / "crash.log"
    if crash.is_file() and crash.read_text(encoding="utf-8", errors="replace").strip():
        first = crash.read_text(encoding="utf-8", errors="replace").strip().splitlines()[0]
        raise SmokeFailure(f"{what}: crash log written: {first[:300]}")
    return records


def smoke_test(executable: Path, *, expect_models: bool, timeout: float, verbose: bool) -> str:
    """Run every check on ``executable``; returns the success line, raises :class:`SmokeFailure`."""
    if not executable.exists():
        raise SmokeFailure(f"{executable} does not exist: build it with `python packaging/build.py`")
    info = build_info_of(executable)
    timings = []
    with tempfile.TemporaryDirectory(prefix="agent-assist-smoke-") as temp:
        base = Path(temp)
        env = isolated_env(base, models=None if expect_models else base / "models")

        def step(label: str, args: Sequence[str], stdin: str | None = None) -> Ran:
            ran = run(executable, args, env, timeout, stdin)
            if verbose:
                print(f"--- {label}: exit {ran.rc} in {ran.seconds:.2f} s\n{ran.output}", file=sys.stderr)
            check_markers(label, ran.output)
            timings.append(f"{label} {ran.seconds:.1f}s")
            return ran

        version = step("--version", ["--version"])
        expected = f"agent-assist {info['version']}+{info['build_id']}"
        if version.rc != 0 or version.output.strip() != expected:
            raise SmokeFailure(f"--version printed {version.output.strip()!r} (exit {version.rc}), not {expected!r}")

        log_dir = base / "log"
        ran = step("run --smoke-test", ["run", "--smoke-test", "--data-dir", str(base / "data")])
        if ran.rc != 0:
            raise SmokeFailure(f"run --smoke-test exited {ran.rc}: {_last_line(ran.output)}")
        stages = (*STAGES[:-2], "source_transcription", *STAGES[-2:]) if expect_models else STAGES
        records = check_run_log("run --smoke-test", log_dir, stages)
        if expect_models:
            if any(record.get("stage") == "model_installed" for record in records):
                raise SmokeFailure("run --smoke-test: the model was installed at start instead of found in the build")
            if not any(str(record.get("msg", "")).startswith("speech model ") for record in records):
                raise SmokeFailure("run --smoke-test: the bundled speech model was not loaded")
        elif not any(record.get("stage") == "starting" and _is_version(record, expected) for record in records):
            raise SmokeFailure(f"run --smoke-test: the starting stage does not carry version {expected!r}")

        if hasattr(os, "geteuid") and os.geteuid() == 0 and not expect_models:
            unprivileged_start(executable, base / "user", timeout, verbose)
            timings.append("run --smoke-test as nobody")

        (log_dir / "agent-assist.log").unlink()
        ran = step("run --demo --smoke-test", ["run", "--demo", "--smoke-test", "--data-dir", str(base / "demo")])
        if ran.rc != 0:
            raise SmokeFailure(f"run --demo --smoke-test exited {ran.rc}: {_last_line(ran.output)}")
        records = check_run_log("run --demo --smoke-test", log_dir, DEMO_STAGES)
        if not any(record.get("stage") == "summary_saved" for record in records):
            raise SmokeFailure("run --demo --smoke-test: no summary saved")

        evaluated = step("consent evaluate", ["consent", "evaluate", "-", "--json"], stdin=json.dumps(SAMPLE_CASE))
        try:
            decision = json.loads(evaluated.output)
            got = (decision["verdict"], decision["reasons"][0]["code"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise SmokeFailure(f"consent evaluate printed no decision: {_last_line(evaluated.output)}") from None
        if evaluated.rc != 0 or got != SAMPLE_EXPECT:
            raise SmokeFailure(f"consent evaluate gave {got} (exit {evaluated.rc}), expected {SAMPLE_EXPECT}")

        hook = step(
            "event ring", ["event", "ring", "--number", "+33639980001", "--data-dir", str(base / "nobody-home")]
        )
        if hook.rc != EXIT_NOT_RUNNING:
            raise SmokeFailure(f"event ring with no app running exited {hook.rc}, expected {EXIT_NOT_RUNNING}")

        doctor = step("doctor", ["doctor", "--json", "--data-dir", str(base / "data")])
        try:
            checks = json.loads(doctor.output)["checks"]
        except (ValueError, KeyError, TypeError):
            raise SmokeFailure(
                f"doctor --json printed no report (exit {doctor.rc}): {_last_line(doctor.output)}"
            ) from None
        if doctor.rc not in DOCTOR_RAN or not checks:
            raise SmokeFailure(f"doctor exited {doctor.rc} with {len(checks)} checks: {_last_line(doctor.output)}")
    return f"smoke test passed: {executable} ({expected}; {', '.join(timings)})"


def unprivileged_start(executable: Path, base: Path, timeout: float, verbose: bool) -> None:
    """``run --smoke-test`` as the user ``nobody`` with the packaged build's own models folder (no override), as an
    agent's session runs it: the machine-wide folder is not writable there, and the app must still start."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise SmokeFailure("setpriv is needed to start the app as an unprivileged user: apt-get install util-linux")
    base.parent.chmod(0o711)  # the temporary folder: nobody may go through it, not list it
    base.mkdir(parents=True)
    base.chmod(0o777)
    env = isolated_env(base, models=None)
    for folder in base.iterdir():
        folder.chmod(0o777 if folder.name != "runtime" else 0o700)
    shutil.chown(base / "runtime", user="nobody")
    command = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", str(executable)]
    args = ["run", "--smoke-test", "--data-dir", str(base / "data")]
    try:
        done = subprocess.run(
            [*command, *args], env=env, capture_output=True, text=True, errors="replace", timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise SmokeFailure(f"run --smoke-test as nobody did not finish within {timeout:.0f} s") from None
    output = done.stdout + done.stderr
    if verbose:
        print(f"--- run --smoke-test as nobody: exit {done.returncode}\n{output}", file=sys.stderr)
    check_markers("run --smoke-test as nobody", output)
    if "PermissionError" in output or done.returncode != 0:
        raise SmokeFailure(f"run --smoke-test as nobody exited {done.returncode}: {_last_line(output)}")
    check_run_log("run --smoke-test as nobody", base / "log", STAGES)


def _is_version(record: dict[str, object], expected: str) -> bool:
    fields = record.get("fields")
    return isinstance(fields, dict) and f"agent-assist {fields.get('version')}" == expected


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/smoke_test.py", description="Smoke test of a frozen build.")
    parser.add_argument("executable", nargs="?", default=str(DEFAULT_EXECUTABLE), help="the agent-assist to test")
    parser.add_argument("--expect-models", action="store_true", help="the build bundles the speech model")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed for each command")
    parser.add_argument("--verbose", action="store_true", help="print every command's output")
    args = parser.parse_args(argv)
    try:
        print(smoke_test(Path(args.executable), expect_models=args.expect_models, timeout=args.timeout,
                         verbose=args.verbose))  # fmt: skip
    except SmokeFailure as failure:
        print(f"smoke test failed: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
