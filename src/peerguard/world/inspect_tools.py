"""World tools as Inspect tools, bound to one sample's world."""

from __future__ import annotations

import inspect
import typing
from typing import Any

from inspect_ai.tool import ToolDef, ToolError

from peerguard.world.registry import WORLD_TOOLS, call_world_tool
from peerguard.world.state import World


def inspect_tool(name: str, world: World) -> ToolDef:
    """Wrap one registered world tool so the model sees its name, arguments and docstring.

    Args:
        name: A registered world tool.
        world: The world its calls act on (the sample state's world, so changes reach the log).
    """
    world_tool = WORLD_TOOLS[name]
    hints = typing.get_type_hints(world_tool.function)

    async def execute(**arguments: Any) -> str:
        outcome = call_world_tool(world, name, arguments)
        if not outcome.ok:
            raise ToolError(outcome.output)
        return outcome.output

    execute.__signature__ = inspect.Signature(world_tool.parameters, return_annotation=str)  # type: ignore[attr-defined]
    execute.__annotations__ = {p.name: hints[p.name] for p in world_tool.parameters} | {"return": str}
    execute.__doc__ = world_tool.function.__doc__
    execute.__name__ = name
    return ToolDef(execute, name=name)
