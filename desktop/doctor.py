"""``agent-assist doctor``'s checks: is this station fit to take calls? Each check is a plain function returning a
:class:`CheckResult` (ok / warning / failed, why, what to do); :func:`run_checks` runs them all.

A check never changes anything: the database is opened read-only, models are re-hashed, the softphone is asked
``listcalls``, the CRM its health. A warning is something to look at that does not stop the station (no CRM
configured, disk getting full, schema to migrate at next start); a failure does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import sqlite3
import stat
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from desktop.core.errors import InputError

if TYPE_CHECKING:
    from desktop.config import Settings
    from desktop.core.models import Manifest, VerifyReport

Status = Literal["ok", "warning", "failed"]
#: Below this much free space the station is unfit (a call's transcript, the WAL and the logs need room).
DISK_FAILED_BYTES = 500 * 1024 * 1024
#: Below this much a warning (recordings grow by about 1 MB a minute of call).
DISK_WARNING_BYTES = 2 * 1024 * 1024 * 1024
#: How long the softphone and the CRM get to answer.
SOFTPHONE_TIMEOUT_S = 3.0
_DOCTOR_TOKEN = "agent-assist-doctor"


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: ``message`` says what was found, ``action`` what to do about it (None when ok)."""

    name: str
    status: Status
    message: str
    action: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "action": self.action,
            "details": self.details,
        }

    def line(self) -> str:
        text = f"{self.status:<8} {self.name}: {self.message}"
        return f"{text} → {self.action}" if self.action else text


def ok(name: str, message: str, **details: Any) -> CheckResult:
    return CheckResult(name, "ok", message, None, details)


def warning(name: str, message: str, action: str, **details: Any) -> CheckResult:
    return CheckResult(name, "warning", message, action, details)


def failed(name: str, message: str, action: str, **details: Any) -> CheckResult:
    return CheckResult(name, "failed", message, action, details)


# -- machine policy and settings --------------------------------------------------------------------------------


def check_policy() -> CheckResult:
    """The machine policy parses and names only real settings (or there is none)."""
    from desktop.machine_policy import load_machine_policy, policy_path

    try:
        machine = load_machine_policy()
    except InputError as error:
        return failed("policy", str(error), "fix the machine policy file (docs/policy.md); the app will not start")
    if not machine.present:
        return ok("policy", f"no machine policy ({policy_path()} absent)", path=None)
    assert machine.path is not None
    mode = stat.S_IMODE(machine.path.stat().st_mode)
    if sys.platform != "win32" and mode & 0o022:
        return warning(
            "policy",
            f"{machine.path} can be changed by other users ({mode:04o}): they could unlock settings",
            f"chmod 644 {machine.path} (owned by root)",
            **machine.to_json(),
        )
    return ok(
        "policy",
        f"{machine.path}: sets {len(machine.values)} keys, locks {len(machine.locked)}",
        **machine.to_json(),
    )


def check_settings(data_dir: Path) -> tuple[CheckResult, Settings | None]:
    """The effective settings load (settings.toml valid under the machine policy); returns them for the others.

    With a malformed machine policy (failed by :func:`check_policy`) the station's own settings are used, so the
    other checks still run."""
    from desktop.config import SETTINGS_FILE, load_settings
    from desktop.machine_policy import NO_POLICY, MalformedPolicyError

    where = data_dir / SETTINGS_FILE
    action = f"fix or remove {where}"
    note = f"{where} valid" if where.exists() else "defaults (no settings.toml)"
    try:
        return ok("settings", note), load_settings(data_dir)
    except MalformedPolicyError:
        try:
            return ok("settings", f"{note}; the machine policy is left out (malformed)"), load_settings(
                data_dir, machine=NO_POLICY
            )
        except InputError as error:
            return failed("settings", str(error), action), None
    except InputError as error:
        return failed("settings", str(error), action), None


