"""A chat-completions server on 127.0.0.1 for the benchmarks: real HTTP, a set delay, scripted replies.

asyncio, HTTP/1.1 with keep-alive, so it holds hundreds of requests in flight. Each reply calls
a read tool the request offers until the conversation's last call, then `end_task`; it carries a short text beside
the call, and usage figures at four characters a token (prompt: the text the model reads and the
tool definitions; completion: the text and the call). It counts the requests and the most it held at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

REPLY_TEXT = "I have looked at what that returned; next I will check the rest before I finish the task."
"""The assistant's words beside each call: a model says a sentence or two as it works."""


def read_length(body: dict[str, Any]) -> int:
    """Characters the model reads in a request: each message's text and calls, and the tool definitions."""
    size = len(json.dumps(body.get("tools", [])))
    for message in body["messages"]:
        content = message.get("content") or ""
        size += len(content) if isinstance(content, str) else sum(len(part.get("text", "")) for part in content)
        size += sum(len(call["function"]["name"]) + len(call["function"]["arguments"]) for call in message.get("tool_calls") or [])
    return size


class Server:
    """The loopback chat-completions server, on its own event loop in a daemon thread."""

    def __init__(self, delay: float, calls: int, reads: dict[str, dict[str, Any]]) -> None:
        """Args:
        delay: Seconds before each reply.
        calls: The conversation's last call (`end_task`).
        reads: Read tools and their arguments, by preference: each reply calls the first one the request offers.
        """
        self.delay, self.calls, self.reads = delay, calls, reads
        self.loop = asyncio.new_event_loop()
        self.reset()

    def reset(self) -> None:
        """Zero the counts (between runs, when nothing is in flight)."""
        self.requests = self.in_flight = self.peak = 0
        self.first = self.last = 0.0
        """time.monotonic() of the first request and of the last reply."""

    def start(self) -> str:
        """Listen on a free port; returns the /v1 base URL."""
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        # a deep backlog: a few hundred connections open in the same instant
        server = asyncio.run_coroutine_threadsafe(asyncio.start_server(self.serve, "127.0.0.1", 0, backlog=1024), self.loop).result()
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: requests one after another on it (the client pools and reuses connections)."""
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                headers = dict((k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:] if line))
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                self.requests += 1
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                self.first = self.first or time.monotonic()
                try:
                    await asyncio.sleep(self.delay)
                    payload = self.reply(self.requests, body)
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(payload), payload))
                    await writer.drain()
                finally:
                    self.in_flight -= 1
                    self.last = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed the connection
        finally:
            writer.close()

    def reply(self, number: int, raw: bytes) -> bytes:
        """The read tool until the last call of the conversation, then end_task."""
        body = json.loads(raw)
        turn = sum(message["role"] == "assistant" for message in body["messages"])
        offered = {tool["function"]["name"] for tool in body.get("tools", [])}
        read = next(name for name in self.reads if name in offered)
        name, arguments = (read, self.reads[read]) if turn < self.calls - 1 else ("end_task", {})
        call = {"id": f"call_{number}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
        prompt = read_length(body) // 4  # about four characters a token
        completion = (len(REPLY_TEXT) + len(name) + len(call["function"]["arguments"])) // 4
        return json.dumps({
            "id": f"chat_{number}", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY_TEXT, "tool_calls": [call]}, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }).encode()  # fmt: skip
