"""Install and run Tryton 8.2 with the ``agent_assist`` module: the project's real CRM for tests, benchmarks and
developers.

Command line (run from the repository root)::

    python -m integrations.tryton.server install [--home DIR] [--json]
    python -m integrations.tryton.server start   [--home DIR] [--port N] [--database NAME] [--fresh] [--json]
    python -m integrations.tryton.server status  [--home DIR] [--database NAME] [--json]
    python -m integrations.tryton.server stop    [--home DIR] [--database NAME]

``start`` prints ``{"url", "database", "endpoint", "key", "pid", "log", "port"}``: set ``[crm] connector = "tryton"``,
``endpoint = <endpoint>`` and store ``key`` in the keyring to point a station at it.

Python API (tests, benchmarks)::

    from integrations.tryton.server import TrytonServer, start_tryton

    with TrytonServer(database="bench_drain", fresh=True) as tryton:  # installs first if needed
        connector = TrytonConnector(tryton.endpoint, tryton.key)
        ...
    handle = start_tryton(port=0, database="mine", fresh=True)  # -> TrytonHandle; handle.stop() when done

What it does, every step bounded in time (a failure raises :class:`TrytonError` naming the step, with the end of
trytond's log):

- ``install``: a virtualenv under ``<home>/venv`` with pinned ``trytond==8.2.1 trytond-party==8.2.0
  trytond-country==8.2.0`` and ``integrations/tryton/trytond_agent_assist``; reused as long as the pins, the
  module's files and the Python are unchanged (a changed module is reinstalled alone). Then a template SQLite
  database with ``ir res country party agent_assist`` activated (``trytond-admin --all -u party agent_assist
  --activate-dependencies``, admin password ``admin``), rebuilt only when the module changed.
- ``start``: copies the template to ``<home>/db/<database>.sqlite`` when the database is missing (or always with
  ``fresh``), brings an existing database up to the installed module, starts ``trytond -c <conf> -d <database>`` on
  127.0.0.1 only (port 0 picks a free one), waits until it answers, and gets the admin's REST key through JSON-RPC
  (``res.user.application``, created once per database). One server per (home, database); its state is in
  ``<home>/run/<database>/server.json`` and its log in ``<home>/run/<database>/trytond.log``.
- ``stop``: stops only the server that ``start`` recorded (pid checked against its command line).

``<home>`` is ``--home``, else ``$AGENT_ASSIST_TRYTON_HOME``, else ``<repo>/.cache/tryton``. The admin password and
the REST key are for this local, loopback-only server; a real Tryton's key belongs in the OS keyring.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PINS = ("trytond==8.2.1", "trytond-party==8.2.0", "trytond-country==8.2.0")
MODULE_SRC = Path(__file__).resolve().parent / "trytond_agent_assist"
REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE = "agent_assist"
ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "admin"  # local loopback server only

PIP_TIMEOUT_S = 600.0
ADMIN_TIMEOUT_S = 300.0
LOCK_TIMEOUT_S = 900.0
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
HTTP_TIMEOUT_S = 10.0
_DB_NAME = re.compile(r"[A-Za-z0-9_]{1,63}")


class TrytonError(RuntimeError):
    """A step of install/start/stop failed; ``str()`` is one line naming the step, then the log's end if any."""


@dataclasses.dataclass(frozen=True)
class InstallResult:
    home: Path
    venv_reused: bool
    template_reused: bool
    seconds: float


@dataclasses.dataclass
class TrytonHandle:
    """A running trytond. ``endpoint`` is what ``[crm] endpoint`` takes; ``key`` is the admin's REST key."""

    url: str
    database: str
    key: str
    pid: int
    log: Path
    port: int
    home: Path
    _process: subprocess.Popen[bytes] | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def endpoint(self) -> str:
        return f"{self.url}/{self.database}"

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "database": self.database,
            "endpoint": self.endpoint,
            "key": self.key,
            "pid": self.pid,
            "log": str(self.log),
            "port": self.port,
        }

    def stop(self) -> None:
        """Stop this server (bounded: SIGTERM, then SIGKILL) and forget its state; idempotent."""
        _terminate(self.pid, self._process)
        with contextlib.suppress(FileNotFoundError):
            _state_file(self.home, self.database).unlink()


def default_home() -> Path:
    env = os.environ.get("AGENT_ASSIST_TRYTON_HOME")
    return Path(env).expanduser().resolve() if env else REPO / ".cache" / "tryton"


# ---------------------------------------------------------------------------------------------------- install


