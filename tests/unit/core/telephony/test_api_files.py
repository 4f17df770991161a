"""The event API's token and runtime file: owner-only, repaired or refused when not, stale ones recognised."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.core.telephony.api_files import (
    RUNTIME_FILE,
    TOKEN_FILE,
    Runtime,
    UnsafeFileError,
    load_or_create_token,
    read_runtime,
    read_token,
    remove_runtime,
    secure_folder,
    stale,
    write_runtime,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_token_made_once_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    token = load_or_create_token(folder)
    assert len(token) >= 40
    assert mode(folder) == 0o700 and mode(folder / TOKEN_FILE) == 0o600
    assert load_or_create_token(folder) == token
    assert [path.name for path in folder.iterdir()] == [TOKEN_FILE]  # no temporary file left


def test_separate_data_folders_get_separate_tokens(tmp_path: Path) -> None:
    assert load_or_create_token(tmp_path / "alice") != load_or_create_token(tmp_path / "bob")


def test_wide_folder_is_narrowed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    assert secure_folder(folder) is True
    assert mode(folder) == 0o700
    assert "narrowed to 0700" in caplog.text


def test_token_readable_by_others_is_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "data"
    old = load_or_create_token(folder)
    os.chmod(folder / TOKEN_FILE, 0o644)
    new = load_or_create_token(folder)
    assert new != old and mode(folder / TOKEN_FILE) == 0o600
    assert "readable by other users" in caplog.text
    assert old not in caplog.text and new not in caplog.text


def test_garbled_token_is_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "data"
    load_or_create_token(folder)
    (folder / TOKEN_FILE).write_text("short\n")
    assert len(load_or_create_token(folder)) >= 40


def test_symlinked_token_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    secure_folder(folder)
    target = tmp_path / "elsewhere"
    target.write_text("x" * 50)
    (folder / TOKEN_FILE).symlink_to(target)
    with pytest.raises(UnsafeFileError):
        load_or_create_token(folder)


def test_hook_side_refuses_a_token_readable_by_others(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    token = load_or_create_token(folder)
    runtime = Runtime("127.0.0.1", 5000, os.getpid())
    assert read_token(folder, runtime) == token
    os.chmod(folder / TOKEN_FILE, 0o640)
    with pytest.raises(UnsafeFileError, match="readable by other users"):
        read_token(folder, runtime)


def test_runtime_file_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    secure_folder(folder)
    path = write_runtime(folder, 45678)
    assert mode(path) == 0o600
    document = json.loads(path.read_text())
    assert document["port"] == 45678 and document["pid"] == os.getpid() and document["host"] == "127.0.0.1"
    runtime = read_runtime(folder)
    assert runtime is not None and (runtime.port, runtime.pid, runtime.token_file) == (45678, os.getpid(), TOKEN_FILE)
    remove_runtime(folder)
    assert read_runtime(folder) is None and not path.exists()


def test_runtime_file_of_another_process_is_not_removed(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    secure_folder(folder)
    (folder / RUNTIME_FILE).write_text(json.dumps({"host": "127.0.0.1", "port": 5000, "pid": os.getpid() + 1}))
    remove_runtime(folder)
    assert (folder / RUNTIME_FILE).exists()


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps([]),
        json.dumps({"host": "0.0.0.0", "port": 5000, "pid": 1}),
        json.dumps({"host": "127.0.0.1", "port": 70000, "pid": 1}),
        json.dumps({"host": "127.0.0.1", "port": "5000", "pid": 1}),
        json.dumps({"host": "127.0.0.1", "port": 5000, "pid": 1, "token_file": "../../other/event-api.token"}),
    ],
)
def test_unusable_runtime_files_are_ignored(tmp_path: Path, document: str) -> None:
    (tmp_path / RUNTIME_FILE).write_text(document)
    assert read_runtime(tmp_path) is None


def test_stale_runtime_of_an_exited_process(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)
    assert stale(Runtime("127.0.0.1", 5000, dead)) == f"process {dead} has exited"
    assert stale(Runtime("127.0.0.1", 5000, os.getpid())) is None


def test_stale_runtime_of_another_users_process() -> None:
    if os.getuid() != 0:
        assert stale(Runtime("127.0.0.1", 5000, 1)) == "process 1 belongs to another user"
        return
    # As root (CI), a process of user nobody: root may signal it, the process table says whose it is.
    other = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "30"])
    try:
        deadline = time.monotonic() + 5
        while os.stat(f"/proc/{other.pid}").st_uid != 65534:
            assert time.monotonic() < deadline, "setpriv did not drop to nobody"
            time.sleep(0.01)
        assert stale(Runtime("127.0.0.1", 5000, other.pid)) == f"process {other.pid} belongs to another user"
    finally:
        other.kill()
        other.wait()