def check_retention(settings: Settings) -> CheckResult:
    """The retention periods stay within the CNIL references (6 months for recordings/transcripts, 1 year for
    analysis documents); longer is allowed but flagged."""
    from desktop.core.store.retention import cutoff

    now = dt.datetime.now(dt.UTC)
    retention = settings.retention
    over = []
    if cutoff(now, retention.transcripts) < cutoff(now, "P6M"):
        over.append(f"transcripts {retention.transcripts} > P6M")
    if cutoff(now, retention.recordings) < cutoff(now, "P6M"):
        over.append(f"recordings {retention.recordings} > P6M")
    if cutoff(now, retention.summaries) < cutoff(now, "P1Y"):
        over.append(f"summaries {retention.summaries} > P1Y")
    periods = f"transcripts {retention.transcripts}, summaries {retention.summaries}, recordings {retention.recordings}"
    if over:
        return warning(
            "retention",
            f"longer than the CNIL references: {', '.join(over)}",
            "shorten [retention] (docs/policy.md) or record why the longer period is needed",
        )
    return ok("retention", periods)


# -- models -----------------------------------------------------------------------------------------------------


def check_models(data_dir: Path, settings: Settings | None, *, manifest: Manifest | None = None) -> CheckResult:
    """Every installed model re-hashed against the manifest (the installer's verify)."""
    from desktop.core.models import ModelNotInstalledError, load_manifest, models_root, verify

    manifest = manifest or load_manifest()
    root = models_root(data_dir, settings.models_dir if settings else None)
    verified: list[VerifyReport] = []
    broken: list[VerifyReport] = []
    for name in manifest.models:
        try:
            report = verify(name, root, manifest=manifest)
        except ModelNotInstalledError:
            continue
        (verified if report.ok else broken).append(report)
    if broken:
        first = broken[0].problems[0]
        return failed(
            "models",
            f"model {broken[0].name} does not verify: {first.path}: {first.status} mismatch ({broken[0].folder})",
            f"run agent-assist models install {broken[0].name} --force",
            broken=[report.name for report in broken],
        )
    if not verified:
        speech = manifest.default("speech").name
        return warning(
            "models",
            f"no model installed in {root}: no transcription",
            f"run agent-assist models install {speech} (the app also installs it at first start)",
        )
    names = ", ".join(report.name for report in verified)
    return ok("models", f"{names} verified by sha256 ({root})", models=[report.name for report in verified])


# -- softphone --------------------------------------------------------------------------------------------------


def check_softphone(settings: Settings | None, *, timeout_s: float = SOFTPHONE_TIMEOUT_S) -> CheckResult:
    """baresip's ctrl_tcp answers ``listcalls`` at the configured address (when baresip is a call source)."""
    from desktop.core.telephony.baresip import (
        BaresipProtocolError,
        BaresipResponse,
        NetstringDecoder,
        encode_command,
        parse_message,
    )

    if settings is None:
        return warning("softphone", "not checked: the settings do not load", "fix the settings first")
    telephony = settings.telephony
    if "baresip" not in telephony.sources:
        return ok("softphone", f"baresip is not a call source (sources: {', '.join(telephony.sources) or 'none'})")
    address = f"{telephony.baresip_host}:{telephony.baresip_port}"
    hint = (
        "start baresip with its ctrl_tcp module (ctrl_tcp_listen in baresip's config), or set [telephony]"
        " baresip_host/baresip_port (docs/telephony.md)"
    )
    deadline = time.monotonic() + timeout_s
    try:
        with socket.create_connection((telephony.baresip_host, telephony.baresip_port), timeout=timeout_s) as link:
            link.sendall(encode_command("listcalls", token=_DOCTOR_TOKEN))
            decoder = NetstringDecoder()
            while (left := deadline - time.monotonic()) > 0:
                link.settimeout(left)
                data = link.recv(65536)
                if not data:
                    break
                for frame in decoder.feed(data):
                    if isinstance(frame, BaresipProtocolError):
                        continue
                    with contextlib.suppress(BaresipProtocolError):
                        message = parse_message(frame)
                        if isinstance(message, BaresipResponse) and message.token == _DOCTOR_TOKEN:
                            return ok("softphone", f"baresip answers at {address}")
    except TimeoutError:
        pass
    except OSError as error:
        return failed("softphone", f"baresip not reachable at {address} ({error.strerror or error})", hint)
    return failed("softphone", f"something listens at {address} but does not answer like baresip's ctrl_tcp", hint)


# -- CRM --------------------------------------------------------------------------------------------------------


