"""Real baresip instances on 127.0.0.1 for tests and benchmarks: config, free ports, start, drive, stop by PID.

Recipe and gotchas: ``/work/shared/reference/softphone.md`` §1-§5 (TLS listener on SIP port + 1, ``net_interface``
takes the IP, aufile EOF ends the call in 1.0.0, ``quit`` then SIGKILL, ``-t`` always).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.telephony.baresip import NetstringDecoder, encode_command

MODULES = Path("/usr/lib/baresip/modules")
APT_PACKAGES = ("baresip-core", "espeak-ng", "sox")
#: How an account names each codec (G722 alone would mean G722/8000, which baresip does not have).
ACCOUNT_CODECS = {"PCMU": "PCMU", "G722": "G722/16000/1"}
CODEC_RATES = {"PCMU": 8000, "G722": 16000}
#: Every instance quits by itself after this many seconds, whatever happens to the test.
LIFETIME_S = 120


class BaresipUnavailable(RuntimeError):
    """baresip could not be found nor installed."""


def ensure_baresip() -> str:
    """The path of ``baresip``, installing Debian's baresip-core, sox and espeak-ng when any is missing (the
    speech tests need all three; as root, the way CI runs; otherwise the error says what to install)."""
    found = shutil.which("baresip")
    if found and shutil.which("sox") and shutil.which("espeak-ng"):
        return found
    log: list[str] = []
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES],
    ):
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise BaresipUnavailable(f"{' '.join(command)}: {error}") from error
        log.append(f"$ {' '.join(command)} -> {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        if done.returncode != 0:
            raise BaresipUnavailable("\n".join(log))
    found = shutil.which("baresip")
    if not found or not shutil.which("sox") or not shutil.which("espeak-ng"):
        raise BaresipUnavailable("installed, but baresip, sox or espeak-ng is still not on PATH\n" + "\n".join(log))
    return found


def _free(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_tcp_port(exclude: set[int]) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in exclude and port + 1 < 65536:
            return port


def free_sip_port(exclude: set[int]) -> int:
    """A port free on UDP and TCP whose next port is free on TCP too (baresip's TLS listener)."""
    for _ in range(200):
        port = free_tcp_port(exclude)
        if port + 1 in exclude or port - 1 in exclude:
            continue
        if _free(port, socket.SOCK_DGRAM) and _free(port, socket.SOCK_STREAM) and _free(port + 1, socket.SOCK_STREAM):
            return port
    raise RuntimeError("no free SIP port pair on 127.0.0.1")


def make_wav(path: Path, seconds: float, *, tone: bool, rate: int = 8000) -> Path:
    """Mono s16 at ``rate`` (aufile wants the codec's: 8 kHz for PCMU, 16 kHz for G722); a tone or silence.

    In baresip 1.0.0 its end ends the call."""
    effect = ["synth", str(seconds), "sine", "440"] if tone else ["trim", "0", str(seconds)]
    subprocess.run(
        ["sox", "-n", "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer", str(path), *effect],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path


@dataclass
class Instance:
    """One baresip on 127.0.0.1 with its own config folder."""

    name: str
    folder: Path
    sip_port: int
    ctrl_port: int
    rtp_ports: str
    user: str
    display: str
    audio_seconds: float = 90.0
    answermode: str = "manual"
    process: subprocess.Popen[bytes] | None = None
    #: What it sends (aufile; its end ends the call); None: a tone (customer) or silence (agent) of audio_seconds.
    audio: Path | None = None
    #: Audio codec offered: PCMU (G.711, 8 kHz) or G722 (16 kHz, wideband).
    codec: str = "PCMU"
    #: Where baresip's sndfile module writes the call's recordings (dump-…-dec.wav, dump-…-enc.wav); None: not.
    recordings: Path | None = None

    @property
    def aor(self) -> str:
        return f"sip:{self.user}@127.0.0.1:{self.sip_port}"

    def write_config(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        rate = CODEC_RATES[self.codec]
        wav = self.audio or make_wav(
            self.folder / f"source_{rate // 1000}k.wav", self.audio_seconds, tone=self.name == "customer", rate=rate
        )
        lines = {
            "poll_method": "epoll",
            "sip_listen": f"127.0.0.1:{self.sip_port}",
            "net_interface": "127.0.0.1",
            "call_local_timeout": "120",
            "call_max_calls": "4",
            "audio_source": f"aufile,{wav}",
            "audio_player": f"aubridge,{self.name}play",
            "audio_alert": f"aubridge,{self.name}alert",
            "audio_level": "no",
            "ausrc_format": "s16",
            "auplay_format": "s16",
            "auenc_format": "s16",
            "audec_format": "s16",
            "rtp_ports": self.rtp_ports,
            "rtcp_mux": "no",
            "jitter_buffer_delay": "5-10",
            "module_path": str(MODULES),
            "ctrl_tcp_listen": f"127.0.0.1:{self.ctrl_port}",
            "statmode_default": "off",
        }
        modules = ["g711.so", "aufile.so", "aubridge.so"]
        if self.codec == "G722":
            modules.append("g722.so")
        if self.recordings is not None:
            self.recordings.mkdir(parents=True, exist_ok=True)
            lines["snd_path"] = str(self.recordings)
            modules.append("sndfile.so")
        text = [f"{key}\t\t{value}" for key, value in lines.items()]
        text += [f"module\t\t{name}" for name in modules]
        text += [
            "module_tmp\t\tuuid.so",
            "module_tmp\t\taccount.so",
            "module_app\t\tmenu.so",
            "module_app\t\tctrl_tcp.so",
        ]
        (self.folder / "config").write_text("\n".join(text) + "\n", encoding="utf-8")
        (self.folder / "accounts").write_text(
            f'"{self.display}" <{self.aor}>;regint=0;audio_codecs={ACCOUNT_CODECS[self.codec]};answermode={self.answermode}\n',
            encoding="utf-8",
        )

    def start(self, binary: str = "baresip") -> None:
        log = (self.folder / "baresip.log").open("ab")
        self.process = subprocess.Popen(
            [binary, "-f", str(self.folder), "-t", str(LIFETIME_S)],
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 10
        while not _listening(self.ctrl_port):
            if self.process.poll() is not None:
                raise RuntimeError(f"baresip {self.name} exited {self.process.returncode}: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"baresip {self.name}: ctrl_tcp not listening after 10 s: {self.log_tail()}")
            time.sleep(0.02)

    def log_tail(self, size: int = 3000) -> str:
        try:
            return (self.folder / "baresip.log").read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def stop(self, timeout: float = 3.0) -> None:
        """``quit`` through ctrl_tcp, then SIGKILL by PID if it is still there after ``timeout``."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.ctrl_port), 1) as link:
                link.sendall(encode_command("quit"))
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.process = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.process = None


def _listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port, without connecting (ctrl_tcp keeps only one client)."""
    try:
        text = Path("/proc/net/tcp").read_text()
    except OSError:
        return True
    wanted = f"0100007F:{port:04X}"
    return any(line.split()[1] == wanted and line.split()[3] == "0A" for line in text.splitlines()[1:])


@dataclass
class Controller:
    """A blocking ctrl_tcp client run by a test (the customer's softphone): events collected by a thread."""

    port: int
    events: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    seen: list[dict[str, Any]] = field(default_factory=list)
    _socket: socket.socket | None = None
    _thread: threading.Thread | None = None
    _count: int = 0
    _returned: set[int] = field(default_factory=set)

    def connect(self) -> Controller:
        self._socket = socket.create_connection(("127.0.0.1", self.port), 5)
        self._socket.settimeout(None)
        self._thread = threading.Thread(target=self._read, name=f"ctrl-{self.port}", daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        decoder = NetstringDecoder()
        link = self._socket
        assert link is not None
        while True:
            try:
                data = link.recv(65536)
            except OSError:
                return
            if not data:
                return
            for frame in decoder.feed(data):
                if isinstance(frame, bytes):
                    with contextlib.suppress(ValueError):
                        self.events.put(json.loads(frame))

    def send(self, command: str, params: str | None = None) -> str:
        assert self._socket is not None
        self._count += 1
        token = f"t{self._count}"
        self._socket.sendall(encode_command(command, params, token))
        return token

    def wait(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """The first message (already received or to come) matching ``predicate`` that no wait returned yet."""
        for message in self.seen:
            if id(message) not in self._returned and predicate(message):
                self._returned.add(id(message))
                return message
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching message on ctrl_tcp {self.port}; seen: {self.seen[-8:]}")
            try:
                message = self.events.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(message)
            if predicate(message):
                self._returned.add(id(message))
                return message

    def event(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        return self.wait(lambda m: m.get("event") is True and m.get("type") == kind, timeout)

    def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
            self._socket.close()
            self._socket = None
        if self._thread is not None:
            self._thread.join(2)


@dataclass
class Pair:
    agent: Instance
    customer: Instance

    def stop(self) -> None:
        for instance in (self.customer, self.agent):
            instance.stop()


def make_pair(
    folder: Path,
    *,
    customer_user: str = "+33639980001",
    customer_name: str = "Jean Dupont",
    customer_audio: Path | None = None,
    agent_audio: Path | None = None,
    codec: str = "PCMU",
    agent_recordings: Path | None = None,
) -> Pair:
    """Config for an agent and a customer softphone on free loopback ports (not started).

    ``customer_audio``/``agent_audio``: WAV files each sends (mono s16 at the codec's rate); ``codec``: PCMU or
    G722 on both; ``agent_recordings``: the folder where the agent's baresip writes the call's recordings.
    """
    used: set[int] = set()
    ports = []
    for pick in (free_sip_port, free_sip_port, free_tcp_port, free_tcp_port):
        port = pick(used)
        used |= {port, port + 1}
        ports.append(port)
    agent_sip, customer_sip, agent_ctrl, customer_ctrl = ports
    base = 20000 + (os.getpid() % 200) * 200
    agent = Instance(
        "agent",
        folder / "agent",
        agent_sip,
        agent_ctrl,
        f"{base}-{base + 99}",
        "agent",
        "Agent Desk 7",
        audio=agent_audio,
        codec=codec,
        recordings=agent_recordings,
    )
    customer = Instance(
        "customer",
        folder / "customer",
        customer_sip,
        customer_ctrl,
        f"{base + 100}-{base + 199}",
        customer_user,
        customer_name,
        audio=customer_audio,
        codec=codec,
    )
    agent.write_config()
    customer.write_config()
    return Pair(agent, customer)


@contextlib.contextmanager
def running_pair(folder: Path, **kwargs: Any) -> Iterator[Pair]:
    pair = make_pair(folder, **kwargs)
    try:
        pair.agent.start()
        pair.customer.start()
        yield pair
    finally:
        pair.stop()
