"""World tools as Inspect tools, bound to one sample's world."""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

from inspect_ai.tool import ToolDef, ToolError

from peerguard.world.registry import WORLD_TOOLS, call_world_tool
from peerguard.world.state import World


def inspect_tool(name: str, world: World) -> ToolDef:
    """Wrap one registered world tool so the model sees its name, arguments and docstring.

    Args:
        name: A registered world tool.
        world: The world its calls act on (the episode's; the agent records it in the sample state when the episode ends).
    """

    async def execute(**arguments: Any) -> str:
        outcome = call_world_tool(world, name, arguments)
        if not outcome.ok:
            raise ToolError(outcome.output)
        return outcome.output

    shape = _shape(name)
    # older Inspect checks a call's arguments against the function's own signature, not `parameters`
    execute.__signature__ = shape.tool.__signature__  # type: ignore[attr-defined]
    execute.__annotations__ = shape.tool.__annotations__
    return ToolDef(execute, name=name, description=shape.description, parameters=shape.parameters.model_copy(deep=True))


@cache
def _shape(name: str) -> ToolDef:
    """The tool's description and parameters, parsed from its signature and docstring once per process."""
    world_tool = WORLD_TOOLS[name]
    hints = world_tool.hints

    async def execute(**arguments: Any) -> str:
        raise NotImplementedError  # only its signature and docstring are read

    execute.__signature__ = inspect.Signature(world_tool.parameters, return_annotation=str)  # type: ignore[attr-defined]
    execute.__annotations__ = {p.name: hints[p.name] for p in world_tool.parameters} | {"return": str}
    execute.__doc__ = world_tool.function.__doc__
    execute.__name__ = name
    return ToolDef(execute, name=name)
