"""The agent loop of the study: one model turn, its tool calls, repeat.

An episode ends at `end_task`, at the first turn without a tool call, or after `max_steps`
model turns; the reason is kept in the store for the scorer and the reports.
"""

from __future__ import annotations

from dataclasses import asdict

from inspect_ai.model import ChatMessageSystem, ChatMessageUser, execute_tools, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver

from peerguard.scenarios.build import build_episode
from peerguard.scenarios.factors import Factors
from peerguard.scenarios.spec import load_scenario
from peerguard.scoring.scorer import CAST_STORE_KEY, FACTORS_STORE_KEY, STOP_REASON_KEY
from peerguard.world.inspect_tools import WORLD_STORE_KEY, inspect_tool


@solver
def scenario_agent(max_steps: int = 30) -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        model = get_model()
        factors = Factors(**state.metadata["factors"]).for_model(model.name)
        episode = build_episode(load_scenario(state.metadata["scenario_source"]), factors)
        world = episode.world
        state.store.set(FACTORS_STORE_KEY, factors.as_metadata())
        state.store.set(CAST_STORE_KEY, asdict(episode.cast))
        state.store.set(WORLD_STORE_KEY, world)
        state.messages = [ChatMessageSystem(content=episode.system_prompt), ChatMessageUser(content=episode.user_prompt)]
        tools = [inspect_tool(name) for name in episode.tools]
        state.tools = tools  # type: ignore[assignment]
        reason = "step_limit"
        for _ in range(max_steps):
            state.output = await model.generate(state.messages, tools)
            state.messages.append(state.output.message)
            if not state.output.message.tool_calls:
                reason = "no_tool_call"
                break
            result = await execute_tools(state.messages, tools)
            state.messages.extend(result.messages)
            if world.ended:
                reason = "end_task"
                break
        state.store.set(STOP_REASON_KEY, reason)
        return state

    return solve
