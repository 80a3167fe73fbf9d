"""Constrained decoding of one tool call per turn, in one of two formats.

- `template` (the default): the call as the model's own chat template writes earlier calls,
  `<tool_call>\\n{"name": <a tool>, "arguments": {...}}\\n</tool_call>`.
- `prose`: the model may write first, then make one call in the template's format, or only
  write (a turn without a call, which the agent loop answers with a reminder).
- `json`: a bare `{"name": <a tool>, "arguments": {...}}` object.

A 0.5B model left free mostly copies the tool schemas back instead of calling a tool; with a
grammar every turn is a well-formed call of an offered tool with arguments of the right shape.
The format matters: under the bare-JSON grammar the conversation the model reads writes its past
calls in one shape and forces the next in another, and the small models fall into repeating
their first call. The model still chooses which tool and what its arguments say (a refusal can
go in a file or end the task).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any, Literal

from inspect_ai.tool import ToolInfo

from peerguard.local.chat import tool_dict

GrammarFormat = Literal["template", "prose", "json", "none"]
GRAMMAR_FORMATS: tuple[GrammarFormat, ...] = ("template", "prose", "json", "none")
"""`none` leaves the model free; calls are then parsed from whatever it writes."""
OPEN_TAG, CLOSE_TAG = "<tool_call>\n", "\n</tool_call>"


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


def _literal(text: str) -> str:
    return json.dumps(text)  # a GBNF string literal escapes like a JSON string


def grammar_text(schema: str, fmt: GrammarFormat) -> str:
    """The GBNF grammar of one call in `fmt` (the bare-JSON grammar renamed and wrapped in the tags)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    rules = str(json_schema_to_gbnf(schema))
    if fmt == "json":
        return rules
    call = re.sub(r"^root ::=", "tool-call ::=", rules, count=1, flags=re.MULTILINE)
    tagged = f"{_literal(OPEN_TAG)} tool-call {_literal(CLOSE_TAG)}"
    if fmt == "prose":  # words (never a tag) and then maybe a call: the template's assistant turn
        return f"root ::= prose | prose? {tagged}\nprose ::= [^<]+\n{call}"
    return f"root ::= {tagged}\n{call}"


@cache
def _grammar(schema: str, fmt: GrammarFormat) -> Any:
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(grammar_text(schema, fmt), verbose=False)


def tool_call_grammar(tools: list[ToolInfo], fmt: GrammarFormat) -> Any:
    """The llama.cpp grammar for one call of one of `tools`, or None when `fmt` is `none`.

    Args:
        tools: The tools offered this turn.
        fmt: `template`, `prose`, `json` or `none`.
    """
    if fmt == "none" or not tools:
        return None
    return _grammar(json.dumps(call_schema(tools)), fmt)  # key order is the order the grammar enforces: name first
