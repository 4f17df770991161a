"""Fake CRMs for unit tests: small in-process HTTP servers on 127.0.0.1 written from the vendors' documentation.

THESE ARE UNIT-TEST DOUBLES, NOT THE REAL SERVICES. Each fake implements only the behaviour our connectors rely
on, as ``../shared/reference/crm.md`` and the vendor pages it cites describe it (each module names its
sections), including the documented error bodies and throttling responses, and keeps state so that duplicates
and upserts are checkable. No vendor sandbox was reachable when they were written: a difference between a fake
and the real API is a bug in the fake, found only against the vendor's sandbox.

:class:`FakeCrm` is the shared part: a pytest-httpserver (Werkzeug) server routing every request to
``route(request)``, a log of what was received, and a queue of injected faults (:meth:`FakeCrm.fail_next`)
answered before routing, the way a throttling CRM or a failing proxy would.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from desktop.core.crm.contract import ConsentEventPayload, InteractionPayload, ReviewPayload, TranscriptLine


@dataclass
class Fault:
    """An injected answer: ``status`` with ``body`` (JSON-encoded unless bytes/str) and ``headers``; ``path``
    (a regex) limits it to matching requests."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    path: str | None = None


class FakeCrm:
    """Base of the fakes: start/stop, request log, fault queue, JSON helpers."""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.received: list[tuple[str, str]] = []  # (method, full path) of every request
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._dispatch)

    # lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> FakeCrm:
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def reset(self) -> None:
        """Forget state, faults and the request log (tests share one server per session)."""
        with self.lock:
            self.faults.clear()
            self.received.clear()

    # faults ----------------------------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        path: str | None = None,
        times: int = 1,
    ) -> None:
        with self.lock:
            self.faults.extend(Fault(status, body, dict(headers or {}), path) for _ in range(times))

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault.path is None or re.search(fault.path, path):
                    return self.faults.pop(index)
        return None

    def _dispatch(self, request: Request) -> Response:
        path = request.full_path.rstrip("?")
        with self.lock:
            self.received.append((request.method, path))
        fault = self._take_fault(request.path)
        if fault is not None:
            return raw(fault.status, fault.body, fault.headers)
        with self.lock:
            return self.route(request)

    def route(self, request: Request) -> Response:  # pragma: no cover - every fake overrides it
        raise NotImplementedError

    def count(self, method: str, pattern: str) -> int:
        """How many requests matched ``method`` and the ``pattern`` regex on the full path."""
        with self.lock:
            return sum(1 for m, p in self.received if m == method and re.search(pattern, p))


def raw(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    """A response; dict/list bodies as JSON, str/bytes as they are (HTML error pages), None as empty."""
    if body is None:
        return Response(b"", status=status, headers=headers)
    if isinstance(body, bytes | str):
        return Response(
            body, status=status, headers=headers, content_type=(headers or {}).get("Content-Type", "text/html")
        )
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


def body_json(request: Request) -> Any:
    """The request's JSON body, or None when it is not JSON."""
    try:
        return json.loads(request.get_data() or b"null")
    except ValueError:
        return None


# Payloads the connector tests share ------------------------------------------------------------------------

SUMMARY = {
    "reason": "Demande de rappel",
    "actions": ["Rappel planifié"],
    "resolution": "resolved",
    "next_steps": [{"owner": "agent", "action": "rappeler", "due": "2026-11-25"}],
    "disposition": "callback_scheduled",
    "consent_events": [],
    "entities": {"amounts_eur": [], "dates": [], "times": [], "references": []},
    "opening_disclosure": {"identity": True, "on_behalf_of": True, "commercial_nature": True, "recording_notice": True},
    "generated_by": {"method": "extractive", "model": None},
}


def interaction(n: int, **changes: Any) -> InteractionPayload:
    """An InteractionPayload numbered ``n`` (external id ``call-<n>``, number ``+3361234<n:04d>``)."""
    fields: dict[str, Any] = {
        "external_id": f"call-{n}",
        "station": "poste-1",
        "number": f"+3361234{n:04d}",
        "direction": "outbound",
        "professional": "Énergie Verte",
        "product": "fibre",
        "agent_id": "agent-7",
        "started_at": dt.datetime(2026, 11, 22, 9, 15, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
        "ended_at": dt.datetime(2026, 11, 22, 9, 20, 12, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
        "duration_s": 312,
        "verdict": "allowed",
        "reason": "CONSENT_VALID",
        "disposition": "callback_scheduled",
        "summary": SUMMARY,
        "transcript": [
            TranscriptLine(speaker="agent", start=0.0, end=2.0, text="Bonjour, Énergie Verte."),
            TranscriptLine(speaker="customer", start=2.5, end=4.0, text="Rappelez-moi mardi."),
        ],
    }
    fields.update(changes)
    return InteractionPayload(**fields)


def consent_event(n: int, kind: str = "withdrawn", **changes: Any) -> ConsentEventPayload:
    """A ConsentEventPayload numbered ``n`` (external id ``poste-1:<n>``)."""
    fields: dict[str, Any] = {
        "external_id": f"poste-1:{n}",
        "kind": kind,
        "number": f"+3361234{n:04d}",
        "professional": "Énergie Verte",
        "products": ["fibre"],
        "occurred_at": dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=n),
        "source": "agent-assist:poste-1",
        "interaction_id": f"call-{n}",
    }
    fields.update(changes)
    return ConsentEventPayload(**fields)


def review(n: int, state: str = "approved", **changes: Any) -> ReviewPayload:
    """A ReviewPayload of interaction ``call-<n>``."""
    fields: dict[str, Any] = {
        "external_id": f"call-{n}:review:1",
        "interaction_id": f"call-{n}",
        "state": state,
        "comment": "Bon appel",
        "reviewer": "lead-2",
        "at": dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC),
    }
    fields.update(changes)
    return ReviewPayload(**fields)