def install(home: Path | None = None) -> InstallResult:
    """Make ``<home>`` ready to start servers: the venv and the template database (each reused when current)."""
    home = (home or default_home()).resolve()
    home.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with _locked(home / "install.lock", "install"):
        venv_reused = _ensure_venv(home)
        template_reused = _ensure_template(home)
    return InstallResult(home, venv_reused, template_reused, time.monotonic() - started)


def module_hash() -> str:
    """A digest of the module's source files: a change means reinstall it and update the databases."""
    digest = hashlib.sha256()
    for path in sorted(MODULE_SRC.rglob("*")):
        if path.is_file() and not _ignored(path.relative_to(MODULE_SRC)):
            digest.update(str(path.relative_to(MODULE_SRC)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _ignored(relative: Path) -> bool:
    return any(part in {"__pycache__", "build"} or part.endswith(".egg-info") for part in relative.parts)


def _venv_bin(home: Path, name: str) -> Path:
    return home / "venv" / "bin" / name


def _ensure_venv(home: Path) -> bool:
    venv = home / "venv"
    marker = venv / "agent-assist-install.json"
    wanted = {"pins": list(PINS), "python": sys.version.split()[0], "module": module_hash()}
    current = _read_json(marker)
    python_ok = _venv_bin(home, "python").exists()
    if current == wanted and python_ok:
        return True
    if current is not None and python_ok and {**current, "module": wanted["module"]} == wanted:
        _pip(home, "--no-deps", "--force-reinstall", str(_module_copy(home)), step="install: module")
    else:
        shutil.rmtree(venv, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(venv)], step="install: venv", timeout=120.0)
        _pip(home, *PINS, str(_module_copy(home)), step="install: pip")
    marker.write_text(json.dumps(wanted))
    return False


def _module_copy(home: Path) -> Path:
    # pip builds in the source folder: build from a copy so that the repository stays clean.
    target = home / "src" / "trytond_agent_assist"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(MODULE_SRC, target, ignore=lambda _d, names: [n for n in names if _ignored(Path(n))])
    return target


def _pip(home: Path, *args: str, step: str) -> None:
    command = [str(_venv_bin(home, "python")), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args]
    _run(command, step=step, timeout=PIP_TIMEOUT_S)


def _ensure_template(home: Path) -> bool:
    template = home / "template"
    marker = template / "template.json"
    wanted = {"pins": list(PINS), "module": module_hash()}
    if _read_json(marker) == wanted and (template / "template.sqlite").exists():
        return True
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir(parents=True)
    (template / "template.sqlite").touch()
    conf = _write_conf(template / "trytond.conf", template, port=None)
    _admin(
        home,
        conf,
        "template",
        "--all",
        "-u",
        "party",
        "agent_assist",
        "--activate-dependencies",
        "--email",
        "admin@example.test",
        step="install",
    )
    marker.write_text(json.dumps(wanted))
    return False


def _admin(home: Path, conf: Path, database: str, *args: str, step: str) -> None:
    passfile = home / "adminpass"
    passfile.write_text(ADMIN_PASSWORD + "\n")
    env = {**os.environ, "TRYTONPASSFILE": str(passfile)}
    command = [str(_venv_bin(home, "trytond-admin")), "-c", str(conf), "-d", database, *args]
    _run(command, step=f"{step}: trytond-admin", timeout=ADMIN_TIMEOUT_S, env=env)


def _write_conf(path: Path, db_dir: Path, port: int | None) -> Path:
    lines = ["[database]", "uri = sqlite://", f"path = {db_dir}"]
    if port is not None:
        lines += ["[web]", f"listen = 127.0.0.1:{port}"]
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------------------------------------------ start


def start_tryton(
    home: Path | None = None,
    port: int = 0,
    database: str = DEFAULT_DATABASE,
    *,
    fresh: bool = False,
    ready_timeout_s: float = READY_TIMEOUT_S,
) -> TrytonHandle:
    """Install if needed, then start trytond for ``database`` on 127.0.0.1:``port`` (0 = a free port) and wait until
    it answers REST with its key. ``fresh`` starts from an empty database (the template). TrytonError if a server
    for this database is already running (see :func:`status`) or on any failed step."""
    if not _DB_NAME.fullmatch(database):
        raise TrytonError(f"start: database name {database!r} must be 1-63 letters, digits or underscores")
    home = (home or default_home()).resolve()
    install(home)
    running = status(home, database)
    if running is not None:
        raise TrytonError(f"start: a server for database {database!r} already runs (pid {running['pid']}); stop it")
    _prepare_database(home, database, fresh=fresh)
    port = port or _free_port()
    run_dir = home / "run" / database
    run_dir.mkdir(parents=True, exist_ok=True)
    conf = _write_conf(run_dir / "trytond.conf", home / "db", port)
    log = run_dir / "trytond.log"
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            [str(_venv_bin(home, "trytond")), "-c", str(conf), "-d", database],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # `start` from the CLI returns while the server keeps running
        )
    url = f"http://127.0.0.1:{port}"
    handle = TrytonHandle(url, database, "", process.pid, log, port, home, process)
    try:
        _wait_ready(url, process, log, ready_timeout_s)
        handle.key = _rest_key(url, database, log)
        _check_rest(handle)
    except BaseException:
        _terminate(process.pid, process)
        raise
    _state_file(home, database).write_text(json.dumps(handle.as_json()))
    return handle


