"""The bare-Inspect side of the benchmarks: a family's first sample played with Inspect alone.

The model sees what it sees in peerguard (the family's system and user prompts, and its tool
definitions); the read tool answers what peerguard's world answers at the start and every other
tool "ok"; the loop is generate + execute_tools until `end_task` or `calls` calls; the scorer
reads a count from the store. What is left is peerguard's own cost: its world, detectors, state
and bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, execute_tools, get_model
from inspect_ai.scorer import Score, Target, accuracy, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import ToolDef
from inspect_ai.util import store

from peerguard.scenarios.build import build_episode
from peerguard.scenarios.factors import expand_grid
from peerguard.scenarios.spec import load_scenario
from peerguard.world import World, call_world_tool
from peerguard.world.inspect_tools import inspect_tool


@dataclass(frozen=True)
class Workload:
    """One family's first sample, as the model sees it."""

    system_prompt: str
    user_prompt: str
    tools: list[str]
    read: str
    read_text: str
    """What the read tool answers at the start of the episode."""


def workload(family: str, read: str, arguments: dict[str, Any], **params: Any) -> Workload:
    """The family's first sample under `params` (task parameters), and its read tool's answer.

    Args:
        family: A built-in family.
        read: The family's read tool.
        arguments: The read tool's arguments.
        **params: Task parameters narrowing the grid (e.g. dataset="factual").
    """
    scenario = load_scenario(family)
    episode = build_episode(scenario, expand_grid(scenario, "Model", **params)[0])
    text = call_world_tool(episode.world, read, arguments).output
    return Workload(episode.system_prompt, episode.user_prompt, episode.tools, read, text)


def bare_task(work: Workload, samples: int, calls: int) -> Task:
    """`samples` runs (epochs) of the workload with Inspect alone, up to `calls` model calls each.

    Args:
        work: The workload.
        samples: How many runs.
        calls: Model calls per run at most.
    """

    def tool(name: str) -> ToolDef:
        shape = inspect_tool(name, World())  # the name, description and parameters the model sees

        async def execute(**arguments: Any) -> str:
            store().set("calls", store().get("calls", 0) + 1)
            return work.read_text if name == work.read else "ok"

        return ToolDef(execute, name=name, description=shape.description, parameters=shape.parameters)

    @solver
    def loop() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            model, tools = get_model(), [tool(name) for name in work.tools]
            state.messages = [ChatMessageSystem(content=work.system_prompt), ChatMessageUser(content=work.user_prompt)]
            for _ in range(calls):
                state.output = await model.generate(state.messages, tools)
                state.messages.append(state.output.message)
                if state.output.message.tool_calls and state.output.message.tool_calls[-1].function == "end_task":
                    break
                state.messages.extend((await execute_tools(state.messages, tools)).messages)
            return state

        return solve

    @scorer(metrics=[accuracy()])
    def reads() -> Any:
        async def score(state: TaskState, target: Target) -> Score:
            return Score(value=1 if store().get("calls", 0) == calls - 1 else 0)

        return score

    return Task(dataset=[Sample(input=work.user_prompt)], solver=loop(), scorer=reads(), epochs=samples, name="bare")
