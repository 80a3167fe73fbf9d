"""Tool calls in a small model's raw text.

Qwen2.5-Coder answers a tool turn in one of three shapes: a bare JSON object
``{"name": ..., "arguments": {...}}``, the same in a ```json fence, or inside
``<tool_call>`` tags. This finds complete calls in any of them (so generation can stop at
the first), tolerates the usual variants ("function"/"parameters", arguments as a JSON
string), and reports a call whose JSON is broken so the model hears about it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder()
_NAME_HINT = re.compile(r'"(?:name|function)"\s*:\s*"(?P<name>[A-Za-z_][\w.-]*)"')
_WRAPPERS = re.compile(r"</?tool_call>|```(?:json|tool_call)?", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedCall:
    name: str
    arguments: dict[str, Any]
    error: str | None = None


@dataclass(frozen=True)
class ParsedTurn:
    content: str
    calls: list[ParsedCall]


def _as_call(value: Any) -> ParsedCall | None:
    if not isinstance(value, dict):
        return None
    name = value.get("name", value.get("function"))
    if isinstance(name, dict):  # {"function": {"name": ..., "arguments": ...}}
        return _as_call(name)
    if not isinstance(name, str) or not name:
        return None
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as error:
            return ParsedCall(name, {}, f"the arguments of {name} are not valid JSON: {error.msg}")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return ParsedCall(name, {}, f"the arguments of {name} must be a JSON object")
    return ParsedCall(name, arguments)


def _complete_calls(text: str) -> tuple[list[ParsedCall], list[tuple[int, int]]]:
    calls: list[ParsedCall] = []
    spans: list[tuple[int, int]] = []
    position = text.find("{")
    while position != -1:
        try:
            value, end = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError:
            position = text.find("{", position + 1)
            continue
        call = _as_call(value)
        if call is not None:
            calls.append(call)
            spans.append((position, end))
            position = text.find("{", end)
        else:
            position = text.find("{", position + 1)
    return calls, spans


def first_complete_call(text: str) -> bool:
    """Whether the text already holds one complete call (generation can stop)."""
    calls, _ = _complete_calls(text)
    return any(call.error is None for call in calls)


def parse_turn(text: str) -> ParsedTurn:
    """The model's words and its tool calls, duplicates dropped, in order."""
    calls, spans = _complete_calls(text)
    content = text
    for start, end in reversed(spans):
        content = content[:start] + content[end:]
    if not calls:
        hint = _NAME_HINT.search(text)
        if hint is not None:  # it tried to call a tool but the JSON never closed
            broken = ParsedCall(hint["name"], {}, f"the call to {hint['name']} is not valid JSON (it may be cut off)")
            return ParsedTurn(_WRAPPERS.sub("", text[: hint.start()]).rstrip("{ \n"), [broken])
    unique: list[ParsedCall] = []
    for call in calls:
        if call not in unique:
            unique.append(call)
    return ParsedTurn(_WRAPPERS.sub("", content).strip(), unique)
