"""The machine a benchmark ran on, for the top of its report: CPU, cores, memory, OS, Python, SQLite.

Used by the ``bench_*.py`` scripts (``from _machine import machine_info, machine_markdown``); run alone it
prints the table: ``.venv/bin/python bench/_machine.py``.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from pathlib import Path


def _cpuinfo() -> tuple[str, int | None]:
    """CPU model name, and the number of physical cores when /proc/cpuinfo says (it often does not in VMs)."""
    model, cores = "", set()
    physical, core = "", ""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine(), None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "model name" and not model:
            model = value
        elif key == "physical id":
            physical = value
        elif key == "core id":
            core = value
        elif not key and physical and core:  # blank line: end of one logical CPU
            cores.add((physical, core))
            physical, core = "", ""
    if physical and core:
        cores.add((physical, core))
    return model or platform.processor() or platform.machine(), len(cores) or None


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def sqlite_shell_version(shell: str = "sqlite3") -> str | None:
    """Version of the ``sqlite3`` command-line shell, or None when it is not installed."""
    try:
        done = subprocess.run([shell, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.split()
    return words[0] if done.returncode == 0 and words else None


def machine_info(*, shell: bool = False) -> dict[str, str]:
    """What the report shows about the machine, in display order; ``shell`` adds the sqlite3 shell version."""
    model, physical = _cpuinfo()
    logical = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else logical
    cores = f"{logical} logical"
    if physical:
        cores += f", {physical} physical"
    if usable != logical:
        cores += f", {usable} usable by this process"
    memory = _memory_gib()
    info = {
        "CPU": model,
        "cores": cores,
        "RAM": f"{memory:.1f} GiB" if memory is not None else "unknown",
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "SQLite (Python's sqlite3 module)": sqlite3.sqlite_version,
    }
    if shell:
        info["SQLite (sqlite3 shell)"] = sqlite_shell_version() or "not installed"
    return info


def machine_markdown(*, shell: bool = False) -> str:
    """The machine as a two-column Markdown table."""
    lines = ["| machine | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in machine_info(shell=shell).items()]
    return "\n".join(lines)


def print_machine(*, shell: bool = False) -> None:
    print(machine_markdown(shell=shell))


if __name__ == "__main__":
    print_machine(shell=True)