def check_crm(settings: Settings | None) -> CheckResult:
    """The CRM connector's credentials are in the keyring and its health endpoint answers."""
    if settings is None:
        return warning("crm", "not checked: the settings do not load", "fix the settings first")
    crm = settings.crm
    if crm.connector == "none":
        return warning(
            "crm",
            "not configured (crm.connector = none): calls and consents stay on this station",
            "set [crm] connector and endpoint (docs/crm.md)",
        )
    try:
        from desktop.core.crm.connectors import make_connector
        from desktop.core.crm.credentials import get_secret
    except ImportError as error:  # a build without the CRM sync
        return failed("crm", f"CRM sync not available in this build ({error.name})", "install a complete build")
    where = f"{crm.connector} at {crm.endpoint or '(no endpoint)'}"
    try:
        secret = get_secret(crm.connector, crm.endpoint or "")
    except InputError as error:
        return failed("crm", f"{where}: credentials: {error}", "fix the keyring or crm.endpoint (docs/connectors.md)")
    try:
        connector = make_connector(crm, secret)
    except InputError as error:
        if secret is None:
            return failed(
                "crm",
                f"{where}: no credentials stored ({error})",
                "store it: agent-assist sync secret set (docs/connectors.md)",
            )
        return failed("crm", f"{where}: {error}", "fix [crm] in the settings (docs/crm.md)")
    if connector is None:  # pragma: no cover - "none" returned above
        return warning("crm", "not configured", "set [crm] connector and endpoint (docs/crm.md)")
    try:
        health = connector.health()
    except Exception as error:  # health should report, not raise: still say what happened
        return failed("crm", f"{where}: health check raised {type(error).__name__}: {error}", "see the app log")
    finally:
        with contextlib.suppress(Exception):
            connector.close()
    if not health.ok:
        return failed(
            "crm",
            f"{where}: {health.message or 'unhealthy'}",
            "check the network, the endpoint and the stored credentials (docs/connectors.md)",
        )
    latency = f" in {health.latency_ms:.0f} ms" if health.latency_ms is not None else ""
    credentials = "credentials stored" if secret is not None else "no credentials needed"
    return ok("crm", f"{where} answers{latency} ({credentials})")


# -- database and ledger ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    try:
        yield conn
    finally:
        conn.close()


def check_database(data_dir: Path) -> CheckResult:
    """``PRAGMA integrity_check`` on the store, and its schema version against this program's."""
    from desktop.core.store.db import DB_NAME
    from desktop.core.store.migrations import LATEST

    path = data_dir / DB_NAME
    if not path.exists():
        return warning("database", f"no database yet at {path}", "start the app once (it creates the database)")
    restore = f"stop the app, move {path.name} aside and restore the last backup (the CRM holds the synced data)"
    try:
        with _read_only(path) as conn:
            rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check(20)")]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as error:
        return failed("database", f"{path}: {error}", restore)
    if rows != ["ok"]:
        return failed("database", f"{path}: integrity check failed: {rows[0]}", restore, problems=rows)
    if version > LATEST:
        return failed(
            "database", f"{path}: schema version {version}, newer than this program ({LATEST})", "update Agent Assist"
        )
    if version < LATEST:
        return warning(
            "database",
            f"{path}: integrity ok, schema version {version} (this program: {LATEST})",
            "start the app once to migrate it",
        )
    return ok("database", f"{path}: integrity ok, schema version {version}", schema=version)


def check_ledger(data_dir: Path) -> CheckResult:
    """The consent ledger's hash chain and consent rows hold (``consent verify-ledger``)."""
    from desktop.core.consent.ledger import verify
    from desktop.core.store.db import DB_NAME

    path = data_dir / DB_NAME
    if not path.exists():
        return ok("ledger", "no database yet: empty ledger")
    try:
        with _read_only(path) as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'consent_events'").fetchone() is None:
                return ok("ledger", "no ledger yet (the database is not initialised)")
            result = verify(conn)
    except sqlite3.DatabaseError as error:
        return failed("ledger", f"cannot be read: {error}", "see the database check")
    if not result.ok:
        return failed(
            "ledger",
            f"broken: {result.problem}",
            "do not edit the database; keep this file as evidence and tell the compliance officer",
            entries=result.entries,
        )
    return ok("ledger", f"{result.entries} entries, {result.consents} consents, chain intact", entries=result.entries)