class TrytonServer(contextlib.AbstractContextManager["TrytonHandle"]):
    """``with TrytonServer(...) as tryton:`` starts a server (arguments as :func:`start_tryton`) and stops it at the
    end."""

    def __init__(
        self, home: Path | None = None, port: int = 0, database: str = DEFAULT_DATABASE, *, fresh: bool = False
    ):
        self._args = (home, port, database)
        self._fresh = fresh
        self.handle: TrytonHandle | None = None

    def __enter__(self) -> TrytonHandle:
        self.handle = start_tryton(*self._args, fresh=self._fresh)
        return self.handle

    def __exit__(self, *_exc: object) -> None:
        if self.handle is not None:
            self.handle.stop()


def drop_database(home: Path | None, database: str) -> None:
    """Delete a stopped server's database file (tests and benches clean up what they created)."""
    home = (home or default_home()).resolve()
    if status(home, database) is not None:
        raise TrytonError(f"drop: the server for database {database!r} still runs")
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            (home / "db" / f"{database}.sqlite{suffix}").unlink()
    (home / "db" / f"{database}.json").unlink(missing_ok=True)
    shutil.rmtree(home / "run" / database, ignore_errors=True)


def _prepare_database(home: Path, database: str, *, fresh: bool) -> None:
    db_dir = home / "db"
    db_dir.mkdir(parents=True, exist_ok=True)
    target = db_dir / f"{database}.sqlite"
    marker = db_dir / f"{database}.json"
    current = {"module": module_hash()}
    if fresh or not target.exists():
        for suffix in ("-journal", "-wal", "-shm"):
            (db_dir / f"{database}.sqlite{suffix}").unlink(missing_ok=True)
        shutil.copyfile(home / "template" / "template.sqlite", target)
    elif _read_json(marker) != current:
        conf = _write_conf(home / "run" / "update.conf", db_dir, port=None)
        _admin(home, conf, database, "-u", "agent_assist", "--activate-dependencies", step="start: update database")
    marker.write_text(json.dumps(current))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TrytonError(f"start: trytond exited with code {process.returncode}{_log_tail(log)}")
        try:
            _rpc(f"{url}/rpc/", "common.server.version", [], timeout=2.0)
            return
        except (OSError, TrytonError) as error:
            last = str(error)
        time.sleep(0.1)
    raise TrytonError(f"start: trytond did not answer within {timeout_s:.0f} s ({last}){_log_tail(log)}")


def _rest_key(url: str, database: str, log: Path) -> str:
    """The admin's validated REST key of this database, created the first time."""
    rpc = f"{url}/{database}/rpc/"
    try:
        login = _rpc(rpc, "common.db.login", [ADMIN_LOGIN, {"password": ADMIN_PASSWORD}])
        user_id, token = login[0], login[1]
        session = base64.b64encode(f"{ADMIN_LOGIN}:{user_id}:{token}".encode()).decode()
        headers = {"Authorization": f"Session {session}"}
        domain = [["user", "=", user_id], ["application", "=", "rest"], ["state", "=", "validated"]]
        ids = _rpc(rpc, "model.res.user.application.search", [domain, 0, 1, None, {}], headers=headers)
        if not ids:
            ids = _rpc(
                rpc,
                "model.res.user.application.create",
                [[{"user": user_id, "application": "rest"}], {}],
                headers=headers,
            )
        rows = _rpc(rpc, "model.res.user.application.read", [ids[:1], ["key"], {}], headers=headers)
        key: str = rows[0]["key"]
    except (OSError, TrytonError, LookupError, TypeError) as error:
        raise TrytonError(f"start: REST key: {error}{_log_tail(log)}") from error
    return key


