"""One registry of world tools, shared by the Inspect agent and by transcript replay.

A world tool is a plain function ``(world, **arguments) -> str``. Its signature and
docstring are the tool's contract with the model; the registry checks a call's
arguments against that signature so a bad call becomes an error text, never an
exception out of the sample.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from peerguard.world.state import ToolCallRecord, World, WorldError

WorldFunction = Callable[..., str]


@dataclass(frozen=True)
class WorldTool:
    name: str
    function: WorldFunction

    @cached_property  # every call checks its arguments against them
    def parameters(self) -> list[inspect.Parameter]:
        return list(inspect.signature(self.function).parameters.values())[1:]

    @cached_property
    def hints(self) -> dict[str, Any]:
        return typing.get_type_hints(self.function)


@dataclass(frozen=True)
class CallOutcome:
    ok: bool
    output: str


WORLD_TOOLS: dict[str, WorldTool] = {}


def world_tool(*aliases: str) -> Callable[[WorldFunction], WorldFunction]:
    """Register a function as a world tool under its own name and any aliases."""

    def register(function: WorldFunction) -> WorldFunction:
        for name in (function.__name__, *aliases):
            if name in WORLD_TOOLS:
                raise ValueError(f"world tool '{name}' registered twice")
            WORLD_TOOLS[name] = WorldTool(name=name, function=function)
        return function

    return register


def call_world_tool(world: World, name: str, arguments: dict[str, Any]) -> CallOutcome:
    """Run one tool call against the world and record it; failures come back as text."""
    name = name if isinstance(name, str) else repr(name)
    tool = WORLD_TOOLS.get(name)
    try:
        if tool is None:
            raise WorldError(f"Unknown tool '{name}'.")
        if not isinstance(arguments, dict) or not all(isinstance(key, str) for key in arguments):
            raise WorldError(f"Arguments to {name} must be an object of named values.")
        _check_arguments(tool, arguments)
        output = tool.function(world, **arguments)
    except WorldError as error:
        world.calls.append(ToolCallRecord(tool=name, arguments=_loggable(arguments), ok=False, error=str(error)))
        return CallOutcome(ok=False, output=f"Error: {error}")
    world.calls.append(ToolCallRecord(tool=name, arguments=_loggable(arguments), ok=True))
    return CallOutcome(ok=True, output=output)


def _loggable(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict) and all(isinstance(key, str) for key in arguments):
        return arguments
    return {"_raw": repr(arguments)}


def _check_arguments(tool: WorldTool, arguments: dict[str, Any]) -> None:
    parameters = {p.name: p for p in tool.parameters}
    unknown = sorted(set(arguments) - set(parameters))
    if unknown:
        allowed = ", ".join(parameters) or "no arguments"
        raise WorldError(f"{tool.name} got unexpected argument(s) {', '.join(unknown)}; it takes {allowed}.")
    hints = tool.hints
    for name, parameter in parameters.items():
        if name not in arguments:
            if parameter.default is inspect.Parameter.empty:
                raise WorldError(f"{tool.name} is missing the required argument '{name}'.")
            continue
        if not _matches(arguments[name], hints[name]):
            raise WorldError(
                f"Argument '{name}' of {tool.name} must be {_describe(hints[name])}, "
                f"got {type(arguments[name]).__name__}."
            )


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(hint))
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(option) for option in typing.get_args(hint))
    if origin is list:
        return f"a list of {_describe(typing.get_args(hint)[0])}"
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}.get(hint, str(hint))
