"""World tools as Inspect tools, bound to the world in the running sample's store."""

from __future__ import annotations

import inspect
import typing
from typing import Any

from inspect_ai.tool import ToolDef, ToolError
from inspect_ai.util import store

from peerguard.world.registry import WORLD_TOOLS, call_world_tool
from peerguard.world.state import World

WORLD_STORE_KEY = "peerguard:world"


def current_world() -> World:
    world = store().get(WORLD_STORE_KEY)
    if not isinstance(world, World):
        raise RuntimeError("no peerguard world in this sample's store")
    return world


def inspect_tool(name: str) -> ToolDef:
    """Wrap one registered world tool so the model sees its name, arguments and docstring."""
    world_tool = WORLD_TOOLS[name]
    hints = typing.get_type_hints(world_tool.function)

    async def execute(**arguments: Any) -> str:
        outcome = call_world_tool(current_world(), name, arguments)
        if not outcome.ok:
            raise ToolError(outcome.output)
        return outcome.output

    execute.__signature__ = inspect.Signature(world_tool.parameters, return_annotation=str)  # type: ignore[attr-defined]
    execute.__annotations__ = {p.name: hints[p.name] for p in world_tool.parameters} | {"return": str}
    execute.__doc__ = world_tool.function.__doc__
    execute.__name__ = name
    return ToolDef(execute, name=name)
