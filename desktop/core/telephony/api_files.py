"""The local event API's two files in the data folder: the per-user token and the runtime file.

- ``event-api.token``: a random secret made once per data folder, readable by its owner only (0600, folder 0700).
  A token file that others could read is replaced by a new token (it may have leaked); a file or folder owned by
  another user is refused.
- ``event-api.json``: written by the running app (``{"api", "host", "port", "pid", "token_file", "started_at"}``)
  and removed when it stops, so that hook commands find it.

Standard library only, and few imports: the hook command (``desktop.hook``) imports it and must start fast.
Permission checks apply on POSIX; on Windows the data folder lies in the user's profile, protected by its ACL.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

TOKEN_FILE = "event-api.token"
RUNTIME_FILE = "event-api.json"
API_VERSION = 1
HOST = "127.0.0.1"
_TOKEN_BYTES = 32
_TOKEN_MIN_CHARS = 40
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_POSIX = os.name == "posix"


def _warn(message: str, *args: object) -> None:
    # logging, secrets, datetime are imported where used: the hook command reads these files on every call event.
    import logging

    logging.getLogger("agent_assist.telephony").warning(message, *args)


class UnsafeFileError(PermissionError):
    """A file or folder of the API belongs to another user, or is not a plain file: refused, never used."""


class Runtime:
    """Where the running app listens: what hook commands read from ``event-api.json``."""

    __slots__ = ("host", "pid", "port", "token_file")

    def __init__(self, host: str, port: int, pid: int, token_file: str = TOKEN_FILE) -> None:
        self.host, self.port, self.pid, self.token_file = host, port, pid, token_file

    def __repr__(self) -> str:
        return f"Runtime(host={self.host!r}, port={self.port}, pid={self.pid}, token_file={self.token_file!r})"


# -- folder and token (the app) ----------------------------------------------------------------------------------


def secure_folder(folder: Path) -> bool:
    """Create the data folder owner-only (0700); narrow it if wider. True when its mode was repaired."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _POSIX:
        return False
    info = folder.stat()
    if info.st_uid != os.getuid():
        raise UnsafeFileError(f"{folder}: owned by another user (uid {info.st_uid})")
    if info.st_mode & 0o077:
        os.chmod(folder, 0o700)
        _warn("data folder %s was open to other users (mode %o): narrowed to 0700", folder, info.st_mode & 0o777)
        return True
    return False


def load_or_create_token(folder: Path) -> str:
    """The token of this data folder, made on first use; a new one when the file was readable by others."""
    secure_folder(folder)
    path = folder / TOKEN_FILE
    try:
        token = _read_private(path, repair=True)
    except FileNotFoundError:
        token = None
    if token is None or not _well_formed(token):
        if token is not None:
            _warn("event API token in %s was unusable: a new one is made", folder)
        import secrets

        token = secrets.token_urlsafe(_TOKEN_BYTES)
        write_private(path, token + "\n")
    return token


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), atomically (temporary file, then replace)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_private(path: Path, *, repair: bool) -> str | None:
    """The text of an owner-only file; None when others could read it (``repair``: the caller makes a new one)."""
    try:
        handle = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise UnsafeFileError(f"{path}: cannot be opened safely ({error.strerror})") from None
    with os.fdopen(handle, "r", encoding="utf-8", errors="replace") as stream:
        if _POSIX:
            info = os.fstat(stream.fileno())
            if info.st_uid != os.getuid():
                raise UnsafeFileError(f"{path}: owned by another user (uid {info.st_uid})")
            if info.st_mode & 0o077:
                if not repair:
                    raise UnsafeFileError(f"{path}: readable by other users (mode {info.st_mode & 0o777:o})")
                _warn("%s was readable by other users (mode %o): a new token is made", path, info.st_mode & 0o777)
                return None
        return stream.read(4096).strip()


def _well_formed(token: str) -> bool:
    return len(token) >= _TOKEN_MIN_CHARS and set(token) <= _TOKEN_ALPHABET


# -- runtime file (the app writes it, hooks read it) -------------------------------------------------------------


def write_runtime(folder: Path, port: int) -> Path:
    import datetime as dt

    path = folder / RUNTIME_FILE
    document = {
        "api": API_VERSION,
        "host": HOST,
        "port": port,
        "pid": os.getpid(),
        "token_file": TOKEN_FILE,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_private(path, json.dumps(document) + "\n")
    return path


def remove_runtime(folder: Path) -> None:
    """Remove the runtime file if it is this process's (another instance may have replaced it)."""
    path = folder / RUNTIME_FILE
    runtime = read_runtime(folder)
    if runtime is not None and runtime.pid == os.getpid():
        path.unlink(missing_ok=True)


def read_runtime(folder: Path) -> Runtime | None:
    """Where the app of this data folder listens; None when it does not say (never started, stopped, unreadable)."""
    try:
        text = (folder / RUNTIME_FILE).read_text(encoding="utf-8")
        document = json.loads(text)
        host, port, pid = document["host"], document["port"], document["pid"]
        token_file = document.get("token_file", TOKEN_FILE)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host != HOST or not isinstance(port, int) or not 0 < port < 65536 or not isinstance(pid, int) or pid <= 0:
        return None
    if not isinstance(token_file, str) or "/" in token_file or "\\" in token_file or token_file.startswith("."):
        return None
    return Runtime(host=host, port=port, pid=pid, token_file=token_file)


def read_token(folder: Path, runtime: Runtime) -> str:
    """The token a hook sends; UnsafeFileError when the file is not owner-only, FileNotFoundError when absent."""
    token = _read_private(folder / runtime.token_file, repair=False)
    if token is None or not _well_formed(token):
        raise UnsafeFileError(f"{folder / runtime.token_file}: not a token")
    return token


def stale(runtime: Runtime) -> str | None:
    """Why the app of a runtime file cannot be the one listening (None: it may be). POSIX checks only.

    A left-over file must not send this user's token to whatever now listens on that port (maybe another
    user's app on a terminal server): the process must exist and be ours, and on Linux the listening socket too.
    """
    if not _POSIX:
        return None  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(runtime.pid, 0)
    except ProcessLookupError:
        return f"process {runtime.pid} has exited"
    except PermissionError:
        return f"process {runtime.pid} belongs to another user"
    try:  # root may signal anyone: on Linux, ask the process table whose it is
        if os.stat(f"/proc/{runtime.pid}").st_uid != os.getuid():
            return f"process {runtime.pid} belongs to another user"
    except OSError:
        pass  # no /proc (macOS): os.kill above was the check
    owner = _listener_uid(runtime.port)
    if owner is not None and owner != os.getuid():
        return f"port {runtime.port} is another user's"
    return None


def _listener_uid(port: int) -> int | None:
    """The uid owning the socket listening on 127.0.0.1:port, from /proc/net/tcp (None when unknown)."""
    wanted = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp", encoding="ascii") as table:
            next(table, None)
            for line in table:
                fields = line.split()
                if len(fields) > 7 and fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
                    return int(fields[7])
    except (OSError, ValueError):
        return None
    return None
