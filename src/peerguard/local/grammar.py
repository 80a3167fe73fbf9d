"""Constrained decoding of one tool call: the output must be `{"name": <a tool>, "arguments": {...}}`.

A 0.5B model left free mostly copies the tool schemas back instead of calling a tool; with
the grammar every turn is a well-formed call of an offered tool with arguments of the right
shape, so the episode exercises the world. The model still chooses which tool and what to say
in its arguments (a refusal can go in a file or end the task).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from inspect_ai.tool import ToolInfo

from peerguard.local.chat import tool_dict


def call_schema(tools: list[ToolInfo]) -> dict[str, Any]:
    options = []
    for tool in tools:
        parameters = {**tool_dict(tool)["function"]["parameters"], "additionalProperties": False}
        options.append(
            {
                "type": "object",
                "properties": {"name": {"const": tool.name}, "arguments": parameters},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    return {"anyOf": options}


@cache
def _grammar(schema: str) -> Any:
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_json_schema(schema, verbose=False)


def tool_call_grammar(tools: list[ToolInfo]) -> Any:
    return _grammar(json.dumps(call_schema(tools)))  # key order is the order the grammar enforces: name first
