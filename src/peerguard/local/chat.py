"""Render Inspect messages and tool definitions with the model's own chat template."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageTool
from inspect_ai.tool import ToolInfo
from jinja2 import Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def _raise(message: str) -> None:
    raise TemplateError(message)


@cache
def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda value, indent=None: json.dumps(value, ensure_ascii=False, indent=indent)
    env.globals["raise_exception"] = _raise
    return env


def message_dict(message: ChatMessage) -> dict[str, Any]:
    """One message in the OpenAI-style shape chat templates expect."""
    if isinstance(message, ChatMessageTool):
        text = message.text if not message.error else f"Error: {message.error.message}"
        return {"role": "tool", "content": text, "name": message.function or ""}
    entry: dict[str, Any] = {"role": message.role, "content": message.text}
    if isinstance(message, ChatMessageAssistant) and message.tool_calls:
        entry["tool_calls"] = [
            {"type": "function", "id": call.id, "function": {"name": call.function, "arguments": call.arguments}}
            for call in message.tool_calls
        ]
    return entry


def tool_dict(tool: ToolInfo) -> dict[str, Any]:
    """The tool as the template expects it; schema noise a small model would copy is left out."""
    parameters = tool.parameters.model_dump(exclude_none=True, exclude={"additionalProperties"})
    if not parameters.get("required"):
        parameters.pop("required", None)
    return {"type": "function", "function": {"name": tool.name, "description": tool.description, "parameters": parameters}}


@cache
def _compiled(template: str) -> Template:
    return _environment().from_string(template)


def render_prompt(template: str, messages: list[ChatMessage], tools: list[ToolInfo], **special: str) -> str:
    """The full prompt text, ending with the assistant's generation prompt."""
    return _compiled(template).render(
        messages=[message_dict(m) for m in messages],
        tools=[tool_dict(t) for t in tools] or None,
        add_generation_prompt=True,
        **special,
    )
