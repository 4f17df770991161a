"""Demo replay: a call in the corpus format played through the real call service, on the GUI thread's timers.

The call's events carry the call's own times (``started_at`` plus the offsets of its segments), so the consent
verdicts of the demo are the same on any day; ``speed`` shortens the wait between them (1 = real time).

Signals: ``finished(session)`` when the call has ended (the summary editor is then up to the agent, or to
``--smoke-test``, which validates the draft as is).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.errors import InputError
from desktop.core.telephony.events import CallEvent
from desktop.core.telephony.session import CallSession, Speaker
from desktop.services.calls import CallService


@dataclass(frozen=True)
class DemoStep:
    offset: float  # seconds from the start of the call
    kind: str  # an event kind, or "segment"
    speaker: str = ""
    text: str = ""
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class DemoCall:
    id: str
    title: str
    call: dict[str, Any]
    steps: tuple[DemoStep, ...]

    @property
    def started_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.call["started_at"])


def load_demo_call(path: Path) -> DemoCall:
    """A call in the corpus format (``shared/corpus/README.md``): its events and segments, in time order."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        call = document["call"]
        segments = document["segments"]
        dt.datetime.fromisoformat(call["started_at"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path}: not a call in the corpus format ({error})") from None
    start_kind = "dialing" if call["direction"] == "outbound" else "ringing"
    first_speech = min((float(s["start"]) for s in segments), default=0.0)
    steps = [DemoStep(0.0, start_kind), DemoStep(max(first_speech - 0.2, 0.0), "answered")]
    # A segment is shown when it has been said (its end), as a live transcriber would.
    steps += [
        DemoStep(float(s["end"]), "segment", s["speaker"], s["text"], float(s["start"]), float(s["end"]))
        for s in segments
    ]
    last = max((float(s["end"]) for s in segments), default=0.0)
    steps.append(DemoStep(last + 1.0, "ended"))
    steps.sort(key=lambda step: step.offset)
    return DemoCall(document.get("id", path.stem), document.get("title", path.stem), call, tuple(steps))


def demo_calls(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


class DemoPlayer(QObject):
    finished = Signal(object)

    def __init__(self, service: CallService, demo: DemoCall, *, speed: float = 1.0, parent: QObject | None = None):
        super().__init__(parent)
        if speed <= 0:
            raise InputError(f"--speed: must be positive, got {speed}")
        self.service = service
        self.demo = demo
        self.speed = speed
        self.session: CallSession | None = None
        self._next = 0
        self._started_monotonic = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.call_id = f"demo-{demo.id}-{int(time.time() * 1000)}"

    def scenario_now(self) -> dt.datetime:
        """The call's own clock: its start plus the (accelerated) time played so far."""
        elapsed = (time.monotonic() - self._started_monotonic) * self.speed if self._started_monotonic else 0.0
        return self.demo.started_at + dt.timedelta(seconds=elapsed)

    def start(self) -> None:
        self._started_monotonic = time.monotonic()
        self._schedule()

    def stop(self) -> None:
        self._timer.stop()

    def _schedule(self) -> None:
        if self._next >= len(self.demo.steps):
            return
        due = self.demo.steps[self._next].offset / self.speed
        wait = due - (time.monotonic() - self._started_monotonic)
        self._timer.start(max(int(wait * 1000), 0))

    def _on_timer_timeout(self) -> None:
        step = self.demo.steps[self._next]
        self._next += 1
        self._play(step)
        if self._next < len(self.demo.steps):
            self._schedule()
        elif self.session is not None:
            self.finished.emit(self.session)

    def _play(self, step: DemoStep) -> None:
        call = self.demo.call
        at = self.demo.started_at + dt.timedelta(seconds=step.offset)
        if step.kind == "segment":
            if self.session is not None and self.session.state == "active":
                speaker: Speaker = "agent" if step.speaker == "agent" else "customer"
                self.service.add_segment(self.session, speaker, step.text, step.start, step.end)
            return
        event = CallEvent(
            kind=step.kind,  # type: ignore[arg-type]
            at=at,
            call_id=self.call_id,
            number=call.get("number"),
            direction=call.get("direction"),
            source="demo",
            product=call.get("product"),
            purpose=call.get("purpose"),
            professional=call.get("professional"),
            sector=call.get("sector"),
        )
        session = self.service.handle_event(event)
        if session is not None:
            self.session = session