# -- files ------------------------------------------------------------------------------------------------------


def check_permissions(data_dir: Path) -> CheckResult:
    """The data folder is the user's alone (0700) and the database files are not readable by others (0600)."""
    from desktop.core.store.db import DB_NAME

    if sys.platform == "win32":
        return ok("permissions", "not checked on Windows (the data folder is in the user's profile, ACLs apply)")
    if not data_dir.exists():
        return warning("permissions", f"{data_dir} does not exist yet", "start the app once (it creates it, 0700)")
    problems: list[tuple[str, str]] = []  # (severity, what)
    entries = [(data_dir, 0o700)] + [
        (data_dir / name, 0o600) for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm") if (data_dir / name).exists()
    ]
    for path, wanted in entries:
        info = path.stat()
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o007:
            problems.append(("failed", f"{path} is accessible to every user ({mode:04o}, want {wanted:04o})"))
        elif mode & 0o070:
            problems.append(("warning", f"{path} is accessible to its group ({mode:04o}, want {wanted:04o})"))
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            problems.append(("warning", f"{path} belongs to another user (uid {info.st_uid})"))
    action = f"chmod 700 {data_dir} && chmod 600 {data_dir / DB_NAME}*"
    for severity in ("failed", "warning"):
        found = [what for level, what in problems if level == severity]
        if found:
            make = failed if severity == "failed" else warning
            return make("permissions", "; ".join(found), action)
    return ok("permissions", f"{data_dir} 0700, database 0600")


def check_disk(
    data_dir: Path, *, failed_below: int = DISK_FAILED_BYTES, warning_below: int = DISK_WARNING_BYTES
) -> CheckResult:
    """Free space on the data folder's disk."""
    folder = data_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    text = f"{free / 2**30:.1f} GiB free on the disk of {data_dir}"
    action = "free disk space (old recordings: agent-assist retention purge)"
    if free < failed_below:
        return failed("disk", text + f" (under {failed_below / 2**20:.0f} MiB)", action, free_bytes=free)
    if free < warning_below:
        return warning("disk", text + f" (under {warning_below / 2**30:.1f} GiB)", action, free_bytes=free)
    return ok("disk", text, free_bytes=free)


# -- all --------------------------------------------------------------------------------------------------------


def run_checks(
    data_dir: Path, *, manifest: Manifest | None = None, softphone_timeout_s: float = SOFTPHONE_TIMEOUT_S
) -> list[CheckResult]:
    """Every check, in the order they are printed; none raises (an unexpected error is a failed check)."""
    results = [_guard("policy", check_policy)]
    settings_result, settings = _guard_settings(data_dir)
    results.append(settings_result)
    steps: list[tuple[str, Callable[[], CheckResult]]] = [
        ("database", lambda: check_database(data_dir)),
        ("ledger", lambda: check_ledger(data_dir)),
        ("permissions", lambda: check_permissions(data_dir)),
        ("disk", lambda: check_disk(data_dir)),
        ("models", lambda: check_models(data_dir, settings, manifest=manifest)),
        ("softphone", lambda: check_softphone(settings, timeout_s=softphone_timeout_s)),
        ("crm", lambda: check_crm(settings)),
    ]
    if settings is not None:
        steps.append(("retention", lambda: check_retention(settings)))
    results += [_guard(name, step) for name, step in steps]
    return results


def _guard(name: str, step: Callable[[], CheckResult]) -> CheckResult:
    try:
        return step()
    except Exception as error:  # a doctor that crashes tells IT nothing: report it as that check's failure
        return failed(name, f"the check itself failed: {type(error).__name__}: {error}", "report this to support")


def _guard_settings(data_dir: Path) -> tuple[CheckResult, Settings | None]:
    try:
        return check_settings(data_dir)
    except Exception as error:
        return failed("settings", f"the check itself failed: {type(error).__name__}: {error}", "report this"), None


def fit(results: list[CheckResult], *, strict: bool = False) -> bool:
    """The station is fit when no check failed (and, with ``strict``, none warned)."""
    bad = ("failed", "warning") if strict else ("failed",)
    return not any(result.status in bad for result in results)
