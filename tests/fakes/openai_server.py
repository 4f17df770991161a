"""A fake OpenAI-compatible server (vLLM / llama.cpp server) for the generator's unit tests: ``POST
/v1/chat/completions`` answered the way the OpenAI chat completions API streams, as server-sent events:

    data: {"id": ..., "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "..."}}]}

one event per piece, a last chunk with ``finish_reason``, then ``data: [DONE]``. It listens on 127.0.0.1 only,
records what it was sent, and can be slowed down (``delay`` between events), made to want a key, to fail, or to
answer a JSON schema request with a given document.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Scenario:
    pieces: list[str] = field(default_factory=lambda: ["Bien ", "sûr, ", "je ", "comprends."])
    delay: float = 0.0
    #: When set, requests without ``Authorization: Bearer <key>`` get HTTP 401.
    key: str | None = None
    #: When set, an error event is sent after the first piece.
    error_event: str | None = None
    #: Successive answers to ``response_format`` requests (JSON text, streamed in 3 pieces); the last one repeats.
    json_answers: list[str] = field(default_factory=list)


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.scenario = Scenario()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.disconnected = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read self.requests
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(body)
                server.headers.append(dict(self.headers.items()))
                scenario = server.scenario
                if self.path != "/v1/chat/completions":
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                if scenario.key is not None and self.headers.get("Authorization") != f"Bearer {scenario.key}":
                    self._json(401, {"error": {"message": "invalid api key", "type": "invalid_request_error"}})
                    return
                pieces = scenario.pieces
                if "response_format" in body:
                    answers = scenario.json_answers
                    text = answers.pop(0) if len(answers) > 1 else answers[0]
                    third = max(1, len(text) // 3)
                    pieces = [text[:third], text[third : 2 * third], text[2 * third :]]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self._event({"role": "assistant", "content": ""}, body)
                    for k, piece in enumerate(pieces):
                        if scenario.delay:
                            time.sleep(scenario.delay)
                        self._event({"content": piece}, body)
                        if k == 0 and scenario.error_event:
                            self._send({"error": {"message": scenario.error_event, "type": "server_error"}})
                            return
                    self._event({}, body, finish="stop")
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    server.disconnected.set()

            def _event(self, delta: dict[str, str], body: dict[str, Any], finish: str | None = None) -> None:
                self._send(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": 1764000000,
                        "model": body.get("model", ""),
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }
                )

            def _send(self, payload: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def reset(self, scenario: Scenario | None = None) -> None:
        self.scenario = scenario or Scenario()
        self.requests.clear()
        self.headers.clear()
        self.disconnected.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
