"""The agent loop of the study: one model turn, its tool calls, repeat.

An episode ends at `end_task`, at the first turn without a tool call, or after `max_steps`
model turns; the reason is kept in the sample state for the scorer and the reports.
"""

from __future__ import annotations

from inspect_ai.model import ChatMessageSystem, ChatMessageUser, execute_tools, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver

from peerguard.scenarios.build import build_episode
from peerguard.scenarios.factors import Factors
from peerguard.scenarios.spec import load_scenario
from peerguard.state import sample_state
from peerguard.world.inspect_tools import inspect_tool


@solver
def scenario_agent(max_steps: int = 30) -> Solver:
    """Build the sample's episode once, record it in the sample state, and let the model act.

    Args:
        max_steps: Model turns before the episode is cut off.
    """

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        model = get_model()
        factors = Factors.from_metadata(state.metadata["factors"]).for_model(model.name)
        episode = build_episode(load_scenario(state.metadata["scenario_source"]), factors)
        sample = sample_state()
        episode.record(sample)
        world = sample.world
        assert world is not None
        state.messages = [ChatMessageSystem(content=episode.system_prompt), ChatMessageUser(content=episode.user_prompt)]
        tools = [inspect_tool(name, world) for name in episode.tools]
        state.tools = tools
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
        sample.stop_reason = reason
        return state

    return solve