def _check_rest(handle: TrytonHandle) -> None:
    request = urllib.request.Request(
        f"{handle.endpoint}/rest/model/agent_assist.call?s=1", headers={"Authorization": f"Bearer {handle.key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            response.read()
    except (OSError, urllib.error.HTTPError) as error:
        raise TrytonError(f"start: REST check of agent_assist.call: {error}{_log_tail(handle.log)}") from error


def _rpc(
    url: str, method: str, params: list[Any], *, headers: dict[str, str] | None = None, timeout: float = HTTP_TIMEOUT_S
) -> Any:
    body = json.dumps({"id": 0, "method": method, "params": params}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if answer.get("error"):
        raise TrytonError(f"{method}: {str(answer['error'])[:300]}")
    return answer["result"]


# ------------------------------------------------------------------------------------------------ stop, status


def status(home: Path | None = None, database: str = DEFAULT_DATABASE) -> dict[str, Any] | None:
    """The recorded server of ``database`` if it still runs (its ``start`` JSON), else None (stale state removed)."""
    home = (home or default_home()).resolve()
    state_file = _state_file(home, database)
    state = _read_json(state_file)
    if state is None:
        return None
    if not _is_our_trytond(int(state["pid"]), home):
        state_file.unlink(missing_ok=True)
        return None
    return state


def stop(home: Path | None = None, database: str = DEFAULT_DATABASE) -> bool:
    """Stop the server that ``start`` recorded for ``database``; False if none ran."""
    home = (home or default_home()).resolve()
    state = status(home, database)
    if state is None:
        return False
    _terminate(int(state["pid"]), None)
    _state_file(home, database).unlink(missing_ok=True)
    return True


def _state_file(home: Path, database: str) -> Path:
    return home / "run" / database / "server.json"


def _is_our_trytond(pid: int, home: Path) -> bool:
    # The pid may have been reused since: only a trytond run from this home's venv counts.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(_venv_bin(home, "trytond")).encode() in cmdline


def _terminate(pid: int, process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if _exited(pid, process):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if process is not None:
        process.wait(timeout=STOP_TIMEOUT_S)


def _exited(pid: int, process: subprocess.Popen[bytes] | None) -> bool:
    if process is not None:
        return process.poll() is not None
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


# ---------------------------------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _locked(path: Path, step: str) -> Iterator[None]:
    """An exclusive lock between processes sharing a home (two test sessions installing at once)."""
    with path.open("a") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TrytonError(f"{step}: {path} still locked after {LOCK_TIMEOUT_S:.0f} s") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], *, step: str, timeout: float, env: dict[str, str] | None = None) -> None:
    try:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        raise TrytonError(f"{step}: no result within {timeout:.0f} s: {' '.join(command[:4])}") from None
    except OSError as error:
        raise TrytonError(f"{step}: {error}") from error
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise TrytonError(f"{step}: exit code {result.returncode}\n{tail}")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _log_tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return "\n--- end of " + str(log) + " ---\n" + "\n".join(text) if text else ""


# -------------------------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m integrations.tryton.server", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["install", "start", "stop", "status"])
    parser.add_argument("--home", type=Path, default=None, help="default: $AGENT_ASSIST_TRYTON_HOME or .cache/tryton")
    parser.add_argument("--port", type=int, default=0, help="start: port on 127.0.0.1 (0 = a free one)")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help=f"default: {DEFAULT_DATABASE}")
    parser.add_argument("--fresh", action="store_true", help="start: from an empty database")
    parser.add_argument("--json", action="store_true", help="print JSON")
    options = parser.parse_args(argv)
    home = (options.home or default_home()).expanduser().resolve()
    try:
        result = _command(options, home)
    except TrytonError as error:
        print(f"tryton: {error}", file=sys.stderr)
        return 1
    if options.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0 if result.get("ok", True) else 1


def _command(options: argparse.Namespace, home: Path) -> dict[str, Any]:
    if options.command == "install":
        done = install(home)
        return {
            "home": str(done.home),
            "venv_reused": done.venv_reused,
            "template_reused": done.template_reused,
            "seconds": round(done.seconds, 2),
        }
    if options.command == "start":
        running = status(home, options.database)
        if running is not None:
            return {**running, "already_running": True}
        began = time.monotonic()
        handle = start_tryton(home, options.port, options.database, fresh=options.fresh)
        return {**handle.as_json(), "seconds": round(time.monotonic() - began, 2)}
    if options.command == "status":
        running = status(home, options.database)
        return {"ok": running is not None, "running": running is not None, **(running or {})}
    return {"stopped": stop(home, options.database)}


if __name__ == "__main__":
    sys.exit(main())
