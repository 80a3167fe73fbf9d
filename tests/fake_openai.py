"""A fake OpenAI-compatible chat server on loopback that fails some requests on purpose."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FaultyServer:
    """Every `fault_every`-th request answers 429 or 500 (alternately); the others call a tool."""

    def __init__(self, fault_every: int, delay: float = 0.0, stall_first: int = 0, always_fail: str | None = None) -> None:
        self.fault_every = fault_every
        self.delay = delay
        self.stall_first = stall_first
        self.answered = 0
        self.always_fail = always_fail
        """Requests whose messages contain this text always get a 500."""
        self.requests = 0
        self.faults = 0
        self.lock = threading.Lock()

    def reply(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests += 1
            number = self.requests
            if self.always_fail and self.always_fail in json.dumps(body["messages"]):
                self.faults += 1
                return 500, {"error": {"message": "this sample always fails", "type": "server_error"}}
            if self.fault_every and number % self.fault_every == 0:
                self.faults += 1
                code = 429 if self.faults % 2 else 500
                return code, {"error": {"message": "injected fault", "type": "rate_limit_error" if code == 429 else "server_error"}}
        with self.lock:
            self.answered += 1
            stall = self.answered <= self.stall_first
        time.sleep(self.delay + (5.0 if stall else 0.0))  # a stall outlasts the client's timeout
        turns = sum(1 for m in body["messages"] if m["role"] == "assistant")
        tools = [t["function"]["name"] for t in body.get("tools", [])]
        name = "list_files" if turns == 0 and "list_files" in tools else "end_task"
        call = {"id": f"call_{number}", "type": "function", "function": {"name": name, "arguments": "{}"}}
        return 200, {
            "id": f"chat_{number}",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [call]}, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }


@contextmanager
def serve(fault_every: int = 0, delay: float = 0.0, stall_first: int = 0, always_fail: str | None = None) -> Iterator[tuple[str, FaultyServer]]:
    """Run the server on 127.0.0.1 on a free port; yields its /v1 base URL. Stops by itself."""
    state = FaultyServer(fault_every, delay, stall_first, always_fail)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            code, payload = state.reply(body)
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()
